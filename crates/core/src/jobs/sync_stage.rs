//! The sync stage: fetch each playlist in scope, parse it by content and write the result to
//! the catalog in one transaction per playlist. A playlist that cannot be fetched or parsed
//! fails alone, with the line `playlist <id> <url>: <reason>` stored on its work item and the
//! reason on the playlist; the other playlists go on. Up to `parallel_syncs` run at once.
//! A pause stops claiming; playlists being fetched finish. A fetch uses the transfer settings:
//! the `stall_timeout_ms` window, and up to `max_attempts` attempts for transient failures.

use tokio::task::JoinSet;

use super::events::Event;
use super::runner::{Engine, EngineError, JobCtx};
use std::time::Duration;

use crate::catalog::fetch::fetch_document_within;
use crate::catalog::{parse_document, Document};
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind};

pub(super) async fn run(
    engine: &Engine,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    engine.plan_stage(job, stage, StageKind::Sync, move |s| s.scope_playlists(&scope)).await?;

    let mut workers = JoinSet::new();
    for _ in 0..engine.config().parallel_syncs.max(1) {
        let (engine, ctx) = (engine.clone(), ctx.clone());
        workers.spawn(async move {
            while !ctx.stop.is_cancelled() {
                let Some((playlist, _held)) = engine.claim_work(job, stage).await? else { break };
                sync_one(&engine, &ctx, stage, playlist).await?;
            }
            Ok::<(), EngineError>(())
        });
    }
    while let Some(result) = workers.join_next().await {
        result.map_err(|e| EngineError::Worker(e.to_string()))??;
    }
    engine.blocking(move |s| s.stage_counts(job, stage)).await
}

async fn sync_one(engine: &Engine, ctx: &JobCtx, stage: u8, id: u64) -> Result<(), EngineError> {
    let job = ctx.job;
    let row = engine.blocking(move |s| s.playlist(id)).await?;
    let outcome = async {
        let url = url::Url::parse(&row.url).map_err(|e| format!("invalid URL: {e}"))?;
        let (bytes, final_url) = fetch_with_retries(engine, ctx, &url).await?;
        match parse_document(&bytes, &final_url).map_err(|e| e.to_string())? {
            Document::Playlist(doc) => Ok(doc),
            Document::Subscriptions(subs) => Err(format!(
                "an OPML subscription list of {} feeds, not a playlist; add it with `catalog-sync import`",
                subs.len()
            )),
        }
    }
    .await;
    let now = engine.now();
    match outcome {
        Ok(doc) => {
            let title = doc.title.clone().unwrap_or_else(|| row.display_title().to_string());
            // Parse warnings (folded duplicate ids, skipped entries) go into the job log line.
            let notes: String = doc.warnings.iter().map(|w| format!("; {w}")).collect();
            let out = engine
                .blocking(move |s| {
                    let out = s.apply_sync(id, &doc, now)?;
                    s.finish_stage_item(
                        job,
                        stage,
                        id,
                        WorkEnd::done(format!("{} new of {}{notes}", out.new_items.len(), out.total)),
                        now,
                    )?;
                    Ok(out)
                })
                .await?;
            engine.emit(Event::PlaylistSynced {
                job,
                playlist: id,
                title,
                new_items: out.new_items.len() as u32,
                total: out.total,
            });
        }
        Err(_) if ctx.abort.is_cancelled() => {} // left running; the job re-queues it
        Err(reason) => {
            let line = format!("playlist {id} {}: {reason}", row.url);
            let stored = line.clone();
            engine
                .blocking(move |s| {
                    s.record_sync_error(id, &reason, now)?;
                    s.finish_stage_item(job, stage, id, WorkEnd::failed(stored), now)
                })
                .await?;
            engine.emit(Event::PlaylistFailed { job, playlist: id, error: line });
        }
    }
    Ok(())
}

/// Fetches a playlist document with the transfer settings: a stall window of
/// `stall_timeout_ms`, and up to `max_attempts` attempts for transient failures (5xx, 429,
/// resets, short bodies, stalls), `k * retry_backoff_ms` apart; a cancel ends it at once.
/// The error is the last attempt's, with `(attempt k/n)` once it was retried.
async fn fetch_with_retries(
    engine: &Engine,
    ctx: &JobCtx,
    url: &url::Url,
) -> Result<(Vec<u8>, url::Url), String> {
    let c = engine.config();
    let (stall, max_attempts) = (Duration::from_millis(c.stall_timeout_ms), c.max_attempts.max(1));
    let mut attempt = 1;
    loop {
        let result = tokio::select! {
            r = fetch_document_within(engine.client(), url, stall) => r,
            _ = ctx.abort.cancelled() => return Err("cancelled".to_string()),
        };
        match result {
            Ok(fetched) => return Ok(fetched),
            Err(e) if e.is_transient() && attempt < max_attempts => {
                tracing::warn!(%url, attempt, error = %e, "playlist fetch failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(c.retry_backoff_ms) * attempt) => {}
                    _ = ctx.abort.cancelled() => return Err("cancelled".to_string()),
                }
                attempt += 1;
            }
            Err(e) if attempt > 1 => return Err(format!("{e} (attempt {attempt}/{max_attempts})")),
            Err(e) => return Err(e.to_string()),
        }
    }
}
