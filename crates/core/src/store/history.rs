//! Job history: compaction of old finished jobs, and whole finished jobs written at once.
//!
//! A year of hourly auto-syncs leaves 9,000 jobs, each with a work item and a log line per
//! playlist. Nobody reads those rows again once a job is old, so [`Store::compact_batch`]
//! trims them: for each finished job it keeps the job row, its last run and a
//! [`JobSummaryRow`] (stage counts and the last failure, what the task center shows), and
//! deletes its work items (with both status indexes and heartbeats), its log and its earlier
//! runs. Each batch is one write transaction through the store writer, so a crash (SIGKILL,
//! power loss) in the middle leaves every job of the batch either untouched or compacted,
//! never half of it; once a summary is stored, `Store::stage_counts` and
//! `Store::last_failure` answer from it.
//!
//! What is never compacted ([`CompactPolicy`]): jobs that are queued, running, pausing,
//! paused or failed (a failed job can be retried, and retry re-queues its failed work items),
//! jobs with an open run or with work still running or being cancelled, the newest
//! `keep_newest` jobs (item states are read from recent jobs, `api::views::RECENT_JOBS`), and
//! jobs that ended less than `min_age_ms` ago.
//!
//! [`Store::insert_finished_jobs`] writes whole finished jobs (row, work items, log lines and
//! one run) in one transaction: for the bench catalog generator (`bench/`) and for tests of
//! the history.

use redb::ReadableTable;

use super::job_log::append_in;
use super::layouts::{JobLogRow, JobSummaryRow, LogKind, RunOutcome, RunRow, StepRow};
use super::writes::{put_work, WorkEnd};
use super::{
    jobs::insert_job, tables, JobKind, JobStatus, Result, StageCounts, StageItemRow, StageKind, Store,
    WorkStatus,
};

/// Which finished jobs compaction may trim, and how many per transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactPolicy {
    /// The newest jobs (by id) are kept whole, whatever their age.
    pub keep_newest: usize,
    /// A job whose row changed less than this long ago (ms) is kept whole.
    pub min_age_ms: i64,
    /// Jobs compacted per write transaction (bounds the writer's time per batch).
    pub batch: usize,
}

impl Default for CompactPolicy {
    /// Keep the newest 100 jobs and a week of history, 50 jobs per transaction.
    fn default() -> CompactPolicy {
        CompactPolicy { keep_newest: 100, min_age_ms: 7 * 24 * 3_600_000, batch: 50 }
    }
}

/// What compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Jobs compacted.
    pub jobs: u32,
    /// Work item rows removed.
    pub work_items: u64,
    /// Log lines removed.
    pub log_lines: u64,
    /// Runs removed.
    pub runs: u32,
}

/// A finished job to write whole ([`Store::insert_finished_jobs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedJob {
    /// Its kind.
    pub kind: JobKind,
    /// Its stages, in order.
    pub stages: Vec<StageKind>,
    /// Playlists in scope (empty = all).
    pub scope: Vec<u64>,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: JobStatus,
    /// When it was queued and ran (Unix ms).
    pub started_ms: i64,
    /// When it ended (Unix ms).
    pub ended_ms: i64,
    /// Work items: (stage index, target id, how it ended).
    pub work: Vec<(u8, u64, WorkEnd)>,
}

fn outcome_of(status: JobStatus) -> RunOutcome {
    match status {
        JobStatus::Failed => RunOutcome::Failed,
        JobStatus::Cancelled => RunOutcome::Cancelled,
        _ => RunOutcome::Succeeded,
    }
}

fn insert_finished(tx: &redb::WriteTransaction, job: &FinishedJob) -> Result<u64> {
    let id = insert_job(tx, job.kind, &job.stages, &job.scope, job.started_ms)?;
    let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
    let mut row = jobs.get(id)?.map(|g| g.value()).expect("inserted above");
    let mut index = tx.open_table(tables::JOB_STATUS_INDEX)?;
    index.remove((JobStatus::Queued.code(), id))?;
    index.insert((job.status.code(), id), ())?;
    row.status = job.status;
    row.updated_ms = job.ended_ms;
    row.runs = 1;
    for (i, stage) in row.stages.iter_mut().enumerate() {
        let failed = job.work.iter().any(|(s, _, e)| usize::from(*s) == i && e.status == WorkStatus::Failed);
        stage.status = if failed { WorkStatus::Failed } else { WorkStatus::Done };
        stage.started_ms = Some(job.started_ms);
        stage.ended_ms = Some(job.ended_ms);
    }
    jobs.insert(id, &row)?;
    let line =
        |kind, stage, target, text: String| JobLogRow { at_ms: job.ended_ms, kind, stage, target, text };
    let mut log = vec![line(LogKind::Job, None, None, "job running".into())];
    for (stage, target, end) in &job.work {
        let work = StageItemRow {
            status: end.status,
            attempts: 1,
            last_error: end.error.clone(),
            note: end.note.clone(),
            updated_ms: job.ended_ms,
        };
        put_work(tx, (id, *stage, *target), None, &work)?;
        let detail = end.error.as_deref().or(end.note.as_deref()).unwrap_or_default();
        let kind = if end.status == WorkStatus::Failed { LogKind::Error } else { LogKind::Item };
        log.push(line(kind, Some(*stage), Some(*target), format!("{target} {}: {detail}", end.status)));
    }
    log.push(line(LogKind::Job, None, None, format!("job {}", job.status)));
    append_in(tx, id, &log)?;
    let steps = (row.stages.iter().enumerate())
        .map(|(i, s)| StepRow {
            stage: i as u8,
            kind: s.kind,
            started_ms: job.started_ms,
            ended_ms: Some(job.ended_ms),
            outcome: Some(outcome_of(job.status).into()),
            error: None,
        })
        .collect();
    let run = RunRow {
        job: id,
        n: 1,
        started_ms: job.started_ms,
        ended_ms: Some(job.ended_ms),
        outcome: Some(outcome_of(job.status)),
        steps,
    };
    tx.open_table(tables::RUN_KEY_TO_RUN)?.insert((id, 1), &run)?;
    Ok(id)
}

/// Up to `batch` ids of succeeded or cancelled jobs above `after` and below the newest `keep`
/// jobs whose row changed before `stale_before_ms` and that have no summary yet, oldest first.
fn candidates(
    jobs: &impl ReadableTable<u64, super::codec::Row<super::JobRow>>,
    index: &impl ReadableTable<(u8, u64), ()>,
    summaries: &impl ReadableTable<u64, super::codec::Row<JobSummaryRow>>,
    policy: &CompactPolicy,
    after: u64,
    stale_before_ms: i64,
) -> Result<Vec<u64>> {
    let mut newest = jobs.iter()?.rev();
    let mut keep_from = None;
    for _ in 0..policy.keep_newest.max(1) {
        match newest.next().transpose()? {
            Some((k, _)) => keep_from = Some(k.value()),
            None => return Ok(Vec::new()),
        }
    }
    let Some(keep_from) = keep_from else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for status in [JobStatus::Succeeded, JobStatus::Cancelled] {
        let c = status.code();
        let mut taken = 0;
        for e in index.range((c, after.saturating_add(1))..(c, keep_from))? {
            let id = e?.0.value().1;
            let old = jobs.get(id)?.is_some_and(|r| r.value().updated_ms <= stale_before_ms);
            if old && summaries.get(id)?.is_none() {
                out.push(id);
                taken += 1;
                if taken == policy.batch.max(1) {
                    break;
                }
            }
        }
    }
    out.sort_unstable();
    out.truncate(policy.batch.max(1));
    Ok(out)
}

/// Whether job `id` may be compacted now (module docs); its row is read in `tx`.
fn compactable(tx: &redb::WriteTransaction, id: u64, stale_before_ms: i64) -> Result<bool> {
    if tx.open_table(tables::JOB_ID_TO_SUMMARY)?.get(id)?.is_some() {
        return Ok(false);
    }
    let Some(row) = tx.open_table(tables::JOB_ID_TO_JOB)?.get(id)?.map(|g| g.value()) else {
        return Ok(false);
    };
    if !matches!(row.status, JobStatus::Succeeded | JobStatus::Cancelled) || row.updated_ms > stale_before_ms
    {
        return Ok(false);
    }
    if tx.open_table(tables::RUN_OPEN_INDEX)?.range((id, 0)..=(id, u32::MAX))?.next().is_some() {
        return Ok(false);
    }
    let index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
    for stage in 0..row.stages.len() as u8 {
        for status in [WorkStatus::Running, WorkStatus::Cancelling] {
            let c = status.code();
            if index.range((id, stage, c, 0)..=(id, stage, c, u64::MAX))?.next().is_some() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn count(counts: &mut StageCounts, status: WorkStatus) {
    match status {
        WorkStatus::Queued => counts.queued += 1,
        WorkStatus::Running => counts.running += 1,
        WorkStatus::Done => counts.done += 1,
        WorkStatus::Failed => counts.failed += 1,
        WorkStatus::Skipped => counts.skipped += 1,
        WorkStatus::Cancelling | WorkStatus::Cancelled => counts.cancelled += 1,
    }
}

/// Compacts job `id` inside `tx` (module docs).
fn compact_job(tx: &redb::WriteTransaction, id: u64, stages: u8, now_ms: i64) -> Result<JobSummaryRow> {
    let mut summary = JobSummaryRow { compacted_ms: now_ms, ..Default::default() };
    let mut last_failed: Option<(i64, String)> = None;
    let mut work = tx.open_table(tables::STAGE_ITEM)?;
    let mut index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
    let mut global = tx.open_table(tables::WORK_STATUS_INDEX)?;
    let mut beats = tx.open_table(tables::WORK_HEARTBEAT)?;
    for stage in 0..stages {
        let mut counts = StageCounts::default();
        let mut keys = Vec::new();
        for e in work.range((id, stage, 0)..=(id, stage, u64::MAX))? {
            let (k, v) = e?;
            let (target, row) = (k.value().2, v.value());
            count(&mut counts, row.status);
            if let (WorkStatus::Failed, Some(err)) = (row.status, row.last_error) {
                if last_failed.as_ref().is_none_or(|(at, _)| row.updated_ms >= *at) {
                    last_failed = Some((row.updated_ms, err));
                }
            }
            keys.push((target, row.status.code()));
        }
        for (target, code) in keys {
            work.remove((id, stage, target))?;
            index.remove((id, stage, code, target))?;
            global.remove((code, id, stage, target))?;
            beats.remove((id, stage, target))?;
            summary.work_items += 1;
        }
        summary.counts.push(counts);
    }
    summary.last_error = last_failed.map(|(_, e)| e);
    let mut log = tx.open_table(tables::JOB_LOG)?;
    let seqs: Vec<u64> = log
        .range((id, 0)..=(id, u64::MAX))?
        .map(|e| e.map(|(k, _)| k.value().1))
        .collect::<std::result::Result<_, _>>()?;
    for seq in &seqs {
        log.remove((id, *seq))?;
    }
    summary.log_lines = seqs.len() as u64;
    let mut runs = tx.open_table(tables::RUN_KEY_TO_RUN)?;
    let ns: Vec<u32> = runs
        .range((id, 0)..=(id, u32::MAX))?
        .map(|e| e.map(|(k, _)| k.value().1))
        .collect::<std::result::Result<_, _>>()?;
    for n in ns.iter().take(ns.len().saturating_sub(1)) {
        runs.remove((id, *n))?;
        summary.runs += 1;
    }
    tx.open_table(tables::JOB_ID_TO_SUMMARY)?.insert(id, &summary)?;
    Ok(summary)
}

/// One batch of compaction in `tx`: up to `policy.batch` jobs with ids above `after`;
/// `inject` runs after each job (a test's failure between steps). Returns the report and the
/// last job id looked at (`None`: no candidate left).
pub(super) fn compact_in(
    tx: &redb::WriteTransaction,
    policy: &CompactPolicy,
    after: u64,
    now_ms: i64,
    inject: &dyn Fn(usize) -> Result<()>,
) -> Result<(CompactReport, Option<u64>)> {
    let mut report = CompactReport::default();
    let candidates = candidates(
        &tx.open_table(tables::JOB_ID_TO_JOB)?,
        &tx.open_table(tables::JOB_STATUS_INDEX)?,
        &tx.open_table(tables::JOB_ID_TO_SUMMARY)?,
        policy,
        after,
        now_ms.saturating_sub(policy.min_age_ms),
    )?;
    let Some(&last) = candidates.last() else { return Ok((report, None)) };
    let stale_before = now_ms.saturating_sub(policy.min_age_ms);
    for (i, id) in candidates.into_iter().enumerate() {
        if !compactable(tx, id, stale_before)? {
            continue;
        }
        let stages = super::jobs::load_job(&tx.open_table(tables::JOB_ID_TO_JOB)?, id)?.stages.len() as u8;
        let s = compact_job(tx, id, stages, now_ms)?;
        report.jobs += 1;
        report.work_items += s.work_items;
        report.log_lines += s.log_lines;
        report.runs += s.runs;
        inject(i)?;
    }
    Ok((report, Some(last)))
}

impl Store {
    /// Writes `jobs` whole as finished jobs (row, work items with their indexes, one log line
    /// per work item plus the job's, one run), in one durable transaction; returns their ids
    /// in order. For the bench catalog generator and tests (module docs).
    /// Errors: [`super::StoreError::Db`].
    pub fn insert_finished_jobs(&self, jobs: Vec<FinishedJob>) -> Result<Vec<u64>> {
        self.write(move |tx| jobs.iter().map(|j| insert_finished(tx, j)).collect())
    }

    /// The summary compaction kept of job `id`; `None` when it was not compacted.
    pub fn job_summary(&self, id: u64) -> Result<Option<JobSummaryRow>> {
        self.read(|tx| Ok(tx.open_table(tables::JOB_ID_TO_SUMMARY)?.get(id)?.map(|g| g.value())))
    }

    /// Compacts one batch of jobs with ids above `after` (module docs) in one durable write
    /// transaction at `now_ms` (Unix ms). Returns what it did and the cursor for the next
    /// batch (`None` once no candidate is left). Errors: [`super::StoreError::Db`].
    pub fn compact_batch(
        &self,
        policy: CompactPolicy,
        after: u64,
        now_ms: i64,
    ) -> Result<(CompactReport, Option<u64>)> {
        // nothing to do is found by a read, without a write transaction and its fsync
        let none = self.read(|tx| {
            let found = candidates(
                &tx.open_table(tables::JOB_ID_TO_JOB)?,
                &tx.open_table(tables::JOB_STATUS_INDEX)?,
                &tx.open_table(tables::JOB_ID_TO_SUMMARY)?,
                &policy,
                after,
                now_ms.saturating_sub(policy.min_age_ms),
            )?;
            Ok(found.is_empty())
        })?;
        if none {
            return Ok((CompactReport::default(), None));
        }
        self.write(move |tx| compact_in(tx, &policy, after, now_ms, &|_| Ok(())))
    }

    /// Compacts every candidate, batch after batch ([`Store::compact_batch`]); other writes
    /// interleave between batches. Errors: [`super::StoreError::Db`] (batches before it stay
    /// compacted).
    pub fn compact_history(&self, policy: CompactPolicy, now_ms: i64) -> Result<CompactReport> {
        let (mut total, mut after) = (CompactReport::default(), 0);
        while let (report, Some(last)) = self.compact_batch(policy, after, now_ms)? {
            total.jobs += report.jobs;
            total.work_items += report.work_items;
            total.log_lines += report.log_lines;
            total.runs += report.runs;
            after = last;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3_600_000;

    /// A finished hourly sync of playlists 1..=3 ending at `at`; playlist 3 failed when `failed`.
    fn sync(status: JobStatus, at: i64, failed: bool) -> FinishedJob {
        let end3 = if failed { WorkEnd::failed("HTTP 404") } else { WorkEnd::done("0 new") };
        FinishedJob {
            kind: JobKind::SyncDownload,
            stages: vec![StageKind::Sync, StageKind::Download],
            scope: vec![],
            status,
            started_ms: at - 1_000,
            ended_ms: at,
            work: vec![
                (0, 1, WorkEnd::done("0 new")),
                (0, 2, WorkEnd::done("1 new")),
                (0, 3, end3),
                (1, 9, WorkEnd::done("ok")),
            ],
        }
    }

    fn counts(store: &Store, job: u64) -> Vec<StageCounts> {
        (0..2).map(|s| store.stage_counts(job, s).unwrap()).collect()
    }

    /// Everything a job has in the store, for before/after comparisons.
    fn snapshot(store: &Store, job: u64) -> (usize, usize, usize, Option<JobSummaryRow>) {
        let items = store.stage_items(job, 0).unwrap().len() + store.stage_items(job, 1).unwrap().len();
        (
            items,
            store.job_log(job).unwrap().len(),
            store.runs(job).unwrap().len(),
            store.job_summary(job).unwrap(),
        )
    }

    #[test]
    fn compaction_keeps_summaries_and_never_touches_live_failed_new_or_young_jobs() {
        let (_d, store) = crate::store::temp_store();
        let now = 100 * DAY;
        let old = store
            .insert_finished_jobs(vec![
                sync(JobStatus::Succeeded, DAY, false),
                sync(JobStatus::Cancelled, DAY, true),
            ])
            .unwrap();
        let failed = store.insert_finished_jobs(vec![sync(JobStatus::Failed, DAY, true)]).unwrap()[0];
        // queued, running and paused jobs, created long ago
        let queued = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], DAY).unwrap();
        store.add_stage_items(queued, 0, &[1, 2], DAY).unwrap();
        let running = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], DAY).unwrap();
        store.add_stage_items(running, 0, &[1, 2], DAY).unwrap();
        store.claim_next_job(|_| true, DAY).unwrap();
        store.claim_next_job(|_| true, DAY).unwrap();
        store.set_job_status(queued, JobStatus::Queued, DAY).unwrap();
        store.start_run(running, DAY).unwrap();
        let paused = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], DAY).unwrap();
        store.set_job_status(paused, JobStatus::Paused, DAY).unwrap();
        let young =
            store.insert_finished_jobs(vec![sync(JobStatus::Succeeded, now - 1_000, false)]).unwrap()[0];
        let newest = store.insert_finished_jobs(vec![sync(JobStatus::Succeeded, DAY, false)]).unwrap()[0];
        let before: Vec<_> =
            [failed, queued, running, paused, young, newest].iter().map(|&j| snapshot(&store, j)).collect();
        let counts_before: Vec<_> = old.iter().map(|&j| counts(&store, j)).collect();
        let policy = CompactPolicy { keep_newest: 1, min_age_ms: DAY, batch: 1 };

        let report = store.compact_history(policy, now).unwrap();
        assert_eq!((report.jobs, report.work_items, report.log_lines, report.runs), (2, 8, 12, 0));
        for (j, want) in old.iter().zip(&counts_before) {
            assert_eq!(&counts(&store, *j), want, "job {j}: the summary answers the stage counts");
            let (items, log, runs, summary) = snapshot(&store, *j);
            assert_eq!((items, log, runs), (0, 0, 1), "work items and log trimmed, last run kept");
            assert_eq!(summary.unwrap().counts, *want);
        }
        assert_eq!(store.last_failure(old[1], 2).unwrap(), Some((0, "HTTP 404".to_string())));
        let after: Vec<_> =
            [failed, queued, running, paused, young, newest].iter().map(|&j| snapshot(&store, j)).collect();
        assert_eq!(after, before, "failed, queued, running, paused, young and newest jobs stay whole");
        assert_eq!(store.compact_history(policy, now).unwrap(), CompactReport::default(), "nothing left");
        // a job's status index entry and row survive: the task center still lists it
        assert_eq!(store.jobs_with_status(JobStatus::Cancelled).unwrap(), vec![old[1]]);
    }

    #[test]
    fn a_failure_between_jobs_of_a_batch_loses_nothing() {
        let (_d, store) = crate::store::temp_store();
        let jobs = store
            .insert_finished_jobs((0..4).map(|i| sync(JobStatus::Succeeded, DAY + i, i == 2)).collect())
            .unwrap();
        let before: Vec<_> = jobs.iter().map(|&j| (snapshot(&store, j), counts(&store, j))).collect();
        let policy = CompactPolicy { keep_newest: 1, min_age_ms: 0, batch: 10 };
        // the batch fails after its second job: the transaction rolls back as a crash would
        let err = store.write(move |tx| {
            compact_in(tx, &policy, 0, 10 * DAY, &|i| match i {
                1 => Err(crate::store::StoreError::Conflict("injected".into())),
                _ => Ok(()),
            })
        });
        assert!(err.is_err());
        let after: Vec<_> = jobs.iter().map(|&j| (snapshot(&store, j), counts(&store, j))).collect();
        assert_eq!(after, before, "no job is half compacted");
        // and the next run compacts them all
        assert_eq!(store.compact_history(policy, 10 * DAY).unwrap().jobs, 3);
        for (j, (_, c)) in jobs.iter().zip(&before) {
            assert_eq!(&counts(&store, *j), c);
        }
    }
}
