//! The export stage (`export_only`, `download_export`): writes `<library>/<playlist>.m3u` for
//! each playlist in scope (all when the scope is empty), listing its downloaded files. Work
//! items are playlist ids; a playlist without downloads is skipped.

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind};

pub(super) async fn run(
    cx: &Context,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    cx.plan_stage(job, stage, StageKind::Export, move |s| s.scope_playlists(&scope)).await?;
    let mut files = 0;
    while !ctx.stop.is_cancelled() {
        let Some((playlist, _held)) = super::reaper::claim_work(cx, job, stage).await? else { break };
        let now = cx.now();
        let library = cx.config().library.clone();
        let written = cx
            .blocking(move |s| {
                let end = match crate::export::export_playlist(s, &library, playlist) {
                    Ok(Some(path)) => WorkEnd::done(format!("wrote {}", path.display())),
                    Ok(None) => WorkEnd::skipped("no downloaded files"),
                    Err(e) => WorkEnd::failed(format!("playlist {playlist}: {e}")),
                };
                let wrote = end.status == crate::store::WorkStatus::Done;
                s.finish_stage_item(job, stage, playlist, end, now)?;
                Ok(wrote)
            })
            .await?;
        files += u32::from(written);
    }
    cx.emit(Event::Exported { job, files });
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}
