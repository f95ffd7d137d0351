//! The collect stage: re-read every followed subscription list (OPML) and add the playlists
//! it lists that the catalog lacks. Work items are collection ids. A list that cannot be
//! fetched or parsed fails alone (`collection <id> <url>: <reason>`); the others go on.

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use crate::catalog::fetch::fetch_document_with;
use crate::catalog::{parse_document, Document};
use crate::store::jobs::WorkEnd;
use crate::store::{StageCounts, StageKind};

pub(super) async fn run(cx: &Context, ctx: &JobCtx, stage: u8) -> Result<StageCounts, EngineError> {
    let job = ctx.job;
    cx.plan_stage(job, stage, StageKind::Collect, |s| {
        Ok(s.collections()?.into_iter().map(|(id, _)| id).collect())
    })
    .await?;
    while !ctx.stop.is_cancelled() {
        let Some((id, _held)) = super::reaper::claim_work(cx, job, stage).await? else { break };
        let row = cx.blocking(move |s| s.collection(id)).await?;
        let outcome = async {
            let url = url::Url::parse(&row.url).map_err(|e| format!("invalid URL: {e}"))?;
            let (bytes, final_url) = fetch_document_with(&cx.documents, &url, &cx.config().document_limits())
                .await
                .map_err(|e| e.to_string())?;
            match parse_document(&bytes, &final_url).map_err(|e| e.to_string())? {
                Document::Subscriptions(subs) => Ok(subs),
                Document::Playlist(_) => Err("a playlist, not a subscription list".to_string()),
            }
        }
        .await;
        let now = cx.now();
        match outcome {
            Ok(subs) => {
                let listed = subs.len() as u32;
                let new = cx
                    .blocking(move |s| {
                        let mut new = 0;
                        for sub in &subs {
                            new += u32::from(
                                s.add_playlist(&sub.url, sub.title.as_deref(), &sub.folders, now)?.created,
                            );
                        }
                        s.record_collect(id, Ok(listed), now)?;
                        s.finish_stage_item(
                            job,
                            stage,
                            id,
                            WorkEnd::done(format!("{new} new of {listed}")),
                            now,
                        )?;
                        Ok(new)
                    })
                    .await?;
                cx.emit(Event::CollectionRead { job, url: row.url.clone(), new_playlists: new });
            }
            Err(reason) => {
                let line = format!("collection {id} {}: {reason}", row.url);
                let stored = line.clone();
                cx.blocking(move |s| {
                    s.record_collect(id, Err(&reason), now)?;
                    s.finish_stage_item(job, stage, id, WorkEnd::failed(stored), now)
                })
                .await?;
                cx.emit(Event::CollectionFailed { job, error: line });
            }
        }
    }
    cx.blocking(move |s| s.stage_counts(job, stage)).await
}
