//! The download stage: two pools joined by a bounded ready queue (see [`super::pools`]).
//! Resolvers (`resolve-1`...) claim work items from the store, skip items already downloaded
//! (done as "already downloaded"), resolve candidate URLs through the cascade
//! (`download::resolve`) and a library path from the name template, and hand a [`Ready`]
//! transfer to the queue (capacity 2 x downloaders). Downloaders (`download-1`...) take
//! transfers, hold a per-host connection slot, and move the bytes with
//! `download::fetch_to_file` (`.part`, resume, size check, fsync, atomic rename) or yt-dlp
//! (`download::ytdlp_fetch`; an item of a yt-dlp playlist goes to yt-dlp directly, without
//! the cascade: `ytdlp_download`),
//! verify them against the candidate (exact length, `podcast:integrity`), and try the next
//! candidate when one fails with an expected error. A URL found past the known enclosure
//! replaces the stale one in the catalog once its bytes are in; an item no source serves ends
//! with a stored `DownloadFailed` naming every source tried. The file row and the work item's end
//! are written in one transaction, so an item is never fetched twice and a crash loses nothing.
//! Resolvers claim up to `-j` items in one store write ([`next_claim`]); a downloader queues
//! its file's write and hands the rest (awaiting that commit, tags, events) to the stage's
//! finishing tasks ([`super::finishers`]). That write is deferred (`Store::finish_download_async`):
//! committed at once and made durable within the writer's window, many items per fsync, the
//! file's folder fsynced by the writer before (once per durable commit), so its name is durable
//! before its row. A crash before that leaves the item claimed and the file complete, which
//! the next run adopts; a folder that cannot be fsynced fails the item (or, past its own
//! commit, is logged).
//!
//! Pause (`stop`) ends claiming; transfers already running finish, queued ones go back to the
//! store's queue. Cancel and shutdown (`abort`) end transfers at once; partial files stay for
//! a resume. Resolvers beyond the first stand by until the ready queue runs empty
//! (`pools::PoolSplit`).
//!
//! A claimed item is held live (`reaper::LiveWork`) until it ends, so the reaper spares it; a
//! transfer stamps the item's heartbeat as it starts and while bytes flow (`reaper::ItemBeat`),
//! registers the job's reference and runs under its own token (`refs`): a job's cancel stops
//! it only when no selected playlist still wants the item, which then ends `cancelled`. The
//! file goes to the first library root with room (`placement`); a full disk fails the item
//! with the class `disk_full`.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::{Event, ItemOutcome};
use super::export_hooks::PlaylistExporter;
use super::fetch_candidates::{dest_in, fetch_candidates, remove_part, Fetched};
use super::finishers::Finishers;
use super::placement;
use super::pools::{pool_split, WorkerLive};
use super::reaper::{claim_works, ItemBeat, LiveWork};
use super::throughput;
use crate::download::hedge::Hedge;
use crate::download::naming::{numbered, render_relative_path, safe_join, unique_path, NameVars};
use crate::download::resolve::check::sha256_file;
use crate::download::resolve::{Candidate, Cascade, DownloadFailed, Resolution, ResolveCtx, Walk};
use crate::download::{inspect_part_blocking, part_path, PartState, TransferOptions, TransferProgress};
use crate::store::jobs::WorkEnd;
use crate::store::refs::Holder;
use crate::store::{FileRow, ItemRow, StageCounts, StageKind, StoreError, WorkStatus};
use std::sync::atomic::Ordering;

/// A resolved item waiting for a downloader.
#[derive(Debug)]
struct Ready {
    item: u64,
    playlist: u64,
    title: String,
    candidates: Vec<Candidate>,
    /// Where the cascade's walk stands, to continue it if every candidate fails.
    walk: Walk,
    /// The item and what its sources may use, for that continuation.
    row: ItemRow,
    resolve_ctx: ResolveCtx,
    rel: String,
    /// The part of `rel` under the default library root, as the path choice found it.
    part: Option<PartState>,
}

/// What a stage's workers share.
struct Shared {
    cx: Context,
    ctx: JobCtx,
    stage: u8,
    cascade: Cascade,
    /// Settings as the cascade's sources read them.
    resolve_config: Arc<crate::config::Config>,
    /// Library-relative paths held by items in flight and not yet recorded in the store.
    reserved: Arc<super::placement::ReservedPaths>,
    /// Refreshes M3U files of playlists whose items completed.
    exporter: PlaylistExporter,
    /// The playlists' file-system names (`export::playlist_file_stems`, the `{playlist}` of
    /// the name template), read once and again only when an item's playlist is not among
    /// them: a playlist renamed while the stage runs keeps its old folder for the stage's
    /// remaining items (the library's organize moves them).
    stems: std::sync::Mutex<BTreeMap<u64, String>>,
    /// Items claimed and not yet taken by a resolver: claims are made `claim_batch` at a time,
    /// one store write for each batch ([`next_claim`]).
    claimed: tokio::sync::Mutex<VecDeque<(u64, LiveWork)>>,
    claim_batch: usize,
    /// Records, tags and announces fetched files while their downloaders move on.
    finishers: Finishers,
}

pub(super) async fn run(
    cx: &Context,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    cx.plan_stage(job, stage, StageKind::Download, move |s| {
        // the job wants what it plans: its references, registered idempotently each run
        let targets = s.pending_downloads(&scope)?;
        s.add_references(&targets, Holder::Job(job))?;
        Ok(targets)
    })
    .await?;

    let exporter = PlaylistExporter::spawn(cx, job);
    let split = pool_split(cx.config().parallel_downloads);
    let shared = Arc::new(Shared {
        cx: cx.clone(),
        ctx: ctx.clone(),
        stage,
        cascade: Cascade::standard(),
        resolve_config: Arc::new(cx.config().clone()),
        reserved: Arc::default(),
        exporter,
        stems: Default::default(),
        claimed: Default::default(),
        claim_batch: split.downloaders.clamp(1, MAX_CLAIM_BATCH),
        finishers: Finishers::new(2 * split.downloaders),
    });
    let mut lives = Vec::new();
    let mut workers = JoinSet::new();
    let (tx, rx) = mpsc::channel::<(Ready, LiveWork)>(2 * split.downloaders);
    let queue = Arc::new(ReadyQueue { rx: tokio::sync::Mutex::new(rx), starved: Notify::new() });
    for n in 1..=split.resolvers {
        let live = Arc::new(WorkerLive::new(format!("resolve-{n}")));
        lives.push(live.clone());
        workers.spawn(resolver(shared.clone(), live, tx.clone(), queue.clone(), n > 1));
    }
    drop(tx);
    for n in 1..=split.downloaders {
        let live = Arc::new(WorkerLive::new(format!("download-{n}")));
        lives.push(live.clone());
        workers.spawn(downloader(shared.clone(), live, queue.clone()));
    }
    let sampler = throughput::spawn_sampler(cx.clone(), job, stage, lives.clone());
    let mut result = Ok(());
    while let Some(joined) = workers.join_next().await {
        let outcome = joined.map_err(|e| EngineError::Worker(e.to_string())).and_then(|r| r);
        if let Err(e) = outcome {
            ctx.abort.cancel();
            result = result.and(Err(e));
        }
    }
    result = result.and(shared.finishers.finish().await);
    sampler.finish().await?;
    if let Some(shared) = Arc::into_inner(shared) {
        shared.exporter.finish().await;
    }
    result?;
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}

fn transfer_options(cx: &Context) -> TransferOptions {
    let c = cx.config();
    TransferOptions {
        stall_timeout: Duration::from_millis(c.stall_timeout_ms),
        connect_timeout: Duration::from_millis(c.connect_timeout_ms),
        max_attempts: c.max_attempts.max(1),
        retry_backoff: Duration::from_millis(c.retry_backoff_ms),
        deadline: Duration::from_millis(c.transfer_deadline_ms),
        bandwidth: cx.bandwidth.clone(),
        space: Some(cx.space.clone()),
        // the store's writer fsyncs the folder before the durable commit that persists the
        // file's row (`Store::finish_download_async`), once for all the rows it persists
        sync_dir: false,
        hedge: (c.hedge_after_ms > 0).then(|| Hedge {
            min_silence: Duration::from_millis(c.hedge_after_ms),
            ..Hedge::new(cx.host_activity.clone())
        }),
    }
}

/// The ready queue's receiving side, shared by the downloaders, and the signal that it ran
/// empty (standby resolvers wait for it).
struct ReadyQueue {
    rx: tokio::sync::Mutex<mpsc::Receiver<(Ready, LiveWork)>>,
    starved: Notify,
}

/// A resolver; a `standby` one claims work only while the ready queue is empty (see
/// [`super::pools::PoolSplit`]).
async fn resolver(
    shared: Arc<Shared>,
    live: Arc<WorkerLive>,
    tx: mpsc::Sender<(Ready, LiveWork)>,
    queue: Arc<ReadyQueue>,
    standby: bool,
) -> Result<(), EngineError> {
    let (cx, job, stage) = (&shared.cx, shared.ctx.job, shared.stage);
    while !shared.ctx.stop.is_cancelled() {
        if standby && !wait_until_starved(&shared, &tx, &queue).await {
            break;
        }
        let Some((item, held)) = next_claim(&shared).await? else { break };
        let Some(ready) = resolve(&shared, &live, item).await? else { continue };
        let rel = ready.rel.clone();
        let delivered = tokio::select! {
            biased;
            sent = tx.send((ready, held)) => sent.is_ok(),
            _ = shared.ctx.stop.cancelled() => false,
        };
        if !delivered {
            let now = cx.now();
            shared.reserved.release(&rel);
            cx.store().release_stage_item_async(job, stage, item, now).await?;
            break;
        }
    }
    live.stop();
    Ok(())
}

/// Most work items claimed in one store write.
const MAX_CLAIM_BATCH: usize = 32;

/// The next claimed item for a resolver, from [`Shared::claimed`]; when that is empty, up to
/// `claim_batch` queued items are claimed in one store write first (one commit instead of one
/// per item). `None` when nothing is queued. Claimed items wait there as running, held live
/// (the reaper spares them); a stop leaves them to the job's requeue of its running items.
async fn next_claim(shared: &Shared) -> Result<Option<(u64, LiveWork)>, EngineError> {
    let mut claimed = shared.claimed.lock().await;
    if claimed.is_empty() {
        let (job, stage) = (shared.ctx.job, shared.stage);
        claimed.extend(claim_works(&shared.cx, job, stage, shared.claim_batch).await?);
    }
    Ok(claimed.pop_front())
}

/// Waits until the ready queue is empty; `false` when the stage stops first.
async fn wait_until_starved(
    shared: &Shared,
    tx: &mpsc::Sender<(Ready, LiveWork)>,
    queue: &ReadyQueue,
) -> bool {
    loop {
        let starved = queue.starved.notified();
        tokio::pin!(starved);
        starved.as_mut().enable(); // before the check, so a signal in between is not lost
        if tx.capacity() == tx.max_capacity() {
            return true;
        }
        tokio::select! {
            _ = starved => {}
            _ = shared.ctx.stop.cancelled() => return false,
        }
    }
}

async fn downloader(
    shared: Arc<Shared>,
    live: Arc<WorkerLive>,
    queue: Arc<ReadyQueue>,
) -> Result<(), EngineError> {
    loop {
        let next = tokio::select! {
            next = async {
                let mut rx = queue.rx.lock().await;
                let next = rx.recv().await;
                if rx.is_empty() {
                    queue.starved.notify_waiters();
                }
                next
            } => next,
            _ = shared.ctx.abort.cancelled() => None,
        };
        let Some((ready, held)) = next else { break };
        if shared.ctx.stop.is_cancelled() {
            // paused: what is still queued goes back to the store's queue, untouched
            let (job, stage, item, now) = (shared.ctx.job, shared.stage, ready.item, shared.cx.now());
            shared.reserved.release(&ready.rel);
            shared.cx.store().release_stage_item_async(job, stage, item, now).await?;
            continue;
        }
        download(&shared, &live, ready, held).await?;
    }
    live.stop();
    Ok(())
}

/// Resolves a claimed item: `None` when it ended here (already downloaded, or no source).
async fn resolve(shared: &Shared, live: &WorkerLive, item_id: u64) -> Result<Option<Ready>, EngineError> {
    let cx = &shared.cx;
    let (playlist, file, item) = cx.read_now(|s| {
        let item = s.item(item_id)?;
        Ok((s.playlist(item.playlist_id)?, s.item_file(item_id)?, item))
    })?;
    let stem = playlist_stem(shared, item.playlist_id).await?;
    let title = item.title.clone().unwrap_or_else(|| format!("item {item_id}"));
    live.begin(item_id, &title);
    if file.is_some() {
        finish(shared, item_id, WorkEnd::skipped("already downloaded")).await?;
        cx.emit(Event::DownloadFinished {
            job: shared.ctx.job,
            item: item_id,
            title,
            outcome: ItemOutcome::AlreadyDownloaded,
        });
        live.end(false);
        return Ok(None);
    }
    let ctx = ResolveCtx {
        client: cx.client().clone(),
        config: shared.resolve_config.clone(),
        clock: cx.clock.clone(),
        cancel: shared.ctx.abort.clone(),
        feed_url: url::Url::parse(&playlist.url).ok(),
        feed_title: playlist.title.clone(),
    };
    // an item of a yt-dlp playlist goes to yt-dlp directly (`ytdlp_download`)
    let direct = super::ytdlp_download::direct(cx, &shared.cascade, item_id, &item, &shared.resolve_config)?;
    let resolution = match direct {
        Some(resolution) => resolution,
        None => shared.cascade.resolve(item_id, &item, &ctx).await,
    };
    let (candidates, walk) = match resolution {
        Resolution::Found { candidates, walk } => (candidates, walk),
        Resolution::Failed(failed) => {
            fail_download(shared, live, title, failed).await?;
            return Ok(None);
        }
        Resolution::Cancelled => {
            let (job, stage, now) = (shared.ctx.job, shared.stage, cx.now());
            cx.store().release_stage_item_async(job, stage, item_id, now).await?;
            live.end(false);
            return Ok(None);
        }
    };
    let vars = NameVars {
        playlist: stem,
        title: title.clone(),
        published: item.published,
        item_key: item.key.clone(),
        enclosure_url: super::ytdlp_download::naming_url(&candidates[0]),
        mime_type: candidates[0].mime_type.clone(),
    };
    // the template's path for this item, rendered once for both steps below
    let rendered = match render_relative_path(&cx.config().name_template, &vars) {
        Ok(rendered) => rendered,
        Err(e) => {
            fail(shared, live, item_id, title, e.to_string()).await?;
            return Ok(None);
        }
    };
    // one lstat: nothing under that name (the common case) needs no adoption check and no
    // second look in the path choice
    let absent = safe_join(&cx.config().library, &rendered).is_ok_and(|abs| {
        std::fs::symlink_metadata(abs).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    });
    if !absent {
        let declared = item.enclosure.as_ref().and_then(|e| e.length).filter(|&len| len > 0);
        if let Some(outcome) =
            adopt_completed_file(shared, item_id, &rendered, &candidates[0], declared).await?
        {
            cx.emit(Event::DownloadFinished { job: shared.ctx.job, item: item_id, title, outcome });
            shared.exporter.item_completed(item.playlist_id);
            live.end(false);
            return Ok(None);
        }
    }
    let (rel, part) = match choose_path(shared, rendered, absent).await? {
        Ok(chosen) => chosen,
        Err(e) => {
            fail(shared, live, item_id, title, e).await?;
            return Ok(None);
        }
    };
    cx.emit(Event::ItemResolved {
        job: shared.ctx.job,
        item: item_id,
        worker: live.name.clone(),
        url: candidates[0].url.to_string(),
    });
    live.end(false);
    Ok(Some(Ready {
        item: item_id,
        playlist: item.playlist_id,
        title,
        candidates,
        walk,
        row: item,
        resolve_ctx: ctx,
        rel,
        part,
    }))
}

/// The file-system name of playlist `id` from the stage's [`Shared::stems`], read again (on
/// the blocking pool: it reads every playlist) when `id` is not among them.
async fn playlist_stem(shared: &Shared, id: u64) -> Result<String, EngineError> {
    let known = shared.stems.lock().expect("stems lock").get(&id).cloned();
    if let Some(stem) = known {
        return Ok(stem);
    }
    let fresh = shared.cx.blocking(crate::export::playlist_file_stems).await?;
    let stem = fresh.get(&id).cloned();
    *shared.stems.lock().expect("stems lock") = fresh;
    stem.ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() }.into())
}

/// The item's library-relative path: `rel`, the template's path, made unique
/// (`naming::unique_path`) against files recorded in the store, files on disk and paths other
/// workers hold right now (the chosen one is reserved in `reserved`). In the same blocking
/// call, the chosen file's directory is made and its part read, for the transfer's first
/// attempt (`None` when that failed: the transfer then tries again and reports it). `absent`:
/// the caller just found nothing on disk under `rel` itself (it is not looked at again).
async fn choose_path(
    shared: &Shared,
    rel: PathBuf,
    absent: bool,
) -> Result<Result<(String, Option<PartState>), String>, EngineError> {
    let (root, reserved) = (shared.cx.config().library.clone(), shared.reserved.clone());
    let known_absent = absent.then(|| safe_join(&root, &rel).ok()).flatten();
    shared
        .cx
        .blocking(move |s| {
            let failed = std::cell::RefCell::new(None);
            let chosen = unique_path(&root, &rel, |abs| {
                let Ok(candidate) = abs.strip_prefix(&root).map(slash_path) else { return true };
                match s.file_path_taken(&candidate) {
                    Ok(recorded) => {
                        let on_disk = known_absent.as_deref() != Some(abs) && abs.exists();
                        recorded || on_disk || !reserved.reserve(&candidate)
                    }
                    Err(e) => {
                        *failed.borrow_mut() = Some(e);
                        false
                    }
                }
            });
            if let Some(e) = failed.into_inner() {
                return Err(e);
            }
            Ok(chosen
                .map(|abs| {
                    let part = inspect_part_blocking(&abs).ok();
                    (abs.strip_prefix(&root).map(slash_path).unwrap_or_default(), part)
                })
                .map_err(|e| e.to_string()))
        })
        .await
}

/// A relative path as the store records it: components joined by `/`.
fn slash_path(rel: &Path) -> String {
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Most ` (n)` names [`adopt_completed_file`] looks at.
const MAX_ADOPTED_SIBLINGS: u32 = 32;

/// Records a complete file a crashed run left under the item's own name instead of fetching it
/// again (and keeping a duplicate beside it as `name (2).ext`). A crash before the store
/// commit that records a transfer's file is durable leaves exactly that: `fetch_to_file`
/// renames only a verified, fsynced part, so a file under a final name is complete. A file is
/// adopted when it is a regular file that no item has recorded, no worker holds, and no `.part`
/// sits beside; it is hashed and recorded with the first candidate's URL as its source, when
/// it matches that candidate's declared length and `podcast:integrity` (if any). Where it is
/// looked for:
/// 1. when the feed declares the enclosure's length (`declared`, bytes): a file of exactly that
///    size under the path the template renders for this item (`rendered`) or under the
///    ` (n)` names the path choice gives next when that one is taken (`naming::unique_path`),
///    up to the first free one. Same-titled items share these names, and the size tells
///    their files apart;
/// 2. else any such file under `rendered` (a feed's declared length is advisory, and often
///    wrong).
///
/// Returns the outcome, `None` when there is nothing to adopt.
async fn adopt_completed_file(
    shared: &Shared,
    item: u64,
    rendered: &Path,
    candidate: &Candidate,
    declared: Option<u64>,
) -> Result<Option<ItemOutcome>, EngineError> {
    let library = shared.cx.config().library.clone();
    let Ok(first) = safe_join(&library, rendered) else { return Ok(None) };
    // step 2 looks at the template's name again only when step 1 passed it over for its size
    let mut first_other_size = true;
    if let Some(len) = declared {
        for n in 1..=MAX_ADOPTED_SIBLINGS {
            let abs = if n == 1 { first.clone() } else { numbered(&first, n) };
            match adopt_at(shared, item, (&library, &abs), candidate, Some(len)).await? {
                Adoption::Adopted(outcome) => return Ok(Some(outcome)),
                Adoption::Free => break, // the path choice stops at the first free name
                Adoption::OtherSize => {}
                Adoption::NotThis => first_other_size &= n > 1,
            }
        }
    }
    if !first_other_size {
        return Ok(None);
    }
    match adopt_at(shared, item, (&library, &first), candidate, None).await? {
        Adoption::Adopted(outcome) => Ok(Some(outcome)),
        Adoption::Free | Adoption::OtherSize | Adoption::NotThis => Ok(None),
    }
}

/// What one name held for [`adopt_completed_file`].
enum Adoption {
    /// This item's file, now recorded.
    Adopted(ItemOutcome),
    /// Nothing under that name.
    Free,
    /// A regular file of another size than the one asked for.
    OtherSize,
    /// Something that is not (or may not be) this item's file.
    NotThis,
}

/// Adopts the file at `abs` (under library root `library`) for `item` when it passes the checks
/// of [`adopt_completed_file`] and, when `size` is given, has exactly that many bytes.
async fn adopt_at(
    shared: &Shared,
    item: u64,
    (library, abs): (&Path, &Path),
    candidate: &Candidate,
    size: Option<u64>,
) -> Result<Adoption, EngineError> {
    let meta = match std::fs::metadata(abs) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Adoption::Free),
        Err(_) => return Ok(Adoption::NotThis),
    };
    if !meta.is_file() {
        return Ok(Adoption::NotThis);
    }
    if size.is_some_and(|len| len != meta.len()) {
        return Ok(Adoption::OtherSize);
    }
    let Ok(rel) = abs.strip_prefix(library).map(slash_path) else { return Ok(Adoption::NotThis) };
    if part_path(abs).is_some_and(|p| p.exists()) || !shared.reserved.reserve(&rel) {
        return Ok(Adoption::NotThis);
    }
    let probe = rel.clone();
    let adopted = async {
        if shared.cx.blocking(move |s| s.file_path_taken(&probe)).await? {
            return Ok(Adoption::NotThis);
        }
        let path = abs.to_path_buf();
        let hashed = tokio::task::spawn_blocking(move || sha256_file(&path))
            .await
            .map_err(|e| EngineError::Worker(e.to_string()))?;
        let Ok((size, sha256)) = hashed else { return Ok(Adoption::NotThis) };
        // a declared length or `podcast:integrity` the file does not match: not this episode's
        if candidate.verify(abs, size, &sha256, None).await.is_err() {
            return Ok(Adoption::NotThis);
        }
        let (job, stage, now) = (shared.ctx.job, shared.stage, shared.cx.now());
        let row =
            FileRow { path: rel.clone(), size, sha256, url: candidate.url.to_string(), downloaded_ms: now };
        let dir = abs.parent().map(Path::to_path_buf); // its rename was a crashed run's
        shared.cx.store().finish_download_async((job, stage, item), row, None, dir, now).await?;
        tracing::info!(item, path = %rel, "recorded a complete file left by an interrupted run");
        Ok(Adoption::Adopted(ItemOutcome::Downloaded { path: rel.clone(), bytes: size, resumed_from: size }))
    }
    .await;
    shared.reserved.release(&rel);
    adopted
}

async fn download(
    shared: &Arc<Shared>,
    live: &WorkerLive,
    ready: Ready,
    held: LiveWork,
) -> Result<(), EngineError> {
    let (cx, job, key) = (&shared.cx, shared.ctx.job, held.key());
    let Ready { item, playlist, title, candidates, walk, row, resolve_ctx, rel, part } = ready;
    live.begin(item, &title);
    cx.emit(Event::DownloadStarted { job, item, title: title.clone(), worker: live.name.clone() });
    // the job's reference and the transfer's own token: only the last reference stops it
    // the job's reference was registered when the stage was planned; its own token
    let transfer = super::refs::track_transfer(cx, item, key);
    let beat = ItemBeat::start(cx, key, held.claimed_ms());
    let roots = placement::roots(cx);
    let declared = row.enclosure.as_ref().and_then(|e| e.length);
    let first_part = part.as_ref().map(|p| p.len);
    let mut root = match placement::initial_root(cx.space.as_ref(), &roots, &rel, declared, first_part) {
        Ok(root) => root,
        Err(e) => {
            shared.reserved.release(&rel);
            return fail(shared, live, item, title, format!("{}: {e}", e.class())).await;
        }
    };
    let progress = |p: TransferProgress| {
        live.progress(p.downloaded, p.total, p.resumed_from);
        cx.emit(Event::DownloadProgress { job, item, downloaded: p.downloaded, total: p.total });
        beat.tick();
    };
    let options = transfer_options(cx);
    let fetch_job = super::fetch_candidates::Job {
        cx,
        cascade: &shared.cascade,
        ctx: &resolve_ctx,
        item_id: item,
        item: &row,
        roots: &roots,
        root: &mut root,
        rel: &rel,
        known_part: part,
        declared,
        options: &options,
        progress: &progress,
        cancel: &transfer.state.token,
    };
    // the name stays reserved until its file row is written (or the item ends otherwise): a
    // name released earlier could be chosen again, in another case, by another worker
    let held_name = shared.reserved.hold(&rel);
    let outcome = fetch_candidates(fetch_job, candidates, walk).await?;
    match outcome {
        Fetched::File(found) => {
            let (candidate, mut fetched) = *found;
            let rel_fetched = rel.clone();
            let rel = super::fetch_candidates::rename_for_media(
                cx,
                &shared.reserved,
                &roots[root],
                &rel,
                &candidate,
                &mut fetched,
            )
            .await?;
            let row = FileRow {
                path: rel.clone(),
                size: fetched.size,
                sha256: fetched.sha256_hex.clone(),
                url: candidate.url.to_string(),
                downloaded_ms: cx.now(),
            };
            let (stage, now) = (shared.stage, cx.now());
            let overflow = (root > 0).then(|| roots[root].clone());
            // queued now, in this order; the rest waits for its commit off this path. The
            // transfer left the rename(s) to the writer's fsync of the folder before it
            let dir = fetched.path.parent().map(Path::to_path_buf);
            let recorded = cx.store().finish_download_async((job, stage, item), row, overflow, dir, now);
            held_name.keep();
            live.end(false);
            let owned = shared.clone();
            let finishing = async move {
                let shared = owned;
                let recorded = recorded.await;
                // recorded (or not): the names (fetched, maybe renamed for its media type) and
                // the claim go, then its tags (a file that cannot be tagged stays as it is)
                shared.reserved.release(&rel_fetched);
                shared.reserved.release(&rel);
                if let Err(e @ StoreError::DirSync { .. }) = recorded {
                    // the file's name may not survive a power cut: not recorded, the item
                    // fails (a later run adopts the complete file under that name)
                    let reason = format!("io: {e}");
                    finish(&shared, item, WorkEnd::failed(reason.clone())).await?;
                    drop(held);
                    let outcome = ItemOutcome::Failed(reason);
                    shared.cx.emit(Event::DownloadFinished { job, item, title, outcome });
                    return Ok(());
                }
                recorded?;
                drop(held);
                let cx = &shared.cx;
                let (library, now) = (cx.config().library.clone(), cx.now());
                let held = (item, fetched.held.as_deref());
                if let Err(e) = crate::library::tag_item(cx.store(), &cx.art, &library, held, now).await {
                    tracing::warn!(item, error = %e, "tagging failed");
                }
                let outcome = ItemOutcome::Downloaded {
                    path: rel,
                    bytes: fetched.size,
                    resumed_from: fetched.resumed_from,
                };
                cx.emit(Event::DownloadFinished { job, item, title, outcome });
                shared.exporter.item_completed(playlist);
                Ok(())
            };
            shared.finishers.spawn(finishing).await
        }
        Fetched::Cancelled => {
            if transfer.state.unwanted.load(Ordering::SeqCst) {
                // no playlist or job wants the item any more
                let now = cx.now();
                cx.blocking(move |s| {
                    if !s.move_work_item(key, WorkStatus::Cancelling, WorkStatus::Cancelled, now)? {
                        s.move_work_item(key, WorkStatus::Running, WorkStatus::Cancelled, now)?;
                    }
                    Ok(())
                })
                .await?;
                if transfer.state.delete.load(Ordering::SeqCst) {
                    remove_part(&dest_in(&roots, root, &rel)?).await;
                }
                live.end(false);
                cx.emit(Event::DownloadFinished {
                    job,
                    item,
                    title,
                    outcome: ItemOutcome::Failed("cancelled: no playlist or job wants it".into()),
                });
            }
            Ok(()) // a shutdown: the item stays claimed; the stage re-queues it
        }
        Fetched::Failed(failed) => fail_download(shared, live, title, failed).await,
    }
}

async fn finish(shared: &Shared, item: u64, end: WorkEnd) -> Result<(), EngineError> {
    let (job, stage, now) = (shared.ctx.job, shared.stage, shared.cx.now());
    Ok(shared.cx.store().finish_stage_item_async(job, stage, item, end, now).await?)
}

/// Ends the item as failed with every source the cascade tried, stored with the item.
async fn fail_download(
    shared: &Shared,
    live: &WorkerLive,
    title: String,
    failed: DownloadFailed,
) -> Result<(), EngineError> {
    let (job, stage, now, item) = (shared.ctx.job, shared.stage, shared.cx.now(), failed.item);
    let reason = failed.to_string();
    shared.cx.store().fail_download_async(job, stage, failed, now).await?;
    live.end(true);
    shared.cx.emit(Event::DownloadFinished { job, item, title, outcome: ItemOutcome::Failed(reason) });
    Ok(())
}

async fn fail(
    shared: &Shared,
    live: &WorkerLive,
    item: u64,
    title: String,
    reason: String,
) -> Result<(), EngineError> {
    finish(shared, item, WorkEnd::failed(reason.clone())).await?;
    live.end(true);
    shared.cx.emit(Event::DownloadFinished {
        job: shared.ctx.job,
        item,
        title,
        outcome: ItemOutcome::Failed(reason),
    });
    Ok(())
}
