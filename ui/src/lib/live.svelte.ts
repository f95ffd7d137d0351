//! Live state shared by the pages, refreshed only by backend events (no polling): the task
//! center and the throughput history are re-read when the shell says the task center changed
//! (coalesced: at most one read in flight, one more queued), the catalog version is bumped when a
//! job ends or while jobs run (throttled), and a list of recent events is kept for the task
//! center, made from job-ended notices and job status changes seen between two reads.
//! `now` ticks every 30 s so relative times ("5 min ago") stay true; it reads nothing.
import { api, type JobEnded, type JobStatus, type TaskCenter, type ThroughputSample } from "./api";
import { notify, notifyError } from "./toasts.svelte";

export interface EventEntry {
  id: number;
  t_ms: number;
  kind: "info" | "ok" | "error";
  text: string;
}

/** Most recent events kept. */
export const MAX_EVENTS = 50;
/** Least ms between two catalog refreshes caused by running jobs. */
export const CATALOG_REFRESH_MS = 2000;

export const live = $state({
  taskCenter: null as TaskCenter | null,
  throughput: [] as ThroughputSample[],
  /** Bumped when playlists or items may have changed; pages reload on change. */
  catalogVersion: 0,
  /** Bumped on every task-center change; expanded job rows reload their detail on change. */
  taskVersion: 0,
  events: [] as EventEntry[],
  now: Date.now(),
});

let eventId = 1;
let lastStatus = new Map<number, JobStatus>();
let inFlight = false;
let again = false;
let lastCatalogBump = 0;
let catalogTimer: ReturnType<typeof setTimeout> | null = null;

export function pushEvent(kind: EventEntry["kind"], text: string, t_ms = Date.now()): void {
  live.events.unshift({ id: eventId++, t_ms, kind, text });
  if (live.events.length > MAX_EVENTS) live.events.length = MAX_EVENTS;
}

const STATUS_TEXT: Partial<Record<JobStatus, string>> = {
  running: "started",
  paused: "paused",
  queued: "queued",
  cancelled: "cancelled",
};

/** Records status changes of jobs between the previous and this read as events. */
function noteTransitions(tc: TaskCenter, first: boolean): void {
  const next = new Map<number, JobStatus>();
  for (const job of [...tc.jobs].reverse()) {
    next.set(job.id, job.status);
    const before = lastStatus.get(job.id);
    if (first || before === job.status) continue;
    const text = STATUS_TEXT[job.status];
    // succeeded/failed come with their own job-ended notice
    if (text) pushEvent("info", `${job.display_name} #${job.id} ${text}`);
  }
  lastStatus = next;
}

/** Re-reads the task center and throughput; coalesces calls that arrive during a read. */
export async function refreshTasks(): Promise<void> {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    const [tc, history] = await Promise.all([api().taskCenter(), api().throughputHistory()]);
    noteTransitions(tc, live.taskCenter == null);
    live.taskCenter = tc;
    live.throughput = history;
    live.taskVersion += 1;
  } catch (e) {
    notifyError(e, "Reading the task center");
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      void refreshTasks();
    }
  }
}

/** Bumps the catalog version now, or once the throttle window has passed. */
export function catalogChanged(throttled = false): void {
  const since = Date.now() - lastCatalogBump;
  if (!throttled || since >= CATALOG_REFRESH_MS) {
    lastCatalogBump = Date.now();
    live.catalogVersion += 1;
    return;
  }
  if (catalogTimer == null) {
    catalogTimer = setTimeout(() => {
      catalogTimer = null;
      lastCatalogBump = Date.now();
      live.catalogVersion += 1;
    }, CATALOG_REFRESH_MS - since);
  }
}

function onJobEnded(e: JobEnded): void {
  const name = `${e.display_name} #${e.job_id}`;
  if (e.status === "failed") {
    pushEvent("error", `${name} failed${e.message ? `: ${e.message}` : ""}`);
    notify("error", `${name} failed`, e.message ?? undefined, "Open the task center to see which items failed and retry them.");
  } else if (e.status === "succeeded") {
    pushEvent("ok", `${name} finished`);
    notify("success", `${name} finished`);
  } else {
    pushEvent("info", `${name} ${e.status}`);
  }
  catalogChanged();
  void refreshTasks();
}

/** Subscribes to the backend's events and reads the first state; returns the unsubscribe. */
export async function startLive(): Promise<() => void> {
  lastStatus = new Map();
  const subs = await Promise.all([
    api().onTaskCenterChanged(() => {
      void refreshTasks();
      if ((live.taskCenter?.summary.running ?? 0) > 0) catalogChanged(true);
    }),
    api().onJobEnded(onJobEnded),
  ]);
  const clock = setInterval(() => (live.now = Date.now()), 30_000);
  await refreshTasks();
  return () => {
    subs.forEach((un) => un());
    clearInterval(clock);
    if (catalogTimer) clearTimeout(catalogTimer);
    catalogTimer = null;
  };
}
