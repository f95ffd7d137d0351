//! Unit tests of the wire-error path: `unwrap` turns a tauri-specta error result into an
//! `ApiError` with its code, and `describeError` picks the title by code, not by message.
import { describe, expect, it } from "vitest";
import { ApiError, unwrap } from "./api";
import { describeError } from "./errors";

describe("wire errors", () => {
  it("unwraps ok results and throws error results as ApiError", () => {
    expect(unwrap({ status: "ok", data: 3 })).toBe(3);
    try {
      unwrap({ status: "error", error: { code: "invalid_url", message: "ftp://x is not http" } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe("invalid_url");
      expect((e as ApiError).message).toBe("ftp://x is not http");
    }
  });

  it("titles by code and keeps the message as detail", () => {
    const a = describeError(new ApiError("invalid_url", "network unreachable"), "Add playlists");
    expect(a.title).toBe("That is not a URL Catalog Sync can read");
    expect(a.detail).toBe("network unreachable");
    expect(a.hint).toMatch(/podcast feed/);
    const b = describeError(new ApiError("network", "invalid url"), "Add playlists");
    expect(b.title).toBe("Network problem");
  });

  it("falls back to the action for unknown codes and plain errors", () => {
    expect(describeError(new ApiError("brand_new", "x"), "Export").title).toBe("Export failed");
    expect(describeError(new Error("boom"))).toEqual({ title: "Something went wrong", detail: "boom" });
  });
});
