//! Component tests of the upload targets section against the fake backend: adding a target,
//! the password never shown back and kept when saved empty, and the connection test's result.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setBackend, resetBackend } from "../lib/api";
import { FakeBackend } from "../test/fake-backend";
import Targets from "./Targets.svelte";

describe("upload targets in settings", () => {
  let fake: FakeBackend;
  beforeEach(() => {
    fake = new FakeBackend();
    setBackend(fake);
  });
  afterEach(() => {
    cleanup();
    resetBackend();
  });

  it("adds a target, never shows its password back, and keeps it when saved empty", async () => {
    render(Targets);
    await fireEvent.input(screen.getByLabelText("Name"), { target: { value: "nas" } });
    await fireEvent.input(screen.getByLabelText("Server URL"), { target: { value: "http://127.0.0.1:8080" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "pw-1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Add target" }));
    await waitFor(() => expect(screen.getByTestId("target-nas")).toBeTruthy());
    expect(screen.getByTestId("target-nas").textContent).toContain("password stored");
    expect(document.body.innerHTML).not.toContain("pw-1");

    await fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const pass = screen.getByLabelText("Password") as HTMLInputElement;
    expect(pass.value).toBe("");
    expect(pass.placeholder).toContain("leave empty to keep");
    await fireEvent.click(screen.getByRole("button", { name: "Save target" }));
    await waitFor(() => expect(fake.callsOf("saveTarget").length).toBe(2));
    const second = fake.callsOf("saveTarget")[1][0] as { password: string | null };
    expect(second.password ?? "").toBe("");
    expect(fake.secrets.get("nas")).toBe("pw-1");
  });

  it("reports the connection test's result beside the target", async () => {
    fake.targets = [
      { name: "down", kind: "webdav", location: "http://127.0.0.1:9", root: "/", username: null, bucket: null, region: null, key_path: null, known_hosts: null, has_password: false, mirror: false, m3u_crlf: false, playlists: [] },
    ];
    render(Targets);
    await waitFor(() => expect(screen.getByTestId("target-down")).toBeTruthy());
    await fireEvent.click(screen.getByRole("button", { name: "Test connection" }));
    await waitFor(() => expect(screen.getByTestId("test-result").textContent).toContain("Failed: connection refused"));
    expect(fake.callsOf("testTarget")).toEqual([["down"]]);
  });
});
