//! A stand-in for the Tauri shell inside a plain browser, for the screenshot script only (never
//! bundled into the app): installs `window.__TAURI_INTERNALS__` (invoke, transformCallback) and
//! the event plugin internals the real @tauri-apps/api talks to, so the built UI runs unchanged
//! through its real transport. Answers the shell's commands from an in-memory catalog; the
//! scenario comes from `window.__FAKE_SCENARIO__` ("demo" or "empty"). `window.__fake` lets the
//! driving script advance jobs (`tick()`), which emits the shell's throttled task-center event.
(() => {
  const scenario = window.__FAKE_SCENARIO__ || "demo";
  const now = Date.now();
  const min = 60_000;
  const hour = 60 * min;
  const callbacks = new Map();
  const listeners = new Map(); // event -> Set of callback ids
  let nextId = 1;

  const pl = (id, title, format, items, downloaded, wanted, syncAgo, extra = {}) => ({
    id,
    url: `https://feeds.example.org/${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.${format === "rss" ? "xml" : format}`,
    title,
    format,
    item_count: items,
    downloaded_count: downloaded,
    failed_count: 0,
    wanted_count: wanted,
    last_sync_ms: syncAgo == null ? null : now - syncAgo,
    last_error: null,
    folders: [],
    ...extra,
  });

  const playlists =
    scenario === "empty"
      ? []
      : [
          pl(1, "Hardcore History", "rss", 74, 70, 74, 12 * min, { folders: ["History"] }),
          pl(2, "The Changelog", "rss", 612, 40, 52, 2 * hour, { folders: ["Tech"] }),
          pl(3, "Radiolab", "atom", 388, 388, 388, 26 * hour),
          pl(4, "Night Drive mix", "m3u", 18, 11, 18, 5 * min, { failed_count: 2 }),
          pl(5, "Ambient radio", "pls", 3, 0, 0, 3 * 24 * hour),
          pl(6, "Field recordings", "xspf", 0, 0, 0, null),
          pl(7, "Old news digest", "rss", 120, 12, 12, 9 * 24 * hour, { last_error: "HTTP 410 Gone: the feed was removed by its publisher" }),
          pl(8, "Weekly science hour", "rss", 251, 30, 60, 40 * min, { folders: ["Science"] }),
        ];

  const statuses = ["downloaded", "downloaded", "downloading", "queued", "failed", "not_downloaded"];
  const items = (pid) =>
    Array.from({ length: Math.min(40, playlists.find((p) => p.id === pid)?.item_count ?? 0) }, (_, i) => {
      const status = statuses[i % statuses.length];
      const title = `Episode ${120 - i}: ${["The long road", "Signals", "Deep water", "Interview with a glassblower", "Night shift", "Small machines"][i % 6]}`;
      return {
        id: pid * 1000 + i,
        title,
        published_ms: now - i * 7 * 24 * hour,
        status,
        file_path: status === "downloaded" ? `${playlists.find((p) => p.id === pid)?.title}/2026-11-${String(20 - (i % 19)).padStart(2, "0")} ${title}.mp3` : null,
        size_bytes: status === "not_downloaded" ? null : 38_000_000 + i * 1_700_000,
        error: status === "failed" ? "DownloadFailed: enclosure HTTP 404; alternate enclosure HTTP 404; feed re-fetch: no newer enclosure" : null,
        wanted: status !== "not_downloaded" || i % 4 === 0,
      };
    });

  const job = (id, over) => ({
    id,
    display_name: "Sync and download",
    kind: "sync_download",
    status: "running",
    lane: "download",
    queue_label: null,
    scope_summary: "2 playlists",
    progress_text: "",
    percent: null,
    stage: "download",
    active_workers: 0,
    speed_bps: 0,
    can_pause: true,
    can_resume: false,
    can_cancel: true,
    can_retry: false,
    ...over,
  });

  let done = 23;
  const total = 52;
  const jobs =
    scenario === "empty"
      ? []
      : [
          job(14, { display_name: "Sync", kind: "sync_only", lane: "general", status: "running", scope_summary: "all playlists", stage: "sync", progress_text: "5 / 8 playlists", percent: 62.5, active_workers: 3 }),
          job(13, { status: "running", progress_text: `${done} / ${total} items | 4.2 MB/s`, percent: (done * 100) / total, active_workers: 4, speed_bps: 4_200_000 }),
          job(15, { display_name: "Download", kind: "download_only", status: "queued", queue_label: "queued #1", scope_summary: "1 playlist", stage: "download", progress_text: "0 / 12 items", percent: 0, can_pause: true }),
          job(11, { display_name: "Download", kind: "download_only", status: "paused", scope_summary: "3 playlists", progress_text: "7 / 30 items", percent: 23.3, can_pause: false, can_resume: true }),
          job(9, { status: "failed", scope_summary: "1 playlist", progress_text: "16 / 18 items", percent: 100, stage: null, can_pause: false, can_cancel: false, can_retry: true }),
          job(8, { display_name: "Sync", kind: "sync_only", lane: "general", status: "succeeded", scope_summary: "all playlists", progress_text: "8 / 8 playlists", percent: 100, stage: null, can_pause: false, can_cancel: false }),
        ];

  const summary = () => ({
    total: jobs.length,
    queued: jobs.filter((j) => j.status === "queued").length,
    queued_download_jobs: jobs.filter((j) => j.status === "queued" && j.lane === "download").length,
    running: jobs.filter((j) => j.status === "running").length,
    paused: jobs.filter((j) => j.status === "paused").length,
    failed: jobs.filter((j) => j.status === "failed").length,
  });

  const taskCenter = () => ({
    jobs,
    summary: summary(),
    total_speed_bps: jobs.reduce((a, j) => a + j.speed_bps, 0),
    active_workers: jobs.reduce((a, j) => a + j.active_workers, 0),
  });

  const history = [];
  if (scenario !== "empty") {
    for (let t = now - 5 * min; t <= now; t += 2000) {
      const x = (t - (now - 5 * min)) / (5 * min);
      const v = x < 0.12 ? 0 : 3_000_000 + 1_400_000 * Math.sin(x * 9) + 500_000 * Math.sin(x * 37) + (x > 0.55 && x < 0.62 ? -2_800_000 : 0);
      history.push({ t_ms: t, bytes_per_sec: Math.max(0, Math.round(v)) });
    }
  }

  const st = (index, kind, status, done, total, extra = {}) => ({ index, kind, status, queued: total - done, running: 0, done, failed: 0, skipped: 0, total, error: null, ...extra });
  const w = (name, state, display, downloaded, total, speed_bps, processed) => ({ name, stage: 1, state, item: state === "working" ? 1 : null, display, downloaded, total, speed_bps, percent: total ? (downloaded * 100) / total : null, processed, errors: 0, heartbeat_ms: now });
  const detail = (id) => ({
    job: jobs.find((j) => j.id === id),
    stages: [st(0, "sync", "done", 2, 2), st(1, "download", id === 9 ? "failed" : "running", done, total, { running: 3, failed: 1, skipped: 2, queued: total - done - 6, error: id === 9 ? "2 of 18 items failed" : null })],
    items: [
      { stage: 1, target: 97, title: "Episode 97: Deep water", status: "failed", attempts: 3, error: "DownloadFailed: enclosure HTTP 404; alternate enclosure HTTP 404", note: null, bytes: null },
      { stage: 1, target: 118, title: "Episode 118: Signals", status: "running", attempts: 1, error: null, note: null, bytes: 21_400_000 },
      { stage: 1, target: 117, title: "Episode 117: The long road", status: "running", attempts: 2, error: null, note: "resumed at 12.0 MB", bytes: 40_100_000 },
      { stage: 1, target: 116, title: "Episode 116: Night shift", status: "done", attempts: 1, error: null, note: null, bytes: 52_000_000 },
      { stage: 1, target: 115, title: "Episode 115: Small machines", status: "skipped", attempts: 0, error: null, note: "already downloaded", bytes: null },
      { stage: 0, target: 2, title: "The Changelog", status: "done", attempts: 1, error: null, note: "12 new items", bytes: null },
    ],
    items_truncated: false,
    workers: [
      w("resolve-1", "working", "Episode 114: Interview with a glassblower", 0, null, 0, 9),
      w("download-1", "working", "Episode 118: Signals", 21_400_000, 58_000_000, 1_900_000, 7),
      w("download-2", "working", "Episode 117: The long road", 40_100_000, 44_000_000, 1_500_000, 8),
      w("download-3", "idle", "", 0, null, 0, 6),
    ],
    runs: [
      {
        id: `job-${id}-run-1`,
        outcome: "interrupted",
        started_ms: now - 50 * min,
        ended_ms: now - 41 * min,
        steps: [
          { stage: 0, kind: "sync", outcome: "succeeded", started_ms: now - 50 * min, ended_ms: now - 49 * min, error: null },
          { stage: 1, kind: "download", outcome: "interrupted", started_ms: now - 49 * min, ended_ms: now - 41 * min, error: { code: "shutdown", class: "transient", message: "app closed while downloading; resumed by the reaper" } },
        ],
      },
      { id: `job-${id}-run-2`, outcome: null, started_ms: now - 12 * min, ended_ms: null, steps: [{ stage: 1, kind: "download", outcome: null, started_ms: now - 12 * min, ended_ms: null, error: null }] },
    ],
    log: [
      { seq: 1, at_ms: now - 9000, kind: "item", text: "downloaded Episode 119: Deep water (52.3 MB)" },
      { seq: 2, at_ms: now - 6000, kind: "item", text: "Episode 117: stalled 30 s, retrying from 12.0 MB" },
      { seq: 3, at_ms: now - 2000, kind: "error", text: "Episode 97: failed after 3 attempts" },
    ],
  });

  const settings = {
    library: "/home/ann/Music/Catalog Sync",
    overflow_libraries: ["/mnt/archive/podcasts"],
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
    auto_sync_hours: 12,
    start_at_login: true,
  };

  const clone = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
  const fail = (code, message) => Promise.reject({ code, message });

  const commands = {
    list_playlists: () => playlists,
    list_items: ({ playlistId }) => items(playlistId),
    add_playlists: ({ urls }) => ({ ids: urls.map((_, i) => 50 + i), created: urls.length }),
    import_file: ({ path }) => ({ url: `file://${path}`, subscription_list: true, ids: [1, 2], created: 0, items: 0 }),
    export_opml: () => null,
    pick_import_file: () => null,
    pick_export_path: () => null,
    pick_folder: () => null,
    enqueue_job: () => 16,
    set_wanted: ({ playlistIds }) => playlistIds.length * 12,
    task_center: () => taskCenter(),
    job_detail: ({ jobId }) => detail(jobId),
    job_command: () => null,
    pause_all: () => 1,
    resume_all: () => 1,
    throughput_history: () => history,
    get_settings: () => settings,
    save_settings: ({ settings: s }) => (s.library.startsWith("/") ? Object.assign(settings, s) : fail("invalid_input", "library: must be an absolute path")),
    app_info: () => ({ version: "0.1.0", database: "/home/ann/.local/share/catalog-sync/catalog.redb", config_file: "/home/ann/.config/catalog-sync/config.toml" }),
  };

  function emit(event, payload) {
    for (const id of listeners.get(event) ?? []) callbacks.get(id)?.({ event, id, payload });
  }

  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
    transformCallback(cb, once) {
      const id = nextId++;
      callbacks.set(id, (p) => {
        if (once) callbacks.delete(id);
        cb(p);
      });
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    convertFileSrc: (p) => p,
    async invoke(cmd, args = {}) {
      if (cmd === "plugin:event|listen") {
        if (!listeners.has(args.event)) listeners.set(args.event, new Set());
        listeners.get(args.event).add(args.handler);
        return args.handler;
      }
      if (cmd === "plugin:event|unlisten") {
        listeners.get(args.event)?.delete(args.eventId);
        return null;
      }
      const f = commands[cmd];
      if (!f) return fail("ipc", `unknown command ${cmd}`);
      return clone(await f(args));
    },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener(event, id) {
      listeners.get(event)?.delete(id);
    },
  };

  window.__fake = {
    emit,
    /** Advances the running download job by one item and reports it like the shell does. */
    tick() {
      done = Math.min(total, done + 1);
      const j = jobs.find((x) => x.id === 13);
      if (j) Object.assign(j, { progress_text: `${done} / ${total} items | 4.2 MB/s`, percent: (done * 100) / total });
      const sample = { t_ms: Date.now(), bytes_per_sec: 4_200_000 };
      history.push(sample);
      emit("throughput-sampled", sample);
      emit("task-center-changed", { version: done, task_center: taskCenter() });
      emit("activity", { lines: [{ at_ms: Date.now(), job: 13, level: "info", text: "downloaded Episode 120: The long road (61.2 MB)" }] });
    },
    jobFinished(job_id, status) {
      const j = jobs.find((x) => x.id === job_id);
      if (j) Object.assign(j, { status, stage: null, percent: 100, speed_bps: 0, active_workers: 0, can_pause: false, can_cancel: false, can_resume: false, can_retry: status === "failed" });
      emit("job-finished", { job: job_id, status });
      emit("task-center-changed", { version: 1000, task_center: taskCenter() });
      emit("activity", { lines: [{ at_ms: Date.now(), job: job_id, level: "info", text: "sync stage finished: 8 done, 0 failed, 0 skipped" }] });
    },
  };
  // the app's tauri.conf.json sets freezePrototype: the UI must run with a frozen Object.prototype
  Object.freeze(Object.prototype);
})();
