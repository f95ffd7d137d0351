//! The settings form model: `Settings` travel in the core's units (bytes/s, ms) while people
//! edit seconds, minutes and MB/s as text. `toForm` converts for editing; `fromForm` parses,
//! validates each field (ranges follow the core's defaults and sane limits; the naming template
//! follows `download::naming` in the core: `/`-separated, no empty, `.` or `..` component, no
//! unclosed `{`, placeholders `{playlist}`, `{title}`, `{date}`, `{ext}` only; the shell also
//! requires `{ext}`) and returns either
//! the settings or a message per invalid field.
import type { Settings } from "./api";
import { parseRetention, retentionValue, type RetentionKind } from "./retention";

/** What the inputs hold: text for numbers so a half-typed value is not lost. */
export interface SettingsForm {
  library: string;
  overflow_libraries: string[];
  parallel_downloads: string;
  per_host_connections: string;
  /** MB/s (10^6 bytes/s); empty = unlimited. */
  bandwidth_limit_mbps: string;
  /** Seconds. */
  stall_timeout_s: string;
  /** Minutes. */
  transfer_deadline_min: string;
  /** Seconds. */
  subprocess_stall_timeout_s: string;
  name_template: string;
  podcastindex_key: string;
  podcastindex_secret: string;
  fyyd_enabled: boolean;
  agent_base_url: string;
  agent_model: string;
  agent_api_key: string;
  auto_sync_enabled: boolean;
  auto_sync_hours: string;
  start_at_login: boolean;
  /** The retention rule of playlists without their own. */
  retention_kind: RetentionKind;
  /** Its count (keep newest) or days (older than), as text. */
  retention_value: string;
  /** Which finished jobs raise a desktop notification (grouped). */
  notify: Settings["notify"];
}

export type FieldErrors = Partial<Record<keyof SettingsForm, string>>;

export const TEMPLATE_PLACEHOLDERS = ["playlist", "title", "date", "ext"];

const num = (n: number) => String(Number.isInteger(n) ? n : Number(n.toFixed(3)));

export function toForm(s: Settings): SettingsForm {
  return {
    library: s.library,
    overflow_libraries: [...s.overflow_libraries],
    parallel_downloads: String(s.parallel_downloads),
    per_host_connections: String(s.per_host_connections),
    bandwidth_limit_mbps: s.bandwidth_limit_bytes_per_sec == null ? "" : num(s.bandwidth_limit_bytes_per_sec / 1e6),
    stall_timeout_s: num(s.stall_timeout_ms / 1000),
    transfer_deadline_min: num(s.transfer_deadline_ms / 60_000),
    subprocess_stall_timeout_s: num(s.subprocess_stall_timeout_ms / 1000),
    name_template: s.name_template,
    podcastindex_key: s.podcastindex_key ?? "",
    podcastindex_secret: s.podcastindex_secret ?? "",
    fyyd_enabled: s.fyyd_enabled,
    agent_base_url: s.agent_base_url ?? "",
    agent_model: s.agent_model ?? "",
    agent_api_key: s.agent_api_key ?? "",
    auto_sync_enabled: s.auto_sync_hours != null,
    auto_sync_hours: String(s.auto_sync_hours ?? 24),
    start_at_login: s.start_at_login,
    retention_kind: s.retention.kind,
    retention_value: retentionValue(s.retention) || "30",
    notify: s.notify,
  };
}

/** Problem with a naming template, or null when the core will accept it. */
export function templateProblem(template: string): string | null {
  const t = template.trim();
  if (t === "") return "Enter a template, e.g. {playlist}/{date} {title}.{ext}";
  if (t.startsWith("/") || /^[A-Za-z]:[\\/]/.test(t)) return "The template must be relative to the library folder";
  for (const piece of t.split("/")) {
    const p = piece.trim();
    if (p === "") return "The template has an empty folder name (two / in a row or a trailing /)";
    if (p === "." || p === "..") return "Folder names . and .. are not allowed";
    let rest = piece;
    for (let open = rest.indexOf("{"); open >= 0; open = rest.indexOf("{")) {
      const close = rest.indexOf("}", open);
      if (close < 0) return "A { is not closed";
      const name = rest.slice(open + 1, close);
      if (!TEMPLATE_PLACEHOLDERS.includes(name)) {
        return `Unknown placeholder {${name}}; use ${TEMPLATE_PLACEHOLDERS.map((n) => `{${n}}`).join(", ")}`;
      }
      rest = rest.slice(close + 1);
    }
  }
  if (!t.includes("{ext}")) return "The template must end the file name with {ext}, the media file's extension";
  return null;
}

function parseNumber(text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return Number(t);
}

/** An integer in [min, max], or an error message. */
function intIn(text: string, min: number, max: number, what: string): number | string {
  const n = parseNumber(text);
  if (n == null || !Number.isInteger(n)) return `${what} must be a whole number`;
  if (n < min || n > max) return `${what} must be between ${min} and ${max}`;
  return n;
}

/** A number in [min, max], or an error message. */
function numberIn(text: string, min: number, max: number, what: string): number | string {
  const n = parseNumber(text);
  if (n == null) return `${what} must be a number`;
  if (n < min || n > max) return `${what} must be between ${min} and ${max}`;
  return n;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

const optional = (s: string): string | null => (s.trim() === "" ? null : s.trim());

/** Validates the form; `{ok: true, settings}` or `{ok: false, errors}` with one message per bad field. */
export function fromForm(f: SettingsForm): { ok: true; settings: Settings } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const take = <T>(field: keyof SettingsForm, v: T | string): T => {
    if (typeof v === "string") errors[field] = v;
    return v as T;
  };

  if (f.library.trim() === "") errors.library = "Choose a library folder";
  const roots = f.overflow_libraries.map((r) => r.trim()).filter((r) => r !== "");
  if (roots.some((r) => r === f.library.trim())) errors.overflow_libraries = "An overflow folder cannot be the library folder itself";
  else if (new Set(roots).size !== roots.length) errors.overflow_libraries = "An overflow folder is listed twice";

  const parallel = take<number>("parallel_downloads", intIn(f.parallel_downloads, 1, 64, "Parallel downloads"));
  const perHost = take<number>("per_host_connections", intIn(f.per_host_connections, 1, 32, "Connections per server"));
  let limit: number | null = null;
  if (f.bandwidth_limit_mbps.trim() !== "") {
    const mbps = take<number>("bandwidth_limit_mbps", numberIn(f.bandwidth_limit_mbps, 0.01, 10_000, "Bandwidth limit"));
    if (typeof mbps === "number") limit = Math.round(mbps * 1e6);
  }
  const stall = take<number>("stall_timeout_s", numberIn(f.stall_timeout_s, 5, 3600, "Stall timeout"));
  const deadline = take<number>("transfer_deadline_min", numberIn(f.transfer_deadline_min, 1, 7 * 24 * 60, "Transfer deadline"));
  const subStall = take<number>("subprocess_stall_timeout_s", numberIn(f.subprocess_stall_timeout_s, 10, 24 * 3600, "yt-dlp stall timeout"));
  if (typeof stall === "number" && typeof deadline === "number" && !errors.transfer_deadline_min && deadline * 60 < stall) {
    errors.transfer_deadline_min = "The transfer deadline must be longer than the stall timeout";
  }

  const problem = templateProblem(f.name_template);
  if (problem) errors.name_template = problem;

  const key = optional(f.podcastindex_key);
  const secret = optional(f.podcastindex_secret);
  if ((key == null) !== (secret == null)) {
    errors[key == null ? "podcastindex_key" : "podcastindex_secret"] = "Podcast Index needs both the key and the secret";
  }

  const agentUrl = optional(f.agent_base_url);
  if (agentUrl != null && !isHttpUrl(agentUrl)) errors.agent_base_url = "Enter an http:// or https:// address, e.g. http://127.0.0.1:11434/v1";
  const agentModel = optional(f.agent_model);
  if (agentUrl != null && agentModel == null) errors.agent_model = "Name the model the agent should use";

  let autoSync: number | null = null;
  if (f.auto_sync_enabled) autoSync = take<number>("auto_sync_hours", intIn(f.auto_sync_hours, 1, 24 * 7, "Auto-sync interval"));

  const retention = take<Settings["retention"]>("retention_value", parseRetention(f.retention_kind, f.retention_value));

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    settings: {
      library: f.library.trim(),
      overflow_libraries: roots,
      parallel_downloads: parallel,
      per_host_connections: perHost,
      bandwidth_limit_bytes_per_sec: limit,
      stall_timeout_ms: Math.round(stall * 1000),
      transfer_deadline_ms: Math.round(deadline * 60_000),
      subprocess_stall_timeout_ms: Math.round(subStall * 1000),
      name_template: f.name_template.trim(),
      podcastindex_key: key,
      podcastindex_secret: secret,
      fyyd_enabled: f.fyyd_enabled,
      agent_base_url: agentUrl,
      agent_model: agentModel,
      agent_api_key: optional(f.agent_api_key),
      auto_sync_hours: autoSync,
      start_at_login: f.start_at_login,
      retention,
      notify: f.notify,
    },
  };
}
