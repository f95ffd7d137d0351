//! User commands as data: pause, resume, cancel and retry are stored rows
//! (`COMMAND_SEQ_TO_COMMAND`, keyed by a store-wide sequence) that the runner reads in order,
//! applies and acknowledges. Applying is idempotent: [`apply_command`] is the pure transition
//! table the runner uses, and a command that does not apply to the job's current status (e.g.
//! pausing a paused job) changes nothing. A command issued while no runner is up waits in the
//! table and is applied at the next start.
//!
//! [`Store::retry_failed_items`] is the store side of `retry_failed`: it queues every failed
//! work item of a job again (attempts kept) with its status index entry in the same transaction.

use redb::ReadableTable;

use super::jobs::load_job;
use super::{next_id, tables, JobStatus, Result, Store, WorkStatus};

pub use super::layouts::{CommandRow, JobCommand};

/// The status a job in `status` moves to when `command` is applied, or `None` when the command
/// does not apply (already in that state, or a terminal state), which makes commands idempotent:
///
/// | command | from | to |
/// | --- | --- | --- |
/// | pause | queued | paused |
/// | pause | running | pause_requested |
/// | resume | paused | queued |
/// | resume | pause_requested | running (the pause is withdrawn) |
/// | cancel | queued, running, pause_requested, paused | cancelled |
/// | retry_failed | failed | queued |
pub fn apply_command(status: JobStatus, command: JobCommand) -> Option<JobStatus> {
    use JobStatus::*;
    match (command, status) {
        (JobCommand::Pause, Queued) => Some(Paused),
        (JobCommand::Pause, Running) => Some(PauseRequested),
        (JobCommand::Resume, Paused) => Some(Queued),
        (JobCommand::Resume, PauseRequested) => Some(Running),
        (JobCommand::Cancel, Queued | Running | PauseRequested | Paused) => Some(Cancelled),
        (JobCommand::RetryFailed, Failed) => Some(Queued),
        _ => None,
    }
}

impl Store {
    /// Stores `command` for `job`, issued at `now_ms`, and returns its sequence number (from 1,
    /// increasing). Errors: [`super::StoreError::NotFound`] when the job does not exist.
    pub fn push_command(&self, job: u64, command: JobCommand, now_ms: i64) -> Result<u64> {
        self.write(move |tx| {
            load_job(&tx.open_table(tables::JOB_ID_TO_JOB)?, job)?;
            let seq = next_id(tx, "next_command_seq")?;
            tx.open_table(tables::COMMAND_SEQ_TO_COMMAND)?
                .insert(seq, CommandRow { job, command, issued_ms: now_ms })?;
            Ok(seq)
        })
    }

    /// Commands not yet acknowledged, as `(seq, command)`, oldest first.
    /// Errors: [`super::StoreError::Db`].
    pub fn pending_commands(&self) -> Result<Vec<(u64, CommandRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::COMMAND_SEQ_TO_COMMAND)?;
            let mut out = Vec::new();
            for e in t.iter()? {
                let (k, v) = e?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// Removes command `seq` once applied. Acknowledging an unknown or already acknowledged
    /// command does nothing. Errors: [`super::StoreError::Db`].
    pub fn ack_command(&self, seq: u64) -> Result<()> {
        self.write(move |tx| {
            tx.open_table(tables::COMMAND_SEQ_TO_COMMAND)?.remove(seq)?;
            Ok(())
        })
    }

    /// Moves every failed work item of every stage of `job` back to queued (attempts and last
    /// error kept, status index updated in the same transaction), and every stage that failed
    /// or had failed items back to queued (its end time and error cleared), so the next run
    /// repeats exactly the failed work. The job's own status is left to the runner
    /// ([`apply_command`] with `retry_failed`). Returns how many work items were queued again.
    ///
    /// Errors: [`super::StoreError::NotFound`] when the job does not exist.
    pub fn retry_failed_items(&self, job: u64, now_ms: i64) -> Result<u32> {
        self.write(move |tx| {
            let mut jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let mut row = load_job(&jobs, job)?;
            let mut requeued = 0;
            for (stage, st) in row.stages.iter_mut().enumerate() {
                let stage = stage as u8;
                let moved = super::writes::requeue_items(tx, job, stage, WorkStatus::Failed, now_ms)?;
                requeued += moved;
                if st.status == WorkStatus::Failed || moved > 0 {
                    st.status = WorkStatus::Queued;
                    st.ended_ms = None;
                    st.error = None;
                }
            }
            row.updated_ms = now_ms;
            jobs.insert(job, row)?;
            Ok(requeued)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::WorkEnd;
    use crate::store::{JobKind, StageKind, StoreError};

    #[test]
    fn transition_table() {
        use JobCommand::*;
        use JobStatus::*;
        let all = [Queued, Running, Succeeded, Failed, Cancelled, PauseRequested, Paused];
        let expected = |status: JobStatus, command: JobCommand| match (command, status) {
            (Pause, Queued) => Some(Paused),
            (Pause, Running) => Some(PauseRequested),
            (Resume, Paused) => Some(Queued),
            (Resume, PauseRequested) => Some(Running),
            (Cancel, Queued) | (Cancel, Running) | (Cancel, PauseRequested) | (Cancel, Paused) => {
                Some(Cancelled)
            }
            (RetryFailed, Failed) => Some(Queued),
            _ => None,
        };
        let cases: &[(JobStatus, JobCommand, Option<JobStatus>)] = &[
            (Queued, Pause, Some(Paused)),
            (Running, Pause, Some(PauseRequested)),
            (PauseRequested, Pause, None),
            (Paused, Pause, None),
            (Paused, Resume, Some(Queued)),
            (PauseRequested, Resume, Some(Running)),
            (Queued, Resume, None),
            (Running, Resume, None),
            (Queued, Cancel, Some(Cancelled)),
            (Running, Cancel, Some(Cancelled)),
            (PauseRequested, Cancel, Some(Cancelled)),
            (Paused, Cancel, Some(Cancelled)),
            (Cancelled, Cancel, None),
            (Failed, RetryFailed, Some(Queued)),
            (Succeeded, RetryFailed, None),
            (Running, RetryFailed, None),
            (Succeeded, Pause, None),
            (Failed, Resume, None),
            (Succeeded, Cancel, None),
            (Failed, Cancel, None),
        ];
        for &(status, command, to) in cases {
            assert_eq!(apply_command(status, command), to, "{status} + {}", command.as_str());
        }
        // every pair agrees with the table, and applying twice never moves again (idempotent)
        for status in all {
            for command in [Pause, Resume, Cancel, RetryFailed] {
                assert_eq!(
                    apply_command(status, command),
                    expected(status, command),
                    "{status} + {}",
                    command.as_str()
                );
                if let Some(next) = apply_command(status, command) {
                    if command != Resume && command != RetryFailed {
                        assert_eq!(
                            apply_command(next, command),
                            None,
                            "{status} + {} twice",
                            command.as_str()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn commands_are_stored_in_order_and_acked() {
        let (_dir, store) = crate::store::temp_store();
        let job = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], 1).unwrap();
        let a = store.push_command(job, JobCommand::Pause, 10).unwrap();
        let b = store.push_command(job, JobCommand::Resume, 11).unwrap();
        assert!(a < b);
        assert!(matches!(
            store.push_command(job + 100, JobCommand::Cancel, 12),
            Err(StoreError::NotFound { what: "job", .. })
        ));
        let pending = store.pending_commands().unwrap();
        assert_eq!(
            pending,
            vec![
                (a, CommandRow { job, command: JobCommand::Pause, issued_ms: 10 }),
                (b, CommandRow { job, command: JobCommand::Resume, issued_ms: 11 })
            ]
        );
        store.ack_command(a).unwrap();
        store.ack_command(a).unwrap();
        assert_eq!(store.pending_commands().unwrap().iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![b]);
    }

    #[test]
    fn retry_requeues_failed_items_and_stages() {
        let (_dir, store) = crate::store::temp_store();
        let job =
            store.create_job(JobKind::SyncDownload, &[StageKind::Sync, StageKind::Download], &[], 1).unwrap();
        store.add_stage_items(job, 0, &[1, 2], 1).unwrap();
        store.add_stage_items(job, 1, &[10, 11, 12], 1).unwrap();
        for (stage, target, end) in [
            (0, 1, WorkEnd::done("ok")),
            (0, 2, WorkEnd::done("ok")),
            (1, 10, WorkEnd::failed("404")),
            (1, 11, WorkEnd::done("ok")),
            (1, 12, WorkEnd::failed("timeout")),
        ] {
            assert_eq!(store.claim_stage_item(job, stage, 2).unwrap(), Some(target));
            store.finish_stage_item(job, stage, target, end, 3).unwrap();
        }
        store.update_stage(job, 0, |st| st.status = WorkStatus::Done).unwrap();
        store
            .update_stage(job, 1, |st| {
                st.status = WorkStatus::Failed;
                st.ended_ms = Some(3);
                st.error = Some("2 of 3 items failed".into());
            })
            .unwrap();
        store.set_job_status(job, JobStatus::Failed, 3).unwrap();

        assert_eq!(store.retry_failed_items(job, 5).unwrap(), 2);
        let c = store.stage_counts(job, 1).unwrap();
        assert_eq!((c.queued, c.done, c.failed), (2, 1, 0));
        let items = store.stage_items(job, 1).unwrap();
        let ten = &items.iter().find(|(t, _)| *t == 10).unwrap().1;
        assert_eq!((ten.status, ten.attempts, ten.updated_ms), (WorkStatus::Queued, 1, 5));
        let row = store.job(job).unwrap();
        assert_eq!(row.stages[0].status, WorkStatus::Done);
        assert_eq!(
            (row.stages[1].status, row.stages[1].ended_ms, row.stages[1].error.as_deref()),
            (WorkStatus::Queued, None, None)
        );
        assert_eq!(row.status, JobStatus::Failed, "the job's status is the runner's to change");
        // the queued items are claimable again, through the index
        assert_eq!(store.claim_stage_item(job, 1, 6).unwrap(), Some(10));
        assert_eq!(store.retry_failed_items(job, 7).unwrap(), 0);
        assert!(matches!(store.retry_failed_items(job + 9, 7), Err(StoreError::NotFound { .. })));
    }
}
