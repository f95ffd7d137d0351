//! The task center and a job's detail as typed views. [`TaskCenterView`] is
//! `jobs::task_center`'s projection itself (the fronts compute nothing);
//! [`JobDetail`] gathers what a row shows when expanded: stages with counts, work items with
//! title, status, error and bytes, live workers by name, runs with their steps and typed
//! errors, and the newest lines of the job's log. Sizes are bytes, speeds bytes/s, times Unix ms.

use serde::{Deserialize, Serialize};

pub use crate::jobs::task_center::{
    JobView as JobRowView, Summary as SummaryView, TaskCenter as TaskCenterView,
};
pub use crate::jobs::WorkerSample as WorkerView;
use crate::jobs::{task_center, WorkerSample};
use crate::store::{
    ErrorClass, LogKind, RunOutcome, RunRow, StageKind, StepOutcome, Store, StoreError, WorkStatus,
};

/// Work items listed per stage in a job's detail (the first ones, in target order).
pub const DETAIL_ITEMS_PER_STAGE: usize = 500;
/// Log lines listed in a job's detail (the newest).
pub const DETAIL_LOG_LINES: usize = 200;

/// A stage of a job with its work item counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StageView {
    /// Index in the job's stages.
    pub index: u32,
    /// Kind.
    pub kind: StageKind,
    /// Status.
    pub status: WorkStatus,
    /// Work items not started.
    pub queued: u32,
    /// In progress.
    pub running: u32,
    /// Done.
    pub done: u32,
    /// Failed.
    pub failed: u32,
    /// Skipped (nothing to do).
    pub skipped: u32,
    /// All work items.
    pub total: u32,
    /// The stage's error, e.g. `2 of 40 items failed`.
    pub error: Option<String>,
}

/// One work item of a stage: a playlist (sync, export, collect) or an item (download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WorkItemView {
    /// Stage index.
    pub stage: u32,
    /// Playlist or item id.
    pub target: u64,
    /// Its title.
    pub title: String,
    /// Status.
    pub status: WorkStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The last attempt's error.
    pub error: Option<String>,
    /// Outcome note, e.g. `already downloaded`.
    pub note: Option<String>,
    /// Size of the downloaded file (bytes), for download items that have one.
    pub bytes: Option<u64>,
}

/// A typed error recorded in a run step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunErrorView {
    /// Stable code, e.g. `items_failed`.
    pub code: String,
    /// For people.
    pub message: String,
    /// Expected, transient or bug.
    pub class: ErrorClass,
}

/// One step (stage) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StepView {
    /// Stage index.
    pub stage: u32,
    /// Kind.
    pub kind: StageKind,
    /// Start (Unix ms).
    pub started_ms: i64,
    /// End (Unix ms), `None` while open.
    pub ended_ms: Option<i64>,
    /// Outcome, `None` while open.
    pub outcome: Option<StepOutcome>,
    /// The failure.
    pub error: Option<RunErrorView>,
}

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunView {
    /// `job-<id>-run-<n>`.
    pub id: String,
    /// Start (Unix ms).
    pub started_ms: i64,
    /// End (Unix ms), `None` while open.
    pub ended_ms: Option<i64>,
    /// Outcome, `None` while open.
    pub outcome: Option<RunOutcome>,
    /// Steps in start order.
    pub steps: Vec<StepView>,
}

impl From<RunRow> for RunView {
    fn from(r: RunRow) -> RunView {
        RunView {
            id: r.id(),
            started_ms: r.started_ms,
            ended_ms: r.ended_ms,
            outcome: r.outcome,
            steps: r
                .steps
                .into_iter()
                .map(|s| StepView {
                    stage: s.stage.into(),
                    kind: s.kind,
                    started_ms: s.started_ms,
                    ended_ms: s.ended_ms,
                    outcome: s.outcome,
                    error: s.error.map(|e| RunErrorView { code: e.code, message: e.message, class: e.kind }),
                })
                .collect(),
        }
    }
}

/// A line of the job's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LogLineView {
    /// Sequence number (increasing).
    pub seq: u64,
    /// When (Unix ms).
    pub at_ms: i64,
    /// What it is about.
    pub kind: LogKind,
    /// The line.
    pub text: String,
}

/// Everything an expanded task-center row shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobDetail {
    /// The row itself.
    pub job: JobRowView,
    /// Stages in order.
    pub stages: Vec<StageView>,
    /// Work items of every stage (at most [`DETAIL_ITEMS_PER_STAGE`] per stage).
    pub items: Vec<WorkItemView>,
    /// Whether some stage had more work items than listed.
    pub items_truncated: bool,
    /// Workers with their latest sample.
    pub workers: Vec<WorkerView>,
    /// Runs, first to last.
    pub runs: Vec<RunView>,
    /// The newest log lines (at most [`DETAIL_LOG_LINES`]), oldest first.
    pub log: Vec<LogLineView>,
}

fn title_of(store: &Store, kind: StageKind, target: u64) -> (String, Option<u64>) {
    match kind {
        StageKind::Download | StageKind::Organize => {
            let title =
                store.item(target).ok().and_then(|i| i.title).unwrap_or_else(|| format!("item {target}"));
            (title, store.item_file(target).ok().flatten().map(|f| f.size))
        }
        StageKind::Collect => (format!("list {target}"), None),
        StageKind::Sync | StageKind::Export | StageKind::Upload => (
            store
                .playlist(target)
                .map(|p| p.display_title().to_string())
                .unwrap_or_else(|_| format!("playlist {target}")),
            None,
        ),
    }
}

/// The detail of job `job` at `now_ms`. Errors: [`StoreError::NotFound`] for an unknown job.
pub fn job_detail(
    store: &Store,
    workers: Vec<WorkerSample>,
    job: u64,
    now_ms: i64,
    stale_after_ms: i64,
) -> Result<JobDetail, StoreError> {
    let row = store.job(job)?;
    let view = task_center::task_center_row(store, &workers, job, now_ms, stale_after_ms)?;
    let (mut stages, mut items, mut truncated) = (Vec::new(), Vec::new(), false);
    for (index, stage) in row.stages.iter().enumerate() {
        let c = store.stage_counts(job, index as u8)?;
        stages.push(StageView {
            index: index as u32,
            kind: stage.kind,
            status: stage.status,
            queued: c.queued,
            running: c.running,
            done: c.done,
            failed: c.failed,
            skipped: c.skipped,
            total: c.total(),
            error: stage.error.clone(),
        });
        let work = store.stage_items(job, index as u8)?;
        truncated |= work.len() > DETAIL_ITEMS_PER_STAGE;
        for (target, w) in work.into_iter().take(DETAIL_ITEMS_PER_STAGE) {
            let (title, bytes) = title_of(store, stage.kind, target);
            items.push(WorkItemView {
                stage: index as u32,
                target,
                title,
                status: w.status,
                attempts: w.attempts,
                error: w.last_error,
                note: w.note,
                bytes,
            });
        }
    }
    let log = store.job_log(job)?;
    let skip = log.len().saturating_sub(DETAIL_LOG_LINES);
    Ok(JobDetail {
        job: view,
        stages,
        items,
        items_truncated: truncated,
        workers: workers.into_iter().filter(|w| w.job == job).collect(),
        runs: store.runs(job)?.into_iter().map(Into::into).collect(),
        log: log
            .into_iter()
            .skip(skip)
            .map(|(seq, l)| LogLineView { seq, at_ms: l.at_ms, kind: l.kind, text: l.text })
            .collect(),
    })
}
