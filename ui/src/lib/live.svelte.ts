//! Live state shared by the pages, fed by the shell's events (no polling): the task center as
//! pushed with each change (the whole projection, cumulative totals), throughput samples
//! appended as they arrive (the history is read once at start), recent activity lines, and
//! version counters the pages watch to re-read what they show: `catalogVersion` (playlists,
//! items) and `detailVersion` (an expanded job's detail), each bumped at most once per
//! `REFRESH_MS` however fast events come. `now` ticks every 30 s so relative times ("5 min
//! ago") stay true; it reads nothing.
import { api, type ActivityLine, type JobFinished, type TaskCenterView, type ThroughputPoint } from "./api";
import { notify, notifyError } from "./toasts.svelte";

export interface EventEntry {
  id: number;
  t_ms: number;
  kind: "info" | "ok" | "error";
  text: string;
}

/** Most recent events kept. */
export const MAX_EVENTS = 100;
/** Throughput samples older than this are dropped (ms). */
export const THROUGHPUT_KEEP_MS = 10 * 60_000;
/** Least ms between two re-reads caused by events. */
export const REFRESH_MS = 1000;

export const live = $state({
  taskCenter: null as TaskCenterView | null,
  throughput: [] as ThroughputPoint[],
  /** Bumped when playlists or items may have changed; pages reload on change. */
  catalogVersion: 0,
  /** Playlists changed since the previous bump; null = any (or unknown). */
  catalogIds: null as number[] | null,
  /** Bumped when the task center changed; expanded job rows reload their detail on change. */
  detailVersion: 0,
  events: [] as EventEntry[],
  now: Date.now(),
});

let eventId = 1;

export function pushEvent(kind: EventEntry["kind"], text: string, t_ms = Date.now()): void {
  live.events.unshift({ id: eventId++, t_ms, kind, text });
  if (live.events.length > MAX_EVENTS) live.events.length = MAX_EVENTS;
}

/** A bump of one counter at most every `REFRESH_MS`: the first at once, later ones trailing. */
function throttled(bump: () => void) {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fn = () => {
    const since = Date.now() - last;
    if (since >= REFRESH_MS) {
      last = Date.now();
      bump();
    } else if (timer == null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        bump();
      }, REFRESH_MS - since);
    }
  };
  fn.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return fn;
}

/** Re-reads the task center (after a command, for immediate feedback; events follow anyway). */
export async function refreshTasks(): Promise<void> {
  try {
    live.taskCenter = await api().taskCenter();
    live.detailVersion += 1;
  } catch (e) {
    notifyError(e, "Reading the task center");
  }
}

/** Bumps the catalog version now (after the UI itself changed the catalog); any playlist. */
export function catalogChanged(): void {
  live.catalogIds = null;
  live.catalogVersion += 1;
}

/** Playlist ids of catalog events not yet published; null = any. */
let pendingIds: Set<number> | null = new Set();

function noteCatalogIds(ids: number[]): void {
  if (ids.length === 0) pendingIds = null;
  else if (pendingIds) ids.forEach((id) => pendingIds!.add(id));
}

function publishCatalog(): void {
  live.catalogIds = pendingIds ? [...pendingIds] : null;
  pendingIds = new Set();
  live.catalogVersion += 1;
}

function jobName(id: number): string {
  const job = live.taskCenter?.jobs.find((j) => j.id === id);
  return `${job?.display_name ?? "Job"} #${id}`;
}

function onJobFinished(e: JobFinished): void {
  const name = jobName(e.job);
  if (e.status === "failed") {
    pushEvent("error", `${name} failed`);
    notify("error", `${name} failed`, undefined, "Open the task center (Ctrl+2) to see which items failed and retry them.");
  } else if (e.status === "succeeded") {
    pushEvent("ok", `${name} finished`);
    notify("success", `${name} finished`);
  } else {
    pushEvent("info", `${name} ${e.status.replace("_", " ")}`);
  }
  catalogChanged();
}

function onActivity(lines: ActivityLine[]): void {
  for (const l of lines) pushEvent(l.level === "error" ? "error" : "info", `#${l.job} ${l.text}`, l.at_ms);
}

function onThroughput(p: ThroughputPoint): void {
  live.throughput.push(p);
  const cutoff = p.t_ms - THROUGHPUT_KEEP_MS;
  const drop = live.throughput.findIndex((s) => s.t_ms >= cutoff);
  if (drop > 0) live.throughput.splice(0, drop);
}

/** Subscribes to the backend's events and reads the first state; returns the unsubscribe. */
export async function startLive(): Promise<() => void> {
  const catalog = throttled(publishCatalog);
  const detail = throttled(() => (live.detailVersion += 1));
  const subs = await Promise.all([
    api().onTaskCenterChanged((tc) => {
      live.taskCenter = tc;
      detail();
    }),
    api().onCatalogChanged((ids) => {
      noteCatalogIds(ids);
      catalog();
    }),
    api().onJobFinished(onJobFinished),
    api().onActivity(onActivity),
    api().onThroughput(onThroughput),
  ]);
  const clock = setInterval(() => (live.now = Date.now()), 30_000);
  try {
    const [tc, history] = await Promise.all([api().taskCenter(), api().throughputHistory()]);
    live.taskCenter = tc;
    live.throughput = history;
  } catch (e) {
    notifyError(e, "Reading the task center");
  }
  return () => {
    subs.forEach((un) => un());
    clearInterval(clock);
    catalog.cancel();
    detail.cancel();
  };
}
