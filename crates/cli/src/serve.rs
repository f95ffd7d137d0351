//! `catalog-sync serve` (with the `serve` feature): prepares the config (token, private-address
//! default; `catalog_sync_server::setup`), opens the catalog with the config file as the place
//! settings are saved, binds, prints where to log in, serves the control socket (as a `run`
//! does, so `catalog-sync jobs`, `pause`... from a terminal reach it), and serves until Ctrl-C or SIGTERM
//! (`catalog_sync_server::serve`), which stops transfers so their partial files resume at the
//! next start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use catalog_sync_core::api::Api;
use catalog_sync_core::clock::SystemClock;
use catalog_sync_core::config::Config;
use catalog_sync_server::auth::{Auth, HostPolicy};
use catalog_sync_server::setup::{login_url, prepare_config};

/// Serves `config` on `listen`; the token lives in `config_path`. Errors: the token cannot be
/// saved, the catalog cannot be opened, the address cannot be bound.
pub async fn serve(
    mut config: Config,
    config_path: Option<PathBuf>,
    listen: SocketAddr,
) -> anyhow::Result<()> {
    let prepared = prepare_config(&mut config, config_path.as_deref(), listen)?;
    let hosts = HostPolicy::new(&config.serve_hosts);
    let api = Api::open_system(config, config_path.clone())?;
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr()?;
    let file = config_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    eprintln!("catalog-sync serve: listening on http://{bound}/");
    if prepared.created {
        eprintln!("created an access token (saved as serve_token in {file}); log in once with:");
        eprintln!("  {}", login_url(bound, &prepared.token));
    } else {
        eprintln!(
            "log in with the token saved as serve_token in {file} (scripts: Authorization: Bearer <token>)"
        );
    }
    if prepared.blocks_private {
        eprintln!("block_private_addresses is on: feeds and media on private addresses are refused");
    }
    // `catalog-sync jobs|pause|resume|...` from a terminal reach this process as during a `run`
    let _control = crate::control::serve(crate::control::socket_path(api.database_path()), api.clone())
        .map_err(|e| tracing::warn!(error = %e, "no control socket"))
        .ok();
    let auth = Auth::new(prepared.token, hosts, Arc::new(SystemClock));
    catalog_sync_server::serve(api, auth, listener, catalog_sync_server::shutdown_signal()).await?;
    eprintln!("catalog-sync serve: stopped");
    Ok(())
}
