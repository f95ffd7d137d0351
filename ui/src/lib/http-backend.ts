//! The backend of `catalog-sync serve`: the same `Backend` over HTTP, picked when the page is
//! not inside Tauri. Requests go to the server's JSON routes with the session cookie
//! (`credentials: "same-origin"`); a failure is the same `ApiError` with the wire error's
//! `code` and `message` (`unauthorized` when the session is missing: the app shows its login
//! form). Live events come from one `EventSource` on `/api/events`, shared by every
//! subscription, by the same names and payloads as the desktop's events (the core's
//! `api::live`); the browser reconnects it on its own. The wire types are the generated ones
//! (`../bindings`). What only the desktop has degrades visibly: no native dialogs (uploads and
//! text fields instead, see `web`), no tray, no start at login, no native file drops.

import { ApiError, type Backend, type Unsubscribe } from "./api";
import type {
  Activity,
  AddResult,
  AppInfo,
  CatalogChanged,
  ImportResult,
  ItemPage,
  JobDetail,
  JobFinished,
  OrganizePreview,
  KeepChange,
  PlaylistPage,
  PlaylistView,
  RetentionReport,
  Settings,
  TargetTest,
  TargetView,
  TaskCenterChanged,
  TaskCenterView,
  ThroughputPoint,
  ThroughputSampled,
  YtDlpStatus,
  AutoSyncView,
  YtDlpUpdate,
} from "../bindings";

/** Calls a route; resolves with its JSON (or undefined for 204), rejects with an `ApiError`. */
export async function request<T>(method: string, path: string, body?: unknown, raw?: BodyInit): Promise<T> {
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body !== undefined ? { "Content-Type": "application/json" } : raw !== undefined ? { "Content-Type": "application/octet-stream" } : {},
      body: body !== undefined ? JSON.stringify(body) : raw,
    });
  } catch (e) {
    throw new ApiError("ipc", `the server did not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  let data: unknown = undefined;
  try {
    data = text === "" ? undefined : JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!resp.ok) {
    const err = data as { code?: string; message?: string } | undefined;
    throw new ApiError(err?.code ?? "internal", err?.message ?? `HTTP ${resp.status}`);
  }
  return data as T;
}

/** Trades the token for a session cookie. Rejects with `unauthorized` or `rate_limited`. */
export function login(token: string): Promise<void> {
  return request<void>("POST", "/api/login", { token });
}

let source: EventSource | null = null;
let listeners = 0;

/** Listens to the live event `name` on the shared `EventSource`. */
function listen<T>(name: string, cb: (payload: T) => void): Promise<Unsubscribe> {
  if (!source) source = new EventSource("/api/events");
  const es = source;
  const handler = (e: MessageEvent) => cb(JSON.parse(e.data) as T);
  es.addEventListener(name, handler as EventListener);
  listeners += 1;
  return Promise.resolve(() => {
    es.removeEventListener(name, handler as EventListener);
    listeners -= 1;
    if (listeners === 0 && source === es) {
      es.close();
      source = null;
    }
  });
}

/** `?after=&limit=` of a paged list (empty when neither is set). */
function pageQuery(after?: string | null, limit?: number | null): string {
  const q = new URLSearchParams();
  if (after != null) q.set("after", after);
  if (limit != null) q.set("limit", String(limit));
  const text = q.toString();
  return text === "" ? "" : `?${text}`;
}

const desktopOnly = (what: string) => Promise.reject(new ApiError("invalid_input", `${what} needs the desktop app; in the browser use the upload and the text fields`));

/** `serve` as a backend. */
export const httpBackend: Backend = {
  listPlaylists: (after, limit) => request<PlaylistPage>("GET", `/api/playlists${pageQuery(after, limit)}`),
  listItems: (playlistId, after, limit) => request<ItemPage>("GET", `/api/playlists/${playlistId}/items${pageQuery(after, limit)}`),
  addPlaylists: (urls) => request<AddResult>("POST", "/api/playlists", { urls }),
  addPlaylistsAs: (urls, kind, media) => request<AddResult>("POST", "/api/playlists", { urls, kind, media }),
  setPlaylistMedia: (playlistId, media) => request<PlaylistView>("PUT", `/api/playlists/${playlistId}/media`, media),
  setPlaylistTagging: (playlistId, enabled) => request<PlaylistView>("PUT", `/api/playlists/${playlistId}/tagging`, { enabled }),
  setPlaylistRetention: (playlistId, rule) => request<PlaylistView>("PUT", `/api/playlists/${playlistId}/retention`, { rule }),
  setItemKeep: (itemId, keep) => request<KeepChange>("PUT", `/api/items/${itemId}/keep`, { keep }),
  cleanLibrary: (playlistIds, dryRun) => request<RetentionReport>("POST", "/api/clean", { playlist_ids: playlistIds, dry_run: dryRun }),
  ytdlpStatus: () => request<YtDlpStatus>("GET", "/api/ytdlp"),
  autoSyncStatus: () => request<AutoSyncView>("GET", "/api/auto-sync"),
  updateYtdlp: () => request<YtDlpUpdate>("POST", "/api/ytdlp/update"),
  playlistArt: (playlistId) => request<string | null>("GET", `/api/playlists/${playlistId}/art`),
  itemArt: (itemId) => request<string | null>("GET", `/api/items/${itemId}/art`),
  importFile: () => desktopOnly("Importing a file by path"),
  exportOpml: () => desktopOnly("Saving a file by path"),
  pickImportFile: () => Promise.resolve(null),
  pickExportPath: () => Promise.resolve(null),
  pickFolder: () => Promise.resolve(null),
  enqueueJob: (kind, playlistIds) => request<number>("POST", "/api/jobs", { kind, playlist_ids: playlistIds }),
  setWanted: (playlistIds, wanted) => request<number>("PUT", "/api/wanted", { playlist_ids: playlistIds, wanted }),
  taskCenter: () => request<TaskCenterView>("GET", "/api/task-center"),
  jobDetail: (jobId) => request<JobDetail>("GET", `/api/jobs/${jobId}`),
  jobCommand: async (jobId, action) => {
    await request<null>("POST", `/api/jobs/${jobId}/command`, { action });
  },
  pauseAll: () => request<number>("POST", "/api/jobs/pause-all"),
  resumeAll: () => request<number>("POST", "/api/jobs/resume-all"),
  throughputHistory: () => request<ThroughputPoint[]>("GET", "/api/throughput"),
  getSettings: () => request<Settings>("GET", "/api/settings"),
  saveSettings: (settings) => request<Settings>("PUT", "/api/settings", settings),
  appInfo: () => request<AppInfo>("GET", "/api/info"),
  listTargets: () => request<TargetView[]>("GET", "/api/targets"),
  saveTarget: (target) => request<TargetView>("PUT", "/api/targets", target),
  removeTarget: async (name) => {
    await request<null>("DELETE", `/api/targets/${encodeURIComponent(name)}`);
  },
  testTarget: (name) => request<TargetTest>("POST", `/api/targets/${encodeURIComponent(name)}/test`),
  setPlaylistTargets: (playlistId, targets) => request<string[]>("PUT", `/api/playlists/${playlistId}/targets`, { targets }),
  enqueueUpload: (kind, playlistIds, targets) => request<number>("POST", "/api/uploads", { kind, playlist_ids: playlistIds, targets }),
  organizePreview: () => request<OrganizePreview>("GET", "/api/organize"),
  organize: () => request<number>("POST", "/api/organize"),
  onTaskCenterChanged: (cb) => listen<TaskCenterChanged>("task-center-changed", (p) => cb(p.task_center)),
  onCatalogChanged: (cb) => listen<CatalogChanged>("catalog-changed", (p) => cb(p.playlist_ids)),
  onJobFinished: (cb) => listen<JobFinished>("job-finished", cb),
  onActivity: (cb) => listen<Activity>("activity", (p) => cb(p.lines)),
  onThroughput: (cb) => listen<ThroughputSampled>("throughput-sampled", cb),
  // the browser has no native file drops; App handles HTML drops of files through `web`
  onFileDrag: () => Promise.resolve(() => {}),
  web: {
    importUpload: (file: File) => request<ImportResult>("POST", `/api/import?name=${encodeURIComponent(file.name)}`, undefined, file),
    exportUrl: "/api/opml",
  },
};
