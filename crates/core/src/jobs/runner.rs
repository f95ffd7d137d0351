//! The engine and its lane-aware scheduler. [`Engine::run_queued`] reaps work of crashed
//! runners (stale heartbeats) back to the queue (`super::reaper`, again every
//! `reaper_interval_ms`), then keeps at most `download_lane_jobs`
//! download-lane jobs and `general_lane_jobs` general jobs running, claiming queued jobs with
//! the store's compare-and-set claim (so two schedulers, even in two processes, never start a
//! job twice), applying stored commands (pause, resume, cancel, retry) and stamping heartbeats,
//! until no job is running and none can be claimed, or the engine is shut down.
//!
//! Every job task gets the engine's [`Context`] (the services stages use) and a [`JobCtx`]:
//! `stop` (stop claiming work: pause) is a child of `abort` (end transfers now: cancel),
//! itself a child of the engine's shutdown token (convention 7). The running-job table and
//! the wake-up signal stay here: only the scheduler, commands and the reaper read them. Every
//! public operation of the engine is in this file; the other modules of `jobs` are functions
//! over a `Context`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::context::{Context, DocumentParser, JobCtx, Running, Services};
pub use super::error::EngineError;
use super::events::EventSink;
use super::kinds::{lane_of, stages_of, Lane};
use super::reaper::ReapReport;
use super::workers::WorkerRegistry;
use super::{commands, job_task, reaper, refs, retention_hook};
use crate::clock::Clock;
use crate::config::Config;
use crate::download::limits::{BandwidthLimiter, HostLimiter};
use crate::download::space::{FsSpace, SpaceProbe};
use crate::library::ArtCache;
use crate::store::commands::JobCommand;
use crate::store::refs::DroppedRefs;
use crate::store::{JobKind, JobStatus, Store};

/// How often the scheduler looks for new jobs and commands, and stamps heartbeats.
const TICK: Duration = Duration::from_millis(200);

/// The job engine; clone freely (clones share state).
#[derive(Clone)]
pub struct Engine {
    /// What job tasks and stages work with.
    cx: Context,
    /// The jobs this engine runs.
    running: Arc<Running>,
    /// Wakes the scheduler (a job queued, a command stored, work reaped).
    wake: Arc<Notify>,
    /// Set by the first [`Engine::run_queued`]: the start-up chores ran (`retention_hook`).
    started: Arc<std::sync::atomic::AtomicBool>,
}

impl Engine {
    /// An engine over `store` with `config`, stamping time from `clock` and reporting to `sink`.
    pub fn new(store: Store, config: Config, clock: Arc<dyn Clock>, sink: EventSink) -> Engine {
        // a malformed allow-list fails closed: everything private is refused
        let guard = config.address_guard().unwrap_or_else(|e| {
            tracing::error!(error = %e, "allowed_private_hosts ignored");
            Some(Default::default())
        });
        let client = crate::download::transfer::build_client_guarded(&config.user_agent, guard.as_ref());
        let documents =
            crate::catalog::fetch::build_document_client_guarded(&config.user_agent, guard.as_ref());
        let hosts = HostLimiter::new(config.per_host_connections);
        let bandwidth = config.bandwidth_limit_bytes_per_sec.map(|b| Arc::new(BandwidthLimiter::new(b)));
        let art = Arc::new(ArtCache::beside(&config.database, documents.clone(), clock.clone()));
        let services = Services {
            store,
            config,
            client,
            documents,
            clock,
            sink,
            shutdown: CancellationToken::new(),
            hosts,
            host_activity: Arc::default(),
            bandwidth,
            live: Mutex::default(),
            transfers: Mutex::default(),
            space: Arc::new(FsSpace),
            parser: crate::catalog::parse_document_owned,
            parse_lane: Default::default(),
            workers: Arc::default(),
            art,
            ytdlp_backoff: Default::default(),
        };
        Engine {
            cx: Context { inner: Arc::new(services) },
            running: Arc::default(),
            wake: Arc::default(),
            started: Arc::default(),
        }
    }

    /// The same engine measuring free space with `probe` instead of the file system (tests
    /// simulate a full disk this way). Call it on a fresh engine, before cloning it or running
    /// jobs; on an engine already shared the probe is left unchanged and a warning is logged.
    pub fn with_space_probe(mut self, probe: Arc<dyn SpaceProbe>) -> Engine {
        match Arc::get_mut(&mut self.cx.inner) {
            Some(inner) => inner.space = probe,
            None => tracing::warn!("with_space_probe on a shared engine: probe not changed"),
        }
        self
    }

    /// The same engine reading documents with `parser` instead of
    /// [`crate::catalog::parse_document`] (tests prove that a parser crash fails one playlist
    /// only). Call it on a fresh engine, like [`Engine::with_space_probe`].
    pub fn with_document_parser(mut self, parser: DocumentParser) -> Engine {
        match Arc::get_mut(&mut self.cx.inner) {
            Some(inner) => inner.parser = parser,
            None => tracing::warn!("with_document_parser on a shared engine: parser not changed"),
        }
        self
    }

    /// The same engine keeping worker samples in `registry` (shared with the engines built
    /// before it, so a live view survives an engine swap). Call it on a fresh engine, like
    /// [`Engine::with_space_probe`].
    pub fn with_worker_registry(mut self, registry: Arc<WorkerRegistry>) -> Engine {
        match Arc::get_mut(&mut self.cx.inner) {
            Some(inner) => inner.workers = registry,
            None => tracing::warn!("with_worker_registry on a shared engine: registry not changed"),
        }
        self
    }

    /// The same engine handing images to `art` (shared with the API, which serves them, and with
    /// the engines built before it) instead of a cache of its own beside the database. Call it
    /// on a fresh engine, like [`Engine::with_space_probe`].
    pub fn with_art_cache(mut self, art: Arc<ArtCache>) -> Engine {
        match Arc::get_mut(&mut self.cx.inner) {
            Some(inner) => inner.art = art,
            None => tracing::warn!("with_art_cache on a shared engine: cache not changed"),
        }
        self
    }

    /// The cover art cache the sync stage hands images to.
    pub fn art_cache(&self) -> &Arc<ArtCache> {
        &self.cx.art
    }

    /// The latest sample of `job`'s workers (every job's when `None`), from memory.
    pub fn worker_samples(&self, job: Option<u64>) -> Vec<super::WorkerSample> {
        self.cx.workers.samples(job)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.cx.store()
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        self.cx.config()
    }

    /// The shared HTTP client for documents (feeds, playlists, OPML): decodes compressed ones.
    pub fn document_client(&self) -> &reqwest::Client {
        &self.cx.documents
    }

    /// The shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        self.cx.client()
    }

    /// Cancelling this token shuts the engine down: transfers end (partial files stay),
    /// claimed work returns to the queue, and `run_queued` returns once every task has ended.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cx.shutdown.clone()
    }

    /// Queues a job of `kind` scoped to `scope` playlists (in that order; empty = all).
    /// Returns its id.
    pub async fn enqueue(&self, kind: JobKind, scope: Vec<u64>) -> Result<u64, EngineError> {
        let now = self.cx.now();
        let id = self.cx.blocking(move |s| s.create_job(kind, stages_of(kind), &scope, now)).await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Queues an upload job of `kind` scoped to `scope` playlists and limited to the upload
    /// `targets` (empty = all of theirs). Returns its id.
    pub async fn enqueue_upload(
        &self,
        kind: JobKind,
        scope: Vec<u64>,
        targets: Vec<String>,
    ) -> Result<u64, EngineError> {
        let now = self.cx.now();
        let id = self
            .cx
            .blocking(move |s| s.create_upload_job(kind, stages_of(kind), &scope, &targets, now))
            .await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Queues an `organize` job that renames after `template` (see `organize_stage`).
    /// Returns its id.
    pub async fn enqueue_organize(&self, template: String) -> Result<u64, EngineError> {
        let now = self.cx.now();
        let id = self.cx.blocking(move |s| s.create_organize_job(&template, now)).await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Stores `command` for `job` and wakes the scheduler (see `commands`). Returns the
    /// command's sequence number. Errors: `StoreError::NotFound` for an unknown job.
    pub async fn command(&self, job: u64, command: JobCommand) -> Result<u64, EngineError> {
        let now = self.cx.now();
        let seq = self.cx.blocking(move |s| s.push_command(job, command, now)).await?;
        self.wake.notify_one();
        Ok(seq)
    }

    /// Applies pending stored commands (see `commands`). Front ends that run no jobs call it
    /// after [`Engine::command`] so a command for an idle job takes effect at once.
    pub async fn apply_pending_commands(&self) -> Result<(), EngineError> {
        commands::apply_pending(&self.cx, &self.running).await
    }

    /// One reaper pass (see `reaper`). Wakes the scheduler when a job went back to the queue.
    pub async fn reap(&self) -> Result<ReapReport, EngineError> {
        let ours: HashSet<u64> = self.running.lock().expect("running lock").keys().copied().collect();
        let report = reaper::reap(&self.cx, ours).await?;
        if !report.is_empty() {
            self.wake.notify_one();
        }
        Ok(report)
    }

    /// Selects (`wanted`) or unselects playlist `playlist` for download (see `refs`).
    /// Unselecting drops the playlist's references: transfers of items nobody wants any more
    /// stop, and with `delete_orphans` the files (and partial files) of the playlist's items
    /// that nothing references are deleted. Returns what changed. Errors:
    /// `StoreError::NotFound` for an unknown playlist.
    pub async fn set_playlist_wanted(
        &self,
        playlist: u64,
        wanted: bool,
        delete_orphans: bool,
    ) -> Result<DroppedRefs, EngineError> {
        refs::set_playlist_wanted(&self.cx, playlist, wanted, delete_orphans).await
    }

    /// Drops every reference of job `job` (it was cancelled or has ended): transfers of items
    /// nobody else wants stop; with `delete_orphans`, orphans' files are deleted.
    pub async fn drop_job_references(
        &self,
        job: u64,
        delete_orphans: bool,
    ) -> Result<DroppedRefs, EngineError> {
        refs::drop_job_references(&self.cx, job, delete_orphans).await
    }

    fn lane_limit(&self, lane: Lane) -> usize {
        match lane {
            Lane::Download => self.cx.config.download_lane_jobs.max(1),
            Lane::General => self.cx.config.general_lane_jobs.max(1),
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
                let in_lane =
                    self.running.lock().expect("running lock").values().filter(|(l, _)| *l == lane).count();
                if in_lane >= self.lane_limit(lane) || self.cx.shutdown.is_cancelled() {
                    break;
                }
                let now = self.cx.now();
                let Some(job) = self
                    .cx
                    .blocking(move |s| s.claim_next_job(move |j| lane_of(j.kind) == lane, now))
                    .await?
                else {
                    break;
                };
                let abort = self.cx.shutdown.child_token();
                let ctx = JobCtx { job, stop: abort.child_token(), abort };
                self.running.lock().expect("running lock").insert(job, (lane, ctx.clone()));
                self.cx.blocking(move |s| s.beat_jobs(&[job], now)).await?;
                let cx = self.cx.clone();
                tasks.spawn(async move { (job, job_task::run_job(&cx, ctx).await) });
                started += 1;
            }
        }
        Ok(started)
    }

    /// Runs jobs until none is running and none can be claimed (paused jobs wait for a
    /// resume), or until shutdown. Returns each job run with the status it ended in
    /// (`queued` when interrupted by shutdown).
    pub async fn run_queued(&self) -> Result<Vec<(u64, JobStatus)>, EngineError> {
        if !self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // nothing runs yet: finish what a crash left half done on disk
            retention_hook::at_start(&self.cx).await;
        }
        self.reap().await?;
        let mut last_reap = self.cx.now();
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
                    self.running.lock().expect("running lock").remove(&job);
                    match result {
                        Ok(status) => ran.push((job, status)),
                        Err(e) => { first_error.get_or_insert(e); self.cx.shutdown.cancel(); }
                    }
                }
                _ = tokio::time::sleep(TICK) => {
                    let jobs: Vec<u64> = self.running.lock().expect("running lock").keys().copied().collect();
                    let now = self.cx.now();
                    self.cx.blocking(move |s| s.beat_jobs(&jobs, now)).await?;
                    if now.saturating_sub(last_reap) >= self.cx.config.reaper_interval_ms as i64 {
                        last_reap = now;
                        self.reap().await?;
                    }
                }
                _ = self.wake.notified() => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(ran),
        }
    }
}
