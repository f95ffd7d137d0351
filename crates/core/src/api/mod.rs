//! The application API (ARCHITECTURE.md, "Layout" and convention 1): one [`Api`] handle per
//! process owns the store, the job engine's lifecycle, the settings and the event stream, and
//! offers one `async fn` per user operation (`ops`). Every front (the desktop commands, the
//! `catalog-sync` subcommands, the CLI's control socket) parses its arguments, calls one of
//! them and maps the [`WireError`]: a behaviour two fronts share lives here, once.
//!
//! Lifecycle: [`Api::open`] opens the store and builds the engine. A long-running front spawns
//! [`Api::drive`], the engine's driver: it calls `Engine::run_queued` (which reaps, claims jobs
//! per lane and returns once nothing runs and nothing can be claimed), then sleeps until an
//! operation wakes it (a queued job, a command, saved settings) or until shutdown. A one-shot
//! front calls [`Api::run_until_idle`] instead. [`Api::shutdown`] cancels the engine (transfers
//! end, partial files stay, claimed work returns to the queue) and waits until the driver, and
//! with it every task of the engine, has ended, background image fetches included.
//!
//! Live settings: [`Api::save_settings`] writes the config file and makes the new settings
//! current; the driver swaps in an engine built with them between two `run_queued` calls, so
//! running transfers are never cut. Events: the engine's domain events go into one unbounded
//! channel (the sink runs on worker tasks and must be cheap), which a front takes once with
//! [`Api::take_events`]; changes made outside the engine (an import, a command on an idle job)
//! are announced through [`Api::touched`]. [`live`] turns that stream into the coalesced live
//! events a window shows, for every front that has one.
//!
//! Views and errors are plain serde types; with the `specta` feature they also derive
//! `specta::Type`, so the desktop generates its TypeScript bindings from them.

mod art;
mod error;
mod job_views;
pub mod live;
pub mod notifications;
mod ops;
mod organize_ops;
mod reports;
mod retention_ops;
mod schedule_ops;
mod settings;
mod targets;
mod uploads;
mod views;
mod ytdlp_ops;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

pub use crate::catalog::ytdlp::MediaChoice;
pub use crate::download::ytdlp_update::{InstallKind, YtDlpInstall};
pub use error::{ApiResult, ErrorCode, WireError};
pub use job_views::{
    JobDetail, JobRowView, LogLineView, RunErrorView, RunView, StageView, StepView, SummaryView,
    TaskCenterView, WorkItemView, WorkerView, DETAIL_ITEMS_PER_STAGE, DETAIL_LOG_LINES,
};
pub use ops::{CommandOutcome, JobAction, Page, WantedChange};
pub use organize_ops::{OrganizePreview, RenameView};
pub use reports::{CatalogStatus, JobHistory, ListedItem, PlaylistListing};
pub use retention_ops::{KeepChange, RemovedFile, RetentionReport, SparedFile};
pub use schedule_ops::{AutoSyncView, RandomSource, CHECK_MS};
pub use settings::{write_config, Settings};
pub use targets::{target_view, TargetInput, TargetTest, TargetView};
pub use uploads::MAX_UPLOAD_BYTES;
pub use views::{
    AddResult, ImportResult, ItemCursor, ItemPage, ItemStates, ItemStatus, ItemView, PlaylistPage,
    PlaylistView, ThroughputPoint, MAX_PAGE, RECENT_JOBS,
};
pub use ytdlp_ops::{AddKind, YtDlpStatus, YtDlpUpdate};

/// The domain types the views carry and the fronts name (re-exported so a front needs
/// nothing but `api`).
pub use crate::config::{NotifyMode, Retention};
pub use crate::download::naming::format_date;
pub use crate::jobs::task_center::{display_name, format_speed};
pub use crate::jobs::WorkerState;
pub use crate::jobs::{Event, ItemOutcome, Lane};
pub use crate::store::commands::JobCommand;
pub use crate::store::runs::run_id;
pub use crate::store::{JobKind, JobStatus, StageCounts, StageKind, WorkStatus};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::jobs::{Engine, WorkerRegistry};
use crate::library::ArtCache;
use crate::store::history::{CompactPolicy, CompactReport};
use crate::store::Store;

/// Samples kept in the throughput history: 10 minutes at one sample per second.
pub const THROUGHPUT_SAMPLES: usize = 600;

/// How often the driver compacts the job history (and once at start): daily.
pub const COMPACT_EVERY: Duration = Duration::from_secs(24 * 3_600);

/// Pause before the driver retries after the engine itself failed (a store error).
const ENGINE_RETRY: Duration = Duration::from_secs(5);

/// How old a worker sample may be and still count as live (ms): ten periods of the engine's
/// sampler (500 ms), so the speed of a worker that stopped reporting leaves within 5 s.
pub const LIVE_WINDOW_MS: i64 = 5_000;

/// The engine's domain events, in order.
pub type EventStream = mpsc::UnboundedReceiver<Event>;

/// Called with the config after settings were saved (e.g. to apply start at login).
pub type SettingsHook = Box<dyn Fn(&Config) + Send + Sync>;

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    config_path: Option<PathBuf>,
    config: RwLock<Config>,
    engine: RwLock<Engine>,
    pending_config: Mutex<Option<Config>>,
    wake: Notify,
    settings_changed: Notify,
    touched: Mutex<(bool, bool)>,
    touch: Notify,
    shutdown: CancellationToken,
    events: mpsc::UnboundedSender<Event>,
    stream: Mutex<Option<EventStream>>,
    throughput: Mutex<VecDeque<(i64, u64)>>,
    settings_hook: Mutex<Option<SettingsHook>>,
    driver_done: CancellationToken,
    driving: std::sync::atomic::AtomicBool,
    workers: Arc<WorkerRegistry>,
    /// Runs of the engine in progress in this process (driver or `run_until_idle`).
    active: std::sync::atomic::AtomicUsize,
    /// The cover art cache every engine of this process hands images to; `art` ops serve it.
    art: Arc<ArtCache>,
    /// Random draws (the schedule's jitter); see `schedule_ops`.
    random: Mutex<RandomSource>,
    /// One auto-sync tick at a time.
    schedule_lock: tokio::sync::Mutex<()>,
    /// Whether [`Api::run_auto_sync`] runs in this process (saved settings then tick it).
    scheduling: std::sync::atomic::AtomicBool,
}

/// The application API of one process; clone freely (clones share everything).
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

fn engine_for(
    store: &Store,
    config: &Config,
    clock: &Arc<dyn Clock>,
    tx: &mpsc::UnboundedSender<Event>,
    workers: &Arc<WorkerRegistry>,
    art: &Arc<ArtCache>,
) -> Engine {
    let tx = tx.clone();
    Engine::new(
        store.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(move |e: &Event| drop(tx.send(e.clone()))),
    )
    .with_worker_registry(workers.clone())
    .with_art_cache(art.clone())
}

impl Api {
    /// Opens the store of `config` and builds the engine, stamping time from `clock`.
    /// `config_path` is where [`Api::save_settings`] writes (`None`: saving only changes this
    /// process). Errors: the store cannot be opened (`in_use` when another Catalog Sync has it).
    pub fn open(config: Config, config_path: Option<PathBuf>, clock: Arc<dyn Clock>) -> ApiResult<Api> {
        let store = Store::open(&config.database)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let workers = Arc::<WorkerRegistry>::default();
        let documents = crate::catalog::fetch::build_document_client(&config.user_agent);
        let art = Arc::new(ArtCache::beside(&config.database, documents, clock.clone()));
        let engine = engine_for(&store, &config, &clock, &tx, &workers, &art);
        let inner = Inner {
            store,
            clock,
            config_path,
            config: RwLock::new(config),
            engine: RwLock::new(engine),
            pending_config: Mutex::new(None),
            wake: Notify::new(),
            settings_changed: Notify::new(),
            touched: Mutex::new((false, false)),
            touch: Notify::new(),
            shutdown: CancellationToken::new(),
            events: tx,
            stream: Mutex::new(Some(rx)),
            throughput: Mutex::new(VecDeque::with_capacity(THROUGHPUT_SAMPLES)),
            settings_hook: Mutex::new(None),
            driver_done: CancellationToken::new(),
            driving: Default::default(),
            workers,
            active: Default::default(),
            art,
            random: Mutex::new(schedule_ops::system_random()),
            schedule_lock: tokio::sync::Mutex::new(()),
            scheduling: Default::default(),
        };
        Ok(Api { inner: Arc::new(inner) })
    }

    /// [`Api::open`] with the system clock.
    pub fn open_system(config: Config, config_path: Option<PathBuf>) -> ApiResult<Api> {
        Api::open(config, config_path, Arc::new(SystemClock))
    }

    /// The engine's event stream; `Some` only for the first caller.
    pub fn take_events(&self) -> Option<EventStream> {
        self.inner.stream.lock().expect("stream lock").take()
    }

    /// The store (crate-internal: fronts go through the operations).
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The catalog database file.
    pub fn database_path(&self) -> &Path {
        self.inner.store.path()
    }

    /// The engine in use now (its settings may lag behind [`Api::config`] until it is idle).
    pub fn engine(&self) -> Engine {
        self.inner.engine.read().expect("engine lock").clone()
    }

    /// The current settings (as saved).
    pub fn config(&self) -> Config {
        self.inner.config.read().expect("config lock").clone()
    }

    /// The config file settings are saved to.
    pub fn config_path(&self) -> Option<&Path> {
        self.inner.config_path.as_deref()
    }

    /// Now (Unix ms) on the API's clock.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Sets the hook run after settings are saved.
    pub fn set_settings_hook(&self, hook: SettingsHook) {
        *self.inner.settings_hook.lock().expect("hook lock") = Some(hook);
    }

    /// Runs `f` against the store on the blocking pool. Errors: `f`'s, or `internal` when the
    /// blocking task panicked.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| WireError::internal(e.to_string()))?
    }

    /// Announces that the task center (`jobs`) and/or the catalog changed outside the engine
    /// (a queued job, a command on an idle job, an import), so a live view refreshes.
    pub fn touch(&self, jobs: bool, catalog: bool) {
        let mut t = self.inner.touched.lock().expect("touch lock");
        t.0 |= jobs;
        t.1 |= catalog;
        self.inner.touch.notify_one();
    }

    /// Waits for the next [`Api::touch`] and returns what changed `(jobs, catalog)`.
    pub async fn touched(&self) -> (bool, bool) {
        self.inner.touch.notified().await;
        std::mem::take(&mut *self.inner.touched.lock().expect("touch lock"))
    }

    /// Whether this process runs the engine now (or a driver does): job commands are then
    /// applied by its scheduler.
    fn engine_active(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        self.inner.driving.load(SeqCst) || self.inner.active.load(SeqCst) > 0
    }

    /// Wakes the driver (new work, a command, new settings).
    fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Appends a throughput sample (`t_ms` Unix ms, `bps` bytes/s), dropping the oldest beyond
    /// [`THROUGHPUT_SAMPLES`].
    pub fn record_throughput(&self, t_ms: i64, bps: u64) {
        let mut ring = self.inner.throughput.lock().expect("throughput lock");
        if ring.len() == THROUGHPUT_SAMPLES {
            ring.pop_front();
        }
        ring.push_back((t_ms, bps));
    }

    /// Resolves at the next saved settings.
    pub async fn settings_changed(&self) {
        self.inner.settings_changed.notified().await
    }

    /// Resolves when shutdown begins.
    pub async fn shutting_down(&self) {
        self.inner.shutdown.cancelled().await
    }

    /// Whether shutdown began.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// Jobs that are running or pausing (downloads may be in flight). Errors: the store's.
    pub fn running_jobs(&self) -> ApiResult<u32> {
        let store = &self.inner.store;
        Ok((store.jobs_with_status(JobStatus::Running)?.len()
            + store.jobs_with_status(JobStatus::PauseRequested)?.len()) as u32)
    }

    /// Begins shutdown and waits up to `wait` until the driver (or [`Api::run_until_idle`]) and
    /// every task of the engine have ended. Transfers end (partial files stay and resume next
    /// time) and claimed work returns to the queue. Every write acknowledged before it returns
    /// is durable (the store's deferred writes too), even if the process then exits without
    /// dropping the store (a desktop shell's exit).
    pub async fn shutdown(&self, wait: Duration) {
        use std::sync::atomic::Ordering::SeqCst;
        self.inner.shutdown.cancel();
        self.engine().cancel_token().cancel();
        self.inner.art.stop();
        let inner = &self.inner;
        let ended = async {
            if inner.driving.load(SeqCst) {
                inner.driver_done.cancelled().await;
            }
            while inner.active.load(SeqCst) > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            inner.art.settled().await;
        };
        let _ = tokio::time::timeout(wait, ended).await;
        if let Err(e) = self.inner.store.submit(true, |_| Ok(())).await {
            tracing::error!(error = %e, "cannot make the catalog's last writes durable at shutdown");
        }
    }

    /// Runs the engine once until no job is running and none can be claimed (paused jobs wait),
    /// or until shutdown; the one-shot fronts' driver. Returns each job run with the status it
    /// ended in (`queued` when interrupted). Errors: the engine's (store failures).
    pub async fn run_until_idle(&self) -> ApiResult<Vec<(u64, JobStatus)>> {
        let engine = self.engine();
        let (stop, token) = (self.inner.shutdown.clone(), engine.cancel_token());
        let watcher = tokio::spawn(async move {
            stop.cancelled().await;
            token.cancel();
        });
        self.inner.active.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let ran = engine.run_queued().await;
        self.inner.active.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        watcher.abort();
        Ok(ran?)
    }

    /// Compacts the job history now (`store::history`: old finished jobs keep their row, last
    /// run and a summary; their work items and log go), batch after batch through the store
    /// writer. The driver runs it at start and every [`COMPACT_EVERY`]. Errors: the store's.
    /// Stops between two batches when shutdown begins.
    pub async fn compact_history(&self) -> ApiResult<CompactReport> {
        let (now, mut after, mut total) = (self.now_ms(), 0, CompactReport::default());
        while !self.is_shutting_down() {
            let (r, last) =
                self.blocking(move |s| Ok(s.compact_batch(CompactPolicy::default(), after, now)?)).await?;
            total.jobs += r.jobs;
            total.work_items += r.work_items;
            total.log_lines += r.log_lines;
            total.runs += r.runs;
            match last {
                Some(last) => after = last,
                None => break,
            }
        }
        Ok(total)
    }

    /// Runs [`Api::compact_history`] now and every [`COMPACT_EVERY`] until shutdown.
    async fn compact_daily(&self) {
        loop {
            match self.compact_history().await {
                Ok(r) if r.jobs > 0 => {
                    tracing::info!(jobs = r.jobs, log_lines = r.log_lines, "compacted history")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "compacting the job history failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(COMPACT_EVERY) => {}
                _ = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    /// The engine driver (module docs); returns at shutdown, once every engine task has ended.
    /// Beside it, the job history is compacted at start and daily ([`Api::compact_history`]).
    pub async fn drive(&self) {
        let inner = &self.inner;
        inner.driving.store(true, std::sync::atomic::Ordering::SeqCst);
        let compactor = {
            let api = self.clone();
            tokio::spawn(async move { api.compact_daily().await })
        };
        while !inner.shutdown.is_cancelled() {
            if let Some(config) = inner.pending_config.lock().expect("pending lock").take() {
                let engine = engine_for(
                    &inner.store,
                    &config,
                    &inner.clock,
                    &inner.events,
                    &inner.workers,
                    &inner.art,
                );
                *inner.engine.write().expect("engine lock") = engine;
            }
            let failed = match self.run_until_idle().await {
                Ok(_) => false,
                Err(e) => {
                    tracing::error!(error = %e, "engine stopped; retrying");
                    true
                }
            };
            if inner.shutdown.is_cancelled() {
                break;
            }
            tokio::select! {
                _ = inner.wake.notified(), if !failed => {}
                _ = tokio::time::sleep(ENGINE_RETRY), if failed => {}
                _ = inner.shutdown.cancelled() => {}
            }
        }
        let _ = compactor.await;
        inner.driver_done.cancel();
    }

    /// Saves `config` (module docs). Errors: `io` writing the file.
    fn save_config(&self, config: Config) -> ApiResult<()> {
        if let Some(path) = &self.inner.config_path {
            write_config(path, &config)?;
        }
        *self.inner.config.write().expect("config lock") = config.clone();
        if let Some(hook) = self.inner.settings_hook.lock().expect("hook lock").as_ref() {
            hook(&config);
        }
        *self.inner.pending_config.lock().expect("pending lock") = Some(config);
        self.wake();
        self.inner.settings_changed.notify_waiters();
        Ok(())
    }
}
