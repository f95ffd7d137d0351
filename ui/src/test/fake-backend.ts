//! A test double of the backend for unit and component tests only (never imported by the app):
//! in-memory playlists, items, jobs and settings, a log of every call with its arguments, and
//! `emitTaskCenterChanged` / `emitJobEnded` to play the shell's events. Methods can be made to
//! fail with a wire error through `failNext(method, code, message)`.
import { ApiError, type Backend, type FileDrag, type JobDetail, type JobEnded, type JobView, type PlaylistView, type Settings, type TaskCenter } from "../lib/api";

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
    ...over,
  };
}

export function job(id: number, over: Partial<JobView> = {}): JobView {
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
    ...over,
  };
}

export function detail(over: Partial<JobDetail> = {}): JobDetail {
  return {
    stages: [
      { kind: "sync", status: "done", done: 2, failed: 0, skipped: 0, total: 2, error: null },
      { kind: "download", status: "running", done: 3, failed: 1, skipped: 0, total: 10, error: null },
    ],
    items: [
      { stage: "download", title: "Episode 4", status: "failed", attempts: 3, error: "HTTP 404 from every source", note: null },
      { stage: "download", title: "Episode 5", status: "running", attempts: 1, error: null, note: null },
    ],
    workers: [
      { name: "resolve-1", state: "idle", item_title: null, bytes: 0, total_bytes: null, speed_bps: 0 },
      { name: "download-1", state: "working", item_title: "Episode 5", bytes: 5_000_000, total_bytes: 20_000_000, speed_bps: 1_500_000 },
    ],
    runs: [
      {
        id: "job-7-run-1",
        outcome: "running",
        started_ms: Date.now() - 60_000,
        ended_ms: null,
        steps: [{ stage: "sync", outcome: "done", started_ms: Date.now() - 60_000, ended_ms: Date.now() - 50_000, error: null }],
        error: null,
      },
    ],
    log: [{ t_ms: Date.now() - 1000, kind: "item", message: "Episode 3 downloaded" }],
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
    ...over,
  };
}

type Listener<T> = (v: T) => void;

export class FakeBackend implements Backend {
  playlists: PlaylistView[] = [];
  tasks: TaskCenter = { jobs: [], summary: { total: 0, queued: 0, queued_download_jobs: 0, running: 0, paused: 0, failed: 0 } };
  details = new Map<number, JobDetail>();
  stored: Settings = settings();
  calls: { method: string; args: unknown[] }[] = [];
  private failures = new Map<string, ApiError>();
  private tcListeners = new Set<Listener<void>>();
  private endListeners = new Set<Listener<JobEnded>>();

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

  setJobs(jobs: JobView[]): void {
    this.tasks = { jobs, summary: { ...this.tasks.summary, total: jobs.length, running: jobs.filter((j) => j.status === "running").length } };
  }

  emitTaskCenterChanged(): void {
    this.tcListeners.forEach((l) => l());
  }

  emitJobEnded(e: JobEnded): void {
    this.endListeners.forEach((l) => l(e));
  }

  listPlaylists = () => this.rec("listPlaylists", [], () => this.playlists);
  listItems = (id: number) => this.rec("listItems", [id], () => []);
  addPlaylists = (urls: string[]) => this.rec("addPlaylists", [urls], () => ({ added: urls.length, existing: 0, errors: [] }));
  importFile = (path: string) => this.rec("importFile", [path], () => ({ added: 1, existing: 0, errors: [] }));
  exportOpml = (path: string) => this.rec("exportOpml", [path], () => undefined);
  pickImportFile = () => this.rec("pickImportFile", [], () => null);
  pickExportPath = () => this.rec("pickExportPath", [], () => null);
  pickFolder = () => this.rec("pickFolder", [], () => "/mnt/big/podcasts");
  enqueueJob = (kind: string, ids: number[]) => this.rec("enqueueJob", [kind, ids], () => 99);
  setWanted = (ids: number[], wanted: boolean) => this.rec("setWanted", [ids, wanted], () => undefined);
  taskCenter = () => this.rec("taskCenter", [], () => this.tasks);
  jobDetail = (id: number) => this.rec("jobDetail", [id], () => this.details.get(id) ?? detail());
  jobCommand = (id: number, action: string) => this.rec("jobCommand", [id, action], () => undefined);
  pauseAll = () => this.rec("pauseAll", [], () => undefined);
  resumeAll = () => this.rec("resumeAll", [], () => undefined);
  throughputHistory = () => this.rec("throughputHistory", [], () => [] as [number, number][]);
  getSettings = () => this.rec("getSettings", [], () => this.stored);
  saveSettings = (s: Settings) =>
    this.rec("saveSettings", [s], () => {
      this.stored = s;
    });
  onTaskCenterChanged = async (cb: () => void) => {
    this.tcListeners.add(cb);
    return () => void this.tcListeners.delete(cb);
  };
  onJobEnded = async (cb: (e: JobEnded) => void) => {
    this.endListeners.add(cb);
    return () => void this.endListeners.delete(cb);
  };
  private dragListeners = new Set<Listener<FileDrag>>();
  onFileDrag = async (cb: (e: FileDrag) => void) => {
    this.dragListeners.add(cb);
    return () => void this.dragListeners.delete(cb);
  };
  emitFileDrag(e: FileDrag): void {
    this.dragListeners.forEach((l) => l(e));
  }
}
