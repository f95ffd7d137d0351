//! Jobs, their stages and the work items of each stage. Every status change writes the row and
//! its status index entry in the same transaction. Claims are compare-and-set transitions inside
//! one write transaction (redb has a single writer), so no job or work item starts twice.
//!
//! Work item status codes key `STAGE_ITEM_STATUS_INDEX` as `(job, stage, status, target)`, so
//! claiming the next queued item and counting a stage's progress are range scans, not walks.

use redb::ReadableTable;

use super::work_ops;
pub use super::writes::WorkEnd;
use super::writes::{put_work, requeue_items};
use super::{
    next_id, tables, FileRow, JobKind, JobRow, JobStatus, Result, StageItemRow, StageKind, StageRow, Store,
    StoreError, WorkStatus,
};

pub use super::layouts::StageCounts;

fn not_found(id: u64) -> StoreError {
    StoreError::NotFound { what: "job", id: id.to_string() }
}

pub(super) fn load_job(t: &impl ReadableTable<u64, super::codec::Row<JobRow>>, id: u64) -> Result<JobRow> {
    t.get(id)?.map(|g| g.value()).ok_or_else(|| not_found(id))
}

/// The ids of the queued jobs, oldest first.
fn queued_ids(index: &impl ReadableTable<(u8, u64), ()>) -> Result<Vec<u64>> {
    let code = JobStatus::Queued.code();
    let mut ids = Vec::new();
    for entry in index.range((code, 0)..=(code, u64::MAX))? {
        ids.push(entry?.0.value().1);
    }
    Ok(ids)
}

fn set_status(
    tx: &redb::WriteTransaction,
    id: u64,
    row: &mut JobRow,
    status: JobStatus,
    now_ms: i64,
) -> Result<()> {
    let mut index = tx.open_table(tables::JOB_STATUS_INDEX)?;
    index.remove((row.status.code(), id))?;
    index.insert((status.code(), id), ())?;
    row.status = status;
    row.updated_ms = now_ms;
    Ok(())
}

/// Inserts a queued job (see [`Store::create_job`]) in `tx`; returns its id.
pub(super) fn insert_job(
    tx: &redb::WriteTransaction,
    kind: JobKind,
    stages: &[StageKind],
    scope: &[u64],
    now_ms: i64,
) -> Result<u64> {
    let id = next_id(tx, "next_job_id")?;
    let stages = stages
        .iter()
        .map(|&kind| StageRow {
            kind,
            status: WorkStatus::Queued,
            started_ms: None,
            ended_ms: None,
            error: None,
        })
        .collect();
    let row = JobRow {
        kind,
        scope: scope.to_vec(),
        status: JobStatus::Queued,
        stages,
        created_ms: now_ms,
        updated_ms: now_ms,
        runs: 0,
    };
    tx.open_table(tables::JOB_STATUS_INDEX)?.insert((JobStatus::Queued.code(), id), ())?;
    tx.open_table(tables::JOB_ID_TO_JOB)?.insert(id, row)?;
    Ok(id)
}

impl Store {
    /// Creates a queued job of `kind` with the given stages, scoped to `scope` playlists (in
    /// that order; empty = all). Returns the job id.
    pub fn create_job(&self, kind: JobKind, stages: &[StageKind], scope: &[u64], now_ms: i64) -> Result<u64> {
        let (stages, scope) = (stages.to_vec(), scope.to_vec());
        self.write(move |tx| insert_job(tx, kind, &stages, &scope, now_ms))
    }

    /// The job with this id. Errors: [`StoreError::NotFound`].
    pub fn job(&self, id: u64) -> Result<JobRow> {
        self.read(|tx| load_job(&tx.open_table(tables::JOB_ID_TO_JOB)?, id))
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<(u64, JobRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut out = Vec::new();
            for entry in t.iter()?.rev() {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// The newest `n` jobs, newest first (only their rows are decoded).
    pub fn recent_jobs(&self, n: usize) -> Result<Vec<(u64, JobRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut out = Vec::with_capacity(n);
            for entry in t.iter()?.rev().take(n) {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// Ids of jobs in `status`, oldest first (an index range scan).
    pub fn jobs_with_status(&self, status: JobStatus) -> Result<Vec<u64>> {
        self.read(|tx| {
            let index = tx.open_table(tables::JOB_STATUS_INDEX)?;
            let mut out = Vec::new();
            for entry in index.range((status.code(), 0)..=(status.code(), u64::MAX))? {
                out.push(entry?.0.value().1);
            }
            Ok(out)
        })
    }

    /// Claims the oldest queued job whose kind passes `accept`: queued -> running and `runs`
    /// incremented, as one compare-and-set. Returns `None` when nothing is claimable, found
    /// by a read: the engine asks on every turn of its driver, and a durable commit of
    /// nothing would still cost an fsync each time.
    pub fn claim_next_job(
        &self,
        accept: impl Fn(&JobRow) -> bool + Send + 'static,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let any = self.read(|tx| {
            let jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            for id in queued_ids(&tx.open_table(tables::JOB_STATUS_INDEX)?)? {
                if accept(&load_job(&jobs, id)?) {
                    return Ok(true);
                }
            }
            Ok(false)
        })?;
        if !any {
            return Ok(None);
        }
        self.write(move |tx| {
            let queued = queued_ids(&tx.open_table(tables::JOB_STATUS_INDEX)?)?;
            let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            for id in queued {
                let mut row = load_job(&jobs, id)?;
                if row.status == JobStatus::Queued && accept(&row) {
                    set_status(tx, id, &mut row, JobStatus::Running, now_ms)?;
                    row.runs += 1;
                    jobs.insert(id, row)?;
                    return Ok(Some(id));
                }
            }
            Ok(None)
        })
    }

    /// Moves job `id` to `status`. Errors: [`StoreError::NotFound`].
    pub fn set_job_status(&self, id: u64, status: JobStatus, now_ms: i64) -> Result<()> {
        self.write(move |tx| {
            let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut row = load_job(&jobs, id)?;
            set_status(tx, id, &mut row, status, now_ms)?;
            jobs.insert(id, row)?;
            Ok(())
        })
    }

    /// Changes stage `stage` of job `id` through `f` (status, times, error).
    pub fn update_stage(
        &self,
        id: u64,
        stage: u8,
        mut f: impl FnMut(&mut StageRow) + Send + 'static,
    ) -> Result<()> {
        self.write(move |tx| {
            let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut row = load_job(&jobs, id)?;
            let st = row
                .stages
                .get_mut(stage as usize)
                .ok_or_else(|| StoreError::NotFound { what: "stage", id: format!("{id}/{stage}") })?;
            f(st);
            jobs.insert(id, row)?;
            Ok(())
        })
    }

    /// Stamps the heartbeat of jobs a runner is working on (no fsync).
    pub fn beat_jobs(&self, jobs: &[u64], now_ms: i64) -> Result<()> {
        let jobs = jobs.to_vec();
        self.write_volatile(move |tx| {
            let jobs = jobs.as_slice();
            let mut beats = tx.open_table(tables::JOB_ID_TO_HEARTBEAT)?;
            for &job in jobs {
                beats.insert(job, now_ms)?;
            }
            Ok(())
        })
    }

    /// Returns work of crashed runners to the queue (ARCHITECTURE.md, convention 8): every
    /// `running` job whose heartbeat is older than `now_ms - stale_after_ms` (or missing)
    /// becomes `queued`, a stale `pause_requested` one becomes `paused`, and their running
    /// stages and work items become queued again (attempt counts are kept). Live runners in
    /// other processes keep their jobs. Returns the reaped job ids.
    pub fn reap_stale_jobs(&self, now_ms: i64, stale_after_ms: i64) -> Result<Vec<u64>> {
        self.reap_stale_jobs_except(now_ms, stale_after_ms, &std::collections::HashSet::new())
    }

    /// As [`Store::reap_stale_jobs`], sparing the jobs in `live` (run by the caller's own
    /// engine, whose heartbeats it stamps itself): the periodic reaper's pass.
    pub fn reap_stale_jobs_except(
        &self,
        now_ms: i64,
        stale_after_ms: i64,
        live: &std::collections::HashSet<u64>,
    ) -> Result<Vec<u64>> {
        let mut candidates = self.jobs_with_status(JobStatus::Running)?;
        candidates.extend(self.jobs_with_status(JobStatus::PauseRequested)?);
        candidates.retain(|id| !live.contains(id));
        self.write(move |tx| {
            let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut reaped = Vec::new();
            for &id in &candidates {
                let beat = tx.open_table(tables::JOB_ID_TO_HEARTBEAT)?.get(id)?.map(|g| g.value());
                if beat.is_some_and(|b| b > now_ms - stale_after_ms) {
                    continue;
                }
                let mut row = load_job(&jobs, id)?;
                for (stage, st) in row.stages.iter_mut().enumerate() {
                    if st.status == WorkStatus::Running {
                        st.status = WorkStatus::Queued;
                    }
                    requeue_running_items(tx, id, stage as u8, now_ms)?;
                }
                let to = if row.status == JobStatus::PauseRequested {
                    JobStatus::Paused
                } else {
                    JobStatus::Queued
                };
                set_status(tx, id, &mut row, to, now_ms)?;
                jobs.insert(id, row)?;
                reaped.push(id);
            }
            Ok(reaped)
        })
    }

    /// Returns every running work item of a job's stage to the queue; for a runner that stops
    /// a stage early (pause, shutdown). Returns how many were returned.
    pub fn requeue_running_items(&self, job: u64, stage: u8, now_ms: i64) -> Result<u32> {
        self.write(move |tx| requeue_running_items(tx, job, stage, now_ms))
    }

    /// Returns one claimed (running) work item to the queue, e.g. one a resolver had handed to
    /// the ready queue when the stage was paused. A work item in another state is left alone.
    pub fn release_stage_item(&self, job: u64, stage: u8, target: u64, now_ms: i64) -> Result<()> {
        self.write(work_ops::release(job, stage, target, now_ms))
    }

    /// Adds queued work items for `targets` to a stage; targets already present keep their
    /// state (so re-planning a resumed stage loses and repeats nothing). Returns how many were new.
    pub fn add_stage_items(&self, job: u64, stage: u8, targets: &[u64], now_ms: i64) -> Result<u32> {
        let targets = targets.to_vec();
        self.write(move |tx| {
            let targets = targets.as_slice();
            let mut added = 0;
            for &target in targets {
                let key = (job, stage, target);
                if tx.open_table(tables::STAGE_ITEM)?.get(key)?.is_some() {
                    continue;
                }
                let row = StageItemRow {
                    status: WorkStatus::Queued,
                    attempts: 0,
                    last_error: None,
                    note: None,
                    updated_ms: now_ms,
                };
                put_work(tx, key, None, &row)?;
                added += 1;
            }
            Ok(added)
        })
    }

    /// Claims the first queued work item of a stage (queued -> running, attempts + 1), in a
    /// transaction committed without fsync, like a heartbeat (convention 6): a claim needs no
    /// durability of its own, because after a crash a durable `running` row goes back to
    /// `queued` anyway (the reaper, convention 8). A lost claim leaves the item `queued`, as if
    /// the crash came just before it, with its `.part` kept for a resume; the next durable
    /// commit (any state change, e.g. the item's end) persists the claim.
    pub fn claim_stage_item(&self, job: u64, stage: u8, now_ms: i64) -> Result<Option<u64>> {
        self.write_volatile(work_ops::claim(job, stage, now_ms))
    }

    /// Ends a work item as `end` says (done, failed, skipped, with its error or note).
    pub fn finish_stage_item(
        &self,
        job: u64,
        stage: u8,
        target: u64,
        end: WorkEnd,
        now_ms: i64,
    ) -> Result<()> {
        self.write(work_ops::finish(job, stage, target, end, now_ms))
    }

    /// Records a completed download and ends its work item as done, in one transaction: the
    /// catalog never says "downloaded" without the file row, nor the reverse.
    pub fn finish_download(
        &self,
        job: u64,
        stage: u8,
        item_id: u64,
        file: &FileRow,
        now_ms: i64,
    ) -> Result<()> {
        self.finish_download_in(job, stage, item_id, file, None, now_ms)
    }

    /// As [`Store::finish_download`] for a file under `root`: an overflow library root
    /// (recorded beside the file row, `ITEM_ID_TO_FILE_ROOT`), or `None` for the default library.
    pub fn finish_download_in(
        &self,
        job: u64,
        stage: u8,
        item_id: u64,
        file: &FileRow,
        root: Option<&std::path::Path>,
        now_ms: i64,
    ) -> Result<()> {
        self.write(work_ops::finish_download(job, stage, item_id, file.clone(), root.map(Into::into), now_ms))
    }

    /// Work items of a stage with their state, by target id.
    pub fn stage_items(&self, job: u64, stage: u8) -> Result<Vec<(u64, StageItemRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::STAGE_ITEM)?;
            let mut out = Vec::new();
            for e in t.range((job, stage, 0)..=(job, stage, u64::MAX))? {
                let (k, v) = e?;
                out.push((k.value().2, v.value()));
            }
            Ok(out)
        })
    }

    /// Counts a stage's work items by status (index range scans); for a compacted job, the
    /// counts its summary kept (`store::history`).
    pub fn stage_counts(&self, job: u64, stage: u8) -> Result<StageCounts> {
        self.read(|tx| {
            let index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
            let mut counts = StageCounts::default();
            for status in [
                WorkStatus::Queued,
                WorkStatus::Running,
                WorkStatus::Done,
                WorkStatus::Failed,
                WorkStatus::Skipped,
                WorkStatus::Cancelling,
                WorkStatus::Cancelled,
            ] {
                let c = status.code();
                let n = index.range((job, stage, c, 0)..=(job, stage, c, u64::MAX))?.count() as u32;
                match status {
                    WorkStatus::Queued => counts.queued = n,
                    WorkStatus::Running => counts.running = n,
                    WorkStatus::Done => counts.done = n,
                    WorkStatus::Failed => counts.failed = n,
                    WorkStatus::Skipped => counts.skipped = n,
                    WorkStatus::Cancelling | WorkStatus::Cancelled => counts.cancelled += n,
                }
            }
            if counts.total() == 0 {
                // a compacted job's work items are gone; its summary kept the counts
                let summary = tx.open_table(tables::JOB_ID_TO_SUMMARY)?.get(job)?.map(|g| g.value());
                if let Some(c) = summary.and_then(|s| s.counts.get(usize::from(stage)).copied()) {
                    return Ok(c);
                }
            }
            Ok(counts)
        })
    }
}

fn requeue_running_items(tx: &redb::WriteTransaction, job: u64, stage: u8, now_ms: i64) -> Result<u32> {
    requeue_items(tx, job, stage, WorkStatus::Running, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_is_fifo_and_never_twice() {
        let (_d, store) = crate::store::temp_store();
        let a = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], 1).unwrap();
        let b = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[2, 1], 2).unwrap();
        assert_eq!(store.claim_next_job(|_| true, 3).unwrap(), Some(a));
        let commits = store.commits();
        assert_eq!(store.claim_next_job(|j| j.kind == JobKind::SyncOnly, 3).unwrap(), None);
        assert_eq!(store.commits(), commits, "nothing to claim: nothing committed (no fsync)");
        assert_eq!(store.claim_next_job(|_| true, 3).unwrap(), Some(b));
        assert_eq!(store.claim_next_job(|_| true, 3).unwrap(), None);
        assert_eq!(store.commits(), commits + 1);
        assert_eq!(store.job(b).unwrap().scope, vec![2, 1]);
        assert_eq!(store.jobs_with_status(JobStatus::Running).unwrap(), vec![a, b]);
    }

    #[test]
    fn work_items_claim_finish_and_reap() {
        let (_d, store) = crate::store::temp_store();
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 1).unwrap();
        store.claim_next_job(|_| true, 1).unwrap();
        assert_eq!(store.add_stage_items(job, 0, &[5, 6, 7], 1).unwrap(), 3);
        assert_eq!(store.add_stage_items(job, 0, &[5, 8], 1).unwrap(), 1);
        assert_eq!(store.claim_stage_item(job, 0, 2).unwrap(), Some(5));
        assert_eq!(store.claim_stage_item(job, 0, 2).unwrap(), Some(6));
        store
            .finish_download(job, 0, 5, &FileRow { path: "a/b.mp3".into(), size: 3, ..Default::default() }, 3)
            .unwrap();
        store.finish_stage_item(job, 0, 7, WorkEnd::failed("404"), 3).unwrap();
        let c = store.stage_counts(job, 0).unwrap();
        assert_eq!((c.queued, c.running, c.done, c.failed, c.total()), (1, 1, 1, 1, 4));
        // a live runner's job is left alone; after a crash its heartbeat goes stale
        store.beat_jobs(&[job], 4).unwrap();
        assert_eq!(store.reap_stale_jobs(10, 100).unwrap(), Vec::<u64>::new());
        // crash: item 6 was running; the reaper queues it again and the job with it
        assert_eq!(store.reap_stale_jobs(200, 100).unwrap(), vec![job]);
        assert_eq!(store.job(job).unwrap().status, JobStatus::Queued);
        let c = store.stage_counts(job, 0).unwrap();
        assert_eq!((c.queued, c.running), (2, 0));
        let items = store.stage_items(job, 0).unwrap();
        let six = items.iter().find(|(t, _)| *t == 6).unwrap();
        assert_eq!(six.1.attempts, 1);
        assert!(store.file_path_taken("a/b.mp3").unwrap());
        assert!(store.item_file(5).unwrap().is_some());
    }

    #[tokio::test]
    async fn a_bulk_claim_takes_the_first_queued_items_in_one_commit_and_a_crash_requeues_them() {
        let (_d, store) = crate::store::temp_store();
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 1).unwrap();
        store.claim_next_job(|_| true, 1).unwrap();
        store.add_stage_items(job, 0, &[9, 4, 7, 5, 8], 1).unwrap();
        assert_eq!(store.claim_stage_item(job, 0, 2).unwrap(), Some(4), "one claimed alone first");
        let commits = store.commits();
        let claimed = store.claim_stage_items_async(job, 0, 3, 5).await.unwrap();
        assert_eq!(claimed, vec![5, 7, 8], "the first queued (in target order), at most 3");
        assert_eq!(store.commits() - commits, 1, "one write for the batch");
        let items = store.stage_items(job, 0).unwrap();
        for (target, row) in &items {
            let claimed_now = claimed.contains(target);
            assert_eq!(row.status == WorkStatus::Running, claimed_now || *target == 4, "item {target}");
            if claimed_now {
                assert_eq!((row.attempts, row.updated_ms), (1, 5), "item {target}");
            }
        }
        assert_eq!(store.claim_stage_items_async(job, 0, 3, 6).await.unwrap(), vec![9], "what is left");
        assert!(store.claim_stage_items_async(job, 0, 3, 6).await.unwrap().is_empty(), "nothing queued");
        // crash: every claimed item was running; the reaper queues each of them again
        store.beat_jobs(&[job], 6).unwrap();
        assert_eq!(store.reap_stale_jobs(200, 100).unwrap(), vec![job]);
        let c = store.stage_counts(job, 0).unwrap();
        assert_eq!((c.queued, c.running), (5, 0));
    }
}
