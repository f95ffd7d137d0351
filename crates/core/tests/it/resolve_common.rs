//! Helpers of the resolver tests: a resolve context over loopback with a manual clock, and
//! settings that never reach a real index API, yt-dlp binary or agent.

use std::path::PathBuf;
use std::sync::Arc;

use catalog_sync_core::clock::ManualClock;
use catalog_sync_core::config::Config;
use catalog_sync_core::download::build_client;
use catalog_sync_core::download::resolve::http::Http;
use catalog_sync_core::download::resolve::{Found, ResolveCtx, Source, SourceError};
use catalog_sync_core::store::ItemRow;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The manual clock's start: 2023-11-14T22:13:20Z, so `X-Auth-Date` is `1700000000`.
pub const CLOCK_MS: i64 = 1_700_000_000_000;

/// Every outside source off or pointed at a closed loopback port.
pub fn offline_config() -> Config {
    Config {
        fyyd_enabled: false,
        fyyd_base_url: "http://127.0.0.1:9".into(),
        podcastindex_base_url: "http://127.0.0.1:9".into(),
        ytdlp_path: Some(PathBuf::from("/nonexistent/yt-dlp")),
        agent_base_url: None,
        ..Config::default()
    }
}

/// A context over `config` for an item of the feed at `feed_url`.
pub fn ctx(config: Config, feed_url: Option<Url>, feed_title: Option<&str>) -> ResolveCtx {
    ResolveCtx {
        client: build_client(&config.user_agent),
        config: Arc::new(config),
        clock: Arc::new(ManualClock::new(CLOCK_MS)),
        cancel: CancellationToken::new(),
        feed_url,
        feed_title: feed_title.map(str::to_string),
    }
}

/// Runs one source as the cascade would, with its own request budget.
pub async fn run_source(source: &dyn Source, item: &ItemRow, ctx: &ResolveCtx) -> Result<Found, SourceError> {
    source.suitable(item, ctx).map_err(SourceError::Tool)?;
    let http = Http::new(ctx.client.clone(), source.limits().max_requests, ctx.cancel.clone());
    source.resolve(item, ctx, &http).await
}

/// URLs of the candidates found.
pub fn urls(found: &Found) -> Vec<String> {
    found.candidates.iter().map(|c| c.url.to_string()).collect()
}
