//! [`Context`]: the narrow set of services a job's task and its stages work with: the store,
//! the settings, the HTTP client, the clock, the event sink, the engine's shutdown token, the
//! per-host and bandwidth limits, the free-space probe, the cover art cache, and the two registries of work this
//! engine holds (live work items, transfers in flight). Stages take a `&Context` and a
//! [`JobCtx`]; they never see the scheduler (`runner`), which owns the running-job table and
//! its wake-up signal. A `Context` is a cheap clone (one `Arc`).

use std::collections::{HashMap, HashSet};
use std::ops::Deref;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::error::EngineError;
use super::events::{Event, EventSink};
use super::kinds::Lane;
use super::workers::WorkerRegistry;
use crate::clock::Clock;
use crate::config::Config;
use crate::download::limits::{BandwidthLimiter, HostLimiter};
use crate::download::space::SpaceProbe;
use crate::store::job_log::{JobLogRow, LogKind};
use crate::store::reaping::WorkKey;
use crate::store::{StageCounts, StageKind, Store, StoreError};

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

/// The jobs this engine runs, by id, with their lane and handles (the scheduler's table;
/// commands and the reaper read it).
pub(super) type Running = Mutex<HashMap<u64, (Lane, JobCtx)>>;

/// Transfers in flight by item id (see `refs`).
pub(super) type Transfers = Mutex<HashMap<u64, Arc<InFlight>>>;

/// One transfer in flight.
#[derive(Debug)]
pub(super) struct InFlight {
    /// Ends the transfer.
    pub(super) token: CancellationToken,
    /// The work item moving the bytes.
    pub(super) key: WorkKey,
    /// Set when the token fired because no reference remains (not a shutdown).
    pub(super) unwanted: AtomicBool,
    /// Set when the last holder asked for its files to be deleted: the part goes too.
    pub(super) delete: AtomicBool,
}

/// A document parser: the body and the URL it came from to a [`crate::catalog::Document`]
/// (the engine's is [`crate::catalog::parse_document_owned`]).
pub type DocumentParser =
    fn(Vec<u8>, &url::Url) -> Result<crate::catalog::Document, crate::catalog::ParseError>;

/// What a [`Context`] holds (module docs).
pub(super) struct Services {
    pub(super) store: Store,
    pub(super) config: Config,
    pub(super) client: reqwest::Client,
    /// The client for documents (`catalog::fetch::build_document_client`).
    pub(super) documents: reqwest::Client,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sink: EventSink,
    /// The engine's shutdown token; every job's and transfer's token is a child of it.
    pub(super) shutdown: CancellationToken,
    pub(super) hosts: HostLimiter,
    /// Bytes received per host, the evidence hedged range requests go by.
    pub(super) host_activity: Arc<crate::download::hedge::HostActivity>,
    pub(super) bandwidth: Option<Arc<BandwidthLimiter>>,
    /// Work items held by this engine's workers (see `reaper::LiveWork`); the reaper spares them.
    pub(super) live: Mutex<HashSet<WorkKey>>,
    /// Transfers in flight by item id, each with its own token (see `refs`).
    pub(super) transfers: Transfers,
    /// Free space of library roots (see `placement`).
    pub(super) space: Arc<dyn SpaceProbe>,
    /// Reads a fetched document (`catalog::parse_document`; tests swap in a crashing one).
    pub(super) parser: DocumentParser,
    /// The thread documents are parsed on, one at a time (`parse_lane`).
    pub(super) parse_lane: super::parse_lane::ParseLane,
    /// The latest sample of every worker.
    pub(super) workers: Arc<WorkerRegistry>,
    /// The cover art cache; a sync hands it the playlist's images to fetch in the background.
    pub(super) art: Arc<crate::library::ArtCache>,
    /// Rate-limit windows of yt-dlp's extractors, shared by syncs and downloads.
    pub(super) ytdlp_backoff: crate::download::ytdlp_errors::ExtractorBackoff,
}

/// The services of a job's task and its stages (module docs).
#[derive(Clone)]
pub(super) struct Context {
    pub(super) inner: Arc<Services>,
}

impl Deref for Context {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.inner
    }
}

impl Context {
    /// The store.
    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The settings.
    pub(super) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The shared HTTP client.
    pub(super) fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// Now by the engine's clock (Unix ms).
    pub(super) fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Sends `event` to the engine's sink.
    pub(super) fn emit(&self, event: Event) {
        (self.inner.sink)(&event);
    }

    /// Runs `f` against the store on the calling thread, for point reads of a few rows by key
    /// (microseconds from redb's page cache), where a trip to the blocking pool costs more
    /// than the read. Scans, writes and anything touching other files go through
    /// [`Context::blocking`].
    pub(super) fn read_now<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, EngineError> {
        Ok(f(&self.inner.store)?)
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
        kind: StageKind,
        targets: impl FnOnce(&Store) -> Result<Vec<u64>, StoreError> + Send + 'static,
    ) -> Result<StageCounts, EngineError> {
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

    /// Appends one line to the job's event log.
    pub(super) async fn log(
        &self,
        job: u64,
        kind: LogKind,
        stage: Option<u8>,
        text: String,
    ) -> Result<(), EngineError> {
        let row = JobLogRow { at_ms: self.now(), kind, stage, target: None, text };
        self.blocking(move |s| s.append_job_log(job, &[row])).await
    }
}
