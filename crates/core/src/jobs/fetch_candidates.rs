//! The downloader's side of the resolver cascade: try an item's candidates in order, verify
//! each file (in-band `Content-Type`, exact length, `podcast:integrity`), and when every
//! candidate of a tier fails with an expected error, resume the cascade's walk with its next
//! source (`download::resolve::Cascade::resume`). A transient error (5xx, stall after the
//! transfer's own retries) ends the attempt instead, keeping the part for a resume; a
//! cancel (the transfer's own token: no reference wants the item, or shutdown) ends it at
//! once. A full disk moves the file to the next library root with room (`placement`). Bytes that fail verification are deleted, never kept as the
//! episode. A URL found past the known enclosure replaces the stale one in the catalog once
//! its bytes are verified, or when its transfer failed transiently after its check passed
//! (so the next attempt starts there); a URL with an integrity hash only once verified.
//! A file from a later tier whose format differs from the one the name was chosen for (an
//! `.opus` alternate of an `.mp3` enclosure) is renamed to its own extension
//! ([`rename_for_media`]).

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::context::Context;
use super::error::EngineError;
use super::placement;
use crate::download::resolve::{
    self, Candidate, Cascade, DownloadFailed, Fetch, Resolution, ResolveCtx, Walk,
};
use crate::download::transfer::validator_path;
use crate::download::ytdlp_errors::{site_of, YtDlpErrorKind};
use crate::download::ytdlp_fetch::{self, YtDlpError};
use crate::download::{
    extension_for, fetch_to_file_from, part_path, safe_join, split_ext, FetchFailure, FetchedFile, PartState,
    TransferError, TransferOptions, TransferProgress,
};
use crate::store::ItemRow;

/// How fetching an item's candidates ended.
#[derive(Debug)]
pub(super) enum Fetched {
    /// A verified file at `dest`, from this candidate.
    File(Box<(Candidate, FetchedFile)>),
    /// No candidate of any remaining source worked.
    Failed(DownloadFailed),
    /// Cancelled; the part stays for a resume.
    Cancelled,
}

/// What [`fetch_candidates`] works on.
pub(super) struct Job<'a> {
    pub cx: &'a Context,
    pub cascade: &'a Cascade,
    pub ctx: &'a ResolveCtx,
    pub item_id: u64,
    pub item: &'a ItemRow,
    /// Library roots, the default first (`placement::roots`).
    pub roots: &'a [PathBuf],
    /// Index in `roots` the file goes under; moved on to an overflow root when the disk
    /// fills (announced size too big for it, or ENOSPC while writing).
    pub root: &'a mut usize,
    /// The library-relative file name.
    pub rel: &'a str,
    /// `rel`'s part under the default root as the path choice read it: the first HTTP
    /// fetch starts from it when it is the destination's part (`fetch_to_file_from`).
    pub known_part: Option<PartState>,
    /// Declared length of the enclosure (bytes), the room an ENOSPC asks the next root for.
    pub declared: Option<u64>,
    pub options: &'a TransferOptions,
    pub progress: &'a (dyn Fn(TransferProgress) + Send + Sync),
    /// The transfer's own token: fires when no reference wants the item, or on shutdown.
    pub cancel: &'a CancellationToken,
}

/// How one fetch of a candidate failed.
struct Failure {
    cancelled: bool,
    transient: bool,
    /// Bytes needed when the disk was full; `None` for other errors.
    disk_full: Option<u64>,
    /// e.g. `attempt 3/3, transient: HTTP 503 Service Unavailable from <url>`.
    reason: String,
}

impl Failure {
    fn of_transfer(f: FetchFailure, declared: Option<u64>) -> Failure {
        let disk_full = match &f.error {
            TransferError::DiskFull { needed, .. } => Some(*needed),
            e if e.is_disk_full() => Some(declared.unwrap_or(0)),
            _ => None,
        };
        Failure {
            cancelled: matches!(f.error, TransferError::Cancelled),
            transient: f.error.is_transient(),
            disk_full,
            reason: f.to_string(),
        }
    }
}

/// `rel` under root `root`. Errors: a name that would leave the root (a bug of naming).
pub(super) fn dest_in(roots: &[PathBuf], root: usize, rel: &str) -> Result<PathBuf, EngineError> {
    safe_join(&roots[root], Path::new(rel)).map_err(|e| EngineError::Worker(e.to_string()))
}

/// Removes the part of `dest` and its validator, and yt-dlp's work folder, if any.
pub(super) async fn remove_part(dest: &Path) {
    if let Some(part) = part_path(dest) {
        let _ = tokio::fs::remove_file(validator_path(&part)).await;
        let _ = tokio::fs::remove_file(part).await;
    }
    if let Some(work) = crate::download::ytdlp_fetch::work_dir(dest) {
        let _ = tokio::fs::remove_dir_all(work).await;
    }
}

/// Records `candidate`'s URL as the item's enclosure when a later tier found it.
async fn replace_stale(cx: &Context, item: u64, candidate: &Candidate) -> Result<(), EngineError> {
    if candidate.source == resolve::known::NAME || candidate.fetch != Fetch::Http {
        return Ok(());
    }
    let (url, source, now) = (candidate.url.to_string(), candidate.source, cx.now());
    cx.blocking(move |s| s.replace_enclosure(item, &url, source, now)).await
}

/// Fetches `candidate` to `rel` under the current root, moving on to the next root with room
/// when the disk fills. Errors: the store's.
async fn fetch_one(
    job: &mut Job<'_>,
    candidate: &Candidate,
) -> Result<Result<FetchedFile, Failure>, EngineError> {
    loop {
        let dest = dest_in(job.roots, *job.root, job.rel)?;
        let _slot = job.cx.hosts.acquire(&candidate.url).await;
        let fetched = match &candidate.fetch {
            Fetch::Http => fetch_to_file_from(
                job.cx.client(),
                &candidate.url,
                &dest,
                job.options,
                job.progress,
                job.cancel,
                job.known_part.take(),
            )
            .await
            .map_err(|f| Failure::of_transfer(f, job.declared)),
            Fetch::YtDlp { .. } => {
                // a rate limit holds every download of the site (`download::ytdlp_errors`)
                let site = ytdlp_site(job.cx, job.item_id, candidate).await?;
                if !super::ytdlp_sync::wait_for_site(job.cx, job.cancel, &site).await {
                    return Ok(Err(Failure {
                        cancelled: true,
                        transient: false,
                        disk_full: None,
                        reason: "cancelled".into(),
                    }));
                }
                let fetched =
                    ytdlp_fetch::fetch(candidate, &dest, &job.ctx.config, job.cancel, job.progress).await;
                match &fetched {
                    Ok(_) => job.cx.ytdlp_backoff.succeeded(&site),
                    Err(YtDlpError::Failed(f)) if f.kind == YtDlpErrorKind::RateLimited => {
                        let base = job.cx.config().retry_backoff_ms;
                        job.cx.ytdlp_backoff.rate_limited(&site, job.cx.now(), base);
                    }
                    Err(_) => {}
                }
                fetched.map_err(|e| Failure {
                    cancelled: e.is_cancelled() || job.cancel.is_cancelled(),
                    transient: e.is_transient(),
                    disk_full: None,
                    reason: e.to_string(),
                })
            }
        };
        match fetched {
            Err(Failure { disk_full: Some(needed), .. }) => {
                match placement::next_root(job.cx, job.roots, *job.root, needed) {
                    Some(other) => {
                        remove_part(&dest).await; // the bytes move to a root with room
                        *job.root = other;
                    }
                    None => return Ok(fetched),
                }
            }
            other => return Ok(other),
        }
    }
}

/// The rate-limit key of a yt-dlp download: the site of the item's extractor when a yt-dlp
/// playlist listed it, else the candidate's host.
async fn ytdlp_site(cx: &Context, item: u64, candidate: &Candidate) -> Result<String, EngineError> {
    let entry = cx.blocking(move |s| s.ytdlp_entry(item)).await?;
    Ok(match entry {
        Some(e) => site_of(&e.extractor),
        None => candidate.url.host_str().unwrap_or_default().to_string(),
    })
}

/// Tries `candidates`, then the rest of the cascade (module docs). Errors: the store's.
pub(super) async fn fetch_candidates(
    mut job: Job<'_>,
    mut candidates: Vec<Candidate>,
    mut walk: Walk,
) -> Result<Fetched, EngineError> {
    let (cx, item_id) = (job.cx, job.item_id);
    let mut first = true;
    loop {
        for candidate in candidates {
            if !first {
                // another URL is another representation: never resume its bytes onto this part
                remove_part(&dest_in(job.roots, *job.root, job.rel)?).await;
            }
            first = false;
            match fetch_one(&mut job, &candidate).await? {
                Ok(file) => match candidate
                    .verify(&file.path, file.size, &file.sha256_hex, file.content_type.as_deref())
                    .await
                {
                    Ok(()) => {
                        replace_stale(cx, item_id, &candidate).await?;
                        return Ok(Fetched::File(Box::new((candidate, file))));
                    }
                    Err(reason) => {
                        tracing::warn!(item = item_id, url = %candidate.url, %reason, "downloaded file rejected");
                        let _ = tokio::fs::remove_file(&file.path).await;
                        walk.reject(candidate.source, candidate.url.as_str(), reason);
                    }
                },
                Err(failure) => {
                    if failure.cancelled || job.cancel.is_cancelled() {
                        return Ok(Fetched::Cancelled);
                    }
                    walk.reject(candidate.source, candidate.url.as_str(), failure.reason);
                    if failure.transient || failure.disk_full.is_some() {
                        if failure.transient && candidate.integrity.is_none() {
                            replace_stale(cx, item_id, &candidate).await?;
                        }
                        return Ok(Fetched::Failed(walk.failed(item_id)));
                    }
                }
            }
        }
        match job.cascade.resume(item_id, job.item, job.ctx, walk).await {
            Resolution::Found { candidates: next, walk: w } => {
                candidates = next;
                walk = w;
            }
            Resolution::Failed(failed) => return Ok(Fetched::Failed(failed)),
            Resolution::Cancelled => return Ok(Fetched::Cancelled),
        }
    }
}

/// The library-relative name the file of `candidate` ends under: `rel`, or `rel` with the
/// media's own extension when it differs and that name is free (not recorded in the store,
/// not on disk, not reserved by another worker; it is then reserved in `reserved` and the
/// caller releases it once the file row is written). The media's extension is the one yt-dlp
/// gave its file for a yt-dlp download (`download::ytdlp_fetch` already moved it there when
/// no file had that name), else the candidate's (a later tier's `.opus` alternate of an
/// `.mp3` enclosure). The file is renamed on disk and `fetched.path` follows. Errors: the
/// store's.
pub(super) async fn rename_for_media(
    cx: &Context,
    reserved: &super::placement::ReservedPaths,
    library: &Path,
    rel: &str,
    candidate: &Candidate,
    fetched: &mut FetchedFile,
) -> Result<String, EngineError> {
    let ytdlp = matches!(candidate.fetch, Fetch::YtDlp { .. });
    let want = if ytdlp {
        fetched.path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
    } else {
        extension_for(Some(candidate.url.as_str()), candidate.mime_type.as_deref())
    };
    let (stem, dot_ext) = split_ext(rel);
    let ext = dot_ext.trim_start_matches('.');
    let (Ok(dest), false) = (safe_join(library, Path::new(rel)), want.is_empty()) else {
        return Ok(rel.to_string());
    };
    if (!ytdlp && candidate.source == resolve::known::NAME) || want == "bin" || want.eq_ignore_ascii_case(ext)
    {
        return keep_name(fetched, dest, rel).await;
    }
    let new_rel = format!("{stem}.{want}");
    let Ok(abs) = safe_join(library, Path::new(&new_rel)) else { return keep_name(fetched, dest, rel).await };
    let probe = new_rel.clone();
    let taken = cx.blocking(move |s| s.file_path_taken(&probe)).await?;
    if taken || (abs.exists() && abs != fetched.path) || !reserved.reserve(&new_rel) {
        return keep_name(fetched, dest, rel).await;
    }
    if abs == fetched.path {
        return Ok(new_rel);
    }
    match tokio::fs::rename(&fetched.path, &abs).await {
        Ok(()) => {
            fetched.path = abs;
            Ok(new_rel)
        }
        Err(e) => {
            tracing::warn!(from = %fetched.path.display(), to = %abs.display(), error = %e, "keeping the file's first name");
            reserved.release(&new_rel);
            keep_name(fetched, dest, rel).await
        }
    }
}

/// Keeps the file under `rel` (at `dest`), moving it back there when yt-dlp's extension
/// put it elsewhere. Errors: none (a failed move keeps the file where it is, under `rel`'s
/// record only when it is at `dest`).
async fn keep_name(fetched: &mut FetchedFile, dest: PathBuf, rel: &str) -> Result<String, EngineError> {
    if fetched.path != dest {
        tokio::fs::rename(&fetched.path, &dest).await.map_err(|e| {
            EngineError::Worker(format!("move {} to {}: {e}", fetched.path.display(), dest.display()))
        })?;
        fetched.path = dest;
    }
    Ok(rel.to_string())
}
