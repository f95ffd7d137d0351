//! The loopback server: binding, the accept loop, registration and run-time settings.
//!
//! `TestServer::start` binds 127.0.0.1 and spawns one accept task on the current tokio
//! runtime; each connection gets its own task running hyper's HTTP/1.1 server with a
//! per-connection token bucket. All state lives in one `Shared` behind an `Arc`: routes (URL
//! path -> resource), faults, counters and the shaping settings, so handles are cheap to clone
//! and every setting can change while clients are connected. Shutdown (explicit, or when the
//! last handle is dropped) stops the accept loop and aborts every open connection, stalled
//! ones included.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use url::Url;

use crate::behaviour::Behaviour;
use crate::config::{Fault, ServerConfig};
use crate::content::{MediaInfo, Resource};
use crate::corpus::UrlRewrite;
use crate::handler::{handle, ConnCtx};
use crate::routes::{ApiRequest, ApiResponse, Route};
use crate::shaping::{ConnIo, TokenBucket};
use crate::stats::Stats;

/// A fault and how many more requests it applies to (`None` = all).
#[derive(Debug, Clone, Copy)]
struct FaultEntry {
    fault: Fault,
    remaining: Option<u32>,
}

/// State shared by the handles, the accept loop and every connection.
pub(crate) struct Shared {
    pub base: Url,
    routes: RwLock<HashMap<String, Arc<Resource>>>,
    dynamic: RwLock<HashMap<String, Route>>,
    media: Mutex<BTreeMap<String, MediaInfo>>,
    faults: Mutex<HashMap<String, FaultEntry>>,
    behaviours: RwLock<HashMap<String, Behaviour>>,
    registrations: AtomicU64,
    pub stats: Mutex<Stats>,
    pub rate: Arc<AtomicU64>,
    pub latency_ms: AtomicU64,
    pub ignore_range: AtomicBool,
    pub corpus_media_size: AtomicU64,
    pub rewrites: Mutex<Vec<UrlRewrite>>,
}

impl Shared {
    pub fn resource(&self, path: &str) -> Option<Arc<Resource>> {
        self.routes.read().expect("routes lock").get(path).cloned()
    }

    /// The dynamic route registered for `path`, if any.
    pub fn dynamic_route(&self, path: &str) -> Option<Route> {
        self.dynamic.read().expect("dynamic lock").get(path).cloned()
    }

    /// The behaviour set for `path`, if any.
    pub fn behaviour(&self, path: &str) -> Option<Behaviour> {
        self.behaviours.read().expect("behaviours lock").get(path).cloned()
    }

    /// Sum of the sizes of every registered media file, in bytes.
    pub fn media_sizes(&self) -> u64 {
        self.media.lock().expect("media lock").values().map(|m| m.size).sum()
    }

    /// The fault for `path`, if any, using up one of its `times`.
    pub fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("faults lock");
        let entry = faults.get_mut(path)?;
        let fault = entry.fault;
        match &mut entry.remaining {
            None => {}
            Some(0) => {
                faults.remove(path);
                return None;
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    faults.remove(path);
                }
            }
        }
        Some(fault)
    }
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    /// Accept tasks: the first listener's, then those of [`TestServer::also_listen_on`].
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown_tx.send_replace(true);
    }
}

/// Handle to a running loopback HTTP/1.1 server; clones share the same server.
///
/// The server stops on [`TestServer::shutdown`] or when the last handle is dropped.
#[derive(Clone)]
pub struct TestServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.inner.addr).finish()
    }
}

impl TestServer {
    /// Binds 127.0.0.1:`config.port` (0 = any free port) and starts serving on the current
    /// tokio runtime. Must be called from within a runtime; fails only if binding fails.
    pub async fn start(config: ServerConfig) -> io::Result<TestServer> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
        let addr = listener.local_addr()?;
        let base = Url::parse(&format!("http://{addr}/")).map_err(io::Error::other)?;
        let shared = Arc::new(Shared {
            base,
            routes: RwLock::default(),
            dynamic: RwLock::default(),
            media: Mutex::default(),
            faults: Mutex::default(),
            behaviours: RwLock::default(),
            registrations: AtomicU64::new(0),
            stats: Mutex::default(),
            rate: Arc::new(AtomicU64::new(config.rate_limit.unwrap_or(0))),
            latency_ms: AtomicU64::new(config.latency_ms),
            ignore_range: AtomicBool::new(config.ignore_range),
            corpus_media_size: AtomicU64::new(config.corpus_media_size),
            rewrites: Mutex::default(),
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), shutdown_rx));
        tracing::debug!(%addr, "testkit server started");
        Ok(TestServer { inner: Arc::new(Inner { shared, addr, shutdown_tx, tasks: Mutex::new(vec![task]) }) })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Base URL, `http://127.0.0.1:<port>/` (with trailing slash).
    pub fn base_url(&self) -> Url {
        self.inner.shared.base.clone()
    }

    /// Socket address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Absolute URL of `path` on this server (a missing leading `/` is added).
    ///
    /// Panics if `path` cannot be joined onto the base URL (it always can for plain paths).
    pub fn url(&self, path: &str) -> Url {
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        self.inner.shared.base.join(&path).expect("path joins onto base URL")
    }

    /// Serves the same routes on `ip` too, at this server's port (e.g. 127.0.0.2 to 127.0.0.20,
    /// which Linux routes to the loopback interface): a client then sees another host, with
    /// its own per-host connection limits and DNS-free name. Returns that host's base URL.
    /// Errors: binding fails (address not local, port taken there).
    pub async fn also_listen_on(&self, ip: Ipv4Addr) -> io::Result<Url> {
        let listener = TcpListener::bind(SocketAddr::from((ip, self.inner.addr.port()))).await?;
        let base = Url::parse(&format!("http://{}/", listener.local_addr()?)).map_err(io::Error::other)?;
        let task = tokio::spawn(accept_loop(
            listener,
            self.inner.shared.clone(),
            self.inner.shutdown_tx.subscribe(),
        ));
        self.inner.tasks.lock().expect("tasks lock").push(task);
        Ok(base)
    }

    /// Stops accepting, aborts open connections (stalled ones too) and waits for the accept
    /// task. Idempotent; other handles see a stopped server afterwards.
    pub async fn shutdown(&self) {
        self.inner.shutdown_tx.send_replace(true);
        let tasks = std::mem::take(&mut *self.inner.tasks.lock().expect("tasks lock"));
        for task in tasks {
            let _ = task.await;
        }
    }

    fn insert(&self, url: &Url, mut res: Resource) {
        let n = self.shared().registrations.fetch_add(1, Ordering::Relaxed);
        res.last_modified = crate::content::http_date(n);
        let res = Arc::new(res);
        self.shared().routes.write().expect("routes lock").insert(url.path().to_owned(), res);
    }

    /// Registers deterministic media of `size_bytes` bytes at `path` (e.g. `/show/1.mp3`).
    ///
    /// The bytes depend on the URL path only, so two servers serve the same bytes for the same
    /// path. Hashes the whole body once (SHA-256), streaming. Replaces what the path held.
    pub fn add_media(&self, path: &str, size_bytes: u64) -> MediaInfo {
        let url = self.url(path);
        let res = Resource::media(url.path(), size_bytes);
        let info = MediaInfo { url: url.clone(), size: size_bytes, sha256_hex: res.sha256_hex.clone() };
        self.insert(&url, res);
        self.shared().media.lock().expect("media lock").insert(url.to_string(), info.clone());
        info
    }

    /// Every registered media file, keyed by its absolute URL string.
    pub fn manifest(&self) -> BTreeMap<String, MediaInfo> {
        self.shared().media.lock().expect("media lock").clone()
    }

    /// Serves `body` unchanged at `path` with `Content-Type: content_type`; returns its URL.
    /// Ranges, validators, shaping and faults apply as for media.
    pub fn add_feed(&self, path: &str, body: Vec<u8>, content_type: &str) -> Url {
        let url = self.url(path);
        self.insert(&url, Resource::fixed(Bytes::from(body), content_type));
        url
    }

    /// Answers every request to `path` (any method, any query) with `route(request)`;
    /// returns the URL. Replaces a stored body or route at that path. See [`crate::routes`].
    pub fn add_route(
        &self,
        path: &str,
        route: impl Fn(&ApiRequest) -> ApiResponse + Send + Sync + 'static,
    ) -> Url {
        let url = self.url(path);
        self.shared().dynamic.write().expect("dynamic lock").insert(url.path().to_owned(), Arc::new(route));
        url
    }

    /// Serves `html` at `path` as `text/html; charset=utf-8`; returns its URL.
    pub fn add_page(&self, path: &str, html: &str) -> Url {
        self.add_feed(path, html.as_bytes().to_vec(), "text/html; charset=utf-8")
    }

    /// Sets the per-connection body rate limit, in bytes/s; `None` (or 0) = unlimited.
    /// Applies to the next chunk of every open connection.
    pub fn set_rate_limit(&self, bytes_per_sec: Option<u64>) {
        self.shared().rate.store(bytes_per_sec.unwrap_or(0), Ordering::Relaxed);
    }

    /// Sets the delay before each response head, in ms.
    pub fn set_latency_ms(&self, ms: u64) {
        self.shared().latency_ms.store(ms, Ordering::Relaxed);
    }

    /// When true, `Range` headers are recorded but ignored (200 with the full body).
    pub fn set_ignore_range(&self, ignore: bool) {
        self.shared().ignore_range.store(ignore, Ordering::Relaxed);
    }

    /// Sets the size of media registered by later corpus rewrites, in bytes.
    pub fn set_corpus_media_size(&self, size_bytes: u64) {
        self.shared().corpus_media_size.store(size_bytes, Ordering::Relaxed);
    }

    /// Injects `fault` for requests to `path` (URL path, e.g. `/show/1.mp3`); `times` limits it
    /// to the next N requests of that path (`None` = until cleared). Replaces an earlier fault.
    pub fn set_fault(&self, path: &str, fault: Fault, times: Option<u32>) {
        let key = self.url(path).path().to_owned();
        self.shared().faults.lock().expect("faults lock").insert(key, FaultEntry { fault, remaining: times });
    }

    /// Removes the fault for `path`, if any.
    pub fn clear_fault(&self, path: &str) {
        let key = self.url(path).path().to_owned();
        self.shared().faults.lock().expect("faults lock").remove(&key);
    }

    /// Sets what `path` does besides serving its body (a redirect, a content coding) until
    /// cleared; replaces an earlier behaviour of that path. See [`Behaviour`].
    pub fn set_behaviour(&self, path: &str, behaviour: Behaviour) {
        let key = self.url(path).path().to_owned();
        self.shared().behaviours.write().expect("behaviours lock").insert(key, behaviour);
    }

    /// Removes the behaviour of `path`, if any.
    pub fn clear_behaviour(&self, path: &str) {
        let key = self.url(path).path().to_owned();
        self.shared().behaviours.write().expect("behaviours lock").remove(&key);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared().faults.lock().expect("faults lock").clear();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared().stats.lock().expect("stats lock").clone()
    }

    /// Zeroes every counter.
    pub fn reset_stats(&self) {
        *self.shared().stats.lock().expect("stats lock") = Stats::default();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    let stop = async move {
        // Err means every handle is gone: stop as well.
        let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_connection(stream, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
        }
    }
    conns.shutdown().await;
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let reset = Arc::new(AtomicBool::new(false));
    let ctx = Arc::new(ConnCtx { bucket: TokenBucket::new(shared.rate.clone()), reset: reset.clone() });
    let io = TokioIo::new(ConnIo::new(stream, reset));
    let svc = service_fn(move |req| handle(shared.clone(), ctx.clone(), req));
    if let Err(e) = http1::Builder::new().serve_connection(io, svc).await {
        tracing::debug!("connection ended with error: {e}");
    }
}
