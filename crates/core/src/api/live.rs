//! Live events for a window (ARCHITECTURE.md, convention 11), shared by every front that
//! shows the UI (the desktop shell's typed Tauri events, `serve`'s Server-Sent Events). The
//! forwarder ([`forward`]) drains the engine's event channel and coalesces: a burst of events
//! marks the task center and the catalog dirty, and at most every [`TICK`] it emits one
//! [`TaskCenterChanged`] with the whole projection (cumulative totals, so a missed event loses
//! nothing) and one [`CatalogChanged`]; download progress is batched per tick as the latest
//! cumulative bytes per item ([`DownloadProgress`]), catalog changes at most once per
//! [`CATALOG_EVERY`]; job starts and ends go out at once ([`JobStarted`], [`JobFinished`]).
//! While jobs run it records one throughput sample a second ([`ThroughputSampled`], also kept
//! in [`Api::throughput_history`]). When nothing runs and nothing is dirty it waits for the
//! next engine event without a timer.
//!
//! Each payload serializes to the JSON the window reads; [`LiveEvent::name`] is the event's
//! name on the wire (`task-center-changed`, ...), the same for both fronts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::job_views::TaskCenterView;
use super::{display_name, Api, Event, EventStream, ItemOutcome, JobKind, JobStatus};

/// Shortest time between two coalesced events of one kind.
pub const TICK: Duration = Duration::from_millis(250);
/// Time between throughput samples while jobs run.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// Shortest time between two [`CatalogChanged`] events from the engine: the window refetches
/// the playlists table on each, so finished downloads are batched per second.
pub const CATALOG_EVERY: Duration = Duration::from_secs(1);

/// The task center changed; carries the whole projection. `version` increases by one per event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCenterChanged {
    /// Increases by one per event.
    pub version: u64,
    /// The projection.
    pub task_center: TaskCenterView,
}

/// Playlists or items changed (a sync, a finished download, an import); refetch what is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogChanged {
    /// Increases by one per event.
    pub version: u64,
    /// Playlists that changed, when known; empty = any.
    pub playlist_ids: Vec<u64>,
}

/// A job ended (succeeded, failed, cancelled, paused, or re-queued at shutdown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFinished {
    /// Job id.
    pub job: u64,
    /// Its status now.
    pub status: JobStatus,
}

/// A job started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStarted {
    /// Job id.
    pub job: u64,
    /// Kind.
    pub kind: JobKind,
}

/// Cumulative bytes of running downloads, the latest per item since the last batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadProgress {
    /// One entry per item that moved.
    pub items: Vec<ItemProgress>,
}

/// Bytes of one download so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemProgress {
    /// Job id.
    pub job: u64,
    /// Item id.
    pub item: u64,
    /// Bytes on disk so far, including a resumed part.
    pub downloaded: u64,
    /// Expected size (bytes), when known.
    pub total: Option<u64>,
}

/// Lines for the "recent events" list: what the engine did, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// New lines, oldest first.
    pub lines: Vec<ActivityLine>,
}

/// One line of activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityLine {
    /// When (Unix ms).
    pub at_ms: i64,
    /// Job id.
    pub job: u64,
    /// `error` for failures, else `info`.
    pub level: String,
    /// The line, e.g. `downloaded Episode 3 (12.3 MB)`.
    pub text: String,
}

/// One throughput sample (see [`Api::throughput_history`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThroughputSampled {
    /// When (Unix ms).
    pub t_ms: i64,
    /// Summed speed of live downloads (bytes/s).
    pub bytes_per_sec: u64,
}

/// One live event for a window.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// See [`TaskCenterChanged`].
    TaskCenterChanged(TaskCenterChanged),
    /// See [`CatalogChanged`].
    CatalogChanged(CatalogChanged),
    /// See [`JobFinished`].
    JobFinished(JobFinished),
    /// See [`JobStarted`].
    JobStarted(JobStarted),
    /// See [`DownloadProgress`].
    DownloadProgress(DownloadProgress),
    /// See [`Activity`].
    Activity(Activity),
    /// See [`ThroughputSampled`].
    ThroughputSampled(ThroughputSampled),
}

impl LiveEvent {
    /// The event's name on the wire: its type's name in kebab case (as tauri-specta names
    /// the desktop's events), e.g. `task-center-changed`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::TaskCenterChanged(_) => "task-center-changed",
            LiveEvent::CatalogChanged(_) => "catalog-changed",
            LiveEvent::JobFinished(_) => "job-finished",
            LiveEvent::JobStarted(_) => "job-started",
            LiveEvent::DownloadProgress(_) => "download-progress",
            LiveEvent::Activity(_) => "activity",
            LiveEvent::ThroughputSampled(_) => "throughput-sampled",
        }
    }

    /// The payload as JSON text.
    pub fn payload_json(&self) -> String {
        let r = match self {
            LiveEvent::TaskCenterChanged(p) => serde_json::to_string(p),
            LiveEvent::CatalogChanged(p) => serde_json::to_string(p),
            LiveEvent::JobFinished(p) => serde_json::to_string(p),
            LiveEvent::JobStarted(p) => serde_json::to_string(p),
            LiveEvent::DownloadProgress(p) => serde_json::to_string(p),
            LiveEvent::Activity(p) => serde_json::to_string(p),
            LiveEvent::ThroughputSampled(p) => serde_json::to_string(p),
        };
        // plain structs of strings and numbers: serializing cannot fail
        r.unwrap_or_default()
    }
}

/// Where the forwarder's events go (the desktop's Tauri emitter, the server's SSE hub).
pub trait LiveSink: Send + 'static {
    /// Delivers one event; must not block.
    fn emit(&mut self, event: LiveEvent);
}

impl<F: FnMut(LiveEvent) + Send + 'static> LiveSink for F {
    fn emit(&mut self, event: LiveEvent) {
        self(event)
    }
}

/// A line for people of an engine event, `None` for progress.
pub fn activity_text(e: &Event) -> Option<(u64, &'static str, String)> {
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
    Some(match e {
        Event::JobStarted { job, kind } => (*job, "info", format!("{} started", display_name(*kind))),
        Event::StageStarted { job, stage, total, finished } => {
            (*job, "info", format!("{stage} stage: {total} work items ({finished} already finished)"))
        }
        Event::PlaylistSynced { job, title, new_items, total, .. } => {
            (*job, "info", format!("synced {title}: {new_items} new of {total} items"))
        }
        Event::PlaylistFailed { job, error, .. } => (*job, "error", error.clone()),
        Event::ItemResolved { .. } | Event::DownloadProgress { .. } => return None,
        Event::DownloadStarted { job, title, worker, .. } => {
            (*job, "info", format!("{worker}: downloading {title}"))
        }
        Event::DownloadFinished { job, title, outcome, .. } => match outcome {
            ItemOutcome::Downloaded { bytes, resumed_from, .. } if *resumed_from > 0 => (
                *job,
                "info",
                format!("downloaded {title} ({}, resumed at {})", mb(*bytes), mb(*resumed_from)),
            ),
            ItemOutcome::Downloaded { bytes, .. } => {
                (*job, "info", format!("downloaded {title} ({})", mb(*bytes)))
            }
            ItemOutcome::AlreadyDownloaded => (*job, "info", format!("{title}: already downloaded")),
            ItemOutcome::Failed(reason) => (*job, "error", format!("{title}: {reason}")),
        },
        Event::StageFinished { job, stage, counts } => (
            *job,
            "info",
            format!(
                "{stage} stage finished: {} done, {} failed, {} skipped",
                counts.done, counts.failed, counts.skipped
            ),
        ),
        Event::CollectionRead { job, url, new_playlists } => (
            *job,
            "info",
            format!("read {url}: {new_playlists} new playlist{}", if *new_playlists == 1 { "" } else { "s" }),
        ),
        Event::CollectionFailed { job, error } => (*job, "error", error.clone()),
        Event::Exported { job, files } => {
            (*job, "info", format!("wrote {files} playlist file{}", if *files == 1 { "" } else { "s" }))
        }
        Event::Uploaded { job, target, sent, deleted, failed } => (
            *job,
            if *failed > 0 { "error" } else { "info" },
            format!("uploaded to {target}: {sent} sent, {deleted} deleted, {failed} failed"),
        ),
        Event::Organized { job, renamed, failed } => (
            *job,
            if *failed > 0 { "error" } else { "info" },
            format!("renamed {renamed} file{}, {failed} failed", if *renamed == 1 { "" } else { "s" }),
        ),
        Event::JobFinished { job, status } => {
            (*job, if status.as_str() == "failed" { "error" } else { "info" }, format!("job {status}"))
        }
    })
}

#[derive(Default)]
struct Pending {
    task_center: bool,
    catalog: Vec<u64>,
    catalog_any: bool,
    progress: BTreeMap<(u64, u64), (u64, Option<u64>)>,
    lines: Vec<ActivityLine>,
}

impl Pending {
    fn is_dirty(&self) -> bool {
        self.task_center
            || self.catalog_any
            || !self.catalog.is_empty()
            || !self.progress.is_empty()
            || !self.lines.is_empty()
    }

    fn take(&mut self, e: &Event, now_ms: i64) {
        if let Some((job, level, text)) = activity_text(e) {
            self.lines.push(ActivityLine { at_ms: now_ms, job, level: level.to_string(), text });
        }
        match e {
            Event::DownloadProgress { job, item, downloaded, total } => {
                self.progress.insert((*job, *item), (*downloaded, *total));
            }
            Event::PlaylistSynced { playlist, .. } | Event::PlaylistFailed { playlist, .. } => {
                self.catalog.push(*playlist);
                self.task_center = true;
            }
            Event::DownloadFinished { .. } | Event::CollectionRead { .. } | Event::JobFinished { .. } => {
                self.catalog_any = true;
                self.task_center = true;
            }
            _ => self.task_center = true,
        }
    }
}

struct Forwarder<S: LiveSink> {
    api: Api,
    sink: S,
    pending: Pending,
    tc_version: u64,
    catalog_version: u64,
    running: bool,
    last_sample: Instant,
    last_catalog: Instant,
}

impl<S: LiveSink> Forwarder<S> {
    fn handle(&mut self, e: Event) {
        match &e {
            Event::JobFinished { job, status } => {
                self.sink.emit(LiveEvent::JobFinished(JobFinished { job: *job, status: *status }))
            }
            Event::JobStarted { job, kind } => {
                self.running = true;
                self.sink.emit(LiveEvent::JobStarted(JobStarted { job: *job, kind: *kind }));
            }
            _ => {}
        }
        self.pending.take(&e, self.api.now_ms());
    }

    fn touched(&mut self, (jobs, catalog): (bool, bool)) {
        self.pending.task_center |= jobs;
        self.pending.catalog_any |= catalog;
    }

    async fn flush(&mut self) {
        let sample_due = self.running && self.last_sample.elapsed() >= SAMPLE_EVERY;
        if self.pending.task_center || sample_due {
            let now = self.api.now_ms();
            match self.api.task_center().await {
                Ok(tc) => {
                    let was_running = self.running;
                    self.running = tc.summary.running > 0;
                    if sample_due || (was_running && !self.running) {
                        self.last_sample = Instant::now();
                        self.api.record_throughput(now, tc.total_speed_bps);
                        let bytes_per_sec = tc.total_speed_bps;
                        self.sink.emit(LiveEvent::ThroughputSampled(ThroughputSampled {
                            t_ms: now,
                            bytes_per_sec,
                        }));
                    }
                    self.tc_version += 1;
                    let version = self.tc_version;
                    self.sink
                        .emit(LiveEvent::TaskCenterChanged(TaskCenterChanged { version, task_center: tc }));
                }
                Err(e) => tracing::warn!(error = %e.message, "task center projection failed"),
            }
            self.pending.task_center = false;
        }
        let p = &mut self.pending;
        if (p.catalog_any || !p.catalog.is_empty()) && self.last_catalog.elapsed() >= CATALOG_EVERY {
            self.last_catalog = Instant::now();
            let mut ids = std::mem::take(&mut p.catalog);
            ids.sort_unstable();
            ids.dedup();
            if std::mem::take(&mut p.catalog_any) {
                ids.clear();
            }
            self.catalog_version += 1;
            let version = self.catalog_version;
            self.sink.emit(LiveEvent::CatalogChanged(CatalogChanged { version, playlist_ids: ids }));
        }
        let p = &mut self.pending;
        if !p.progress.is_empty() {
            let items = std::mem::take(&mut p.progress)
                .into_iter()
                .map(|((job, item), (downloaded, total))| ItemProgress { job, item, downloaded, total })
                .collect();
            self.sink.emit(LiveEvent::DownloadProgress(DownloadProgress { items }));
        }
        if !self.pending.lines.is_empty() {
            let lines = std::mem::take(&mut self.pending.lines);
            self.sink.emit(LiveEvent::Activity(Activity { lines }));
        }
    }
}

/// Runs the forwarder until the engine's channel closes (see the module docs): after the first
/// event of a burst it collects for one [`TICK`], then flushes once into `sink`. The first
/// flush sends the task center at once.
pub async fn forward(api: Api, mut rx: EventStream, sink: impl LiveSink) {
    let mut f = Forwarder {
        api,
        sink,
        pending: Pending { task_center: true, ..Default::default() },
        tc_version: 0,
        catalog_version: 0,
        running: false,
        last_sample: Instant::now(),
        last_catalog: Instant::now().checked_sub(CATALOG_EVERY).unwrap_or_else(Instant::now),
    };
    let api = f.api.clone();
    loop {
        if !f.running && !f.pending.is_dirty() {
            tokio::select! {
                e = rx.recv() => match e {
                    Some(e) => f.handle(e),
                    None => return,
                },
                t = api.touched() => f.touched(t),
            }
        }
        let deadline = tokio::time::Instant::now() + TICK;
        loop {
            tokio::select! {
                e = rx.recv() => match e {
                    Some(e) => f.handle(e),
                    None => { f.flush().await; return; }
                },
                t = api.touched() => f.touched(t),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        f.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{StageCounts, StageKind};

    #[test]
    fn activity_lines_for_people() {
        let line = |e: &Event| activity_text(e).map(|(job, level, text)| format!("{job} {level} {text}"));
        assert_eq!(line(&Event::Exported { job: 3, files: 1 }).unwrap(), "3 info wrote 1 playlist file");
        let done = Event::DownloadFinished {
            job: 1,
            item: 9,
            title: "Ep".into(),
            outcome: ItemOutcome::Downloaded {
                path: "a/b.mp3".into(),
                bytes: 2_500_000,
                resumed_from: 1_000_000,
            },
        };
        assert_eq!(line(&done).unwrap(), "1 info downloaded Ep (2.5 MB, resumed at 1.0 MB)");
        let failed = Event::DownloadFinished {
            job: 1,
            item: 9,
            title: "Ep".into(),
            outcome: ItemOutcome::Failed("HTTP 404".into()),
        };
        assert_eq!(line(&failed).unwrap(), "1 error Ep: HTTP 404");
        assert_eq!(
            line(&Event::DownloadProgress { job: 1, item: 9, downloaded: 5, total: None }),
            None,
            "progress is no activity"
        );
        let counts = StageCounts { done: 4, failed: 1, ..Default::default() };
        assert_eq!(
            line(&Event::StageFinished { job: 2, stage: StageKind::Download, counts }).unwrap(),
            "2 info download stage finished: 4 done, 1 failed, 0 skipped"
        );
        assert_eq!(
            line(&Event::JobFinished { job: 2, status: JobStatus::Failed }).unwrap(),
            "2 error job failed"
        );
    }

    #[test]
    fn pending_keeps_the_latest_cumulative_progress_per_item() {
        let mut p = Pending::default();
        p.take(&Event::DownloadProgress { job: 1, item: 7, downloaded: 100, total: Some(1000) }, 0);
        p.take(&Event::DownloadProgress { job: 1, item: 7, downloaded: 600, total: Some(1000) }, 0);
        p.take(&Event::DownloadProgress { job: 1, item: 8, downloaded: 50, total: None }, 0);
        assert_eq!(p.progress.len(), 2);
        assert_eq!(p.progress[&(1, 7)], (600, Some(1000)));
        assert!(!p.task_center && p.lines.is_empty(), "progress alone does not redraw the task center");
        p.take(&Event::JobFinished { job: 1, status: JobStatus::Succeeded }, 5);
        assert!(p.task_center && p.catalog_any && p.lines.len() == 1);
    }

    #[test]
    fn wire_names_and_payloads() {
        let e = LiveEvent::ThroughputSampled(ThroughputSampled { t_ms: 5, bytes_per_sec: 7 });
        assert_eq!(
            (e.name(), e.payload_json().as_str()),
            ("throughput-sampled", r#"{"t_ms":5,"bytes_per_sec":7}"#)
        );
        let e = LiveEvent::CatalogChanged(CatalogChanged { version: 2, playlist_ids: vec![1] });
        assert_eq!(
            (e.name(), e.payload_json().as_str()),
            ("catalog-changed", r#"{"version":2,"playlist_ids":[1]}"#)
        );
    }
}
