//! The ends of finished downloads, off the downloaders' path. Once an item's file is verified
//! and renamed into place, its downloader queues the store write that records it and hands
//! the rest to a finishing task: await that commit, release the item's name and claim, tag
//! the file (`library::tag_item`), announce it. The downloader moves on to its next transfer
//! at once instead of idling through that commit.
//!
//! The file is complete under its final name before the write is queued, and the item stays
//! running (claimed, held live) until that write commits. The write is a deferred one (durable
//! within the writer's window, `store::deferred`), so a crash before it is durable leaves the
//! item claimed and a complete file, which the next run records
//! (`download_stage::adopt_completed_file`). At most `concurrency` finishing tasks run at
//! once; a downloader that finds them all busy waits for one (backpressure). The stage ends
//! only after every task it started ended ([`Finishers::finish`]), so a finished job's files
//! are recorded and tagged. A task's error (the store failed) stops the next downloader that
//! hands over an item, and otherwise the stage at its end.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::error::EngineError;

/// The finishing tasks of one download stage (module docs).
pub(super) struct Finishers {
    permits: Arc<Semaphore>,
    tasks: Mutex<JoinSet<Result<(), EngineError>>>,
}

impl Finishers {
    /// At most `concurrency` (at least 1) finishing tasks at once.
    pub(super) fn new(concurrency: usize) -> Finishers {
        Finishers { permits: Arc::new(Semaphore::new(concurrency.max(1))), tasks: Mutex::default() }
    }

    /// Runs `finishing` as a task once a slot is free. Errors: an earlier task's error, which
    /// this caller reports instead of the task (it is reported once); `finishing` runs anyway.
    pub(super) async fn spawn(
        &self,
        finishing: impl Future<Output = Result<(), EngineError>> + Send + 'static,
    ) -> Result<(), EngineError> {
        let permit = self.permits.clone().acquire_owned().await.expect("the semaphore is never closed");
        let mut tasks = self.tasks.lock().expect("finishers lock");
        let mut failed = Ok(());
        while let Some(ended) = tasks.try_join_next() {
            failed = failed.and(flatten(ended));
        }
        tasks.spawn(async move {
            let result = finishing.await;
            drop(permit);
            result
        });
        failed
    }

    /// Waits for every task started so far. Errors: the first of their errors.
    pub(super) async fn finish(&self) -> Result<(), EngineError> {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("finishers lock"));
        let mut result = Ok(());
        while let Some(ended) = tasks.join_next().await {
            result = result.and(flatten(ended));
        }
        result
    }
}

fn flatten(ended: Result<Result<(), EngineError>, tokio::task::JoinError>) -> Result<(), EngineError> {
    ended.map_err(|e| EngineError::Worker(format!("a finishing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::StoreError;

    #[tokio::test]
    async fn finish_waits_for_every_task_and_reports_an_error_once() {
        let finishers = Finishers::new(2);
        let done = Arc::new(AtomicUsize::new(0));
        let mut reported = 0;
        for i in 0..5 {
            let ran = done.clone();
            let r = finishers
                .spawn(async move {
                    tokio::task::yield_now().await;
                    ran.fetch_add(1, Ordering::SeqCst);
                    if i == 0 {
                        return Err(StoreError::Conflict("refused".into()).into());
                    }
                    Ok(())
                })
                .await;
            // the failed first task is reported to one later caller, or else by finish
            reported += usize::from(r.is_err());
        }
        reported += usize::from(finishers.finish().await.is_err());
        assert_eq!(done.load(Ordering::SeqCst), 5, "every task ran to its end");
        assert_eq!(reported, 1, "the error is reported exactly once");
        assert!(finishers.finish().await.is_ok(), "nothing left");
    }

    #[tokio::test]
    async fn at_most_concurrency_tasks_run_at_once() {
        let finishers = Finishers::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        for _ in 0..8 {
            let (running, peak) = (running.clone(), peak.clone());
            finishers
                .spawn(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
                .unwrap();
        }
        finishers.finish().await.unwrap();
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
