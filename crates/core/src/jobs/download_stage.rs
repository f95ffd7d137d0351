//! The download stage, first form: the stage's work items are the catalog items of the scope
//! that have an enclosure and no downloaded file. `parallel_downloads` workers claim items from
//! the store, name the file from the template (inside the library root, unique), and move the
//! bytes with `download::fetch_to_file` (`.part`, resume, size check, fsync, atomic rename).
//! The file row and the work item's end are written in one transaction, so an item is never
//! fetched twice and a crash loses nothing: a claimed item goes back to the queue and its
//! partial file is resumed.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use super::events::{Event, ItemOutcome};
use super::runner::{Engine, EngineError};
use crate::download::naming::{render_relative_path, safe_join, NameVars};
use crate::download::{fetch_to_file, TransferOptions, TransferProgress};
use crate::store::jobs::WorkEnd;
use crate::store::{FileRow, StageCounts, StageKind};

/// Relative paths chosen by workers of this stage and not yet recorded in the store.
type Reserved = Arc<Mutex<HashSet<String>>>;

pub(super) async fn run(engine: &Engine, job: u64, stage: u8, scope: &[u64]) -> Result<StageCounts, EngineError> {
    let scope = scope.to_vec();
    let now = engine.now();
    engine.blocking(move |s| s.add_stage_items(job, stage, &s.pending_downloads(&scope)?, now)).await?;
    let counts = engine.blocking(move |s| s.stage_counts(job, stage)).await?;
    engine.emit(Event::StageStarted { job, stage: StageKind::Download, total: counts.total(), finished: counts.finished() });

    let reserved: Reserved = Arc::default();
    let mut workers = JoinSet::new();
    for _ in 0..engine.config().parallel_downloads.max(1) {
        let (engine, reserved) = (engine.clone(), reserved.clone());
        workers.spawn(async move {
            while !engine.inner.cancel.is_cancelled() {
                let now = engine.now();
                let Some(item) = engine.blocking(move |s| s.claim_stage_item(job, stage, now)).await? else { break };
                download_one(&engine, job, stage, item, &reserved).await?;
            }
            Ok::<(), EngineError>(())
        });
    }
    while let Some(result) = workers.join_next().await {
        result.map_err(|e| EngineError::Worker(e.to_string()))??;
    }
    engine.blocking(move |s| s.stage_counts(job, stage)).await
}

fn transfer_options(engine: &Engine) -> TransferOptions {
    let c = engine.config();
    TransferOptions {
        stall_timeout: Duration::from_millis(c.stall_timeout_ms),
        connect_timeout: Duration::from_millis(c.connect_timeout_ms),
        max_attempts: c.max_attempts.max(1),
        retry_backoff: Duration::from_millis(c.retry_backoff_ms),
    }
}

/// Picks the item's library-relative path: the template's path, made unique against files
/// recorded in the store, files on disk and paths other workers hold right now.
async fn choose_path(engine: &Engine, vars: NameVars, reserved: &Reserved) -> Result<Result<(String, PathBuf), String>, EngineError> {
    let root = engine.config().library.clone();
    let template = engine.config().name_template.clone();
    let reserved = reserved.clone();
    engine
        .blocking(move |s| {
            let rel = match render_relative_path(&template, &vars) {
                Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
                Err(e) => return Ok(Err(e.to_string())),
            };
            let (stem, ext) = split_ext(&rel);
            let mut reserved = reserved.lock().expect("reserved paths lock");
            for n in 1.. {
                let candidate = if n == 1 { rel.clone() } else { format!("{stem} ({n}){ext}") };
                let abs = match safe_join(&root, std::path::Path::new(&candidate)) {
                    Ok(abs) => abs,
                    Err(e) => return Ok(Err(e.to_string())),
                };
                if !reserved.contains(&candidate) && !s.file_path_taken(&candidate)? && !abs.exists() {
                    reserved.insert(candidate.clone());
                    return Ok(Ok((candidate, abs)));
                }
            }
            unreachable!("1.. is endless")
        })
        .await
}

/// Splits `dir/name.ext` into (`dir/name`, `.ext`); no extension gives an empty second part.
fn split_ext(rel: &str) -> (&str, &str) {
    let name_start = rel.rfind('/').map_or(0, |i| i + 1);
    match rel[name_start..].rfind('.') {
        Some(dot) if dot > 0 => rel.split_at(name_start + dot),
        _ => (rel, ""),
    }
}

async fn download_one(engine: &Engine, job: u64, stage: u8, item_id: u64, reserved: &Reserved) -> Result<(), EngineError> {
    let (item, playlist, file) = engine.blocking(move |s| Ok((s.item(item_id)?, s.playlist(s.item(item_id)?.playlist_id)?, s.item_file(item_id)?))).await?;
    let title = item.title.clone().unwrap_or_else(|| format!("item {item_id}"));
    let now = engine.now();
    if file.is_some() {
        engine.blocking(move |s| s.finish_stage_item(job, stage, item_id, WorkEnd::skipped("already downloaded"), now)).await?;
        engine.emit(Event::DownloadFinished { job, item: item_id, title, outcome: ItemOutcome::AlreadyDownloaded });
        return Ok(());
    }
    let Some(enclosure) = item.enclosure.clone() else {
        return fail(engine, job, stage, item_id, title, "the item has no enclosure".into()).await;
    };
    let url = match url::Url::parse(&enclosure.url) {
        Ok(url) => url,
        Err(e) => return fail(engine, job, stage, item_id, title, format!("invalid enclosure URL {}: {e}", enclosure.url)).await,
    };
    let vars = NameVars {
        playlist: playlist.display_title().to_string(),
        title: title.clone(),
        published: item.published,
        item_key: item.key.clone(),
        enclosure_url: Some(enclosure.url.clone()),
        mime_type: enclosure.mime_type.clone(),
    };
    let (rel, dest) = match choose_path(engine, vars, reserved).await? {
        Ok(chosen) => chosen,
        Err(e) => return fail(engine, job, stage, item_id, title, e).await,
    };
    engine.emit(Event::DownloadStarted { job, item: item_id, title: title.clone() });
    let progress_engine = engine.clone();
    let progress = move |p: TransferProgress| {
        progress_engine.emit(Event::DownloadProgress { job, item: item_id, downloaded: p.downloaded, total: p.total });
    };
    let result = fetch_to_file(engine.client(), &url, &dest, &transfer_options(engine), &progress, &engine.inner.cancel).await;
    reserved.lock().expect("reserved paths lock").remove(&rel);
    match result {
        Ok(fetched) => {
            let row = FileRow { path: rel.clone(), size: fetched.size, sha256: fetched.sha256_hex.clone(), url: url.to_string(), downloaded_ms: engine.now() };
            let now = engine.now();
            engine.blocking(move |s| s.finish_download(job, stage, item_id, &row, now)).await?;
            let outcome = ItemOutcome::Downloaded { path: rel, bytes: fetched.size, resumed_from: fetched.resumed_from };
            engine.emit(Event::DownloadFinished { job, item: item_id, title, outcome });
            Ok(())
        }
        Err(_) if engine.inner.cancel.is_cancelled() => Ok(()), // stays running; the reaper re-queues it
        Err(e) => fail(engine, job, stage, item_id, title, format!("{} ({url})", e)).await,
    }
}

async fn fail(engine: &Engine, job: u64, stage: u8, item_id: u64, title: String, reason: String) -> Result<(), EngineError> {
    let now = engine.now();
    let stored = reason.clone();
    engine.blocking(move |s| s.finish_stage_item(job, stage, item_id, WorkEnd::failed(stored), now)).await?;
    engine.emit(Event::DownloadFinished { job, item: item_id, title, outcome: ItemOutcome::Failed(reason) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_ext;

    #[test]
    fn split_ext_keeps_folders_and_dotfiles() {
        assert_eq!(split_ext("Show/2024-01-01 Ep.mp3"), ("Show/2024-01-01 Ep", ".mp3"));
        assert_eq!(split_ext("Show.fm/Ep"), ("Show.fm/Ep", ""));
        assert_eq!(split_ext("a/.hidden"), ("a/.hidden", ""));
    }
}
