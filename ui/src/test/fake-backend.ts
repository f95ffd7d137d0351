//! A test double of the backend for unit and component tests only (never imported by the app):
//! in-memory playlists, items, jobs and settings, a log of every call with its arguments, and
//! `emitTaskCenterChanged` / `emitJobEnded` to play the shell's events. Methods can be made to
//! fail with a wire error through `failNext(method, code, message)`.
import { ApiError, type ActivityLine, type AddKind, type Backend, type MediaChoice, type FileDrag, type ItemView, type JobDetail, type JobFinished, type JobRowView, type PlaylistView, type RenameView, type Retention, type RetentionReport, type Settings, type TargetInput, type TargetView, type TaskCenterView, type ThroughputPoint, type YtDlpInstall } from "../lib/api";

/** A page of `rows` after the row whose key is `after` (as the server pages: by cursor). */
function page<T, K extends string>(rows: T[], key: (row: T) => number, after: string | null | undefined, limit: number | null | undefined, field: K): Record<K, T[]> & { next: string | null; total: number } {
  const start = after == null ? 0 : rows.findIndex((r) => String(key(r)) === after) + 1;
  const slice = rows.slice(start, start + (limit ?? 1000));
  const more = start + slice.length < rows.length;
  const next = more && slice.length > 0 ? String(key(slice[slice.length - 1])) : null;
  return { [field]: slice, next, total: rows.length } as Record<K, T[]> & { next: string | null; total: number };
}

export function playlist(id: number, over: Partial<PlaylistView> = {}): PlaylistView {
  return {
    id,
    url: `https://feeds.example.test/${id}.xml`,
    title: `Playlist ${id}`,
    format: "rss",
    item_count: 10,
    downloaded_count: 4,
    failed_count: 0,
    wanted_count: 10,
    last_sync_ms: Date.now() - 3_600_000,
    last_error: null,
    folders: [],
    has_image: false,
    media: null,
    error_kind: null,
    tagging: true,
    retention: null,
    ...over,
  };
}

export function job(id: number, over: Partial<JobRowView> = {}): JobRowView {
  return {
    id,
    display_name: "Sync and download",
    kind: "sync_download",
    status: "running",
    lane: "download",
    queue_label: null,
    scope_summary: "2 playlists",
    progress_text: "3 / 10 items | 1.5 MB/s",
    percent: 30,
    stage: "download",
    active_workers: 2,
    speed_bps: 1_500_000,
    can_pause: true,
    can_resume: false,
    can_cancel: true,
    can_retry: false,
    last_error: null,
    ...over,
  };
}

export function detail(over: Partial<JobDetail> = {}): JobDetail {
  const stage = { queued: 0, running: 0, skipped: 0, error: null };
  return {
    job: job(7),
    stages: [
      { ...stage, index: 0, kind: "sync", status: "done", done: 2, failed: 0, total: 2 },
      { ...stage, index: 1, kind: "download", status: "running", running: 1, queued: 5, done: 3, failed: 1, total: 10 },
    ],
    items: [
      { stage: 1, target: 41, title: "Episode 4", status: "failed", attempts: 3, error: "HTTP 404 from every source", note: null, bytes: null },
      { stage: 1, target: 51, title: "Episode 5", status: "running", attempts: 1, error: null, note: null, bytes: 5_000_000 },
    ],
    items_truncated: false,
    workers: [
      { job: 7, name: "resolve-1", stage: 1, state: "idle", item: null, display: "", downloaded: 0, total: null, speed_bps: 0, percent: null, processed: 6, errors: 0, heartbeat_ms: Date.now() },
      { job: 7, name: "download-1", stage: 1, state: "working", item: 51, display: "Episode 5", downloaded: 5_000_000, total: 20_000_000, speed_bps: 1_500_000, percent: 25, processed: 3, errors: 1, heartbeat_ms: Date.now() },
    ],
    runs: [
      {
        id: "job-7-run-1",
        outcome: null,
        started_ms: Date.now() - 60_000,
        ended_ms: null,
        steps: [{ stage: 0, kind: "sync", outcome: "succeeded", started_ms: Date.now() - 60_000, ended_ms: Date.now() - 50_000, error: null }],
      },
    ],
    log: [{ seq: 1, at_ms: Date.now() - 1000, kind: "item", text: "Episode 3 downloaded" }],
    ...over,
  };
}

export function settings(over: Partial<Settings> = {}): Settings {
  return {
    library: "/home/ann/Music/Catalog Sync",
    overflow_libraries: [],
    parallel_downloads: 4,
    per_host_connections: 4,
    bandwidth_limit_bytes_per_sec: null,
    stall_timeout_ms: 30_000,
    transfer_deadline_ms: 14_400_000,
    subprocess_stall_timeout_ms: 300_000,
    name_template: "{playlist}/{date} {title}.{ext}",
    podcastindex_key: null,
    podcastindex_secret: null,
    fyyd_enabled: true,
    agent_base_url: null,
    agent_model: null,
    agent_api_key: null,
    auto_sync_hours: null,
    start_at_login: false,
    retention: { kind: "keep_all" },
    notify: "every_job",
    ...over,
  };
}

type Listener<T> = (v: T) => void;

export class FakeBackend implements Backend {
  playlists: PlaylistView[] = [];
  tasks: TaskCenterView = { jobs: [], summary: { total: 0, queued: 0, queued_download_jobs: 0, running: 0, paused: 0, failed: 0 }, older: 0, total_speed_bps: 0, active_workers: 0 };
  details = new Map<number, JobDetail>();
  items = new Map<number, ItemView[]>();
  /** `data:` URLs by playlist id (`p<id>`) and item id (`i<id>`); absent = no picture. */
  art = new Map<string, string>();
  stored: Settings = settings();
  targets: TargetView[] = [];
  /** Stored credentials by target name (the fake's "config file"; never in a view). */
  secrets = new Map<string, string>();
  calls: { method: string; args: unknown[] }[] = [];
  private failures = new Map<string, ApiError>();
  private listeners = {
    tc: new Set<Listener<TaskCenterView>>(),
    catalog: new Set<Listener<number[]>>(),
    finished: new Set<Listener<JobFinished>>(),
    activity: new Set<Listener<ActivityLine[]>>(),
    throughput: new Set<Listener<ThroughputPoint>>(),
    drag: new Set<Listener<FileDrag>>(),
  };

  failNext(method: keyof Backend, code: string, message: string): void {
    this.failures.set(method, new ApiError(code, message));
  }

  callsOf(method: keyof Backend): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private async rec<T>(method: string, args: unknown[], value: () => T): Promise<T> {
    this.calls.push({ method, args });
    const f = this.failures.get(method);
    if (f) {
      this.failures.delete(method);
      throw f;
    }
    return structuredClone(value());
  }

  setJobs(jobs: JobRowView[]): void {
    this.tasks = {
      jobs,
      summary: { ...this.tasks.summary, total: jobs.length, running: jobs.filter((j) => j.status === "running").length },
      total_speed_bps: jobs.reduce((s, j) => s + j.speed_bps, 0),
      active_workers: jobs.reduce((s, j) => s + j.active_workers, 0),
      older: 0,
    };
  }

  /** Pushes the current task center like the shell's `task-center-changed` event. */
  emitTaskCenterChanged(): void {
    this.listeners.tc.forEach((l) => l(structuredClone(this.tasks)));
  }
  emitCatalogChanged(ids: number[] = []): void {
    this.listeners.catalog.forEach((l) => l(ids));
  }
  emitJobFinished(e: JobFinished): void {
    this.listeners.finished.forEach((l) => l(e));
  }
  emitActivity(lines: ActivityLine[]): void {
    this.listeners.activity.forEach((l) => l(lines));
  }
  emitThroughput(p: ThroughputPoint): void {
    this.listeners.throughput.forEach((l) => l(p));
  }
  emitFileDrag(e: FileDrag): void {
    this.listeners.drag.forEach((l) => l(e));
  }

  private sub<T>(set: Set<Listener<T>>, cb: Listener<T>) {
    set.add(cb);
    return Promise.resolve(() => void set.delete(cb));
  }

  /** Pages as the server cuts them: `after` is the last row's id (playlists) or index (items). */
  listPlaylists = (after?: string | null, limit?: number | null) =>
    this.rec("listPlaylists", [], () => page(this.playlists, (p) => p.id, after, limit, "playlists"));
  listItems = (id: number, after?: string | null, limit?: number | null) =>
    this.rec("listItems", [id], () => page(this.items.get(id) ?? [], (i) => i.id, after, limit, "items"));
  playlistArt = (id: number) => this.rec("playlistArt", [id], () => this.art.get(`p${id}`) ?? null);
  itemArt = (id: number) => this.rec("itemArt", [id], () => this.art.get(`i${id}`) ?? null);
  addPlaylists = (urls: string[]) => this.rec("addPlaylists", [urls], () => ({ ids: urls.map((_, i) => 100 + i), created: urls.length }));
  importFile = (path: string) => this.rec("importFile", [path], () => ({ url: `file://${path}`, subscription_list: true, ids: [100, 101], created: 2, items: 0 }));
  exportOpml = (path: string) => this.rec("exportOpml", [path], () => undefined);
  pickImportFile = () => this.rec("pickImportFile", [], () => null);
  pickExportPath = () => this.rec("pickExportPath", [], () => null);
  pickFolder = () => this.rec("pickFolder", [], () => "/mnt/big/podcasts");
  enqueueJob = (kind: string, ids: number[]) => this.rec("enqueueJob", [kind, ids], () => 99);
  setWanted = (ids: number[], wanted: boolean) => this.rec("setWanted", [ids, wanted], () => ids.length * 10);
  taskCenter = () => this.rec("taskCenter", [], () => this.tasks);
  jobDetail = (id: number) => this.rec("jobDetail", [id], () => this.details.get(id) ?? detail());
  jobCommand = (id: number, action: string) => this.rec("jobCommand", [id, action], () => undefined);
  pauseAll = () => this.rec("pauseAll", [], () => 1);
  resumeAll = () => this.rec("resumeAll", [], () => 1);
  throughputHistory = () => this.rec("throughputHistory", [], () => [] as ThroughputPoint[]);
  getSettings = () => this.rec("getSettings", [], () => this.stored);
  saveSettings = (s: Settings) =>
    this.rec("saveSettings", [s], () => {
      this.stored = s;
      return s;
    });
  addPlaylistsAs = (urls: string[], kind: AddKind, media: MediaChoice | null) =>
    this.rec("addPlaylistsAs", [urls, kind, media], () => ({ ids: urls.map((_, i) => 100 + i), created: urls.length }));
  setPlaylistTagging = (playlistId: number, enabled: boolean | null) =>
    this.rec("setPlaylistTagging", [playlistId, enabled], () => {
      const p = this.playlists.find((x) => x.id === playlistId);
      if (!p) throw new ApiError("not_found", `playlist ${playlistId} not found`);
      p.tagging = enabled ?? p.format !== "m3u";
      return { ...p };
    });
  setPlaylistRetention = (playlistId: number, rule: Retention | null) =>
    this.rec("setPlaylistRetention", [playlistId, rule], () => {
      const p = this.playlists.find((x) => x.id === playlistId);
      if (!p) throw new ApiError("not_found", `playlist ${playlistId} not found`);
      p.retention = rule;
      return { ...p };
    });
  setItemKeep = (itemId: number, keep: boolean) =>
    this.rec("setItemKeep", [itemId, keep], () => {
      let restored = false;
      for (const list of this.items.values()) {
        for (const it of list) {
          if (it.id !== itemId) continue;
          restored = keep && it.removed;
          it.keep = keep;
          if (restored) it.removed = false;
        }
      }
      return { item: itemId, keep, restored };
    });
  /** What `cleanLibrary` answers (its `dry_run` set from the call). */
  cleanReport: RetentionReport = { dry_run: true, removed: [], bytes_freed: 0, spared: [], finished_pending: 0 };
  cleanLibrary = (playlistIds: number[], dryRun: boolean) =>
    this.rec("cleanLibrary", [playlistIds, dryRun], () => ({ ...this.cleanReport, dry_run: dryRun }));
  setPlaylistMedia = (playlistId: number, media: MediaChoice) =>
    this.rec("setPlaylistMedia", [playlistId, media], () => {
      const p = this.playlists.find((x) => x.id === playlistId);
      if (!p || p.media == null) throw new ApiError("not_found", `yt-dlp playlist ${playlistId} not found`);
      p.media = media;
      return p;
    });
  autoSyncStatus = () =>
    this.rec("autoSyncStatus", [], () => ({
      every_hours: this.stored.auto_sync_hours,
      next_run_ms: this.stored.auto_sync_hours == null ? null : 1_764_590_400_000,
      last_run_ms: null,
      last_job: null,
    }));
  ytdlpVersion = "2026.10.26";
  ytdlpInstall: YtDlpInstall | null = {
    kind: "pipx",
    update_command: ["/home/ann/.local/bin/pipx", "upgrade", "yt-dlp"],
    note: "installed with pipx (/home/ann/.local/share/pipx/venvs/yt-dlp), updated by `pipx upgrade yt-dlp`",
  };
  ytdlpStatus = () =>
    this.rec("ytdlpStatus", [], () => ({ path: "/home/ann/.local/bin/yt-dlp", version: this.ytdlpVersion, error: null, install: this.ytdlpInstall }));
  updateYtdlp = () =>
    this.rec("updateYtdlp", [], () => {
      const before = this.ytdlpVersion;
      this.ytdlpVersion = "2026.11.20";
      return { before, after: this.ytdlpVersion, command: (this.ytdlpInstall?.update_command ?? []).join(" "), output: "upgraded package yt-dlp from 2026.10.26 to 2026.11.20" };
    });
  appInfo = () => this.rec("appInfo", [], () => ({ version: "0.1.0", database: "/home/ann/.local/share/catalog-sync/catalog.redb", config_file: "/home/ann/.config/catalog-sync/config.toml" }));
  listTargets = () => this.rec("listTargets", [], () => this.targets);
  saveTarget = (t: TargetInput) =>
    this.rec("saveTarget", [t], () => {
      if (t.password) this.secrets.set(t.name, t.password);
      const old = this.targets.find((x) => x.name === t.name);
      const view: TargetView = {
        name: t.name,
        kind: t.kind,
        location: t.location,
        root: t.root,
        username: t.username,
        bucket: t.bucket,
        region: t.region,
        key_path: t.key_path,
        known_hosts: t.known_hosts,
        has_password: this.secrets.has(t.name),
        mirror: t.mirror,
        m3u_crlf: t.m3u_crlf,
        playlists: old?.playlists ?? [],
      };
      this.targets = [...this.targets.filter((x) => x.name !== t.name), view];
      return view;
    });
  removeTarget = (name: string) =>
    this.rec("removeTarget", [name], () => {
      this.targets = this.targets.filter((x) => x.name !== name);
    });
  testTarget = (name: string) => this.rec("testTarget", [name], () => ({ ok: name !== "down", message: name === "down" ? "connection refused" : "webdav reachable: wrote, read and deleted a probe file" }));
  setPlaylistTargets = (playlistId: number, names: string[]) =>
    this.rec("setPlaylistTargets", [playlistId, names], () => {
      for (const t of this.targets) {
        t.playlists = t.playlists.filter((p) => p !== playlistId);
        if (names.includes(t.name)) t.playlists.push(playlistId);
      }
      return names;
    });
  enqueueUpload = (kind: string, ids: number[], names: string[]) => this.rec("enqueueUpload", [kind, ids, names], () => 98);
  renames: RenameView[] = [];
  organizePreview = () =>
    this.rec("organizePreview", [], () => ({
      template: this.stored.name_template,
      renames: this.renames,
      unchanged: 2,
      missing: 0,
      errors: [],
    }));
  organize = () => this.rec("organize", [], () => 97);
  onTaskCenterChanged = (cb: Listener<TaskCenterView>) => this.sub(this.listeners.tc, cb);
  onCatalogChanged = (cb: Listener<number[]>) => this.sub(this.listeners.catalog, cb);
  onJobFinished = (cb: Listener<JobFinished>) => this.sub(this.listeners.finished, cb);
  onActivity = (cb: Listener<ActivityLine[]>) => this.sub(this.listeners.activity, cb);
  onThroughput = (cb: Listener<ThroughputPoint>) => this.sub(this.listeners.throughput, cb);
  onFileDrag = (cb: Listener<FileDrag>) => this.sub(this.listeners.drag, cb);
}
