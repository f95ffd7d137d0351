//! Where retention (`library::retention`) meets the engine: after each completed download
//! stage the rules of the job's playlists run (the job's own references do not protect its
//! files; the M3U refresh that follows the stage, `export_hooks::stage_completed`, then lists
//! what stays), and at the engine's start the deletions a crash left pending are finished
//! and tagging copies a crash left are swept.
//! Failures are logged; they never fail the job.

use super::context::Context;
use crate::store::job_log::LogKind;

/// Runs retention over `scope` after job `job`'s download stage `stage` completed, and logs
/// what it removed in the job's log.
pub(super) async fn after_download(cx: &Context, job: u64, stage: u8, scope: &[u64]) {
    let (library, rule, scope, now) =
        (cx.config().library.clone(), cx.config().retention, scope.to_vec(), cx.now());
    let report = cx
        .blocking(move |s| crate::library::retention::run(s, &library, rule, &scope, now, Some(job), false))
        .await;
    match report {
        Ok(r) if !r.removed.is_empty() || r.finished_pending > 0 => {
            let text = format!(
                "retention removed {} files ({} bytes freed), {} spared",
                r.removed.len() as u32 + r.finished_pending,
                r.bytes_freed,
                r.spared.len()
            );
            if let Err(e) = cx.log(job, LogKind::Stage, Some(stage), text).await {
                tracing::warn!(job, error = %e, "cannot log retention");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(job, error = %e, "retention failed"),
    }
}

/// At the engine's start, before any job: finishes the deletions a crash left pending, deletes
/// the tagging copies a crash left beside media (`library::leftovers`) and the M3U temporaries
/// a crash left beside exported playlists (`export::sweep_tmp_leftovers`).
pub(super) async fn at_start(cx: &Context) {
    let library = cx.config().library.clone();
    match cx.blocking(move |s| crate::library::retention::finish_pending(s, &library)).await {
        Ok((0, _)) => {}
        Ok((n, bytes)) => {
            tracing::info!(files = n, bytes, "finished deletions an interrupted retention run left")
        }
        Err(e) => tracing::warn!(error = %e, "cannot finish pending retention deletions"),
    }
    let library = cx.config().library.clone();
    if let Err(e) =
        cx.blocking(move |s| crate::library::leftovers::sweep_tagging_leftovers(s, &library)).await
    {
        tracing::warn!(error = %e, "cannot sweep tagging copies");
    }
    let library = cx.config().library.clone();
    if let Err(e) = cx.blocking(move |s| crate::export::sweep_tmp_leftovers(s, &library)).await {
        tracing::warn!(error = %e, "cannot sweep M3U temporaries");
    }
}
