//! The organize stage (`organize` jobs, general lane): moves downloaded files to the names the
//! current `name_template` gives them (`library::organize`). Work items are catalog items:
//! those with a downloaded file whose rendered name differs from the recorded one.
//!
//! The stage first settles the moves a crash left in the journal, then takes its items one at
//! a time: journal the move, move the file, commit the new path (each durable before the
//! next), and remove the folders left empty. A name taken meanwhile (a file appeared on disk)
//! is chosen again, up to [`TRIES`] times. At the end the M3U files are refreshed: every
//! playlist's when `export_m3u` is on, else those already written, so no M3U file keeps a
//! name that moved. A rerun after a kill finishes the job: its items are still queued (or
//! running, and the reaper returns them), and the journal is settled first.
//!
//! Test hook: `CATALOG_SYNC_TEST_ORGANIZE_STEP_MS` (milliseconds) waits that long after the
//! journal write and after the move of each file, so a crash test can kill the process inside
//! each window.

use std::path::PathBuf;
use std::time::Duration;

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use crate::library::organize::{self, OrganizeError, Rename};
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind, Store, StoreError};

/// Names chosen for one item before it fails (a new file took each one first).
const TRIES: u32 = 3;

/// Environment variable of the test hook (module docs).
pub const STEP_DELAY_ENV: &str = "CATALOG_SYNC_TEST_ORGANIZE_STEP_MS";

fn step_delay() -> Option<Duration> {
    std::env::var(STEP_DELAY_ENV).ok()?.parse().ok().map(Duration::from_millis)
}

/// Runs `f` on a blocking thread with the store; organize errors other than the store's are
/// returned as values, for the item's outcome.
async fn off_thread<T: Send + 'static>(
    cx: &Context,
    f: impl FnOnce(&Store) -> Result<T, OrganizeError> + Send + 'static,
) -> Result<Result<T, OrganizeError>, EngineError> {
    cx.blocking(move |s| match f(s) {
        Err(OrganizeError::Store(e)) => Err(e),
        other => Ok(other),
    })
    .await
}

/// The items with a file whose rendered name differs from the recorded one (template errors
/// leave the item out; the preview lists them).
fn planned(store: &Store, library: &std::path::Path, template: &str) -> Result<Vec<u64>, StoreError> {
    let plan = organize::preview(store, library, template).map_err(|e| match e {
        OrganizeError::Store(e) => e,
        other => StoreError::Conflict(other.to_string()),
    })?;
    Ok(plan.renames.iter().map(|r| r.item).collect())
}

pub(super) async fn run(cx: &Context, ctx: &JobCtx, stage: u8) -> Result<StageCounts, EngineError> {
    let job = ctx.job;
    let library = cx.config().library.clone();
    let saved = cx.blocking(move |s| s.organize_template(job)).await?;
    let template = saved.unwrap_or_else(|| cx.config().name_template.clone());
    let lib = library.clone();
    let recovered = match off_thread(cx, move |s| organize::recover(s, &lib)).await? {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "organize: the journal could not be settled");
            Default::default()
        }
    };
    let (lib, tpl) = (library.clone(), template.clone());
    cx.plan_stage(job, stage, StageKind::Organize, move |s| planned(s, &lib, &tpl)).await?;
    let delay = step_delay();
    let (mut renamed, mut failed) = (recovered.committed, 0);
    while !ctx.stop.is_cancelled() {
        let Some((item, _held)) = super::reaper::claim_work(cx, job, stage).await? else { break };
        let end = match rename_item(cx, job, item, &library, &template, delay).await? {
            Ok(Some(r)) => {
                renamed += 1;
                WorkEnd::done(format!("{} -> {}", r.from, r.to))
            }
            Ok(None) => WorkEnd::skipped("already named after the template"),
            Err(e) => {
                failed += 1;
                WorkEnd::failed(e)
            }
        };
        let now = cx.now();
        cx.blocking(move |s| s.finish_stage_item(job, stage, item, end, now)).await?;
    }
    // a move whose disk step failed stays journaled: settle it now rather than at the next run
    let lib = library.clone();
    if let Ok(r) = off_thread(cx, move |s| organize::recover(s, &lib)).await? {
        renamed += r.committed;
    }
    // always: a run killed after its last move but before this point left them stale
    refresh_m3u(cx, job, library).await;
    cx.emit(Event::Organized { job, renamed, failed });
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}

/// Renames one item's file (module docs): the move made, `None` when there is nothing to
/// move, or why it failed.
async fn rename_item(
    cx: &Context,
    job: u64,
    item: u64,
    library: &std::path::Path,
    template: &str,
    delay: Option<Duration>,
) -> Result<Result<Option<Rename>, String>, EngineError> {
    for _ in 0..TRIES {
        let (lib, tpl, now) = (library.to_path_buf(), template.to_owned(), cx.now());
        let prepared = off_thread(cx, move |s| organize::prepare(s, &lib, &tpl, job, item, now)).await?;
        let rename = match prepared {
            Ok(Some(rename)) => rename,
            Ok(None) => return Ok(Ok(None)),
            Err(e) => return Ok(Err(e.to_string())),
        };
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let r = rename.clone();
        let moved = tokio::task::spawn_blocking(move || organize::apply(&r))
            .await
            .map_err(|e| EngineError::Worker(e.to_string()))?;
        match moved {
            Ok(true) => {}
            Ok(false) => {
                cx.blocking(move |s| s.abandon_move(item)).await?;
                continue;
            }
            Err(e) => return Ok(Err(e.to_string())),
        }
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let r = rename.clone();
        if let Err(e) = off_thread(cx, move |s| organize::commit(s, &r)).await? {
            return Ok(Err(e.to_string()));
        }
        return Ok(Ok(Some(rename)));
    }
    Ok(Err(format!("no free name after {TRIES} tries: new files kept taking them")))
}

/// Rewrites the M3U files after renames: every playlist's when `export_m3u` is on, else only
/// those written before (a stale one would list the old names). Failures are logged.
async fn refresh_m3u(cx: &Context, job: u64, library: PathBuf) {
    let all = cx.config().export_m3u;
    let written = cx
        .blocking(move |s| {
            let mut written = 0;
            for (id, _) in s.playlists()? {
                if !all {
                    let stem = crate::export::playlist_file_stem(s, id)?;
                    let exists = crate::export::m3u_path(&library, &stem).is_ok_and(|p| p.is_file());
                    if !exists {
                        continue;
                    }
                }
                match crate::export::export_playlist(s, &library, id) {
                    Ok(path) => written += u32::from(path.is_some()),
                    Err(e) => tracing::warn!(playlist = id, error = %e, "M3U export failed"),
                }
            }
            Ok(written)
        })
        .await;
    match written {
        Ok(files) => cx.emit(Event::Exported { job, files }),
        Err(e) => tracing::warn!(error = %e, "M3U export failed"),
    }
}
