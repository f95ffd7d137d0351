//! Unit tests of the formatting helpers: unit boundaries, rounding, and the relative-time and
//! ETA edge cases (unknown values, clock skew, absurd estimates).
import { describe, expect, it } from "vitest";
import { formatBytes, formatDateTime, formatDuration, formatEta, formatRelative, formatSpeed, plural } from "./format";

describe("formatBytes", () => {
  it("prints small sizes exactly and larger ones in decimal units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.00 kB");
    expect(formatBytes(1_234_567)).toBe("1.23 MB");
    expect(formatBytes(45_600_000)).toBe("45.6 MB");
    expect(formatBytes(999_999)).toBe("1.00 MB");
    expect(formatBytes(3_500_000_000)).toBe("3.50 GB");
    expect(formatBytes(250_000_000_000)).toBe("250 GB");
  });
  it("prints unknown or invalid sizes as a dash", () => {
    expect(formatBytes(null)).toBe("-");
    expect(formatBytes(-1)).toBe("-");
    expect(formatBytes(Number.NaN)).toBe("-");
  });
});

describe("formatSpeed", () => {
  it("adds /s and treats zero as no speed", () => {
    expect(formatSpeed(3_100_000)).toBe("3.10 MB/s");
    expect(formatSpeed(512)).toBe("512 B/s");
    expect(formatSpeed(0)).toBe("-");
  });
});

describe("formatRelative", () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0);
  it("walks through the ranges", () => {
    expect(formatRelative(null, now)).toBe("never");
    expect(formatRelative(now - 30_000, now)).toBe("just now");
    expect(formatRelative(now + 5_000, now)).toBe("just now");
    expect(formatRelative(now - 5 * 60_000, now)).toBe("5 min ago");
    expect(formatRelative(now - 3 * 3_600_000 - 1, now)).toBe("3 h ago");
    expect(formatRelative(now - 30 * 3_600_000, now)).toBe("yesterday");
    expect(formatRelative(now - 4 * 86_400_000, now)).toBe("4 days ago");
  });
  it("prints a date for old times", () => {
    expect(formatRelative(now - 90 * 86_400_000, now)).toMatch(/^2026-08-2\d$/);
  });
});

describe("formatDuration and formatEta", () => {
  it("formats durations", () => {
    expect(formatDuration(45_000)).toBe("45 s");
    expect(formatDuration(200_000)).toBe("3 min 20 s");
    expect(formatDuration(180_000)).toBe("3 min");
    expect(formatDuration(7_500_000)).toBe("2 h 05 min");
  });
  it("estimates the time left from bytes and speed", () => {
    expect(formatEta(10_000_000, 1_000_000)).toBe("10 s left");
    expect(formatEta(200_000_000, 1_000_000)).toBe("3 min 20 s left");
  });
  it("refuses estimates it cannot make", () => {
    expect(formatEta(null, 1000)).toBeNull();
    expect(formatEta(1000, 0)).toBeNull();
    expect(formatEta(1e15, 1)).toBeNull();
  });
});

describe("plural", () => {
  it("uses the singular only for one", () => {
    expect(plural(1, "item")).toBe("1 item");
    expect(plural(0, "item")).toBe("0 items");
    expect(plural(2, "entry", "entries")).toBe("2 entries");
  });
});

describe("formatDateTime", () => {
  it("prints local date and minutes, and a dash for none", () => {
    const ms = new Date(2026, 2, 1, 14, 5, 9).getTime();
    expect(formatDateTime(ms)).toBe("2026-03-01 14:05");
    expect(formatDateTime(null)).toBe("-");
  });
});
