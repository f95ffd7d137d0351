//! Formatting of numbers for people: sizes in decimal SI units (kB = 1000 bytes, as the core's
//! task center and most desktop file managers print them), speeds in bytes/s, relative times
//! ("5 min ago") and remaining time (ETA). Pure functions of their arguments; "now" is always a
//! parameter so the output is testable.

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** `1234567` -> `1.2 MB`; bytes below 1000 print exactly (`999 B`). Negative or non-finite -> `-`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return "-";
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 999.95 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** A speed in bytes/s: `3.1 MB/s`; 0 -> `-` (nothing flowing is not a speed). */
export function formatSpeed(bps: number | null | undefined): string {
  if (bps == null || !Number.isFinite(bps) || bps <= 0) return "-";
  return `${formatBytes(bps)}/s`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Time of `thenMs` relative to `nowMs` (both Unix ms): `just now` (< 1 min), `5 min ago`,
 * `3 h ago`, `yesterday`, `4 days ago`, then the date (`2026-03-01`). Future times (clock skew)
 * print as `just now`. `null` -> `never`.
 */
export function formatRelative(thenMs: number | null | undefined, nowMs: number): string {
  if (thenMs == null) return "never";
  const d = nowMs - thenMs;
  if (d < MINUTE) return "just now";
  if (d < HOUR) return `${Math.floor(d / MINUTE)} min ago`;
  if (d < DAY) return `${Math.floor(d / HOUR)} h ago`;
  if (d < 2 * DAY) return "yesterday";
  if (d < 30 * DAY) return `${Math.floor(d / DAY)} days ago`;
  return formatDate(thenMs);
}

/** `2026-03-01` in local time. */
export function formatDate(ms: number | null | undefined): string {
  if (ms == null) return "-";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** `2026-03-01 14:05` in local time; `null` -> `-`. */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms == null) return "-";
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${formatDate(ms)} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `14:05:09` in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A duration in ms: `45 s`, `3 min 20 s`, `2 h 05 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/**
 * Estimated time left for `remainingBytes` at `bps` bytes/s, e.g. `3 min 20 s left`; `null`
 * when it cannot be known (no speed, unknown size) or is absurd (over 30 days).
 */
export function formatEta(remainingBytes: number | null | undefined, bps: number): string | null {
  if (remainingBytes == null || remainingBytes < 0 || !(bps > 0)) return null;
  const ms = (remainingBytes / bps) * 1000;
  if (ms > 30 * DAY) return null;
  return `${formatDuration(ms)} left`;
}

/** `1 item`, `3 items`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
