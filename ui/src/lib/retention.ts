//! Retention rules as the UI edits them: a kind from a select plus a number as text, to and from
//! the core's `Retention` (`{kind: "keep_all"}`, `{kind: "keep_newest", count}`,
//! `{kind: "older_than_days", days}`); a count or an age below 1 is refused, as the core does.
import type { Retention } from "./api";

export type RetentionKind = Retention["kind"];

/** Words for a rule: "Keep everything", "Keep the newest 5", "Delete after 30 days". */
export function describeRetention(r: Retention): string {
  switch (r.kind) {
    case "keep_all":
      return "Keep everything";
    case "keep_newest":
      return `Keep the newest ${r.count}`;
    case "older_than_days":
      return `Delete after ${r.days} days`;
  }
}

/** The number a rule carries, as text ("" for keep everything). */
export function retentionValue(r: Retention): string {
  return r.kind === "keep_newest" ? String(r.count) : r.kind === "older_than_days" ? String(r.days) : "";
}

/** A rule from a kind and a number typed as text, or an error message. */
export function parseRetention(kind: RetentionKind, value: string): Retention | string {
  if (kind === "keep_all") return { kind };
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 100_000) {
    return kind === "keep_newest" ? "Keep at least 1 episode (a whole number)" : "The age limit is a whole number of days, at least 1";
  }
  return kind === "keep_newest" ? { kind, count: n } : { kind, days: n };
}
