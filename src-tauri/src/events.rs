//! Typed window events (tauri-specta) fed by the core's live events (ARCHITECTURE.md,
//! convention 11). The coalescing forwarder lives in `catalog_sync_core::api::live` (shared
//! with `serve`'s Server-Sent Events); this module gives each of its payloads a Tauri event
//! type of the same shape and name, for the generated bindings, and emits them. Side effects
//! only the real app has (tray tooltip, notifications) go to a [`Shell`].

use catalog_sync_core::api::live::{self, LiveEvent};
use catalog_sync_core::api::{Api, EventStream, JobKind, JobStatus, TaskCenterView};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event as _;

/// The task center changed; carries the whole projection. `version` increases by one per event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct TaskCenterChanged {
    /// Increases by one per event.
    pub version: u64,
    /// The projection.
    pub task_center: TaskCenterView,
}

/// Playlists or items changed (a sync, a finished download, an import); refetch what is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct CatalogChanged {
    /// Increases by one per event.
    pub version: u64,
    /// Playlists that changed, when known; empty = any.
    pub playlist_ids: Vec<u64>,
}

/// A job ended (succeeded, failed, cancelled, paused, or re-queued at shutdown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct JobFinished {
    /// Job id.
    pub job: u64,
    /// Its status now.
    pub status: JobStatus,
}

/// A job started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct JobStarted {
    /// Job id.
    pub job: u64,
    /// Kind.
    pub kind: JobKind,
}

/// Cumulative bytes of running downloads, the latest per item since the last batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct DownloadProgress {
    /// One entry per item that moved.
    pub items: Vec<ItemProgress>,
}

/// Bytes of one download so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct Activity {
    /// New lines, oldest first.
    pub lines: Vec<ActivityLine>,
}

/// One line of activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
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

/// One throughput sample (see `throughput_history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type, tauri_specta::Event)]
pub struct ThroughputSampled {
    /// When (Unix ms).
    pub t_ms: i64,
    /// Summed speed of live downloads (bytes/s).
    pub bytes_per_sec: u64,
}

/// Every event the window can listen to, for the bindings.
pub fn collect() -> tauri_specta::Events {
    tauri_specta::collect_events![
        TaskCenterChanged,
        CatalogChanged,
        JobFinished,
        JobStarted,
        DownloadProgress,
        Activity,
        ThroughputSampled
    ]
}

/// Receives side effects of the forwarder that only the real app has (tray, notifications).
pub trait Shell<R: Runtime>: Send + 'static {
    /// The task center changed (update the tray tooltip).
    fn task_center(&mut self, app: &AppHandle<R>, tc: &TaskCenterView);
    /// A job ended.
    fn job_finished(&mut self, app: &AppHandle<R>, job: u64, status: JobStatus);
}

/// A shell that does nothing (tests).
pub struct NoShell;

impl<R: Runtime> Shell<R> for NoShell {
    fn task_center(&mut self, _: &AppHandle<R>, _: &TaskCenterView) {}
    fn job_finished(&mut self, _: &AppHandle<R>, _: u64, _: JobStatus) {}
}

fn line(l: live::ActivityLine) -> ActivityLine {
    ActivityLine { at_ms: l.at_ms, job: l.job, level: l.level, text: l.text }
}

/// Emits one live event as its Tauri event, telling `shell` what it needs.
fn emit<R: Runtime>(app: &AppHandle<R>, shell: &mut impl Shell<R>, e: LiveEvent) {
    let _ = match e {
        LiveEvent::TaskCenterChanged(p) => {
            shell.task_center(app, &p.task_center);
            TaskCenterChanged { version: p.version, task_center: p.task_center }.emit(app)
        }
        LiveEvent::CatalogChanged(p) => {
            CatalogChanged { version: p.version, playlist_ids: p.playlist_ids }.emit(app)
        }
        LiveEvent::JobFinished(p) => {
            shell.job_finished(app, p.job, p.status);
            JobFinished { job: p.job, status: p.status }.emit(app)
        }
        LiveEvent::JobStarted(p) => JobStarted { job: p.job, kind: p.kind }.emit(app),
        LiveEvent::DownloadProgress(p) => DownloadProgress {
            items: p
                .items
                .into_iter()
                .map(|i| ItemProgress { job: i.job, item: i.item, downloaded: i.downloaded, total: i.total })
                .collect(),
        }
        .emit(app),
        LiveEvent::Activity(p) => Activity { lines: p.lines.into_iter().map(line).collect() }.emit(app),
        LiveEvent::ThroughputSampled(p) => {
            ThroughputSampled { t_ms: p.t_ms, bytes_per_sec: p.bytes_per_sec }.emit(app)
        }
    };
}

/// Runs the core's forwarder (`api::live::forward`) until the engine's channel closes,
/// emitting each live event as its Tauri event.
pub async fn forward<R: Runtime>(app: AppHandle<R>, api: Api, rx: EventStream, mut shell: impl Shell<R>) {
    live::forward(api, rx, move |e| emit(&app, &mut shell, e)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The desktop's events and the core's live payloads (what `serve` sends) have one shape.
    #[test]
    fn tauri_events_serialize_as_the_live_payloads() {
        let core = live::ActivityLine { at_ms: 1, job: 2, level: "info".into(), text: "t".into() };
        let desktop = Activity { lines: vec![line(core.clone())] };
        assert_eq!(
            serde_json::to_value(&desktop).unwrap(),
            serde_json::to_value(live::Activity { lines: vec![core] }).unwrap()
        );
        let core = live::ItemProgress { job: 1, item: 2, downloaded: 3, total: Some(4) };
        let desktop = ItemProgress { job: 1, item: 2, downloaded: 3, total: Some(4) };
        assert_eq!(serde_json::to_value(&desktop).unwrap(), serde_json::to_value(core).unwrap());
        let core = live::ThroughputSampled { t_ms: 5, bytes_per_sec: 6 };
        let desktop = ThroughputSampled { t_ms: 5, bytes_per_sec: 6 };
        assert_eq!(serde_json::to_value(desktop).unwrap(), serde_json::to_value(core).unwrap());
        let e = LiveEvent::ThroughputSampled(core);
        assert_eq!(e.name(), ThroughputSampled::NAME);
        assert_eq!(LiveEvent::Activity(live::Activity { lines: vec![] }).name(), Activity::NAME);
    }
}
