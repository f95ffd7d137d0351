//! The one door to the backend. Every page calls `api()` and gets a `Backend`: promise-returning
//! methods that resolve with data or reject with an `ApiError` carrying the wire error's `code`
//! and `message` (the Rust shell's `{code, message}`), plus event subscriptions. In the app the
//! backend is the Tauri shell through the generated tauri-specta bindings (`../bindings.ts`:
//! `commands.*`, `events.*`, and every wire type);
//! tests replace it with `setBackend(fake)`, so no component knows about the transport.
//! Events are the only refresh trigger: the shell pushes the whole task center (throttled to a
//! few per second, cumulative totals), catalog changes, job ends, activity lines and throughput
//! samples; nothing here polls. In a browser (`catalog-sync serve`: the page is not inside Tauri)
//! the backend is `httpBackend` (`./http-backend.ts`): the same operations and events over HTTP
//! and Server-Sent Events, with `web` set for what replaces the desktop's native dialogs.

import type { UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { commands, events } from "../bindings";
import { httpBackend } from "./http-backend";

// ---- Wire types: the shell's tauri-specta types from `src/bindings.ts` (generated from the
// Rust types, never edited here). Units are in the field names (`_ms` = Unix ms, `_bps` and
// `bytes_per_sec` = bytes/s, `bytes`/`downloaded`/`total`/`size_bytes` = bytes).
import type {
  ActivityLine,
  AddKind,
  AddResult,
  AppInfo,
  AutoSyncView,
  ImportResult,
  ItemPage,
  JobAction,
  JobDetail,
  JobFinished,
  JobKind,
  KeepChange,
  MediaChoice,
  OrganizePreview,
  PlaylistPage,
  PlaylistView,
  Retention,
  RetentionReport,
  Settings,
  TargetInput,
  TargetTest,
  TargetView,
  TaskCenterView,
  ThroughputPoint,
  YtDlpStatus,
  YtDlpUpdate,
  YtDlpInstall,
} from "../bindings";

export type {
  ActivityLine,
  AddKind,
  AddResult,
  AppInfo,
  AutoSyncView,
  ErrorClass,
  ErrorCode,
  ImportResult,
  ItemPage,
  ItemStatus,
  ItemView,
  JobAction,
  JobDetail,
  JobFinished,
  JobKind,
  OrganizePreview,
  RenameView,
  JobRowView,
  JobStatus,
  KeepChange,
  Lane,
  LogKind,
  LogLineView,
  MediaChoice,
  PlaylistPage,
  PlaylistView,
  RemovedFile,
  Retention,
  RetentionReport,
  RunErrorView,
  RunOutcome,
  RunView,
  Settings,
  SparedFile,
  StageKind,
  StageView,
  StepOutcome,
  StepView,
  SummaryView,
  TargetInput,
  TargetTest,
  TargetView,
  TaskCenterView,
  ThroughputPoint,
  WireError,
  WorkerState,
  WorkerView,
  WorkItemView,
  YtDlpStatus,
  YtDlpUpdate,
  YtDlpInstall,
  WorkStatus,
} from "../bindings";

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

/** What a browser backend offers instead of native dialogs and file paths. */
export interface WebBackend {
  /** Uploads an OPML subscription list (the server never reads a client's path). */
  importUpload(file: File): Promise<ImportResult>;
  /** Where the catalog's OPML is downloaded from (a same-origin GET). */
  exportUrl: string;
}

/** Everything the UI asks of the backend. Rejections are `ApiError`s. */
export interface Backend {
  /** A page of playlists by id after cursor `after` (the `next` of the page before; null: the first), at most `limit` rows. */
  listPlaylists(after?: string | null, limit?: number | null): Promise<PlaylistPage>;
  /** A page of a playlist's items in document order (cursor as for `listPlaylists`). */
  listItems(playlistId: number, after?: string | null, limit?: number | null): Promise<ItemPage>;
  /** A playlist's cover / an item's own image as a `data:` URL from the shell's art cache; null when there is none. */
  playlistArt(playlistId: number): Promise<string | null>;
  itemArt(itemId: number): Promise<string | null>;
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
  /** Adds by content ("auto": a web page yt-dlp lists becomes a yt-dlp playlist), as a document, or through yt-dlp. */
  addPlaylistsAs(urls: string[], kind: AddKind, media: MediaChoice | null): Promise<AddResult>;
  /** What a yt-dlp playlist downloads of each entry; returns the playlist. */
  setPlaylistMedia(playlistId: number, media: MediaChoice): Promise<PlaylistView>;
  /** Tags and cover art for the playlist's downloads on or off (null: the default, on for feeds); returns the playlist. */
  setPlaylistTagging(playlistId: number, enabled: boolean | null): Promise<PlaylistView>;
  /** The playlist's own retention rule (null: the global default from the settings); returns the playlist. */
  setPlaylistRetention(playlistId: number, rule: Retention | null): Promise<PlaylistView>;
  /** Marks an item "keep" (retention never deletes it; a deleted one is downloaded again) or clears the mark. */
  setItemKeep(itemId: number, keep: boolean): Promise<KeepChange>;
  /** Runs retention over the playlists (empty = all) now; `dryRun` only previews what would go. */
  cleanLibrary(playlistIds: number[], dryRun: boolean): Promise<RetentionReport>;
  /** The yt-dlp in use and its version (or why it cannot run). */
  ytdlpStatus(): Promise<YtDlpStatus>;
  /** The auto-sync schedule: interval, next run and last run (Unix ms; kept in the catalog). */
  autoSyncStatus(): Promise<AutoSyncView>;
  /** Upload targets with their playlists; credentials never come back (`has_password`). */
  listTargets(): Promise<TargetView[]>;
  /** Adds or replaces a target by name; an empty password keeps the stored one. */
  saveTarget(target: TargetInput): Promise<TargetView>;
  removeTarget(name: string): Promise<void>;
  /** Writes, reads back and deletes a probe file; a failure is `{ok: false, message}`. */
  testTarget(name: string): Promise<TargetTest>;
  /** Assigns a playlist to exactly these targets; returns them. */
  setPlaylistTargets(playlistId: number, targets: string[]): Promise<string[]>;
  /** Queues `upload_only` or `download_upload` over the playlists (to `targets`, empty = all of theirs). */
  enqueueUpload(kind: JobKind, playlistIds: number[], targets: string[]): Promise<number>;
  /** The dry run of renaming: which downloaded files move where under the saved template. */
  organizePreview(): Promise<OrganizePreview>;
  /** Queues the `organize` job (or returns the unfinished one's id): files move to their template names. */
  organize(): Promise<number>;
  /** Updates yt-dlp where the user installed it (`conflict` when it is installed system-wide). */
  updateYtdlp(): Promise<YtDlpUpdate>;
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
  /**
   * Set in a browser (`serve`): uploads and downloads replace the native dialogs and paths, and
   * desktop-only settings (start at login, folder pickers) are shown as unavailable.
   */
  web?: WebBackend;
}

type WireResult<T> = { status: "ok"; data: T } | { status: "error"; error: { code: string; message: string } };

/** Turns a tauri-specta result into a value or a thrown `ApiError`. */
export function unwrap<T>(r: WireResult<T>): T {
  if (r.status === "ok") return r.data;
  throw new ApiError(r.error.code, r.error.message);
}

/**
 * Awaits a command; a rejection that is not a wire error (the bindings rethrow `Error`s: no
 * shell, a refused permission, bad arguments) becomes code `ipc`.
 */
async function call<T>(result: Promise<WireResult<T>>): Promise<T> {
  let r: WireResult<T>;
  try {
    r = await result;
  } catch (e) {
    r = { status: "error", error: { code: "ipc", message: e instanceof Error ? e.message : String(e) } };
  }
  return unwrap(r);
}

async function done(result: Promise<WireResult<null>>): Promise<void> {
  await call(result);
}

async function subscribe<T>(listen: (cb: (e: { payload: T }) => void) => Promise<UnlistenFn>, cb: (payload: T) => void): Promise<Unsubscribe> {
  return listen((e) => cb(e.payload));
}

/** The Tauri shell as a backend: one line per command of the bindings. */
export const tauriBackend: Backend = {
  listPlaylists: (after, limit) => call(commands.listPlaylists(after ?? null, limit ?? null)),
  listItems: (playlistId, after, limit) => call(commands.listItems(playlistId, after ?? null, limit ?? null)),
  playlistArt: (playlistId) => call(commands.playlistArt(playlistId)),
  itemArt: (itemId) => call(commands.itemArt(itemId)),
  addPlaylists: (urls) => call(commands.addPlaylists(urls)),
  importFile: (path) => call(commands.importFile(path)),
  exportOpml: (path) => done(commands.exportOpml(path)),
  pickImportFile: () => call(commands.pickImportFile()),
  pickExportPath: () => call(commands.pickExportPath()),
  pickFolder: () => call(commands.pickFolder()),
  enqueueJob: (kind, playlistIds) => call(commands.enqueueJob(kind, playlistIds)),
  setWanted: (playlistIds, wanted) => call(commands.setWanted(playlistIds, wanted)),
  taskCenter: () => call(commands.taskCenter()),
  jobDetail: (jobId) => call(commands.jobDetail(jobId)),
  jobCommand: (jobId, action) => done(commands.jobCommand(jobId, action)),
  pauseAll: () => call(commands.pauseAll()),
  resumeAll: () => call(commands.resumeAll()),
  throughputHistory: () => call(commands.throughputHistory()),
  getSettings: () => call(commands.getSettings()),
  saveSettings: (settings) => call(commands.saveSettings(settings)),
  appInfo: () => call(commands.appInfo()),
  addPlaylistsAs: (urls, kind, media) => call(commands.addPlaylistsAs(urls, kind, media)),
  setPlaylistMedia: (playlistId, media) => call(commands.setPlaylistMedia(playlistId, media)),
  setPlaylistTagging: (playlistId, enabled) => call(commands.setPlaylistTagging(playlistId, enabled)),
  setPlaylistRetention: (playlistId, rule) => call(commands.setPlaylistRetention(playlistId, rule)),
  setItemKeep: (itemId, keep) => call(commands.setItemKeep(itemId, keep)),
  cleanLibrary: (playlistIds, dryRun) => call(commands.cleanLibrary(playlistIds, dryRun)),
  ytdlpStatus: () => call(commands.ytdlpStatus()),
  autoSyncStatus: () => call(commands.autoSyncStatus()),
  listTargets: () => call(commands.listTargets()),
  saveTarget: (target) => call(commands.saveTarget(target)),
  removeTarget: (name) => done(commands.removeTarget(name)),
  testTarget: (name) => call(commands.testTarget(name)),
  setPlaylistTargets: (playlistId, targets) => call(commands.setPlaylistTargets(playlistId, targets)),
  enqueueUpload: (kind, playlistIds, targets) => call(commands.enqueueUpload(kind, playlistIds, targets)),
  organizePreview: () => call(commands.organizePreview()),
  organize: () => call(commands.organize()),
  updateYtdlp: () => call(commands.updateYtdlp()),
  onTaskCenterChanged: (cb) => subscribe(events.taskCenterChanged.listen, (p) => cb(p.task_center)),
  onCatalogChanged: (cb) => subscribe(events.catalogChanged.listen, (p) => cb(p.playlist_ids)),
  onJobFinished: (cb) => subscribe(events.jobFinished.listen, cb),
  onActivity: (cb) => subscribe(events.activity.listen, (p) => cb(p.lines)),
  onThroughput: (cb) => subscribe(events.throughputSampled.listen, cb),
  onFileDrag: (cb) =>
    getCurrentWebview().onDragDropEvent((e) => {
      const p = e.payload;
      if (p.type === "drop") cb({ type: "drop", paths: p.paths });
      else if (p.type === "leave") cb({ type: "leave" });
      else cb({ type: "over" });
    }),
};

/** Whether the page runs inside the Tauri shell (its IPC bridge is present). */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

// chosen at the first call (not at module load: `http-backend` imports this module)
let current: Backend | null = null;

/** The backend in use: the Tauri shell inside the app, else the HTTP server. */
export function api(): Backend {
  current ??= inTauri() ? tauriBackend : httpBackend;
  return current;
}

/** Every playlist, page after page (1,000 a request). */
export async function allPlaylists(): Promise<PlaylistView[]> {
  const out: PlaylistView[] = [];
  let after: string | null = null;
  do {
    const page: PlaylistPage = await api().listPlaylists(after, 1000);
    out.push(...page.playlists);
    after = page.next;
  } while (after != null);
  return out;
}

/** Replaces the backend (tests inject a fake). */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** Back to the default backend. */
export function resetBackend(): void {
  current = null;
}
