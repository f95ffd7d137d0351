import { describe, expect, it } from "vitest";
import { needMore, windowFor } from "./virtual";

describe("windowFor", () => {
  it("renders only the visible rows plus the overscan of 20,000", () => {
    const w = windowFor(20_000, 30, 0, 600, 10);
    expect(w).toEqual({ start: 0, end: 31, padTop: 0, padBottom: (20_000 - 31) * 30 });
    const mid = windowFor(20_000, 30, 300_000, 600, 10);
    expect(mid.start).toBe(9_990);
    expect(mid.end).toBe(10_031);
    expect(mid.padTop + (mid.end - mid.start) * 30 + mid.padBottom).toBe(20_000 * 30);
  });

  it("clamps at the end and for short or empty lists", () => {
    const end = windowFor(100, 30, 1e9, 600, 10);
    expect([end.start, end.end, end.padBottom]).toEqual([100, 100, 0]);
    expect(windowFor(5, 30, 0, 600, 10)).toEqual({ start: 0, end: 5, padTop: 0, padBottom: 0 });
    expect(windowFor(0, 30, 0, 600)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
    expect(windowFor(10, 30, -50, 600, 0).start).toBe(0);
  });
});

describe("needMore", () => {
  it("asks for the next page before the window reaches the loaded end", () => {
    const w = windowFor(200, 30, 0, 600, 10);
    expect(needMore(w, 200, true, 40)).toBe(false);
    expect(needMore(w, 60, true, 40)).toBe(true);
    expect(needMore(w, 60, false, 40)).toBe(false);
  });
});
