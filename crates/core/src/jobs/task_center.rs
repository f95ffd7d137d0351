//! The task center as a read model: [`task_center`] projects jobs and their stage counts
//! (from the store) and the live worker samples (from the engine's memory,
//! `Engine::worker_samples`) into [`TaskCenter`], which every front only renders (they compute
//! nothing themselves; the UI gets these very types, `TaskCenterView`, `SummaryView` and
//! `JobRowView` in its bindings). It reads the store and takes the time as
//! a parameter (ARCHITECTURE.md, convention 13), so the same store state and `now_ms` always
//! give the same view.
//!
//! Live numbers (speed, active workers) count only workers that are demonstrably alive: state
//! `working` with a current item, a heartbeat newer than `now_ms - stale_after_ms`, under a job
//! whose status is `running`. Rows left behind by finished, paused or crashed workers never
//! count. Actions offered per job come from the same transition table the runner applies
//! ([`apply_command`]), so the UI never offers a command the runner would ignore.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::kinds::{lane_of, Lane};
use super::workers::{WorkerSample, WorkerState};
use crate::store::{
    apply_command, JobCommand, JobKind, JobRow, JobStatus, StageCounts, StageKind, Store, StoreError,
    WorkStatus,
};

/// The whole task center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "TaskCenterView")] // the name the UI knows it by (bindings.ts)
pub struct TaskCenter {
    /// Every queued, running, pausing or paused job and the newest [`RECENT_JOBS_SHOWN`] jobs
    /// of any status, newest first: older finished jobs are counted, not listed, so the view
    /// does not grow with history.
    pub jobs: Vec<JobView>,
    /// Counts over every job, listed or not.
    pub summary: Summary,
    /// Jobs not listed in `jobs` (older finished ones).
    pub older: u32,
    /// Sum of the live workers' speeds over all jobs (bytes/s).
    pub total_speed_bps: u64,
    /// Live workers over all jobs.
    pub active_workers: u32,
}

/// Job counts shown above the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "SummaryView")] // the name the UI knows it by (bindings.ts)
pub struct Summary {
    /// All jobs.
    pub total: u32,
    /// Jobs with status `queued`.
    pub queued: u32,
    /// Queued jobs in the download lane.
    pub queued_download_jobs: u32,
    /// Jobs with status `running` or `pause_requested` (workers may still be active).
    pub running: u32,
    /// Jobs with status `paused`.
    pub paused: u32,
    /// Jobs with status `failed`.
    pub failed: u32,
}

/// One job as the task center shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "JobRowView")] // the name the UI knows it by (bindings.ts)
pub struct JobView {
    /// Job id.
    pub id: u64,
    /// Name of the job's kind for people, e.g. `Sync and download`.
    pub display_name: String,
    /// Kind of the job.
    pub kind: JobKind,
    /// Where the job is.
    pub status: JobStatus,
    /// Scheduling lane.
    pub lane: Lane,
    /// `queued #k` for a queued job: its place among queued jobs of its lane, oldest = #1.
    pub queue_label: Option<String>,
    /// `all playlists`, `1 playlist` or `N playlists`.
    pub scope_summary: String,
    /// Progress of the current stage (the last stage once all finished), e.g.
    /// `12 / 40 items | 3.1 MB/s` or `3 / 20 playlists`; the speed part only while > 0 bytes/s.
    pub progress_text: String,
    /// Finished / total work items of that stage, 0-100; `None` while it has no work items.
    pub percent: Option<f32>,
    /// The current (first unfinished) stage; `None` once every stage finished.
    pub stage: Option<StageKind>,
    /// Live workers of the job: working on an item, heartbeat fresh, job running.
    pub active_workers: u32,
    /// Sum of the live workers' smoothed speeds, bytes/s.
    pub speed_bps: u64,
    /// Pause applies to the job's status.
    pub can_pause: bool,
    /// Resume applies.
    pub can_resume: bool,
    /// Cancel applies.
    pub can_cancel: bool,
    /// Retry applies: the job failed (or has failed work items) and retry moves it.
    pub can_retry: bool,
    /// The stored error of the job's latest failed work item, e.g. `attempt 3/3, transient:
    /// HTTP 503 Service Unavailable from <url>` or `playlist 3 <url>: HTTP 404 ...`.
    pub last_error: Option<String>,
}

/// Name of a job kind for people, e.g. `Sync and download`.
pub fn display_name(kind: JobKind) -> &'static str {
    match kind {
        JobKind::SyncOnly => "Sync",
        JobKind::DownloadOnly => "Download",
        JobKind::SyncDownload => "Sync and download",
        JobKind::CatalogSync => "Catalog sync",
        JobKind::CollectOnly => "Collect",
        JobKind::ExportOnly => "Export",
        JobKind::DownloadExport => "Download and export",
        JobKind::UploadOnly => "Upload",
        JobKind::DownloadUpload => "Download then upload",
        JobKind::Organize => "Rename files",
    }
}

/// `all playlists` for an empty scope, else `1 playlist` / `N playlists`.
pub fn scope_summary(scope: &[u64]) -> String {
    match scope.len() {
        0 => "all playlists".to_string(),
        1 => "1 playlist".to_string(),
        n => format!("{n} playlists"),
    }
}

/// What a stage's work items are called: `playlists` (sync, export), `lists` (collect),
/// `items` (download).
fn unit(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Sync | StageKind::Export | StageKind::Upload => "playlists",
        StageKind::Collect => "lists",
        StageKind::Download | StageKind::Organize => "items",
    }
}

/// A speed in bytes/s as text with one decimal: `3.1 MB/s` from 1 MB/s up (MB = 10^6 bytes),
/// `512.0 kB/s` below (kB = 10^3 bytes).
pub fn format_speed(bps: u64) -> String {
    if bps >= 1_000_000 {
        format!("{:.1} MB/s", bps as f64 / 1e6)
    } else {
        format!("{:.1} kB/s", bps as f64 / 1e3)
    }
}

/// `finished / total unit`, plus ` | <speed>` when `speed_bps` > 0.
pub fn format_progress(kind: StageKind, counts: &StageCounts, speed_bps: u64) -> String {
    let mut text = format!("{} / {} {}", counts.finished(), counts.total(), unit(kind));
    if speed_bps > 0 {
        text.push_str(" | ");
        text.push_str(&format_speed(speed_bps));
    }
    text
}

/// Finished jobs the task center lists beside the unfinished ones (the newest).
pub const RECENT_JOBS_SHOWN: usize = 50;

/// Live workers and their summed speed (bytes/s) per job id; see the module docs.
fn live_workers(
    workers: &[WorkerSample],
    jobs: &[(u64, JobRow)],
    now_ms: i64,
    stale_after_ms: i64,
) -> HashMap<u64, (u32, u64)> {
    let running: HashMap<u64, bool> =
        jobs.iter().map(|(id, j)| (*id, j.status == JobStatus::Running)).collect();
    let fresh_after = now_ms.saturating_sub(stale_after_ms);
    let mut live: HashMap<u64, (u32, u64)> = HashMap::new();
    for w in workers {
        let alive = w.state == WorkerState::Working
            && w.item.is_some()
            && w.heartbeat_ms > fresh_after
            && running.get(&w.job).copied().unwrap_or(false);
        if alive {
            let e = live.entry(w.job).or_default();
            e.0 += 1;
            e.1 = e.1.saturating_add(w.speed_bps);
        }
    }
    live
}

/// Queue positions per lane, oldest (lowest id) first: `queued` is every queued job's id and
/// kind, oldest first.
fn queue_positions(queued: &[(u64, JobKind)]) -> HashMap<u64, u32> {
    let mut position: HashMap<u64, u32> = HashMap::new();
    let mut next: HashMap<Lane, u32> = HashMap::new();
    for (id, kind) in queued {
        let k = next.entry(lane_of(*kind)).or_insert(0);
        *k += 1;
        position.insert(*id, *k);
    }
    position
}

/// One job's row: counts of its stages, its progress and the actions it offers. `live` is its
/// live workers and summed speed, `queue_position` its place in its lane's queue.
fn job_view(
    store: &Store,
    (id, job): (u64, &JobRow),
    (active_workers, speed_bps): (u32, u64),
    queue_position: Option<u32>,
) -> Result<JobView, StoreError> {
    let lane = lane_of(job.kind);
    let mut counts = Vec::with_capacity(job.stages.len());
    for stage in 0..job.stages.len() {
        counts.push(store.stage_counts(id, stage as u8)?);
    }
    let current =
        job.stages.iter().position(|s| matches!(s.status, WorkStatus::Queued | WorkStatus::Running));
    let shown = current.or(job.stages.len().checked_sub(1));
    let (progress_text, percent) = match shown {
        Some(i) => {
            let c = &counts[i];
            let percent = (c.total() > 0).then(|| c.finished() as f32 * 100.0 / c.total() as f32);
            (format_progress(job.stages[i].kind, c, speed_bps), percent)
        }
        None => (String::new(), None),
    };
    let failed_items: u32 = counts.iter().map(|c| c.failed).sum();
    let last_error = match failed_items {
        0 => None,
        _ => store.last_failure(id, job.stages.len() as u8)?.map(|(_, error)| error),
    };
    let can = |command| apply_command(job.status, command).is_some();
    Ok(JobView {
        id,
        display_name: display_name(job.kind).to_string(),
        kind: job.kind,
        status: job.status,
        lane,
        queue_label: queue_position.map(|k| format!("queued #{k}")),
        scope_summary: scope_summary(&job.scope),
        progress_text,
        percent,
        stage: current.map(|i| job.stages[i].kind),
        active_workers,
        speed_bps,
        can_pause: can(JobCommand::Pause),
        can_resume: can(JobCommand::Resume),
        can_cancel: can(JobCommand::Cancel),
        can_retry: can(JobCommand::RetryFailed) && (failed_items > 0 || job.status == JobStatus::Failed),
        last_error,
    })
}

/// Projects the store and the live worker samples `workers` (the engine's in-memory samples,
/// `Engine::worker_samples`) into the task center at `now_ms` (Unix ms); samples whose
/// heartbeat is `stale_after_ms` (ms) old or older do not count. Reads only the listed jobs
/// (see [`TaskCenter::jobs`]) and the status index, so its cost does not grow with history.
///
/// Errors: [`StoreError`] from reading the store.
pub fn task_center(
    store: &Store,
    workers: &[WorkerSample],
    now_ms: i64,
    stale_after_ms: i64,
) -> Result<TaskCenter, StoreError> {
    let shown = store.jobs_shown(RECENT_JOBS_SHOWN)?;
    let live = live_workers(workers, &shown.jobs, now_ms, stale_after_ms);
    let position = queue_positions(&shown.queued);
    let mut views = Vec::with_capacity(shown.jobs.len());
    for (id, job) in &shown.jobs {
        let live = live.get(id).copied().unwrap_or_default();
        views.push(job_view(store, (*id, job), live, position.get(id).copied())?);
    }
    let n = |s: JobStatus| shown.by_status[usize::from(s.code())];
    let summary = Summary {
        total: shown.by_status.iter().sum(),
        queued: n(JobStatus::Queued),
        queued_download_jobs: shown.queued.iter().filter(|(_, k)| lane_of(*k) == Lane::Download).count()
            as u32,
        running: n(JobStatus::Running) + n(JobStatus::PauseRequested),
        paused: n(JobStatus::Paused),
        failed: n(JobStatus::Failed),
    };
    Ok(TaskCenter {
        total_speed_bps: views.iter().map(|j| j.speed_bps).sum(),
        active_workers: views.iter().map(|j| j.active_workers).sum(),
        older: summary.total.saturating_sub(views.len() as u32),
        jobs: views,
        summary,
    })
}

/// The task center row of job `id` alone (listed or not). Errors: [`StoreError::NotFound`].
pub fn task_center_row(
    store: &Store,
    workers: &[WorkerSample],
    id: u64,
    now_ms: i64,
    stale_after_ms: i64,
) -> Result<JobView, StoreError> {
    let job = store.job(id)?;
    let jobs = [(id, job)];
    let live = live_workers(workers, &jobs, now_ms, stale_after_ms).get(&id).copied().unwrap_or_default();
    let position = match jobs[0].1.status {
        JobStatus::Queued => {
            let shown = store.jobs_shown(0)?;
            queue_positions(&shown.queued).get(&id).copied()
        }
        _ => None,
    };
    job_view(store, (id, &jobs[0].1), live, position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::stages_of;
    use crate::store::jobs::WorkEnd;

    fn job(store: &Store, kind: JobKind, scope: &[u64], status: JobStatus) -> u64 {
        let id = store.create_job(kind, stages_of(kind), scope, 1).unwrap();
        if status != JobStatus::Queued {
            store.set_job_status(id, status, 2).unwrap();
        }
        id
    }

    /// Gives stage `stage` of `job` `total` work items, the first `done` of them finished.
    fn work(store: &Store, job: u64, stage: u8, total: u64, done: u64) {
        let targets: Vec<u64> = (1..=total).collect();
        store.add_stage_items(job, stage, &targets, 1).unwrap();
        for _ in 0..done {
            let t = store.claim_stage_item(job, stage, 2).unwrap().unwrap();
            store.finish_stage_item(job, stage, t, WorkEnd::done("ok"), 3).unwrap();
        }
    }

    fn worker(
        job: u64,
        name: &str,
        state: WorkerState,
        item: Option<u64>,
        speed_bps: u64,
        heartbeat_ms: i64,
    ) -> WorkerSample {
        WorkerSample {
            job,
            name: name.into(),
            stage: 0,
            state,
            item,
            display: String::new(),
            downloaded: 0,
            total: None,
            speed_bps,
            percent: None,
            processed: 0,
            errors: 0,
            heartbeat_ms,
        }
    }

    fn view(tc: &TaskCenter, id: u64) -> &JobView {
        tc.jobs.iter().find(|j| j.id == id).unwrap()
    }

    #[test]
    fn queue_labels_count_per_lane_oldest_first() {
        let (_d, store) = crate::store::temp_store();
        let running = job(&store, JobKind::DownloadOnly, &[], JobStatus::Running);
        let a = job(&store, JobKind::DownloadOnly, &[], JobStatus::Queued);
        let s = job(&store, JobKind::SyncOnly, &[], JobStatus::Queued);
        let b = job(&store, JobKind::SyncDownload, &[], JobStatus::Queued);
        let tc = task_center(&store, &[], 100, 10).unwrap();
        assert_eq!(tc.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![b, s, a, running], "newest first");
        assert_eq!(view(&tc, a).queue_label.as_deref(), Some("queued #1"));
        assert_eq!(view(&tc, b).queue_label.as_deref(), Some("queued #2"));
        assert_eq!(
            (view(&tc, s).queue_label.as_deref(), view(&tc, s).lane),
            (Some("queued #1"), Lane::General)
        );
        assert_eq!(view(&tc, running).queue_label, None);
        assert_eq!(view(&tc, b).display_name, "Sync and download");
        assert_eq!(view(&tc, b).lane, Lane::Download);
    }

    #[test]
    fn scope_summaries() {
        assert_eq!(scope_summary(&[]), "all playlists");
        assert_eq!(scope_summary(&[4]), "1 playlist");
        assert_eq!(scope_summary(&[4, 2]), "2 playlists");
        let (_d, store) = crate::store::temp_store();
        let id = job(&store, JobKind::SyncOnly, &[7, 8, 9], JobStatus::Queued);
        assert_eq!(task_center(&store, &[], 1, 1).unwrap().jobs[0].scope_summary, "3 playlists");
        assert_eq!(view(&task_center(&store, &[], 1, 1).unwrap(), id).display_name, "Sync");
    }

    #[test]
    fn progress_text_formatting() {
        let c = |done, queued| StageCounts { done, queued, ..Default::default() };
        assert_eq!(format_progress(StageKind::Download, &c(12, 28), 3_100_000), "12 / 40 items | 3.1 MB/s");
        assert_eq!(format_progress(StageKind::Download, &c(12, 28), 0), "12 / 40 items");
        assert_eq!(format_progress(StageKind::Sync, &c(3, 17), 0), "3 / 20 playlists");
        assert_eq!(format_speed(1_000_000), "1.0 MB/s");
        assert_eq!(format_speed(12_345_678), "12.3 MB/s");
        assert_eq!(format_speed(512_000), "512.0 kB/s");

        let (_d, store) = crate::store::temp_store();
        // sync stage current: counts playlists
        let sd = job(&store, JobKind::SyncDownload, &[], JobStatus::Running);
        work(&store, sd, 0, 20, 3);
        // sync done, download current with live workers
        let dl = job(&store, JobKind::SyncDownload, &[1], JobStatus::Running);
        work(&store, dl, 0, 1, 1);
        store.update_stage(dl, 0, |st| st.status = WorkStatus::Done).unwrap();
        work(&store, dl, 1, 40, 12);
        let workers = [
            worker(dl, "download-1", WorkerState::Working, Some(13), 2_000_000, 95),
            worker(dl, "download-2", WorkerState::Working, Some(14), 1_100_000, 95),
        ];
        let tc = task_center(&store, &workers, 100, 10).unwrap();
        let v = view(&tc, sd);
        assert_eq!(
            (v.progress_text.as_str(), v.stage, v.percent),
            ("3 / 20 playlists", Some(StageKind::Sync), Some(15.0))
        );
        let v = view(&tc, dl);
        assert_eq!(
            (v.progress_text.as_str(), v.stage, v.percent),
            ("12 / 40 items | 3.1 MB/s", Some(StageKind::Download), Some(30.0))
        );
        assert_eq!((v.active_workers, v.speed_bps), (2, 3_100_000));
    }

    #[test]
    fn speed_counts_only_live_workers_of_running_jobs() {
        let (_d, store) = crate::store::temp_store();
        let run = job(&store, JobKind::DownloadOnly, &[], JobStatus::Running);
        let done = job(&store, JobKind::DownloadOnly, &[], JobStatus::Succeeded);
        let paused = job(&store, JobKind::DownloadOnly, &[], JobStatus::Paused);
        let workers = [
            worker(run, "download-1", WorkerState::Working, Some(1), 1_000, 95), // live
            worker(run, "download-2", WorkerState::Working, Some(2), 2_000, 91), // live, just fresh
            worker(run, "download-3", WorkerState::Working, Some(3), 40_000, 90), // stale: heartbeat = now - window
            worker(run, "download-4", WorkerState::Idle, None, 80_000, 99),       // idle
            worker(run, "resolve-1", WorkerState::Working, None, 160_000, 99),    // no current item
            worker(run, "download-5", WorkerState::Stopped, Some(5), 320_000, 99), // stopped
            worker(done, "download-1", WorkerState::Working, Some(6), 640_000, 99), // finished job
            worker(paused, "download-1", WorkerState::Working, Some(7), 1_280_000, 99), // paused job
        ];
        let tc = task_center(&store, &workers, 100, 10).unwrap();
        assert_eq!((view(&tc, run).active_workers, view(&tc, run).speed_bps), (2, 3_000));
        assert_eq!((view(&tc, done).active_workers, view(&tc, done).speed_bps), (0, 0));
        assert_eq!((view(&tc, paused).active_workers, view(&tc, paused).speed_bps), (0, 0));
        // with time passing, every sample goes stale
        let later = task_center(&store, &workers, 1_000, 10).unwrap();
        assert_eq!((view(&later, run).active_workers, view(&later, run).speed_bps), (0, 0));
    }

    #[test]
    fn action_flags_and_summary_per_status() {
        let (_d, store) = crate::store::temp_store();
        use JobStatus::*;
        let statuses = [Queued, Running, Succeeded, Failed, Cancelled, PauseRequested, Paused];
        let ids: Vec<u64> = statuses.iter().map(|&s| job(&store, JobKind::DownloadOnly, &[], s)).collect();
        let general = job(&store, JobKind::ExportOnly, &[], Queued);
        let tc = task_center(&store, &[], 100, 10).unwrap();
        let flags = |id| {
            let v = view(&tc, id);
            (v.can_pause, v.can_resume, v.can_cancel, v.can_retry)
        };
        // (pause, resume, cancel, retry)
        let expected = [
            (true, false, true, false),   // queued
            (true, false, true, false),   // running
            (false, false, false, false), // succeeded
            (false, false, false, true),  // failed
            (false, false, false, false), // cancelled
            (false, true, true, false),   // pause_requested
            (false, true, true, false),   // paused
        ];
        for ((status, id), want) in statuses.iter().zip(&ids).zip(expected) {
            assert_eq!(flags(*id), want, "{status}");
        }
        assert_eq!(
            tc.summary,
            Summary { total: 8, queued: 2, queued_download_jobs: 1, running: 2, paused: 1, failed: 1 }
        );
        assert_eq!(view(&tc, general).lane, Lane::General);
        // a finished job shows its last stage and no current stage
        store.update_stage(ids[2], 0, |st| st.status = WorkStatus::Done).unwrap();
        let tc = task_center(&store, &[], 100, 10).unwrap();
        let v = view(&tc, ids[2]);
        assert_eq!((v.stage, v.percent, v.progress_text.as_str()), (None, None, "0 / 0 items"));
    }

    #[test]
    fn finished_history_is_counted_not_listed() {
        use crate::store::history::FinishedJob;
        let (_d, store) = crate::store::temp_store();
        let old = job(&store, JobKind::DownloadOnly, &[], JobStatus::Paused);
        let done = |status| FinishedJob {
            kind: JobKind::SyncOnly,
            stages: vec![StageKind::Sync],
            scope: vec![],
            status,
            started_ms: 1,
            ended_ms: 2,
            work: vec![(0, 1, WorkEnd::done("ok"))],
        };
        let history = (0..RECENT_JOBS_SHOWN + 30)
            .map(|i| done(if i == 0 { JobStatus::Failed } else { JobStatus::Succeeded }))
            .collect();
        let ids = store.insert_finished_jobs(history).unwrap();
        let queued = job(&store, JobKind::SyncOnly, &[], JobStatus::Queued);
        let tc = task_center(&store, &[], 100, 10).unwrap();
        let listed: Vec<u64> = tc.jobs.iter().map(|j| j.id).collect();
        assert_eq!(listed.len(), RECENT_JOBS_SHOWN + 1, "the newest jobs and the paused one");
        assert_eq!(listed[0], queued);
        assert_eq!(*listed.last().unwrap(), old, "an unfinished job is listed however old");
        assert!(listed.windows(2).all(|w| w[0] > w[1]), "newest first");
        assert_eq!(
            tc.summary,
            Summary {
                total: ids.len() as u32 + 2,
                queued: 1,
                queued_download_jobs: 0,
                running: 0,
                paused: 1,
                failed: 1
            }
        );
        assert_eq!(tc.older, 31, "80 finished jobs, 49 of them among the newest 50");
        // an unlisted job still has its row
        let row = task_center_row(&store, &[], ids[0], 100, 10).unwrap();
        assert_eq!(
            (row.status, row.progress_text.as_str(), row.can_retry),
            (JobStatus::Failed, "1 / 1 playlists", true)
        );
    }
}
