//! The sync of a playlist of kind yt-dlp (a channel or playlist; `store::ytdlp`): yt-dlp lists
//! it (`download::ytdlp_list::list`, `--flat-playlist -j --lazy-playlist`), one JSON line per
//! entry as it pages through, under the subprocess watchdog; entries go to the catalog in
//! batches of [`BATCH`], each batch with the listing's checkpoint in one transaction.
//!
//! A sync makes up to two passes, so a channel of 200,000 entries is listed whole once:
//! 1. the head pass, when the playlist was listed before: from index 1 until the first entry
//!    that is already a member (yt-dlp's `--break-on-existing`, with the catalog as the
//!    archive), then yt-dlp is stopped; the new entries are newer than everything listed and
//!    go first. A channel with nothing new costs one page.
//! 2. the listing pass, from the checkpoint (`next_index`, [`OVERLAP`] entries back, as
//!    entries removed meanwhile move the rest up) to the end, committing a checkpoint every
//!    batch: a sync cut short (crash, cancel, stall, deadline) continues from there next
//!    time instead of from the start. Once the listing reached the end and the playlist is
//!    known to list its newest first (a channel), this pass is skipped; a playlist that adds
//!    at its end (oldest first) gets its new entries from here.
//!
//! Failures are classed (`download::ytdlp_errors`): transient ones (5xx, timeouts, stalls) are
//! retried up to `max_attempts` times, resuming from the checkpoint; an HTTP 429 holds every
//! run of that extractor (`ExtractorBackoff`) and is retried after the window; final ones
//! (private, removed, geo-blocked, members-only, sign-in, unsupported) fail the playlist with
//! yt-dlp's message and their class, stored on the playlist.

use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use crate::catalog::ytdlp::{parse_line, YtDlpEntry};
use crate::download::resolve::ytdlp::{find_binary, limits};
use crate::download::ytdlp_errors::site_of;
use crate::download::ytdlp_list::{list, ListError};
use crate::store::jobs::WorkEnd;
use crate::store::ytdlp::YtDlpBatch;
use crate::store::{PlaylistRow, YtDlpSourceRow};

/// Entries per committed batch of the listing pass.
pub const BATCH: usize = 50;

/// Entries the listing pass starts before its checkpoint (module docs).
pub const OVERLAP: u64 = 10;

/// What a sync did, for the work item's line.
#[derive(Debug, Default)]
struct Tally {
    new_items: u32,
    listed: u64,
    skipped: Vec<String>,
    title: Option<String>,
}

/// Syncs yt-dlp playlist `id` (module docs) and ends its work item. Errors: the store's.
pub(super) async fn sync_one(
    cx: &Context,
    ctx: &JobCtx,
    stage: u8,
    id: u64,
    row: PlaylistRow,
    source: YtDlpSourceRow,
) -> Result<(), EngineError> {
    let job = ctx.job;
    let mut tally = Tally::default();
    let result = sync_passes(cx, ctx, id, &row, source, &mut tally).await;
    let now = cx.now();
    let title = tally.title.clone().unwrap_or_else(|| row.display_title().to_string());
    match result {
        Ok(Ok(state)) => {
            let mut line = format!("{} new of {} listed (yt-dlp{state})", tally.new_items, tally.listed);
            if !tally.skipped.is_empty() {
                line.push_str(&format!("; {} entries skipped: {}", tally.skipped.len(), tally.skipped[0]));
            }
            let total = cx
                .blocking(move |s| {
                    s.finish_ytdlp_sync(id, None, now)?;
                    s.finish_stage_item(job, stage, id, WorkEnd::done(line), now)?;
                    Ok(s.playlist(id)?.item_count)
                })
                .await?;
            cx.emit(Event::PlaylistSynced { job, playlist: id, title, new_items: tally.new_items, total });
        }
        Ok(Err(_)) if ctx.abort.is_cancelled() => {} // left running; the job re-queues it
        Ok(Err(e)) => {
            let reason = e.to_string();
            let line = format!("playlist {id} {}: {reason}", row.url);
            let (stored, kind) = (line.clone(), e.kind());
            cx.blocking(move |s| {
                s.finish_ytdlp_sync(id, Some((kind, &reason)), now)?;
                s.finish_stage_item(job, stage, id, WorkEnd::failed(stored), now)
            })
            .await?;
            cx.emit(Event::PlaylistFailed { job, playlist: id, error: line });
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The head and listing passes with retries; the outer error is the store's, the inner one
/// the listing's, and `Ok` carries the listing's state for the line.
async fn sync_passes(
    cx: &Context,
    ctx: &JobCtx,
    id: u64,
    row: &PlaylistRow,
    source: YtDlpSourceRow,
    tally: &mut Tally,
) -> Result<Result<String, SyncError>, EngineError> {
    let Some(binary) = find_binary(cx.config()) else {
        let why = match &cx.config().ytdlp_path {
            Some(p) => format!("yt-dlp not found at {} (settings: ytdlp_path)", p.display()),
            None => "yt-dlp not found on PATH (pipx install yt-dlp, or set ytdlp_path)".to_string(),
        };
        return Ok(Err(SyncError::Missing(why)));
    };
    let site = source.extractor.as_deref().map(site_of).unwrap_or_else(|| host_of(&row.url));
    let listed_before = row.item_count > 0;
    if listed_before {
        let run = Run { cx, ctx, binary: &binary, id, row, head: true };
        if let Err(e) = with_retries(&run, &site, tally).await? {
            return Ok(Err(e));
        }
    }
    let skip_listing = source.complete && source.newest_first == Some(true) && listed_before;
    if skip_listing {
        return Ok(Ok(", up to date".to_string()));
    }
    let run = Run { cx, ctx, binary: &binary, id, row, head: false };
    let result = with_retries(&run, &site, tally).await?;
    Ok(result.map(|()| ", listed to the end".to_string()))
}

/// Why a yt-dlp sync failed.
#[derive(Debug, thiserror::Error)]
enum SyncError {
    /// No yt-dlp binary (final until the user installs it).
    #[error("{0}")]
    Missing(String),
    /// The listing failed, with its class.
    #[error("{0}")]
    List(#[from] ListError),
    /// The listing failed on its last attempt after transient failures.
    #[error("{error} (attempt {attempt}/{max})")]
    Retried {
        /// The last attempt's failure.
        error: ListError,
        /// Attempts made.
        attempt: u32,
        /// `max_attempts`.
        max: u32,
    },
    /// Stopped by the job's cancel or shutdown.
    #[error("cancelled")]
    Cancelled,
}

impl SyncError {
    fn kind(&self) -> &'static str {
        match self {
            SyncError::Missing(_) => "yt-dlp missing",
            SyncError::List(e) | SyncError::Retried { error: e, .. } => e.kind(),
            SyncError::Cancelled => "cancelled",
        }
    }
}

/// The host of `url`, the back-off key before the extractor is known.
fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

/// Waits out `site`'s rate-limit window; `false` when the job was cancelled meanwhile.
pub(super) async fn wait_for_site(cx: &Context, ctx_abort: &CancellationToken, site: &str) -> bool {
    while let Some(until) = cx.ytdlp_backoff.blocked_until(site, cx.now()) {
        let wait = std::time::Duration::from_millis((until - cx.now()).max(1) as u64);
        tracing::info!(site, ?wait, "yt-dlp: waiting out a rate limit");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctx_abort.cancelled() => return false,
        }
    }
    true
}

/// One pass of a sync: what [`pass`] runs.
struct Run<'a> {
    cx: &'a Context,
    ctx: &'a JobCtx,
    binary: &'a std::path::Path,
    id: u64,
    row: &'a PlaylistRow,
    /// The head pass (from index 1, until a member), else the listing pass.
    head: bool,
}

/// Runs a pass up to `max_attempts` times while it fails transiently, `k * retry_backoff_ms`
/// apart, after a rate limit once the extractor's window has passed. Each attempt of the
/// listing pass starts from the checkpoint the previous one committed.
async fn with_retries(
    run: &Run<'_>,
    site: &str,
    tally: &mut Tally,
) -> Result<Result<(), SyncError>, EngineError> {
    let (cx, ctx, id) = (run.cx, run.ctx, run.id);
    let (max, backoff) = (cx.config().max_attempts.max(1), cx.config().retry_backoff_ms);
    let mut n = 1;
    loop {
        if !wait_for_site(cx, &ctx.abort, site).await {
            return Ok(Err(SyncError::Cancelled));
        }
        let start = if run.head {
            1
        } else {
            let next = cx.blocking(move |s| Ok(s.ytdlp_source(id)?.map_or(1, |r| r.next_index))).await?;
            next.saturating_sub(OVERLAP).max(1)
        };
        match pass(run, start, tally).await? {
            Ok(()) => {
                cx.ytdlp_backoff.succeeded(site);
                return Ok(Ok(()));
            }
            Err(SyncError::List(e)) if e.is_transient() && n < max && !ctx.abort.is_cancelled() => {
                tracing::warn!(site, attempt = n, error = %e, "yt-dlp listing failed; retrying");
                if e.kind() == "rate limited" {
                    cx.ytdlp_backoff.rate_limited(site, cx.now(), backoff);
                } else {
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_millis(backoff) * n) => {}
                        _ = ctx.abort.cancelled() => return Ok(Err(SyncError::Cancelled)),
                    }
                }
                n += 1;
            }
            Err(SyncError::List(error)) if n > 1 => {
                return Ok(Err(SyncError::Retried { error, attempt: n, max }));
            }
            Err(e) => {
                if e.kind() == "rate limited" {
                    cx.ytdlp_backoff.rate_limited(site, cx.now(), backoff);
                }
                return Ok(Err(e));
            }
        }
    }
}

/// One yt-dlp run from index `start`: the head pass (`head`, stops at the first member) or
/// the listing pass (batches with checkpoints, `complete` at the end).
async fn pass(run: &Run<'_>, start: u64, tally: &mut Tally) -> Result<Result<(), SyncError>, EngineError> {
    let Run { cx, ctx, binary, id, row, head } = *run;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let stop = ctx.abort.child_token();
    let limits = limits(cx.config(), std::time::Duration::MAX);
    let run = async {
        let on_stdout = move |chunk: &[u8]| {
            let _ = tx.send(chunk.to_vec());
        };
        let result = list(binary, &row.url, start, limits, &stop, &on_stdout).await;
        drop(on_stdout); // closes the channel: the consumer sees the end
        result
    };
    let consume = async {
        let pending = Mutex::new(Vec::<u8>::new());
        let mut batch =
            Batcher { cx, id, head, start, entries: Vec::new(), last_index: start.saturating_sub(1) };
        let mut found_member = false;
        while let Some(chunk) = rx.recv().await {
            let lines = split_lines(&pending, &chunk);
            for line in lines {
                if found_member {
                    break;
                }
                match parse_line(&line) {
                    Ok((entry, playlist)) => {
                        tally.listed += 1;
                        if tally.title.is_none() {
                            tally.title = playlist.title.clone();
                        }
                        if head {
                            let key = entry.key();
                            let known = cx.blocking(move |s| s.ytdlp_known(id, &[key])).await?;
                            if known[0] {
                                found_member = true;
                                stop.cancel(); // the rest is listed already
                                continue;
                            }
                        }
                        batch.push(entry, tally).await?;
                    }
                    Err(why) => tally.skipped.push(why),
                }
            }
        }
        Ok::<_, EngineError>((batch, found_member))
    };
    let (result, consumed) = tokio::join!(run, consume);
    let (mut batch, found_member) = consumed?;
    let finished = match result {
        Ok(true) => true,
        Ok(false) if found_member => false,
        Ok(false) => {
            // stopped by the job's cancel: keep what was committed, re-queue the rest
            return Ok(Err(SyncError::Cancelled));
        }
        Err(e) => {
            if !head {
                batch.flush(false, tally).await?; // keep what arrived before the failure
            }
            return Ok(Err(e.into()));
        }
    };
    batch.flush(finished && !head, tally).await?;
    Ok(Ok(()))
}

/// Complete lines of `chunk` after what `pending` held; the rest stays pending.
fn split_lines(pending: &Mutex<Vec<u8>>, chunk: &[u8]) -> Vec<String> {
    let mut pending = pending.lock().expect("lines lock");
    pending.extend_from_slice(chunk);
    let mut out = Vec::new();
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        let line = String::from_utf8_lossy(&line).trim().to_string();
        if !line.is_empty() {
            out.push(line);
        }
    }
    out
}

/// Entries waiting for their batch's commit.
struct Batcher<'a> {
    cx: &'a Context,
    id: u64,
    head: bool,
    start: u64,
    entries: Vec<YtDlpEntry>,
    /// The highest playlist index seen.
    last_index: u64,
}

impl Batcher<'_> {
    async fn push(&mut self, mut entry: YtDlpEntry, tally: &mut Tally) -> Result<(), EngineError> {
        let index = entry.index.unwrap_or(self.last_index + 1);
        entry.index = Some(index);
        self.last_index = self.last_index.max(index);
        self.entries.push(entry);
        // the head pass commits once at its end: its entries' positions go before the rest
        if !self.head && self.entries.len() >= BATCH {
            self.flush(false, tally).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, complete: bool, tally: &mut Tally) -> Result<(), EngineError> {
        if self.entries.is_empty() && !complete {
            return Ok(());
        }
        let batch = YtDlpBatch {
            entries: std::mem::take(&mut self.entries),
            head: self.head,
            next_index: (!self.head).then_some((self.last_index + 1).max(self.start)),
            complete,
            title: tally.title.clone(),
            extractor: None,
        };
        let (id, now) = (self.id, self.cx.now());
        let out = self.cx.blocking(move |s| s.apply_ytdlp_batch(id, &batch, now)).await?;
        tally.new_items += out.new_items.len() as u32;
        Ok(())
    }
}
