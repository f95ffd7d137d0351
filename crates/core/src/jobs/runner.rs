//! The engine: claims queued jobs from the store, one at a time in this first form, and runs
//! their stages in order. Store calls are blocking redb transactions and run on the blocking
//! pool. At start-up the reaper returns work left running by a crashed process to the queue
//! before anything is claimed (ARCHITECTURE.md, convention 8). Cancelling the engine's token
//! stops workers from claiming, ends transfers (their partial files stay for a resume) and
//! leaves the job queued, so the next run continues where this one stopped.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::events::{Event, EventSink};
use super::{download_stage, stages_of, sync_stage};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::{JobKind, JobStatus, StageCounts, StageKind, Store, StoreError, WorkStatus};

/// Errors that stop the engine itself (not one item or playlist: those are stored per item).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed (I/O, corruption): a bug or an environment failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A worker task panicked: a bug.
    #[error("worker task failed: {0}")]
    Worker(String),
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) config: Config,
    pub(super) client: reqwest::Client,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sink: EventSink,
    pub(super) cancel: CancellationToken,
}

/// The job engine; clone freely (clones share state).
#[derive(Clone)]
pub struct Engine {
    pub(super) inner: Arc<Inner>,
}

impl Engine {
    /// An engine over `store` with `config`, stamping time from `clock` and reporting to `sink`.
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>, sink: EventSink) -> Engine {
        let client = crate::download::build_client(&config.user_agent);
        Engine { inner: Arc::new(Inner { store, config, client, clock, sink, cancel: CancellationToken::new() }) }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// Cancelling this token stops the engine gracefully (see the module docs).
    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    pub(super) fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub(super) fn emit(&self, event: Event) {
        (self.inner.sink)(&event);
    }

    /// Runs `f` against the store on the blocking pool.
    pub(super) async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static) -> Result<T, EngineError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store)).await.map_err(|e| EngineError::Worker(e.to_string()))?.map_err(Into::into)
    }

    /// Queues a job of `kind` scoped to `scope` playlists (empty = all). Returns its id.
    pub async fn enqueue(&self, kind: JobKind, scope: Vec<u64>) -> Result<u64, EngineError> {
        let now = self.now();
        self.blocking(move |s| s.create_job(kind, stages_of(kind), &scope, now)).await
    }

    /// Reaps stale running work, then runs queued jobs oldest first until none is left or the
    /// engine is cancelled. Returns each job run with the status it ended in (`queued` when
    /// interrupted by cancellation).
    pub async fn run_queued(&self) -> Result<Vec<(u64, JobStatus)>, EngineError> {
        let now = self.now();
        self.blocking(move |s| s.reap_running_jobs(now)).await?;
        let mut ran = Vec::new();
        while !self.inner.cancel.is_cancelled() {
            let now = self.now();
            let Some(job) = self.blocking(move |s| s.claim_next_job(|_| true, now)).await? else { break };
            let status = self.run_job(job).await?;
            ran.push((job, status));
        }
        Ok(ran)
    }

    async fn run_job(&self, job: u64) -> Result<JobStatus, EngineError> {
        let row = self.blocking(move |s| s.job(job)).await?;
        self.emit(Event::JobStarted { job, kind: row.kind });
        let mut failed = false;
        for (index, stage) in row.stages.iter().enumerate() {
            let index = index as u8;
            match stage.status {
                WorkStatus::Done | WorkStatus::Skipped => continue,
                WorkStatus::Failed => {
                    failed = true;
                    continue;
                }
                WorkStatus::Queued | WorkStatus::Running => {}
            }
            let now = self.now();
            self.blocking(move |s| s.update_stage(job, index, |st| {
                st.status = WorkStatus::Running;
                st.started_ms.get_or_insert(now);
            }))
            .await?;
            let counts = match stage.kind {
                StageKind::Sync => sync_stage::run(self, job, index, &row.scope).await?,
                StageKind::Download => download_stage::run(self, job, index, &row.scope).await?,
                StageKind::Collect | StageKind::Export => unimplemented!("collect and export stages land with issue 3"),
            };
            if self.inner.cancel.is_cancelled() {
                let now = self.now();
                self.blocking(move |s| s.reap_running_jobs(now)).await?;
                self.emit(Event::JobFinished { job, status: JobStatus::Queued });
                return Ok(JobStatus::Queued);
            }
            failed |= counts.failed > 0;
            let now = self.now();
            self.blocking(move |s| s.update_stage(job, index, |st| finish_stage(st, counts, now))).await?;
            self.emit(Event::StageFinished { job, stage: stage.kind, counts });
        }
        let status = if failed { JobStatus::Failed } else { JobStatus::Succeeded };
        let now = self.now();
        self.blocking(move |s| s.set_job_status(job, status, now)).await?;
        self.emit(Event::JobFinished { job, status });
        Ok(status)
    }
}

fn finish_stage(st: &mut crate::store::StageRow, counts: StageCounts, now: i64) {
    st.ended_ms = Some(now);
    if counts.failed > 0 {
        st.status = WorkStatus::Failed;
        st.error = Some(format!("{} of {} items failed", counts.failed, counts.total()));
    } else {
        st.status = WorkStatus::Done;
        st.error = None;
    }
}
