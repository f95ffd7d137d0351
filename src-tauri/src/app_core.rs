//! The app's one in-process core: the [`Store`], the job [`Engine`] over it, the settings and
//! the throughput history. [`AppCore::drive`] is the engine's long-lived driver on the tokio
//! runtime: it calls `Engine::run_queued` (which reaps, claims jobs per lane and returns once
//! nothing runs and nothing can be claimed), then sleeps until woken by [`AppCore::enqueue`],
//! a job command or saved settings, or until shutdown. The window never waits on it.
//!
//! Saved settings take effect for the engine when it is idle: the driver swaps in a new engine
//! with the new config between `run_queued` calls, so running transfers are never cut. Engine
//! events go into an unbounded channel (the sink must be cheap, it runs on worker tasks); the
//! forwarder in `events.rs` turns them into window events.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use catalog_sync_core::clock::{Clock, SystemClock};
use catalog_sync_core::config::Config;
use catalog_sync_core::jobs::{Engine, Event};
use catalog_sync_core::store::{apply_command, JobCommand, JobKind, JobStatus, Store};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::error::CmdResult;

/// Samples kept in the throughput history: 10 minutes at one sample per second.
pub const THROUGHPUT_SAMPLES: usize = 600;

/// Pause before the driver retries after the engine itself failed (a store error).
const ENGINE_RETRY: Duration = Duration::from_secs(5);

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
    throughput: Mutex<VecDeque<(i64, u64)>>,
    settings_hook: Mutex<Option<SettingsHook>>,
    driver_done: CancellationToken,
}

/// Handle to the app's core; clone freely.
#[derive(Clone)]
pub struct AppCore {
    inner: Arc<Inner>,
}

fn engine_for(
    store: &Store,
    config: &Config,
    clock: &Arc<dyn Clock>,
    tx: &mpsc::UnboundedSender<Event>,
) -> Engine {
    let tx = tx.clone();
    Engine::new(
        store.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(move |e: &Event| drop(tx.send(e.clone()))),
    )
}

/// The config file the app uses: `CATALOG_SYNC_CONFIG`, else `Config::default_path`.
pub fn config_path_from_env() -> Option<PathBuf> {
    Config::path_from_env()
}

/// The config the app starts with: the file at `path` (defaults when missing), then
/// `CATALOG_SYNC_DATABASE` and `CATALOG_SYNC_LIBRARY` from the environment, as for the CLI.
/// Errors: an unreadable or invalid file.
pub fn load_config(path: Option<&std::path::Path>) -> CmdResult<Config> {
    Ok(Config::load_with(path, &catalog_sync_core::config::Overrides::from_env())?)
}

impl AppCore {
    /// Opens the store of `config` and builds the engine. Returns the core and the receiver of
    /// engine events (for the forwarder). `config_path` is where settings are saved (`None`:
    /// saving only changes the running app). Errors: the store cannot be opened (`in_use` when
    /// another Catalog Sync has it).
    pub fn open(
        config: Config,
        config_path: Option<PathBuf>,
        clock: Arc<dyn Clock>,
    ) -> CmdResult<(AppCore, mpsc::UnboundedReceiver<Event>)> {
        let store = Store::open(&config.database)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let engine = engine_for(&store, &config, &clock, &tx);
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
            throughput: Mutex::new(VecDeque::with_capacity(THROUGHPUT_SAMPLES)),
            settings_hook: Mutex::new(None),
            driver_done: CancellationToken::new(),
        };
        Ok((AppCore { inner: Arc::new(inner) }, rx))
    }

    /// Opens with the system clock.
    pub fn open_system(
        config: Config,
        config_path: Option<PathBuf>,
    ) -> CmdResult<(AppCore, mpsc::UnboundedReceiver<Event>)> {
        AppCore::open(config, config_path, Arc::new(SystemClock))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The engine in use now.
    pub fn engine(&self) -> Engine {
        self.inner.engine.read().expect("engine lock").clone()
    }

    /// The current settings (as saved; the engine may still run with the previous ones until
    /// it is idle).
    pub fn config(&self) -> Config {
        self.inner.config.read().expect("config lock").clone()
    }

    /// Now (Unix ms) on the core's clock.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// How old a worker sample may be and still count as live (ms): ten periods of the
    /// engine's sampler (500 ms), so the speed of a worker that stopped reporting leaves the
    /// window within 5 s (the CLI uses the 30 s job heartbeat window, too slow for a live view).
    pub fn stale_after_ms(&self) -> i64 {
        5_000
    }

    /// The config file settings are saved to.
    pub fn config_path(&self) -> Option<&std::path::Path> {
        self.inner.config_path.as_deref()
    }

    /// Sets the hook run after settings are saved.
    pub fn set_settings_hook(&self, hook: SettingsHook) {
        *self.inner.settings_hook.lock().expect("hook lock") = Some(hook);
    }

    /// Runs `f` against the store on the blocking pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> CmdResult<T> + Send + 'static,
    ) -> CmdResult<T> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| crate::error::WireError::new(crate::error::ErrorCode::Internal, e.to_string()))?
    }

    /// Tells the event forwarder that the task center (`jobs`) and/or the catalog changed
    /// outside the engine (a queued job, a command on an idle job, an import), so the window
    /// hears about it without polling.
    pub fn touch(&self, jobs: bool, catalog: bool) {
        let mut t = self.inner.touched.lock().expect("touch lock");
        t.0 |= jobs;
        t.1 |= catalog;
        self.inner.touch.notify_one();
    }

    /// Waits for the next [`AppCore::touch`] and returns what changed `(jobs, catalog)`.
    pub async fn touched(&self) -> (bool, bool) {
        self.inner.touch.notified().await;
        std::mem::take(&mut *self.inner.touched.lock().expect("touch lock"))
    }

    /// Queues a job of `kind` over `scope` (empty = all playlists) and wakes the driver.
    /// Returns the job id.
    pub async fn enqueue(&self, kind: JobKind, scope: Vec<u64>) -> CmdResult<u64> {
        let id = self.engine().enqueue(kind, scope).await?;
        self.inner.wake.notify_one();
        self.touch(true, false);
        Ok(id)
    }

    /// Stores `command` for `job` and wakes the driver, which applies it (at once for a job no
    /// runner holds, on the runner's next tick for a running one).
    pub async fn command(&self, job: u64, command: JobCommand) -> CmdResult<()> {
        let engine = self.engine();
        let status = self.blocking(move |s| Ok(s.job(job)?.status)).await?;
        if apply_command(status, command).is_none() {
            return Err(crate::error::WireError::new(
                crate::error::ErrorCode::Conflict,
                format!("job {job}: {} does not apply to a {status} job", command.as_str()),
            ));
        }
        engine.command(job, command).await?;
        self.inner.wake.notify_one();
        self.touch(true, false);
        Ok(())
    }

    /// Sends `command` to every job it applies to; returns how many.
    pub async fn command_all(&self, command: JobCommand) -> CmdResult<u32> {
        let jobs = self.blocking(|s| Ok(s.jobs()?)).await?;
        let engine = self.engine();
        let mut n = 0;
        for (id, job) in jobs {
            if apply_command(job.status, command).is_some() {
                engine.command(id, command).await?;
                n += 1;
            }
        }
        self.inner.wake.notify_one();
        self.touch(true, false);
        Ok(n)
    }

    /// Jobs that are running or pausing (downloads may be in flight).
    pub fn running_jobs(&self) -> CmdResult<u32> {
        Ok(self
            .inner
            .store
            .jobs()?
            .iter()
            .filter(|(_, j)| matches!(j.status, JobStatus::Running | JobStatus::PauseRequested))
            .count() as u32)
    }

    /// Saves `config` to the config file, makes it current, runs the settings hook and asks
    /// the driver to use it for the engine once idle. Errors: `io` writing the file.
    pub fn save_config(&self, config: Config) -> CmdResult<()> {
        if let Some(path) = &self.inner.config_path {
            crate::settings::write_config(path, &config)?;
        }
        *self.inner.config.write().expect("config lock") = config.clone();
        if let Some(hook) = self.inner.settings_hook.lock().expect("hook lock").as_ref() {
            hook(&config);
        }
        *self.inner.pending_config.lock().expect("pending lock") = Some(config);
        self.inner.wake.notify_one();
        self.inner.settings_changed.notify_waiters();
        Ok(())
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

    /// The throughput history, oldest first.
    pub fn throughput(&self) -> Vec<(i64, u64)> {
        self.inner.throughput.lock().expect("throughput lock").iter().copied().collect()
    }

    /// Shuts the engine down: transfers end (partial files stay and resume next time) and
    /// claimed work returns to the queue. Waits up to `wait` for the driver to finish.
    pub async fn shutdown(&self, wait: Duration) {
        self.inner.shutdown.cancel();
        self.engine().cancel_token().cancel();
        let _ = tokio::time::timeout(wait, self.inner.driver_done.cancelled()).await;
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

    /// The engine driver (see the module docs); returns at shutdown.
    pub async fn drive(&self) {
        let inner = &self.inner;
        while !inner.shutdown.is_cancelled() {
            if let Some(config) = inner.pending_config.lock().expect("pending lock").take() {
                let engine = engine_for(&inner.store, &config, &inner.clock, &inner.events);
                *inner.engine.write().expect("engine lock") = engine;
            }
            let engine = self.engine();
            let (stop, token) = (inner.shutdown.clone(), engine.cancel_token());
            let watcher = tokio::spawn(async move {
                stop.cancelled().await;
                token.cancel();
            });
            let failed = match engine.run_queued().await {
                Ok(_) => false,
                Err(e) => {
                    tracing::error!(error = %e, "engine stopped; retrying");
                    true
                }
            };
            watcher.abort();
            if inner.shutdown.is_cancelled() {
                break;
            }
            tokio::select! {
                _ = inner.wake.notified(), if !failed => {}
                _ = tokio::time::sleep(ENGINE_RETRY), if failed => {}
                _ = inner.shutdown.cancelled() => {}
            }
        }
        inner.driver_done.cancel();
    }
}
