//! The sync stage: fetch each playlist in scope, parse it by content and write the result to
//! the catalog in one transaction per playlist. A playlist that cannot be fetched or parsed
//! fails alone, with the line `playlist <id> <url>: <reason>` stored on its work item and the
//! reason on the playlist; the other playlists go on. Up to `parallel_syncs` run at once;
//! their documents are parsed one at a time on the engine's parse thread (`parse_lane`), and
//! a document's items are written in one transaction with the response's validators and the
//! end of the playlist's work item (`Store::finish_sync`), which rewrites only what changed:
//! a deferred write, made durable by the store's writer within 500 ms (one fsync for many
//! playlists) and at the stage's end at the latest.
//! The document is then freed on the parse thread that allocated it (`parse_lane`).
//! A pause stops claiming; playlists being fetched finish. A fetch uses the transfer settings:
//! the `stall_timeout_ms` window, and up to `max_attempts` attempts for transient failures.
//! A refresh is conditional: a `304 Not Modified` is reported "unchanged" with no parse and no
//! write but the sync time. A feed that moved (permanent redirect, `itunes:new-feed-url`) is
//! stored under its new URL, the old one kept, the move noted in the work item's line. A
//! playlist of kind yt-dlp is listed by yt-dlp instead (`ytdlp_sync`).
//! Once a document is applied, its cover and first item images go to the art cache, which
//! fetches them in the background (`library::art`), and the playlist's downloaded files whose
//! tags no longer say what the catalog does are tagged again (`library::tagging`; only then
//! does the stage wait for a cover, the one those tags embed). No image or tag failure touches
//! the sync's outcome.

use tokio::task::JoinSet;

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use std::time::Duration;

use crate::catalog::fetch::{fetch_document_conditional, Fetched, Validators};
use crate::catalog::Document;
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind};

pub(super) async fn run(
    cx: &Context,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    cx.plan_stage(job, stage, StageKind::Sync, move |s| s.scope_playlists(&scope)).await?;

    let mut workers = JoinSet::new();
    for _ in 0..cx.config().parallel_syncs.max(1) {
        let (cx, ctx) = (cx.clone(), ctx.clone());
        workers.spawn(async move {
            while !ctx.stop.is_cancelled() {
                let Some((playlist, _held)) = super::reaper::claim_work(&cx, job, stage).await? else {
                    break;
                };
                sync_one(&cx, &ctx, stage, playlist).await?;
            }
            Ok::<(), EngineError>(())
        });
    }
    let mut result = Ok(());
    while let Some(ended) = workers.join_next().await {
        result = result.and(ended.map_err(|e| EngineError::Worker(e.to_string())).and_then(|r| r));
    }
    // what was synced is durable before the stage reports its counts
    cx.blocking(|s| s.persist()).await?;
    result?;
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}

async fn sync_one(cx: &Context, ctx: &JobCtx, stage: u8, id: u64) -> Result<(), EngineError> {
    let job = ctx.job;
    let (row, state, ytdlp) =
        cx.blocking(move |s| Ok((s.playlist(id)?, s.fetch_state(id)?, s.ytdlp_source(id)?))).await?;
    if let Some(source) = ytdlp {
        return super::ytdlp_sync::sync_one(cx, ctx, stage, id, row, source).await;
    }
    let known = Validators { etag: state.etag.clone(), last_modified: state.last_modified.clone() };
    let outcome = fetch_and_parse(cx, ctx, id, &row.url, &known).await;
    let now = cx.now();
    match outcome {
        Ok(Synced::Unchanged { notes }) => {
            let line = with_notes("unchanged (304 Not Modified)".to_string(), &notes);
            cx.blocking(move |s| {
                s.record_unchanged(id, now)?;
                s.finish_stage_item(job, stage, id, WorkEnd::done(line), now)
            })
            .await?;
            let title = row.display_title().to_string();
            cx.emit(Event::PlaylistSynced { job, playlist: id, title, new_items: 0, total: row.item_count });
        }
        Ok(Synced::Parsed { doc, validators, notes }) => {
            let title = doc.title.clone().unwrap_or_else(|| row.display_title().to_string());
            // parse warnings (folded duplicate ids, skipped entries) go into the line too
            let mut notes = notes;
            notes.extend(doc.warnings.iter().cloned());
            let images = crate::library::art::prefetch_list(&doc);
            let doc = std::sync::Arc::new(*doc);
            let shared = doc.clone();
            let line = move |out: &crate::store::items::SyncOutcome| {
                with_notes(format!("{} new of {}", out.new_items.len(), out.total), &notes)
            };
            let validators = (validators.etag, validators.last_modified);
            // a deferred write: a sync of a big catalog makes an fsync every 500 ms, not one per
            // feed; a crash loses at most that much sync work, whole playlists of it, which the
            // next run fetches again (nothing it queued for download: those writes are durable)
            let out =
                cx.blocking(move |s| s.finish_sync((job, stage, id), shared, validators, line, now)).await;
            // freed where it was allocated (parse_lane); the writer let go of its reference
            cx.parse_lane.discard(doc);
            let out = out?;
            cx.art.prefetch(images);
            // downloaded files whose tags no longer say what the catalog does: tagged again
            let library = cx.config().library.clone();
            if let Err(e) = crate::library::retag_playlist(cx.store(), &cx.art, &library, id, now).await {
                tracing::warn!(playlist = id, error = %e, "re-tagging failed");
            }
            cx.emit(Event::PlaylistSynced {
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
            cx.blocking(move |s| {
                s.record_sync_error(id, &reason, now)?;
                s.finish_stage_item(job, stage, id, WorkEnd::failed(stored), now)
            })
            .await?;
            cx.emit(Event::PlaylistFailed { job, playlist: id, error: line });
        }
    }
    Ok(())
}

/// What a fetch of a playlist's document came to.
enum Synced {
    /// `304 Not Modified`: nothing to parse or write.
    Unchanged { notes: Vec<String> },
    /// A document to apply, with the validators of the response it came in.
    Parsed { doc: Box<crate::catalog::ParsedPlaylist>, validators: Validators, notes: Vec<String> },
}

/// `line`, then each note after `; `.
fn with_notes(mut line: String, notes: &[String]) -> String {
    for note in notes {
        line.push_str("; ");
        line.push_str(note);
    }
    line
}

/// Fetches playlist `id` from `url` (conditionally, with `known` validators) and parses it.
/// Where the feed moved, the stored URL follows, with a note for the log: a permanent redirect
/// (`301`/`308`, RFC 9110 §15.4.2) at once, and `itunes:new-feed-url` (Apple's podcast spec)
/// once the new URL was fetched and read as a playlist. A temporary redirect (`302`/`307`)
/// changes nothing. A move the store refuses (the URL belongs to another playlist, or the
/// playlist lived there before: a loop) is noted and not followed.
async fn fetch_and_parse(
    cx: &Context,
    ctx: &JobCtx,
    id: u64,
    stored_url: &str,
    known: &Validators,
) -> Result<Synced, String> {
    let url = url::Url::parse(stored_url).map_err(|e| format!("invalid URL: {e}"))?;
    let mut notes = Vec::new();
    let fetched = fetch_with_retries(cx, ctx, &url, known).await?;
    if let Some(to) = &fetched.moved_to {
        notes.push(move_to(cx, id, to.as_str(), "permanent redirect").await);
    }
    if fetched.not_modified {
        return Ok(Synced::Unchanged { notes });
    }
    let final_url = fetched.final_url.clone().unwrap_or(url);
    let doc = parse_playlist(cx, fetched.body, final_url.clone()).await?;
    let announced = doc.new_feed_url.as_deref().and_then(|u| url::Url::parse(u).ok());
    if let Some(new_url) = announced.filter(|u| matches!(u.scheme(), "http" | "https") && *u != final_url) {
        let elsewhere = async {
            let moved = fetch_with_retries(cx, ctx, &new_url, &Validators::default()).await?;
            let url = moved.final_url.clone().unwrap_or_else(|| new_url.clone());
            Ok::<_, String>((parse_playlist(cx, moved.body, url).await?, moved.validators))
        };
        match elsewhere.await {
            Ok((new_doc, validators)) => {
                let note = move_to(cx, id, new_url.as_str(), "itunes:new-feed-url").await;
                let followed = note.starts_with("moved");
                notes.push(note);
                if followed {
                    return Ok(Synced::Parsed { doc: Box::new(new_doc), validators, notes });
                }
            }
            Err(e) => notes.push(format!("itunes:new-feed-url {new_url} not followed: {e}")),
        }
    }
    Ok(Synced::Parsed { doc: Box::new(doc), validators: fetched.validators, notes })
}

/// Moves playlist `id` to `to` in the store; returns the note for the log.
async fn move_to(cx: &Context, id: u64, to: &str, why: &'static str) -> String {
    let (target, now) = (to.to_owned(), cx.now());
    match cx.blocking(move |s| s.move_playlist(id, &target, why, now)).await {
        Ok(true) => {
            tracing::info!(playlist = id, to, why, "playlist moved");
            format!("moved to {to} ({why})")
        }
        Ok(false) => format!("already at {to}"),
        Err(e) => format!("not moved to {to} ({why}): {e}"),
    }
}

/// Parses a fetched document as a playlist on the engine's parse thread (`parse_lane`: one
/// document at a time); an OPML list is refused with a hint. A panic inside the parser
/// (third-party code) fails this playlist only, with the panic's message, never the worker or
/// the job.
async fn parse_playlist(
    cx: &Context,
    bytes: Vec<u8>,
    url: url::Url,
) -> Result<crate::catalog::ParsedPlaylist, String> {
    let parser = cx.parser;
    let parsed = cx
        .parse_lane
        .run(move || parser(bytes, &url))
        .await
        .map_err(|what| format!("the feed parser crashed on this document: {what}"))?;
    match parsed.map_err(|e| e.to_string())? {
        Document::Playlist(doc) => Ok(doc),
        Document::Subscriptions(subs) => Err(format!(
            "an OPML subscription list of {} feeds, not a playlist; add it with `catalog-sync import`",
            subs.len()
        )),
    }
}

/// Fetches a playlist document within the configured limits (stall window `stall_timeout_ms`,
/// `document_deadline_ms`, `document_max_bytes`), with up to `max_attempts` attempts for transient failures (5xx, 429,
/// resets, short bodies, stalls), `k * retry_backoff_ms` apart; a cancel ends it at once.
/// The error is the last attempt's, with `(attempt k/n)` once it was retried.
async fn fetch_with_retries(
    cx: &Context,
    ctx: &JobCtx,
    url: &url::Url,
    known: &Validators,
) -> Result<Fetched, String> {
    let c = cx.config();
    let (limits, max_attempts) = (c.document_limits(), c.max_attempts.max(1));
    let mut attempt = 1;
    loop {
        let result = tokio::select! {
            r = fetch_document_conditional(&cx.documents, url, &limits, known) => r,
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
