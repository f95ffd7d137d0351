//! `catalog-sync serve`: the HTTP front of Catalog Sync (ARCHITECTURE.md, "Layout" and
//! convention 1), for a NAS or a headless box. It runs the engine in-process, as the desktop app
//! does, over the same catalog, library and config, and serves the same UI to a browser:
//! - the built UI, embedded in the binary ([`assets`]);
//! - a JSON API with one route per `Api` operation ([`routes`]), errors as the wire error
//!   `{code, message}` with an HTTP status from its code ([`wire`]);
//! - live events as Server-Sent Events on `GET /api/events` ([`live`]): the core's coalesced
//!   live events (`api::live`), the same the desktop gets, by the same names.
//!
//! Security ([`auth`]): every API route but `GET /api/health` and `POST /api/login` needs the
//! token (a `Bearer` header) or a session cookie the browser got for it; `Host` must name this
//! server (DNS-rebinding guard); logins are rate-limited; every response carries a CSP and
//! `X-Content-Type-Options: nosniff`; bodies are capped. [`setup`] prepares the config:
//! creates the token at the first start and decides `block_private_addresses`.
//!
//! [`serve`] binds, spawns the engine driver, the auto-sync schedule (`Api::run_auto_sync`, as
//! in the desktop app) and the event forwarder, and serves until its `shutdown` future
//! resolves; then live streams end, in-flight requests finish, and the engine shuts down
//! (transfers stop, partial files resume at the next start).

pub mod assets;
pub mod auth;
pub mod live;
pub mod retention_routes;
pub mod routes;
pub mod setup;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::api::Api;
use tokio_util::sync::CancellationToken;

pub use setup::{prepare_config, Prepared};

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8750";

/// Longest wait at shutdown for the engine's tasks to end (transfers stop at once; this bounds
/// a hung file system).
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// What one server shares between requests.
#[derive(Clone)]
pub struct AppState {
    /// The application API.
    pub api: Api,
    /// Token, sessions, login limiter, host policy.
    pub auth: Arc<auth::Auth>,
    /// The live event hub.
    pub hub: Arc<live::Hub>,
    /// Cancelled at shutdown: live streams end.
    pub stop: CancellationToken,
}

/// Serves `api` on `listener` with `auth` until `shutdown` resolves (module docs). Returns
/// once the engine has shut down. Errors: the listener fails.
pub async fn serve(
    api: Api,
    auth: auth::Auth,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = CancellationToken::new();
    let hub = Arc::new(live::Hub::default());
    let state = AppState { api: api.clone(), auth: Arc::new(auth), hub: hub.clone(), stop: stop.clone() };
    let driver = {
        let api = api.clone();
        tokio::spawn(async move { api.drive().await })
    };
    // the auto-sync schedule, as in the desktop app; ends at the engine's shutdown
    let schedule = {
        let api = api.clone();
        tokio::spawn(async move { api.run_auto_sync().await })
    };
    let forwarder = match api.take_events() {
        Some(rx) => Some(tokio::spawn(live::run_forwarder(api.clone(), rx, hub))),
        None => {
            tracing::warn!("the event stream was taken already: no live events");
            None
        }
    };
    let app = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let stopping = stop.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: live streams end, transfers stop");
            stopping.cancel();
        })
        .await;
    stop.cancel();
    api.shutdown(SHUTDOWN_WAIT).await;
    let _ = driver.await;
    let _ = schedule.await;
    if let Some(f) = forwarder {
        f.abort();
    }
    served
}

/// Resolves at Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
