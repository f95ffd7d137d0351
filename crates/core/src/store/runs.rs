//! Runs: each attempt of a job is a run, named `job-<id>-run-<n>` with `n` counting from 1
//! per job ([`run_id`]). A run records one step per stage it entered, with the step's outcome
//! and, on failure, a [`TypedError`] whose `code` the UI branches on (ARCHITECTURE.md,
//! convention 2). Runs are state, so every change commits durably.
//!
//! A run that has not ended has an entry in `RUN_OPEN_INDEX`, written in the same transaction
//! as the run (convention 4); after a crash the reaper closes those runs and their open steps
//! as `interrupted` through [`Store::interrupt_open_runs`] without walking every run.

use redb::ReadableTable;

use super::{tables, Result, StageKind, Store, StoreError};

pub use super::layouts::{run_id, ErrorClass, RunOutcome, RunRow, StepOutcome, StepRow, TypedError};

fn run_not_found(job: u64, n: u32) -> StoreError {
    StoreError::NotFound { what: "run", id: run_id(job, n) }
}

fn load_run(tx: &redb::WriteTransaction, job: u64, n: u32) -> Result<RunRow> {
    tx.open_table(tables::RUN_KEY_TO_RUN)?
        .get((job, n))?
        .map(|g| g.value())
        .ok_or_else(|| run_not_found(job, n))
}

/// Writes `run`, keeping its `RUN_OPEN_INDEX` entry in step with `ended_ms`.
fn put_run(tx: &redb::WriteTransaction, run: &RunRow) -> Result<()> {
    let key = (run.job, run.n);
    let mut open = tx.open_table(tables::RUN_OPEN_INDEX)?;
    if run.ended_ms.is_none() {
        open.insert(key, ())?;
    } else {
        open.remove(key)?;
    }
    tx.open_table(tables::RUN_KEY_TO_RUN)?.insert(key, run)?;
    Ok(())
}

/// Ends `run` and every step still open in it with `outcome` at `now_ms`.
fn close_run(run: &mut RunRow, outcome: RunOutcome, now_ms: i64) {
    for step in run.steps.iter_mut().filter(|s| s.ended_ms.is_none()) {
        step.ended_ms = Some(now_ms);
        step.outcome = Some(outcome.into());
    }
    run.ended_ms = Some(now_ms);
    run.outcome = Some(outcome);
}

/// Open runs `(job, n)` of `job`, or of every job when `job` is `None` (index scan).
fn open_runs(tx: &redb::WriteTransaction, job: Option<u64>) -> Result<Vec<(u64, u32)>> {
    let open = tx.open_table(tables::RUN_OPEN_INDEX)?;
    let mut out = Vec::new();
    let range = match job {
        Some(j) => open.range((j, 0)..=(j, u32::MAX))?,
        None => open.range::<(u64, u32)>(..)?,
    };
    for e in range {
        out.push(e?.0.value());
    }
    Ok(out)
}

impl Store {
    /// Starts the next run of `job` at `now_ms` and returns its number `n` (1 for the first).
    /// A run of the job still open (a crash the reaper has not seen) is first closed as
    /// `interrupted`, so a job has at most one open run.
    ///
    /// Errors: [`StoreError::NotFound`] when the job does not exist; [`StoreError::Db`].
    pub fn start_run(&self, job: u64, now_ms: i64) -> Result<u32> {
        self.write(move |tx| {
            if tx.open_table(tables::JOB_ID_TO_JOB)?.get(job)?.is_none() {
                return Err(StoreError::NotFound { what: "job", id: job.to_string() });
            }
            for (j, n) in open_runs(tx, Some(job))? {
                let mut run = load_run(tx, j, n)?;
                close_run(&mut run, RunOutcome::Interrupted, now_ms);
                put_run(tx, &run)?;
            }
            let last = {
                let runs = tx.open_table(tables::RUN_KEY_TO_RUN)?;
                let mut range = runs.range((job, 0)..=(job, u32::MAX))?;
                let last = range.next_back().transpose()?.map(|(k, _)| k.value().1);
                last
            };
            let n = last.unwrap_or(0) + 1;
            put_run(
                tx,
                &RunRow { job, n, started_ms: now_ms, ended_ms: None, outcome: None, steps: Vec::new() },
            )?;
            Ok(n)
        })
    }

    /// Opens a step for stage index `stage` (of kind `kind`) in run `n` of `job` at `now_ms`.
    ///
    /// Errors: [`StoreError::NotFound`] for an unknown run; [`StoreError::Conflict`] when the
    /// run has ended.
    pub fn start_step(&self, job: u64, n: u32, stage: u8, kind: StageKind, now_ms: i64) -> Result<()> {
        self.write(move |tx| {
            let mut run = load_run(tx, job, n)?;
            if run.ended_ms.is_some() {
                return Err(StoreError::Conflict(format!("{} has ended; cannot start a step", run.id())));
            }
            run.steps.push(StepRow {
                stage,
                kind,
                started_ms: now_ms,
                ended_ms: None,
                outcome: None,
                error: None,
            });
            put_run(tx, &run)
        })
    }

    /// Ends the latest step of stage index `stage` in run `n` of `job` with `outcome` and, for
    /// a failure, its typed `error`, at `now_ms`.
    ///
    /// Errors: [`StoreError::NotFound`] for an unknown run or a stage without a step.
    pub fn end_step(
        &self,
        job: u64,
        n: u32,
        stage: u8,
        outcome: StepOutcome,
        error: Option<TypedError>,
        now_ms: i64,
    ) -> Result<()> {
        self.write(move |tx| {
            let mut run = load_run(tx, job, n)?;
            let step = run.steps.iter_mut().rev().find(|s| s.stage == stage).ok_or_else(|| {
                StoreError::NotFound { what: "step", id: format!("{}/{stage}", run_id(job, n)) }
            })?;
            step.ended_ms = Some(now_ms);
            step.outcome = Some(outcome);
            step.error = error.clone();
            put_run(tx, &run)
        })
    }

    /// Ends run `n` of `job` with `outcome` at `now_ms`; steps still open end with the same
    /// outcome. Errors: [`StoreError::NotFound`] for an unknown run.
    pub fn end_run(&self, job: u64, n: u32, outcome: RunOutcome, now_ms: i64) -> Result<()> {
        self.write(move |tx| {
            let mut run = load_run(tx, job, n)?;
            close_run(&mut run, outcome, now_ms);
            put_run(tx, &run)
        })
    }

    /// Every run of `job`, newest first. Errors: [`StoreError::Db`].
    pub fn runs(&self, job: u64) -> Result<Vec<RunRow>> {
        self.read(|tx| {
            let t = tx.open_table(tables::RUN_KEY_TO_RUN)?;
            let mut out = Vec::new();
            for e in t.range((job, 0)..=(job, u32::MAX))?.rev() {
                out.push(e?.1.value());
            }
            Ok(out)
        })
    }

    /// Closes every run (and its open steps) left open by a crash as `interrupted` at
    /// `now_ms`, in one transaction. Called by the reaper at start-up before any runner starts.
    /// Returns how many runs it closed. Errors: [`StoreError::Db`].
    pub fn interrupt_open_runs(&self, now_ms: i64) -> Result<u32> {
        self.write(move |tx| {
            let open = open_runs(tx, None)?;
            for &(job, n) in &open {
                let mut run = load_run(tx, job, n)?;
                close_run(&mut run, RunOutcome::Interrupted, now_ms);
                put_run(tx, &run)?;
            }
            Ok(open.len() as u32)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobKind;

    fn store_with_job() -> (tempfile::TempDir, Store, u64) {
        let (dir, store) = crate::store::temp_store();
        let job =
            store.create_job(JobKind::SyncDownload, &[StageKind::Sync, StageKind::Download], &[], 1).unwrap();
        (dir, store, job)
    }

    #[test]
    fn run_ids_and_numbers_count_from_one() {
        let (_d, store, job) = store_with_job();
        assert_eq!(run_id(12, 3), "job-12-run-3");
        assert_eq!(store.start_run(job, 10).unwrap(), 1);
        store.end_run(job, 1, RunOutcome::Paused, 11).unwrap();
        assert_eq!(store.start_run(job, 12).unwrap(), 2);
        let runs = store.runs(job).unwrap();
        assert_eq!(runs.iter().map(|r| r.n).collect::<Vec<_>>(), vec![2, 1], "newest first");
        assert_eq!(runs[1].id(), format!("job-{job}-run-1"));
        assert_eq!(runs[1].outcome, Some(RunOutcome::Paused));
        assert!(matches!(store.start_run(999, 1), Err(StoreError::NotFound { what: "job", .. })));
        assert!(matches!(
            store.start_step(job, 9, 0, StageKind::Sync, 1),
            Err(StoreError::NotFound { what: "run", .. })
        ));
    }

    #[test]
    fn a_failed_step_carries_its_typed_error() {
        let (_d, store, job) = store_with_job();
        let n = store.start_run(job, 10).unwrap();
        store.start_step(job, n, 0, StageKind::Sync, 10).unwrap();
        store.end_step(job, n, 0, StepOutcome::Succeeded, None, 20).unwrap();
        store.start_step(job, n, 1, StageKind::Download, 20).unwrap();
        let err = TypedError::new("items_failed", "2 of 40 items failed", ErrorClass::Expected);
        store.end_step(job, n, 1, StepOutcome::Failed, Some(err.clone()), 30).unwrap();
        store.end_run(job, n, RunOutcome::Failed, 31).unwrap();
        let run = &store.runs(job).unwrap()[0];
        assert_eq!((run.ended_ms, run.outcome), (Some(31), Some(RunOutcome::Failed)));
        assert_eq!(run.steps.len(), 2);
        assert_eq!((run.steps[0].outcome, run.steps[0].error.as_ref()), (Some(StepOutcome::Succeeded), None));
        let failed = &run.steps[1];
        assert_eq!((failed.kind, failed.started_ms, failed.ended_ms), (StageKind::Download, 20, Some(30)));
        assert_eq!(failed.outcome, Some(StepOutcome::Failed));
        assert_eq!(failed.error.as_ref(), Some(&err));
        assert!(matches!(store.start_step(job, n, 0, StageKind::Sync, 40), Err(StoreError::Conflict(_))));
    }

    #[test]
    fn crash_leftovers_are_interrupted() {
        let (_d, store, job) = store_with_job();
        let other = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], 1).unwrap();
        let n = store.start_run(job, 10).unwrap();
        store.start_step(job, n, 0, StageKind::Sync, 10).unwrap();
        let m = store.start_run(other, 10).unwrap();
        store.end_run(other, m, RunOutcome::Succeeded, 15).unwrap();
        // crash; the reaper closes only the open run
        assert_eq!(store.interrupt_open_runs(50).unwrap(), 1);
        assert_eq!(store.interrupt_open_runs(60).unwrap(), 0);
        let run = &store.runs(job).unwrap()[0];
        assert_eq!((run.ended_ms, run.outcome), (Some(50), Some(RunOutcome::Interrupted)));
        assert_eq!((run.steps[0].ended_ms, run.steps[0].outcome), (Some(50), Some(StepOutcome::Interrupted)));
        assert_eq!(store.runs(other).unwrap()[0].outcome, Some(RunOutcome::Succeeded));
        // a new run closes a still-open previous one of the same job
        let a = store.start_run(job, 70).unwrap();
        let b = store.start_run(job, 80).unwrap();
        assert_eq!((a, b), (2, 3));
        let runs = store.runs(job).unwrap();
        assert_eq!(
            (runs[1].n, runs[1].outcome, runs[1].ended_ms),
            (2, Some(RunOutcome::Interrupted), Some(80))
        );
        assert_eq!(runs[0].outcome, None);
    }
}
