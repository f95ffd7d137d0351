//! A server on an ephemeral loopback port over a temp catalog, with a manual clock.

use std::net::SocketAddr;
use std::sync::Arc;

use catalog_sync_core::api::Api;
use catalog_sync_core::clock::ManualClock;
use catalog_sync_core::config::Config;
use catalog_sync_server::auth::{Auth, HostPolicy};
use tokio::sync::oneshot;

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct Rig {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    pub api: Api,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Rig {
    pub async fn start() -> Rig {
        Rig::with(|_| {}).await
    }

    pub async fn with(tune: impl FnOnce(&mut Config)) -> Rig {
        Rig::in_dir(tempfile::tempdir().unwrap(), tune).await
    }

    /// A server over the catalog in `dir` (a new one, or one a stopped rig left).
    pub async fn in_dir(dir: tempfile::TempDir, tune: impl FnOnce(&mut Config)) -> Rig {
        let mut config = Config {
            database: dir.path().join("catalog.redb"),
            library: dir.path().join("library"),
            fyyd_enabled: false,
            retry_backoff_ms: 10,
            ..Config::default()
        };
        tune(&mut config);
        let clock = ManualClock::new(1_700_000_000_000);
        let api = Api::open(config, Some(dir.path().join("config.toml")), Arc::new(clock.clone())).unwrap();
        let auth = Auth::new(TOKEN.into(), HostPolicy::new(&["nas.example".into()]), Arc::new(clock.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(catalog_sync_server::serve(api.clone(), auth, listener, async move {
            let _ = rx.await;
        }));
        Rig { addr, clock, dir, api, stop: Some(tx), task: Some(task) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client without cookies.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client().get(self.url(path)).bearer_auth(TOKEN)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client().post(self.url(path)).bearer_auth(TOKEN)
    }

    /// Stops the server and waits until it and the engine have ended.
    pub async fn stop(self) {
        self.stop_keeping_dir().await;
    }

    /// [`Rig::stop`], returning the catalog's directory for a next start.
    pub async fn stop_keeping_dir(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.dir
    }
}

/// The `{code, message}` of an error response.
pub async fn wire(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp.json().await.expect("an error body is JSON");
    (
        status,
        v["code"].as_str().unwrap_or_default().to_string(),
        v["message"].as_str().unwrap_or_default().to_string(),
    )
}
