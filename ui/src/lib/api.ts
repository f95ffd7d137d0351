//! The one door to the backend. Every page calls `api()` and gets a `Backend`: promise-returning
//! methods that resolve with data or reject with an `ApiError` carrying the wire error's `code`
//! and `message` (the Rust shell's `{code, message}`), plus event subscriptions. In the app the
//! backend is the Tauri shell through the tauri-specta bindings (`commands.*`, `events.*`);
//! tests replace it with `setBackend(fake)`, so no component knows about the transport.
//! Events are the only refresh trigger: the shell sends task-center changes throttled to a few
//! per second with cumulative totals, and job-finished/failed notices; nothing here polls.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";

/** Import/export format of a playlist, e.g. `rss`, `atom`, `m3u`, `pls`, `xspf`, `ytdlp`. */
export type PlaylistFormat = string;

/** One playlist row of the playlists page. Times are Unix ms. */
export interface PlaylistView {
  id: number;
  url: string;
  title: string;
  format: PlaylistFormat;
  item_count: number;
  downloaded_count: number;
  failed_count: number;
  /** Items marked wanted (to be downloaded). */
  wanted_count: number;
  last_sync_ms: number | null;
  last_error: string | null;
  /** OPML folders the playlist sits in. */
  folders: string[];
}

/** One item of a playlist. `status` is e.g. `new`, `wanted`, `downloading`, `downloaded`, `failed`. */
export interface ItemView {
  id: number;
  title: string;
  published_ms: number | null;
  status: string;
  file_path: string | null;
  /** Size of the file on disk or the declared length, bytes. */
  size_bytes: number | null;
  error: string | null;
}

/** What adding or importing did. */
export interface AddResult {
  added: number;
  existing: number;
  errors: { input: string; message: string }[];
}

export type JobKind = "sync_only" | "download_only" | "sync_download" | "catalog_sync" | "collect_only" | "export_only" | "download_export";
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "pause_requested" | "paused";
export type WorkStatus = "queued" | "running" | "done" | "failed" | "skipped";
export type StageKind = "sync" | "download" | "collect" | "export";
export type Lane = "download" | "general";
export type JobAction = "pause" | "resume" | "cancel" | "retry";

/** One job row of the task center (the core's `jobs::task_center::JobView`). */
export interface JobView {
  id: number;
  display_name: string;
  kind: JobKind;
  status: JobStatus;
  lane: Lane;
  queue_label: string | null;
  scope_summary: string;
  progress_text: string;
  /** Finished / total work items of the current stage, 0-100; null without work items. */
  percent: number | null;
  stage: StageKind | null;
  active_workers: number;
  /** Summed speed of the job's live workers, bytes/s. */
  speed_bps: number;
  can_pause: boolean;
  can_resume: boolean;
  can_cancel: boolean;
  can_retry: boolean;
}

export interface TaskSummary {
  total: number;
  queued: number;
  queued_download_jobs: number;
  running: number;
  paused: number;
  failed: number;
}

export interface TaskCenter {
  jobs: JobView[];
  summary: TaskSummary;
}

export interface StageView {
  kind: StageKind;
  status: WorkStatus;
  done: number;
  failed: number;
  skipped: number;
  total: number;
  error: string | null;
}

export interface StageItemView {
  stage: StageKind;
  title: string;
  status: WorkStatus;
  attempts: number;
  error: string | null;
  note: string | null;
}

/** A resolver (`resolve-N`) or downloader (`download-N`) of a download stage. */
export interface WorkerView {
  name: string;
  state: string;
  item_title: string | null;
  bytes: number;
  total_bytes: number | null;
  speed_bps: number;
}

export interface StepView {
  stage: StageKind;
  outcome: string;
  started_ms: number;
  ended_ms: number | null;
  error: { class: string; message: string } | null;
}

/** One attempt of a job, id `job-<id>-run-<n>`. */
export interface RunView {
  id: string;
  outcome: string;
  started_ms: number;
  ended_ms: number | null;
  steps: StepView[];
  error: { class: string; message: string } | null;
}

export interface LogLine {
  t_ms: number;
  kind: string;
  message: string;
}

export interface JobDetail {
  stages: StageView[];
  items: StageItemView[];
  workers: WorkerView[];
  runs: RunView[];
  log: LogLine[];
}

/** `[t_ms, bytes_per_sec]` samples, oldest first. */
export type ThroughputSample = [number, number];

/** The desktop app's editable settings (a subset of the core's `Config`). */
export interface Settings {
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
}

/** A job reached an end state. */
export interface JobEnded {
  job_id: number;
  display_name: string;
  status: JobStatus;
  message: string | null;
}

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
  importFile(path: string): Promise<AddResult>;
  exportOpml(path: string): Promise<void>;
  /** Native dialogs; null when the user cancels. */
  pickImportFile(): Promise<string | null>;
  pickExportPath(): Promise<string | null>;
  pickFolder(): Promise<string | null>;
  /** Queues a job over the playlists; returns the job id. */
  enqueueJob(kind: JobKind, playlistIds: number[]): Promise<number>;
  setWanted(playlistIds: number[], wanted: boolean): Promise<void>;
  taskCenter(): Promise<TaskCenter>;
  jobDetail(jobId: number): Promise<JobDetail>;
  jobCommand(jobId: number, action: JobAction): Promise<void>;
  pauseAll(): Promise<void>;
  resumeAll(): Promise<void>;
  throughputHistory(): Promise<ThroughputSample[]>;
  getSettings(): Promise<Settings>;
  saveSettings(settings: Settings): Promise<void>;
  /** Task center changed (throttled by the shell). */
  onTaskCenterChanged(cb: () => void): Promise<Unsubscribe>;
  onJobEnded(cb: (e: JobEnded) => void): Promise<Unsubscribe>;
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
  jobCommand: (jobId, action) => call("job_command", { jobId, command: action }),
  pauseAll: () => call("pause_all"),
  resumeAll: () => call("resume_all"),
  throughputHistory: () => call("throughput_history"),
  getSettings: () => call("get_settings"),
  saveSettings: (settings) => call("save_settings", { settings }),
  onTaskCenterChanged: (cb) => subscribe("task-center-changed", () => cb()),
  onJobEnded: (cb) => subscribe<JobEnded>("job-ended", cb),
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
