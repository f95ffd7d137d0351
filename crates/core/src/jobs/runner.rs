//! The engine and its lane-aware scheduler. [`Engine::run_queued`] reaps work of crashed
//! runners (stale heartbeats) back to the queue (`super::reaper`, again every
//! `reaper_interval_ms`), then keeps at most `download_lane_jobs`
//! download-lane jobs and `general_lane_jobs` general jobs running, claiming queued jobs with
//! the store's compare-and-set claim (so two schedulers, even in two processes, never start a
//! job twice), applying stored commands (pause, resume, cancel, retry) and stamping heartbeats,
//! until no job is running and none can be claimed, or the engine is shut down.
//!
//! Every job task gets a [`JobCtx`]: `stop` (stop claiming work: pause) is a child of `abort`
//! (end transfers now: cancel), itself a child of the engine's shutdown token (convention 7).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::events::{Event, EventSink};
use super::job_task;
use super::kinds::{lane_of, stages_of, Lane};
use crate::clock::Clock;
use crate::config::Config;
use crate::download::limits::{BandwidthLimiter, HostLimiter};
use crate::download::space::{FsSpace, SpaceProbe};
use crate::store::{JobKind, JobStatus, Store, StoreError};

/// How often the scheduler looks for new jobs and commands, and stamps heartbeats.
const TICK: Duration = Duration::from_millis(200);

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

/// Cancellation handles of one running job.
#[derive(Debug, Clone)]
pub(super) struct JobCtx {
    /// Job id.
    pub(super) job: u64,
    /// Stop claiming new work (pause); in-flight transfers finish.
    pub(super) stop: CancellationToken,
    /// End in-flight transfers now (cancel, shutdown); cancels `stop` too.
    pub(super) abort: CancellationToken,
}

pub(super) struct Inner {
    pub(super) store: Store,
    pub(super) config: Config,
    pub(super) client: reqwest::Client,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sink: EventSink,
    pub(super) shutdown: CancellationToken,
    pub(super) hosts: HostLimiter,
    pub(super) bandwidth: Option<Arc<BandwidthLimiter>>,
    pub(super) running: Mutex<HashMap<u64, (Lane, JobCtx)>>,
    pub(super) wake: Notify,
    /// Work items held by this engine's workers (see `reaper::LiveWork`); the reaper spares them.
    pub(super) live: Mutex<HashSet<crate::store::reaping::WorkKey>>,
    /// Transfers in flight by item id, each with its own token (see `refs`).
    pub(super) transfers: super::refs::Transfers,
    /// Free space of library roots (see `placement`).
    pub(super) space: Arc<dyn SpaceProbe>,
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
        let hosts = HostLimiter::new(config.per_host_connections);
        let bandwidth = config.bandwidth_limit_bytes_per_sec.map(|b| Arc::new(BandwidthLimiter::new(b)));
        let inner = Inner {
            store,
            config,
            client,
            clock,
            sink,
            shutdown: CancellationToken::new(),
            hosts,
            bandwidth,
            running: Mutex::default(),
            wake: Notify::new(),
            live: Mutex::default(),
            transfers: Mutex::default(),
            space: Arc::new(FsSpace),
        };
        Engine { inner: Arc::new(inner) }
    }

    /// The same engine measuring free space with `probe` instead of the file system (tests
    /// simulate a full disk this way). Call it on a fresh engine, before cloning it or running
    /// jobs; on an engine already shared the probe is left unchanged and a warning is logged.
    pub fn with_space_probe(mut self, probe: Arc<dyn SpaceProbe>) -> Engine {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.space = probe,
            None => tracing::warn!("with_space_probe on a shared engine: probe not changed"),
        }
        self
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

    /// Cancelling this token shuts the engine down: transfers end (partial files stay),
    /// claimed work returns to the queue, and `run_queued` returns once every task has ended.
    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    pub(super) fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub(super) fn emit(&self, event: Event) {
        (self.inner.sink)(&event);
    }

    /// Runs `f` against the store on the blocking pool.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| EngineError::Worker(e.to_string()))?
            .map_err(Into::into)
    }

    /// Plans a stage: adds queued work items for the targets `targets` picks (targets already
    /// in the stage keep their state, so a resumed stage repeats nothing), then announces the
    /// stage with its totals. Returns its counts.
    pub(super) async fn plan_stage(
        &self,
        job: u64,
        stage: u8,
        kind: crate::store::StageKind,
        targets: impl FnOnce(&Store) -> Result<Vec<u64>, StoreError> + Send + 'static,
    ) -> Result<crate::store::StageCounts, EngineError> {
        let now = self.now();
        let counts = self
            .blocking(move |s| {
                s.add_stage_items(job, stage, &targets(s)?, now)?;
                s.stage_counts(job, stage)
            })
            .await?;
        self.emit(Event::StageStarted {
            job,
            stage: kind,
            total: counts.total(),
            finished: counts.finished(),
        });
        Ok(counts)
    }

    /// Queues a job of `kind` scoped to `scope` playlists (in that order; empty = all).
    /// Returns its id.
    pub async fn enqueue(&self, kind: JobKind, scope: Vec<u64>) -> Result<u64, EngineError> {
        let now = self.now();
        let id = self.blocking(move |s| s.create_job(kind, stages_of(kind), &scope, now)).await?;
        self.inner.wake.notify_one();
        Ok(id)
    }

    fn lane_limit(&self, lane: Lane) -> usize {
        match lane {
            Lane::Download => self.inner.config.download_lane_jobs.max(1),
            Lane::General => self.inner.config.general_lane_jobs.max(1),
        }
    }

    /// Claims queued jobs while their lane has room; returns the ids started.
    async fn claim_jobs(
        &self,
        tasks: &mut JoinSet<(u64, Result<JobStatus, EngineError>)>,
    ) -> Result<usize, EngineError> {
        let mut started = 0;
        for lane in [Lane::Download, Lane::General] {
            loop {
                let in_lane = self
                    .inner
                    .running
                    .lock()
                    .expect("running lock")
                    .values()
                    .filter(|(l, _)| *l == lane)
                    .count();
                if in_lane >= self.lane_limit(lane) || self.inner.shutdown.is_cancelled() {
                    break;
                }
                let now = self.now();
                let Some(job) =
                    self.blocking(move |s| s.claim_next_job(|j| lane_of(j.kind) == lane, now)).await?
                else {
                    break;
                };
                let abort = self.inner.shutdown.child_token();
                let ctx = JobCtx { job, stop: abort.child_token(), abort };
                self.inner.running.lock().expect("running lock").insert(job, (lane, ctx.clone()));
                self.blocking(move |s| s.beat_jobs(&[job], now)).await?;
                let engine = self.clone();
                tasks.spawn(async move { (job, job_task::run_job(&engine, ctx).await) });
                started += 1;
            }
        }
        Ok(started)
    }

    /// Runs jobs until none is running and none can be claimed (paused jobs wait for a
    /// resume), or until shutdown. Returns each job run with the status it ended in
    /// (`queued` when interrupted by shutdown).
    pub async fn run_queued(&self) -> Result<Vec<(u64, JobStatus)>, EngineError> {
        self.reap().await?;
        let mut last_reap = self.now();
        let mut tasks = JoinSet::new();
        let mut ran = Vec::new();
        let mut first_error = None;
        loop {
            self.apply_pending_commands().await?;
            self.claim_jobs(&mut tasks).await?;
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                Some(joined) = tasks.join_next() => {
                    let (job, result) = joined.map_err(|e| EngineError::Worker(e.to_string()))?;
                    self.inner.running.lock().expect("running lock").remove(&job);
                    match result {
                        Ok(status) => ran.push((job, status)),
                        Err(e) => { first_error.get_or_insert(e); self.inner.shutdown.cancel(); }
                    }
                }
                _ = tokio::time::sleep(TICK) => {
                    let jobs: Vec<u64> = self.inner.running.lock().expect("running lock").keys().copied().collect();
                    let now = self.now();
                    self.blocking(move |s| s.beat_jobs(&jobs, now)).await?;
                    if now.saturating_sub(last_reap) >= self.inner.config.reaper_interval_ms as i64 {
                        last_reap = now;
                        self.reap().await?;
                    }
                }
                _ = self.inner.wake.notified() => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(ran),
        }
    }
}
