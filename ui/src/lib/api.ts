//! The one door to the backend. Every page calls `api()` and gets a `Backend`: promise-returning
//! methods that resolve with data or reject with an `ApiError` carrying the wire error's `code`
//! and `message` (the Rust shell's `{code, message}`), plus event subscriptions. In the app the
//! backend is the Tauri shell through the tauri-specta bindings (`commands.*`, `events.*`);
//! tests replace it with `setBackend(fake)`, so no component knows about the transport.
//! Events are the only refresh trigger: the shell pushes the whole task center (throttled to a
//! few per second, cumulative totals), catalog changes, job ends, activity lines and throughput
//! samples; nothing here polls.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";

// ---- Wire types. They mirror the shell's tauri-specta types one to one (same names and
// fields as `src/bindings.ts`); units are in the field names (`_ms` = Unix ms, `_bps` and
// `bytes_per_sec` = bytes/s, `bytes`/`downloaded`/`total` = bytes).

export type ErrorCode = "not_found" | "invalid_input" | "unparsable" | "network" | "conflict" | "in_use" | "io" | "internal";
export type JobKind = "sync_only" | "download_only" | "sync_download" | "catalog_sync" | "collect_only" | "export_only" | "download_export";
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "pause_requested" | "paused";
export type WorkStatus = "queued" | "running" | "done" | "failed" | "skipped";
export type StageKind = "sync" | "download" | "collect" | "export";
export type JobLane = "download" | "general";
export type JobAction = "pause" | "resume" | "cancel" | "retry_failed";
export type ItemStatus = "downloaded" | "downloading" | "queued" | "failed" | "not_downloaded" | "no_media";
export type WorkerStateW = "idle" | "working" | "stopped";
export type RunOutcomeW = "succeeded" | "failed" | "cancelled" | "paused" | "interrupted";
export type StepOutcomeW = RunOutcomeW;
export type ErrorClassW = "expected" | "transient" | "bug";
export type LogKindW = "job" | "stage" | "item" | "error" | "command";

/** One playlist row of the playlists page. */
export type PlaylistView = {
  id: number;
  url: string;
  title: string;
  /** `rss`, `atom`, `m3u`, `pls`, `xspf`, ... once known. */
  format: string | null;
  item_count: number;
  downloaded_count: number;
  failed_count: number;
  /** Items marked wanted (to be downloaded). */
  wanted_count: number;
  last_sync_ms: number | null;
  last_error: string | null;
  /** OPML folders the playlist sits in. */
  folders: string[];
};

/** One item of a playlist. */
export type ItemView = {
  id: number;
  title: string;
  published_ms: number | null;
  status: ItemStatus;
  /** Library-relative path of the file, once downloaded. */
  file_path: string | null;
  /** File size, or the declared length before download (bytes). */
  size_bytes: number | null;
  error: string | null;
  wanted: boolean;
};

export type AddResult = { ids: number[]; created: number };
export type ImportResult = { url: string; subscription_list: boolean; ids: number[]; created: number; items: number };

export type JobRowView = {
  id: number;
  display_name: string;
  kind: JobKind;
  status: JobStatus;
  lane: JobLane;
  queue_label: string | null;
  scope_summary: string;
  progress_text: string;
  /** Finished / total work items of the current stage, 0-100; null without work items. */
  percent: number | null;
  stage: StageKind | null;
  active_workers: number;
  speed_bps: number;
  can_pause: boolean;
  can_resume: boolean;
  can_cancel: boolean;
  can_retry: boolean;
};

export type SummaryView = { total: number; queued: number; queued_download_jobs: number; running: number; paused: number; failed: number };
export type TaskCenterView = { jobs: JobRowView[]; summary: SummaryView; total_speed_bps: number; active_workers: number };

export type StageView = {
  index: number;
  kind: StageKind;
  status: WorkStatus;
  queued: number;
  running: number;
  done: number;
  failed: number;
  skipped: number;
  total: number;
  error: string | null;
};

/** A work item of a stage: a playlist to sync or an item to download. `stage` is the index. */
export type WorkItemView = { stage: number; target: number; title: string; status: WorkStatus; attempts: number; error: string | null; note: string | null; bytes: number | null };

/** A resolver (`resolve-N`) or downloader (`download-N`) of a download stage. */
export type WorkerView = {
  name: string;
  stage: number;
  state: WorkerStateW;
  item: number | null;
  /** What it works on, for people. */
  display: string;
  downloaded: number;
  total: number | null;
  speed_bps: number;
  percent: number | null;
  processed: number;
  errors: number;
  heartbeat_ms: number;
};

export type RunErrorView = { code: string; message: string; class: ErrorClassW };
export type StepView = { stage: number; kind: StageKind; started_ms: number; ended_ms: number | null; outcome: StepOutcomeW | null; error: RunErrorView | null };
/** One attempt of a job, id `job-<id>-run-<n>`. */
export type RunView = { id: string; started_ms: number; ended_ms: number | null; outcome: RunOutcomeW | null; steps: StepView[] };
export type LogLineView = { seq: number; at_ms: number; kind: LogKindW; text: string };

export type JobDetail = {
  job: JobRowView;
  stages: StageView[];
  items: WorkItemView[];
  items_truncated: boolean;
  workers: WorkerView[];
  runs: RunView[];
  log: LogLineView[];
};

export type ThroughputPoint = { t_ms: number; bytes_per_sec: number };

/** The desktop app's editable settings (a subset of the core's `Config`). */
export type Settings = {
  library: string;
  overflow_libraries: string[];
  parallel_downloads: number;
  per_host_connections: number;
  bandwidth_limit_bytes_per_sec: number | null;
  stall_timeout_ms: number;
  transfer_deadline_ms: number;
  subprocess_stall_timeout_ms: number;
  name_template: string;
  podcastindex_key: string | null;
  podcastindex_secret: string | null;
  fyyd_enabled: boolean;
  agent_base_url: string | null;
  agent_model: string | null;
  agent_api_key: string | null;
  auto_sync_hours: number | null;
  start_at_login: boolean;
};

export type AppInfo = { version: string; database: string; config_file: string | null };

export type JobFinished = { job: number; status: JobStatus };
export type ActivityLine = { at_ms: number; job: number; level: string; text: string };

/** A native file drag: `over` while files hover the window, then `drop` with their paths or `leave`. */
export type FileDrag = { type: "over" } | { type: "drop"; paths: string[] } | { type: "leave" };

/** The wire error of every command: `code` is stable and branched on, `message` is for people. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = "ApiError";
  }
}

export type Unsubscribe = () => void;

/** Everything the UI asks of the backend. Rejections are `ApiError`s. */
export interface Backend {
  listPlaylists(): Promise<PlaylistView[]>;
  listItems(playlistId: number): Promise<ItemView[]>;
  addPlaylists(urls: string[]): Promise<AddResult>;
  importFile(path: string): Promise<ImportResult>;
  exportOpml(path: string): Promise<void>;
  /** Native dialogs; null when the user cancels. */
  pickImportFile(): Promise<string | null>;
  pickExportPath(): Promise<string | null>;
  pickFolder(): Promise<string | null>;
  /** Queues a job over the playlists; returns the job id. */
  enqueueJob(kind: JobKind, playlistIds: number[]): Promise<number>;
  /** Marks or unmarks every item of the playlists; returns how many items changed. */
  setWanted(playlistIds: number[], wanted: boolean): Promise<number>;
  taskCenter(): Promise<TaskCenterView>;
  jobDetail(jobId: number): Promise<JobDetail>;
  jobCommand(jobId: number, action: JobAction): Promise<void>;
  /** Returns how many jobs it paused / resumed. */
  pauseAll(): Promise<number>;
  resumeAll(): Promise<number>;
  throughputHistory(): Promise<ThroughputPoint[]>;
  getSettings(): Promise<Settings>;
  /** Saves and returns the settings as stored. */
  saveSettings(settings: Settings): Promise<Settings>;
  appInfo(): Promise<AppInfo>;
  /** The whole task center, pushed by the shell when it changes (throttled, cumulative). */
  onTaskCenterChanged(cb: (tc: TaskCenterView) => void): Promise<Unsubscribe>;
  /** Playlists or items changed; `playlistIds` empty = any. */
  onCatalogChanged(cb: (playlistIds: number[]) => void): Promise<Unsubscribe>;
  /** A job reached an end (or paused). */
  onJobFinished(cb: (e: JobFinished) => void): Promise<Unsubscribe>;
  /** New lines for the recent events list, oldest first. */
  onActivity(cb: (lines: ActivityLine[]) => void): Promise<Unsubscribe>;
  /** One throughput sample a second while jobs run. */
  onThroughput(cb: (p: ThroughputPoint) => void): Promise<Unsubscribe>;
  /**
   * Files dragged over or dropped onto the window. The webview's native drag and drop gives
   * paths (not File objects) and swallows the HTML drag events of files.
   */
  onFileDrag(cb: (e: FileDrag) => void): Promise<Unsubscribe>;
}

type WireResult<T> = { status: "ok"; data: T } | { status: "error"; error: { code: string; message: string } };

/** Turns a tauri-specta result into a value or a thrown `ApiError`. */
export function unwrap<T>(r: WireResult<T>): T {
  if (r.status === "ok") return r.data;
  throw new ApiError(r.error.code, r.error.message);
}

/** Calls a shell command; a transport failure (no shell, bad arguments) becomes code `ipc`. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  let result: WireResult<T>;
  try {
    result = { status: "ok", data: await invoke<T>(command, args) };
  } catch (e) {
    if (e && typeof e === "object" && "code" in e && "message" in e) {
      result = { status: "error", error: e as { code: string; message: string } };
    } else {
      result = { status: "error", error: { code: "ipc", message: String(e) } };
    }
  }
  return unwrap(result);
}

async function subscribe<T>(event: string, cb: (payload: T) => void): Promise<Unsubscribe> {
  const un: UnlistenFn = await listen<T>(event, (e) => cb(e.payload));
  return un;
}

/** The Tauri shell as a backend. */
export const tauriBackend: Backend = {
  listPlaylists: () => call("list_playlists"),
  listItems: (playlistId) => call("list_items", { playlistId }),
  addPlaylists: (urls) => call("add_playlists", { urls }),
  importFile: (path) => call("import_file", { path }),
  exportOpml: (path) => call("export_opml", { path }),
  pickImportFile: () => call("pick_import_file"),
  pickExportPath: () => call("pick_export_path"),
  pickFolder: () => call("pick_folder"),
  enqueueJob: (kind, playlistIds) => call("enqueue_job", { kind, playlistIds }),
  setWanted: (playlistIds, wanted) => call("set_wanted", { playlistIds, wanted }),
  taskCenter: () => call("task_center"),
  jobDetail: (jobId) => call("job_detail", { jobId }),
  jobCommand: (jobId, action) => call("job_command", { jobId, action }),
  pauseAll: () => call("pause_all"),
  resumeAll: () => call("resume_all"),
  throughputHistory: () => call("throughput_history"),
  getSettings: () => call("get_settings"),
  saveSettings: (settings) => call("save_settings", { settings }),
  appInfo: () => call("app_info"),
  onTaskCenterChanged: (cb) => subscribe<{ version: number; task_center: TaskCenterView }>("task-center-changed", (p) => cb(p.task_center)),
  onCatalogChanged: (cb) => subscribe<{ version: number; playlist_ids: number[] }>("catalog-changed", (p) => cb(p.playlist_ids)),
  onJobFinished: (cb) => subscribe<JobFinished>("job-finished", cb),
  onActivity: (cb) => subscribe<{ lines: ActivityLine[] }>("activity", (p) => cb(p.lines)),
  onThroughput: (cb) => subscribe<{ t_ms: number; bytes_per_sec: number }>("throughput-sampled", cb),
  onFileDrag: (cb) =>
    getCurrentWebview().onDragDropEvent((e) => {
      const p = e.payload;
      if (p.type === "drop") cb({ type: "drop", paths: p.paths });
      else if (p.type === "leave") cb({ type: "leave" });
      else cb({ type: "over" });
    }),
};

let current: Backend = tauriBackend;

/** The backend in use. */
export function api(): Backend {
  return current;
}

/** Replaces the backend (tests inject a fake). */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** Back to the Tauri shell. */
export function resetBackend(): void {
  current = tauriBackend;
}
