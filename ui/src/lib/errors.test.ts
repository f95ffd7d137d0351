//! Unit tests of the wire-error path: `unwrap` turns a tauri-specta error result into an
//! `ApiError` with its code, and `describeError` picks the title by code, not by message.
import { describe, expect, it } from "vitest";
import { ApiError, unwrap } from "./api";
import { describeError } from "./errors";

describe("wire errors", () => {
  it("unwraps ok results and throws error results as ApiError", () => {
    expect(unwrap({ status: "ok", data: 3 })).toBe(3);
    try {
      unwrap({ status: "error", error: { code: "invalid_input", message: "ftp://x is not http" } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe("invalid_input");
      expect((e as ApiError).message).toBe("ftp://x is not http");
    }
  });

  it("titles by code and keeps the message as detail", () => {
    const a = describeError(new ApiError("in_use", "network unreachable"), "Add playlists");
    expect(a.title).toBe("The catalog is in use");
    expect(a.detail).toBe("network unreachable");
    expect(a.hint).toMatch(/Close it/);
    const b = describeError(new ApiError("network", "catalog in use"), "Add playlists");
    expect(b.title).toBe("Network problem");
    const c = describeError(new ApiError("invalid_input", "x: not a URL"), "Add playlists");
    expect(c).toMatchObject({ title: "Add playlists failed", detail: "x: not a URL" });
    expect(c.hint).toMatch(/OPML/);
  });

  it("falls back to the action for unknown codes and plain errors", () => {
    expect(describeError(new ApiError("brand_new", "x"), "Export").title).toBe("Export failed");
    expect(describeError(new Error("boom"))).toEqual({ title: "Something went wrong", detail: "boom" });
  });
});
