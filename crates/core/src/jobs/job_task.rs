//! One job's run: each attempt is a durable run `job-<id>-run-<n>` with one recorded step per
//! stage (start, end, outcome, typed error). Stages run in order; a stage finished by an
//! earlier run is skipped, so a resumed job continues where it stopped. A stage with failed
//! work items ends `failed` with the typed error `items_failed`, never looking successful.
//! When the job's `stop` token fires (pause, cancel, shutdown) the stage's claimed work goes
//! back to the queue and the job ends `paused`, `cancelled` or `queued` accordingly.

use super::context::{Context, JobCtx};
use super::error::EngineError;
use super::events::Event;
use super::{collect_stage, download_stage, export_stage, organize_stage, sync_stage, upload_stage};
use crate::store::job_log::LogKind;
use crate::store::runs::{ErrorClass, RunOutcome, StepOutcome, TypedError};
use crate::store::{JobStatus, StageCounts, StageKind, StageRow, WorkStatus};

pub(super) async fn run_job(cx: &Context, ctx: JobCtx) -> Result<JobStatus, EngineError> {
    let job = ctx.job;
    let row = cx.blocking(move |s| s.job(job)).await?;
    let now = cx.now();
    let run = cx.blocking(move |s| s.start_run(job, now)).await?;
    cx.log(job, LogKind::Job, None, format!("run {} started", crate::store::runs::run_id(job, run))).await?;
    cx.emit(Event::JobStarted { job, kind: row.kind });
    let mut failed = false;
    for (index, stage) in row.stages.iter().enumerate() {
        let index = index as u8;
        match stage.status {
            WorkStatus::Done | WorkStatus::Skipped | WorkStatus::Cancelling | WorkStatus::Cancelled => {
                continue
            }
            WorkStatus::Failed => {
                failed = true;
                continue;
            }
            WorkStatus::Queued | WorkStatus::Running => {}
        }
        if ctx.stop.is_cancelled() {
            break;
        }
        let (kind, now) = (stage.kind, cx.now());
        cx.blocking(move |s| {
            s.update_stage(job, index, move |st| {
                st.status = WorkStatus::Running;
                st.started_ms.get_or_insert(now);
            })?;
            s.start_step(job, run, index, kind, now)
        })
        .await?;
        cx.log(job, LogKind::Stage, Some(index), format!("{kind} started")).await?;
        let counts = match kind {
            StageKind::Collect => collect_stage::run(cx, &ctx, index).await,
            StageKind::Sync => sync_stage::run(cx, &ctx, index, &row.scope).await,
            StageKind::Download => download_stage::run(cx, &ctx, index, &row.scope).await,
            StageKind::Export => export_stage::run(cx, &ctx, index, &row.scope).await,
            StageKind::Upload => upload_stage::run(cx, &ctx, index, &row.scope).await,
            StageKind::Organize => organize_stage::run(cx, &ctx, index).await,
        };
        let counts = match counts {
            Ok(counts) => counts,
            Err(e) => {
                let (error, now) = (TypedError::new("cx", e.to_string(), ErrorClass::Bug), cx.now());
                let _ = cx
                    .blocking(move |s| s.end_step(job, run, index, StepOutcome::Failed, Some(error), now))
                    .await;
                return Err(e);
            }
        };
        if ctx.stop.is_cancelled() {
            let now = cx.now();
            let outcome = stopped_outcome(cx, &ctx);
            cx.blocking(move |s| {
                s.requeue_running_items(job, index, now)?;
                s.update_stage(job, index, |st| st.status = WorkStatus::Queued)?;
                s.end_step(job, run, index, outcome, None, now)
            })
            .await?;
            break;
        }
        failed |= counts.failed > 0;
        let now = cx.now();
        let error = (counts.failed > 0).then(|| {
            TypedError::new(
                "items_failed",
                format!("{} of {} items failed", counts.failed, counts.total()),
                ErrorClass::Expected,
            )
        });
        let outcome = if error.is_some() { StepOutcome::Failed } else { StepOutcome::Succeeded };
        cx.blocking(move |s| {
            s.update_stage(job, index, move |st| finish_stage(st, counts, now))?;
            s.end_step(job, run, index, outcome, error, now)
        })
        .await?;
        cx.log(
            job,
            LogKind::Stage,
            Some(index),
            format!(
                "{kind} ended: {} done, {} failed, {} skipped",
                counts.done, counts.failed, counts.skipped
            ),
        )
        .await?;
        cx.emit(Event::StageFinished { job, stage: kind, counts });
        if kind == StageKind::Download {
            super::retention_hook::after_download(cx, job, index, &row.scope).await;
            super::export_hooks::stage_completed(cx, job).await;
        }
    }
    let status = final_status(cx, &ctx, failed).await?;
    if matches!(status, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled) {
        // an ended job wants nothing any more; its files stay
        super::refs::drop_job_references(cx, job, false).await?;
    }
    let now = cx.now();
    let run_outcome = match status {
        JobStatus::Succeeded => RunOutcome::Succeeded,
        JobStatus::Failed => RunOutcome::Failed,
        JobStatus::Cancelled => RunOutcome::Cancelled,
        JobStatus::Paused => RunOutcome::Paused,
        _ => RunOutcome::Interrupted,
    };
    cx.blocking(move |s| s.end_run(job, run, run_outcome, now)).await?;
    cx.log(job, LogKind::Job, None, format!("run {} ended: {status}", crate::store::runs::run_id(job, run)))
        .await?;
    cx.emit(Event::JobFinished { job, status });
    Ok(status)
}

fn stopped_outcome(cx: &Context, ctx: &JobCtx) -> StepOutcome {
    if cx.shutdown.is_cancelled() {
        StepOutcome::Interrupted
    } else if ctx.abort.is_cancelled() {
        StepOutcome::Cancelled
    } else {
        StepOutcome::Paused
    }
}

/// The status the job ends in and stores. A cancel command already stored `cancelled`; a pause
/// stored `pause_requested` (now `paused`), or a resume withdrew it (`running`: queue again).
async fn final_status(cx: &Context, ctx: &JobCtx, failed: bool) -> Result<JobStatus, EngineError> {
    let job = ctx.job;
    let stored = cx.blocking(move |s| s.job(job)).await?.status;
    let status = if cx.shutdown.is_cancelled() && stored != JobStatus::Cancelled {
        match stored {
            JobStatus::PauseRequested => JobStatus::Paused,
            _ => JobStatus::Queued,
        }
    } else if ctx.abort.is_cancelled() || stored == JobStatus::Cancelled {
        JobStatus::Cancelled
    } else if ctx.stop.is_cancelled() {
        match stored {
            JobStatus::PauseRequested | JobStatus::Paused => JobStatus::Paused,
            _ => JobStatus::Queued,
        }
    } else if failed {
        JobStatus::Failed
    } else {
        JobStatus::Succeeded
    };
    let now = cx.now();
    if status != stored {
        cx.blocking(move |s| s.set_job_status(job, status, now)).await?;
    }
    Ok(status)
}

fn finish_stage(st: &mut StageRow, counts: StageCounts, now: i64) {
    st.ended_ms = Some(now);
    if counts.failed > 0 {
        st.status = WorkStatus::Failed;
        st.error = Some(format!("{} of {} items failed", counts.failed, counts.total()));
    } else {
        st.status = WorkStatus::Done;
        st.error = None;
    }
}
