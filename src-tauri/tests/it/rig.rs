//! A desktop app on the mock runtime over a temp catalog, plus a testkit server.

use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use catalog_sync_core::api::Api;
use catalog_sync_core::config::Config;
use std::sync::{Arc, Mutex};

use catalog_sync_desktop::events::{DownloadProgress, JobFinished, JobStarted, NoShell, TaskCenterChanged};
use catalog_sync_testkit::{ServerConfig, TestServer};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow};
use tauri_specta::Event as _;

/// How long a test waits for a job to end before failing (a hang, not a timing goal).
pub const JOB_WAIT: Duration = Duration::from_secs(60);

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub finished: Receiver<JobFinished>,
    pub started: Receiver<JobStarted>,
    pub progress: Arc<Mutex<Vec<DownloadProgress>>>,
    pub task_centers: Arc<Mutex<Vec<TaskCenterChanged>>>,
}

impl Rig {
    pub fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            database: dir.path().join("catalog.redb"),
            library: dir.path().join("library"),
            stall_timeout_ms: 5_000,
            retry_backoff_ms: 10,
            max_attempts: 2,
            ..Config::default()
        };
        let config_path = dir.path().join("config").join("config.toml");
        let api = Api::open_system(config, Some(config_path)).expect("open the API");
        let server =
            tauri::async_runtime::block_on(TestServer::start(ServerConfig::default())).expect("test server");
        // the real config and capabilities: commands pass the same ACL as in the app
        let app = catalog_sync_desktop::wire(mock_builder(), api)
            .build(tauri::generate_context!("../tauri.conf.json"))
            .expect("build app");
        // the mock runtime runs no setup hook before `run`; start what the app's setup starts
        catalog_sync_desktop::start(&app, NoShell);
        let window =
            tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("window");
        let (tx, finished) = channel();
        JobFinished::listen(&app, move |e| drop(tx.send(e.payload)));
        let (tx, started) = channel();
        JobStarted::listen(&app, move |e| drop(tx.send(e.payload)));
        let progress: Arc<Mutex<Vec<DownloadProgress>>> = Arc::default();
        let sink = progress.clone();
        DownloadProgress::listen(&app, move |e| sink.lock().unwrap().push(e.payload));
        let task_centers: Arc<Mutex<Vec<TaskCenterChanged>>> = Arc::default();
        let sink = task_centers.clone();
        TaskCenterChanged::listen(&app, move |e| sink.lock().unwrap().push(e.payload));
        Rig { dir, server, app, window, finished, started, progress, task_centers }
    }

    /// Invokes `cmd` with `args` (camelCase keys, as the bindings send them) through the IPC.
    pub fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> Result<T, Value> {
        self.call_from(&self.window, cmd, args)
    }

    /// Opens another window, labelled `label`.
    pub fn window(&self, label: &str) -> WebviewWindow<MockRuntime> {
        tauri::WebviewWindowBuilder::new(&self.app, label, Default::default()).build().expect("window")
    }

    /// [`Rig::call`] from `window`.
    pub fn call_from<T: DeserializeOwned>(
        &self,
        window: &WebviewWindow<MockRuntime>,
        cmd: &str,
        args: Value,
    ) -> Result<T, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // the origin a real page in this window sends: devUrl in a plain debug build,
            // the app's own protocol with `custom-protocol`; the ACL counts both as local
            url: window.url().expect("window URL"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        tauri::test::get_ipc_response(window, request)
            .map(|body| body.deserialize::<T>().expect("response shape"))
    }

    /// `call` that must succeed.
    pub fn ok<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> T {
        self.call(cmd, args).unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// Waits until `check` returns something (events arrive on other threads), up to [`JOB_WAIT`].
    pub fn wait_for<T>(&self, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + JOB_WAIT;
        loop {
            if let Some(v) = check() {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "waited {JOB_WAIT:?} in vain");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the `JobStarted` event of `job`.
    pub fn wait_started(&self, job: u64) {
        while self.started.recv_timeout(JOB_WAIT).unwrap_or_else(|_| panic!("job {job} did not start")).job
            != job
        {}
    }

    /// Waits for the `JobFinished` event of `job` and returns its status.
    pub fn wait_finished(&self, job: u64) -> String {
        loop {
            let e =
                self.finished.recv_timeout(JOB_WAIT).unwrap_or_else(|_| panic!("job {job} did not finish"));
            if e.job == job {
                return serde_json::to_value(e.status).unwrap().as_str().unwrap().to_string();
            }
        }
    }
}
