//! The export stage (`export_only`, `download_export`): writes `<library>/<playlist>.m3u` for
//! each playlist in scope (all when the scope is empty), listing its downloaded files. Work
//! items are playlist ids; a playlist without downloads is skipped.

use super::events::Event;
use super::runner::{Engine, EngineError, JobCtx};
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind};

pub(super) async fn run(
    engine: &Engine,
    ctx: &JobCtx,
    stage: u8,
    scope: &[u64],
) -> Result<StageCounts, EngineError> {
    let (job, scope) = (ctx.job, scope.to_vec());
    engine.plan_stage(job, stage, StageKind::Export, move |s| s.scope_playlists(&scope)).await?;
    let mut files = 0;
    while !ctx.stop.is_cancelled() {
        let Some((playlist, _held)) = engine.claim_work(job, stage).await? else { break };
        let now = engine.now();
        let library = engine.config().library.clone();
        let written = engine
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
    engine.emit(Event::Exported { job, files });
    engine.blocking(move |s| s.stage_counts(job, stage)).await
}
