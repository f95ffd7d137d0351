//! The upload stage (`upload_only`, `download_upload`): sends the downloaded files and M3U
//! playlists of the playlists in scope to their upload targets (`upload`). Work items are
//! playlist ids: the playlists in scope assigned to at least one target (of the job's
//! `--target` names, when it has some). The stage claims them all, then takes one target at a
//! time:
//!
//! 1. temporary files an earlier run left (noted in `TARGET_TEMP_PATHS`) are deleted, and
//!    its pending S3 multipart uploads aborted;
//! 2. our records of files the target no longer holds (deleted or replaced on the device; each
//!    folder we wrote to is listed once) are forgotten, so they are sent again;
//! 3. `upload::plan` decides what to send, what is unchanged and, in mirror mode, which of our
//!    own files to delete; a folder target's free space must hold what is sent;
//! 4. `upload-1`... workers (`Config::parallel_uploads`) send files, each a live worker in the
//!    task center (bytes, speed, current file); a file whose send failed at the target or on
//!    the wire is tried again (`max_attempts`, `retry_backoff_ms`); each finished file is
//!    recorded at once, so a later run never sends it again;
//! 5. M3U files go up last, listing only files now on the target; mirror deletions follow, and
//!    (any mode) the old copies of renamed files (`organize`) whose new name is on the target.
//!
//! A playlist ends `done` when all its files reached all its targets, else `failed` naming
//! each file that did not. Pause lets running files finish and starts no new one; cancel and
//! shutdown (`abort`) stop them at once (temporary files are removed, or the next run removes
//! them); either way the stage's playlists go back to the queue and a resume sends what is
//! still missing.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::task::JoinSet;

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use super::pools::WorkerLive;
use super::throughput;
use crate::config::UploadTarget;
use crate::store::job_log::LogKind;
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind, UploadedRow};
use crate::upload::fat::{fs_kind, DeviceNames, FsKind};
use crate::upload::plan::{plan_target, PlannedFile, TargetPlan};
use crate::upload::{Backend, UploadError};

/// What happened to the playlists of the stage, gathered over targets.
#[derive(Default)]
struct Outcome {
    sent: BTreeMap<u64, u32>,
    failed: BTreeMap<u64, Vec<String>>,
}

impl Outcome {
    fn fail(&mut self, playlist: u64, why: String) {
        self.failed.entry(playlist).or_default().push(why);
    }
}

pub(super) async fn run(
    cx: &Context,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    let only = cx.blocking(move |s| s.job_upload_targets(job)).await?;
    let wanted_targets = only.clone();
    cx.plan_stage(job, stage, StageKind::Upload, move |s| {
        let assigned = s.target_assignments()?;
        let picked = |p: u64| assigned.iter().any(|(q, t)| *q == p && (only.is_empty() || only.contains(t)));
        Ok(s.scope_playlists(&scope)?.into_iter().filter(|&p| picked(p)).collect())
    })
    .await?;
    let mut claimed = Vec::new();
    while !ctx.stop.is_cancelled() {
        let Some(work) = super::reaper::claim_work(cx, job, stage).await? else { break };
        claimed.push(work);
    }
    let playlists: Vec<u64> = claimed.iter().map(|(p, _)| *p).collect();
    let assignments = cx.blocking(|s| s.target_assignments()).await?;
    let mut names: Vec<String> = Vec::new();
    let mut outcome = Outcome::default();
    for (p, t) in &assignments {
        if playlists.contains(p) && (wanted_targets.is_empty() || wanted_targets.contains(t)) {
            if cx.config().target(t).is_none() {
                outcome.fail(*p, format!("upload target {t} is not in the settings"));
            } else if !names.contains(t) {
                names.push(t.clone());
            }
        }
    }

    let lives: Vec<Arc<WorkerLive>> = (1..=cx.config().parallel_uploads.max(1))
        .map(|n| Arc::new(WorkerLive::new(format!("upload-{n}"))))
        .collect();
    let sampler = throughput::spawn_sampler(cx.clone(), job, stage, lives.clone());
    for name in names {
        if ctx.stop.is_cancelled() {
            break;
        }
        let target = cx.config().target(&name).cloned().expect("checked above");
        let assigned: Vec<u64> = assignments.iter().filter(|(_, t)| *t == name).map(|(p, _)| *p).collect();
        let scope: Vec<u64> = assigned.iter().copied().filter(|p| playlists.contains(p)).collect();
        if let Err(e) = upload_target(cx, ctx, &lives, &target, &assigned, &scope, &mut outcome).await {
            for &p in &scope {
                outcome.fail(p, format!("{name}: {e}"));
            }
            cx.log(job, LogKind::Stage, Some(stage), format!("upload to {name} failed: {e}")).await?;
            cx.emit(Event::Uploaded { job, target: name, sent: 0, deleted: 0, failed: scope.len() as u32 });
        }
    }
    for live in &lives {
        live.stop();
    }
    sampler.finish().await?;

    if !ctx.stop.is_cancelled() {
        let now = cx.now();
        let ends: Vec<(u64, WorkEnd)> = playlists
            .iter()
            .map(|p| match outcome.failed.get(p) {
                Some(why) => (*p, WorkEnd::failed(why.join("; "))),
                None => {
                    (*p, WorkEnd::done(format!("{} files sent", outcome.sent.get(p).copied().unwrap_or(0))))
                }
            })
            .collect();
        cx.blocking(move |s| {
            for (p, end) in ends {
                s.finish_stage_item(job, stage, p, end, now)?;
            }
            Ok(())
        })
        .await?;
    }
    drop(claimed);
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}

/// One run on one target (module docs, steps 1-5). Errors of the target as a whole (it cannot
/// be reached, the catalog cannot be read, no space) fail every playlist of the scope.
async fn upload_target(
    cx: &Context,
    ctx: &JobCtx,
    lives: &[Arc<WorkerLive>],
    target: &UploadTarget,
    assigned: &[u64],
    scope: &[u64],
    outcome: &mut Outcome,
) -> Result<(), UploadError> {
    let backend = Backend::open(target)?;
    let name = target.name.clone();
    let sent_before: u32 = outcome.sent.values().sum();
    let failed_before: usize = outcome.failed.values().map(Vec::len).sum();
    // 1. temporary files an earlier run left behind
    let key = name.clone();
    for temp in cx.blocking(move |s| s.temps(&key)).await.map_err(store_err)? {
        backend.discard(&temp).await?;
        let key = name.clone();
        cx.blocking(move |s| s.end_temp(&key, &temp)).await.map_err(store_err)?;
    }
    // 2. what the target lost since we put it there (deleted or replaced on the device):
    // forget it, so the plan sends it again
    forget_lost(cx, &backend, &name).await?;
    // 3. the plan
    let kind = match &backend {
        Backend::Folder { root } => {
            std::fs::create_dir_all(root).map_err(UploadError::io(root))?;
            fs_kind(root).map_err(UploadError::io(root))?
        }
        Backend::Remote { .. } => FsKind::Other,
    };
    let plan = {
        let (store, library, t) = (cx.store().clone(), cx.config().library.clone(), target.clone());
        let (assigned, scope) = (assigned.to_vec(), scope.to_vec());
        tokio::task::spawn_blocking(move || {
            let recorded = store.uploaded(&t.name)?;
            let mut names = DeviceNames::new(kind);
            plan_target(&store, &library, &t, &assigned, &scope, &recorded, &mut names)
        })
        .await
        .map_err(|e| UploadError::Config(e.to_string()))?
        .map_err(|e| UploadError::Config(e.to_string()))?
    };
    for (p, why) in &plan.errors {
        outcome.fail(*p, why.clone());
    }
    if let Some(free) = backend.free_space() {
        let free = free.map_err(|e| UploadError::Config(e.to_string()))?;
        if plan.bytes() > free {
            return Err(UploadError::NoSpace { need: plan.bytes(), free });
        }
    }
    // 4. the files
    send_files(cx, ctx, lives, &backend, &name, &plan, outcome).await;
    if ctx.stop.is_cancelled() {
        return Ok(());
    }
    // 5. playlists, then mirror deletions
    let key = name.clone();
    let recorded = cx.blocking(move |s| s.uploaded(&key)).await.map_err(store_err)?;
    let present: BTreeSet<String> = recorded.keys().cloned().collect();
    for m3u in &plan.m3u {
        let Some((text, sha)) = m3u.render(&present, target.m3u_crlf) else { continue };
        if recorded.get(&m3u.path).is_some_and(|r| r.source_sha256 == sha) {
            continue;
        }
        let temp = backend.temp_for(&m3u.path);
        note_temp(cx, &name, temp.as_deref()).await?;
        let size = text.len() as u64;
        match backend.put_bytes(Bytes::from(text), &m3u.path, temp.as_deref()).await {
            Ok(()) => {
                let row = UploadedRow {
                    size,
                    sha256: sha.clone(),
                    source_sha256: sha,
                    uploaded_ms: cx.now(),
                    item: None,
                };
                record(cx, &name, &m3u.path, temp, row).await?;
            }
            Err(e) => outcome.fail(m3u.playlist, format!("{name}: {}: {e}", m3u.path)),
        }
    }
    let mut deleted = 0;
    // the old copy of a renamed file goes once its new name is on the target
    let stale = plan.superseded.iter().filter(|(_, new)| present.contains(new)).map(|(old, _)| old);
    for path in plan.delete.iter().chain(stale) {
        backend.delete(path).await?;
        let (key, p) = (name.clone(), path.clone());
        cx.blocking(move |s| s.forget_upload(&key, &p)).await.map_err(store_err)?;
        deleted += 1;
    }
    let failed = (outcome.failed.values().map(Vec::len).sum::<usize>() - failed_before) as u32;
    let sent = outcome.sent.values().sum::<u32>() - sent_before;
    cx.emit(Event::Uploaded { job: ctx.job, target: name, sent, deleted, failed });
    Ok(())
}

/// Forgets our records of files no longer on the target, or there with another size than we
/// sent (a size the listing does not give is not compared).
async fn forget_lost(cx: &Context, backend: &Backend, name: &str) -> Result<(), UploadError> {
    let key = name.to_string();
    let recorded = cx.blocking(move |s| s.uploaded(&key)).await.map_err(store_err)?;
    if recorded.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> = recorded.keys().cloned().collect();
    let on_target = backend.present(&paths).await?;
    let lost: Vec<String> = recorded
        .iter()
        .filter(|(p, r)| on_target.get(*p).is_none_or(|&len| len != 0 && len != r.size))
        .map(|(p, _)| p.clone())
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    tracing::info!(
        target = name,
        files = lost.len(),
        "files we sent are gone from the target; sending them again"
    );
    let key = name.to_string();
    cx.blocking(move |s| lost.iter().try_for_each(|p| s.forget_upload(&key, p))).await.map_err(store_err)
}

fn store_err(e: EngineError) -> UploadError {
    UploadError::Config(format!("catalog: {e}"))
}

async fn note_temp(cx: &Context, name: &str, temp: Option<&str>) -> Result<(), UploadError> {
    if let Some(temp) = temp {
        let (key, temp, now) = (name.to_string(), temp.to_string(), cx.now());
        cx.blocking(move |s| s.begin_temp(&key, &temp, now)).await.map_err(store_err)?;
    }
    Ok(())
}

async fn record(
    cx: &Context,
    name: &str,
    path: &str,
    temp: Option<String>,
    row: UploadedRow,
) -> Result<(), UploadError> {
    let (key, path) = (name.to_string(), path.to_string());
    cx.blocking(move |s| s.record_upload(&key, &path, temp.as_deref(), row)).await.map_err(store_err)
}

/// Runs the workers over `plan.send` until it is empty, the job stops taking work (pause) or
/// is aborted; records each file sent and each failure.
async fn send_files(
    cx: &Context,
    ctx: &JobCtx,
    lives: &[Arc<WorkerLive>],
    backend: &Backend,
    name: &str,
    plan: &TargetPlan,
    outcome: &mut Outcome,
) {
    let queue: Arc<Mutex<VecDeque<PlannedFile>>> = Arc::new(Mutex::new(plan.send.iter().cloned().collect()));
    let mut workers = JoinSet::new();
    for live in lives {
        let (cx, ctx, live, backend, name, queue) =
            (cx.clone(), ctx.clone(), live.clone(), backend.clone(), name.to_string(), queue.clone());
        workers.spawn(async move {
            let mut results = Vec::new();
            while !ctx.stop.is_cancelled() {
                let Some(file) = queue.lock().expect("queue lock").pop_front() else { break };
                live.begin(file.item, &format!("{} → {name}", file.title));
                let result = send_one(&cx, &ctx, &live, &backend, &name, &file).await;
                live.end(result.is_err());
                results.push((file, result));
            }
            results
        });
    }
    while let Some(joined) = workers.join_next().await {
        let Ok(results) = joined else { continue };
        for (file, result) in results {
            match result {
                Ok(()) => {
                    for p in &file.playlists {
                        *outcome.sent.entry(*p).or_default() += 1;
                    }
                }
                Err(UploadError::Cancelled) => {}
                Err(e) => {
                    for p in &file.playlists {
                        outcome.fail(*p, format!("{name}: {}: {e}", file.path));
                    }
                }
            }
        }
    }
}

/// Sends one file, trying again up to `Config::max_attempts` times after `retry_backoff_ms`
/// when the target or the connection failed (a dropped connection, a 5xx, a race between
/// workers creating one folder); the device's rules, a cancel and bad settings are final.
async fn send_one(
    cx: &Context,
    ctx: &JobCtx,
    live: &Arc<WorkerLive>,
    backend: &Backend,
    name: &str,
    file: &PlannedFile,
) -> Result<(), UploadError> {
    let attempts = cx.config().max_attempts.max(1);
    let backoff = std::time::Duration::from_millis(cx.config().retry_backoff_ms);
    let mut attempt = 1;
    loop {
        match send_attempt(cx, ctx, live, backend, name, file).await {
            Err(e @ (UploadError::Remote(_) | UploadError::Io { .. })) if attempt < attempts => {
                tracing::debug!(target = name, path = %file.path, attempt, error = %e, "upload attempt failed; trying again");
                attempt += 1;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = ctx.abort.cancelled() => return Err(UploadError::Cancelled),
                }
            }
            result => return result,
        }
    }
}

async fn send_attempt(
    cx: &Context,
    ctx: &JobCtx,
    live: &Arc<WorkerLive>,
    backend: &Backend,
    name: &str,
    file: &PlannedFile,
) -> Result<(), UploadError> {
    let temp = backend.temp_for(&file.path);
    let noted = backend.noted_for(&file.path);
    note_temp(cx, name, noted.as_deref()).await?;
    let total = file.size;
    let progress = {
        let live = live.clone();
        move |sent: u64| live.progress(sent, Some(total), 0)
    };
    let (size, sha256) = backend.put(&file.local, &file.path, temp.as_deref(), &progress, &ctx.abort).await?;
    let row = UploadedRow {
        size,
        sha256,
        source_sha256: file.source_sha256.clone(),
        uploaded_ms: cx.now(),
        item: Some(file.item),
    };
    record(cx, name, &file.path, noted, row).await
}
