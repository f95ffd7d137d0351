//! One job's run: each attempt is a durable run `job-<id>-run-<n>` with one recorded step per
//! stage (start, end, outcome, typed error). Stages run in order; a stage finished by an
//! earlier run is skipped, so a resumed job continues where it stopped. A stage with failed
//! work items ends `failed` with the typed error `items_failed`, never looking successful.
//! When the job's `stop` token fires (pause, cancel, shutdown) the stage's claimed work goes
//! back to the queue and the job ends `paused`, `cancelled` or `queued` accordingly.

use super::events::Event;
use super::runner::{Engine, EngineError, JobCtx};
use super::{collect_stage, download_stage, export_stage, sync_stage};
use crate::store::job_log::{JobLogRow, LogKind};
use crate::store::runs::{ErrorClass, RunOutcome, StepOutcome, TypedError};
use crate::store::{JobStatus, StageCounts, StageKind, StageRow, WorkStatus};

pub(super) async fn run_job(engine: &Engine, ctx: JobCtx) -> Result<JobStatus, EngineError> {
    let job = ctx.job;
    let row = engine.blocking(move |s| s.job(job)).await?;
    let now = engine.now();
    let run = engine.blocking(move |s| s.start_run(job, now)).await?;
    log(engine, job, LogKind::Job, None, format!("run {} started", crate::store::runs::run_id(job, run)))
        .await?;
    engine.emit(Event::JobStarted { job, kind: row.kind });
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
        let (kind, now) = (stage.kind, engine.now());
        engine
            .blocking(move |s| {
                s.update_stage(job, index, |st| {
                    st.status = WorkStatus::Running;
                    st.started_ms.get_or_insert(now);
                })?;
                s.start_step(job, run, index, kind, now)
            })
            .await?;
        log(engine, job, LogKind::Stage, Some(index), format!("{kind} started")).await?;
        let counts = match kind {
            StageKind::Collect => collect_stage::run(engine, &ctx, index).await,
            StageKind::Sync => sync_stage::run(engine, &ctx, index, &row.scope).await,
            StageKind::Download => download_stage::run(engine, &ctx, index, &row.scope).await,
            StageKind::Export => export_stage::run(engine, &ctx, index, &row.scope).await,
        };
        let counts = match counts {
            Ok(counts) => counts,
            Err(e) => {
                let (error, now) = (TypedError::new("engine", e.to_string(), ErrorClass::Bug), engine.now());
                let _ = engine
                    .blocking(move |s| s.end_step(job, run, index, StepOutcome::Failed, Some(error), now))
                    .await;
                return Err(e);
            }
        };
        if ctx.stop.is_cancelled() {
            let now = engine.now();
            let outcome = stopped_outcome(engine, &ctx);
            engine
                .blocking(move |s| {
                    s.requeue_running_items(job, index, now)?;
                    s.update_stage(job, index, |st| st.status = WorkStatus::Queued)?;
                    s.end_step(job, run, index, outcome, None, now)
                })
                .await?;
            break;
        }
        failed |= counts.failed > 0;
        let now = engine.now();
        let error = (counts.failed > 0).then(|| {
            TypedError::new(
                "items_failed",
                format!("{} of {} items failed", counts.failed, counts.total()),
                ErrorClass::Expected,
            )
        });
        let outcome = if error.is_some() { StepOutcome::Failed } else { StepOutcome::Succeeded };
        engine
            .blocking(move |s| {
                s.update_stage(job, index, |st| finish_stage(st, counts, now))?;
                s.end_step(job, run, index, outcome, error, now)
            })
            .await?;
        log(
            engine,
            job,
            LogKind::Stage,
            Some(index),
            format!(
                "{kind} ended: {} done, {} failed, {} skipped",
                counts.done, counts.failed, counts.skipped
            ),
        )
        .await?;
        engine.emit(Event::StageFinished { job, stage: kind, counts });
        if kind == StageKind::Download {
            super::export_hooks::stage_completed(engine, job).await;
        }
    }
    let status = final_status(engine, &ctx, failed).await?;
    if matches!(status, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled) {
        // an ended job wants nothing any more; its files stay
        engine.drop_job_references(job, false).await?;
    }
    let now = engine.now();
    let run_outcome = match status {
        JobStatus::Succeeded => RunOutcome::Succeeded,
        JobStatus::Failed => RunOutcome::Failed,
        JobStatus::Cancelled => RunOutcome::Cancelled,
        JobStatus::Paused => RunOutcome::Paused,
        _ => RunOutcome::Interrupted,
    };
    engine.blocking(move |s| s.end_run(job, run, run_outcome, now)).await?;
    log(
        engine,
        job,
        LogKind::Job,
        None,
        format!("run {} ended: {status}", crate::store::runs::run_id(job, run)),
    )
    .await?;
    engine.emit(Event::JobFinished { job, status });
    Ok(status)
}

fn stopped_outcome(engine: &Engine, ctx: &JobCtx) -> StepOutcome {
    if engine.inner.shutdown.is_cancelled() {
        StepOutcome::Interrupted
    } else if ctx.abort.is_cancelled() {
        StepOutcome::Cancelled
    } else {
        StepOutcome::Paused
    }
}

/// The status the job ends in and stores. A cancel command already stored `cancelled`; a pause
/// stored `pause_requested` (now `paused`), or a resume withdrew it (`running`: queue again).
async fn final_status(engine: &Engine, ctx: &JobCtx, failed: bool) -> Result<JobStatus, EngineError> {
    let job = ctx.job;
    let stored = engine.blocking(move |s| s.job(job)).await?.status;
    let status = if engine.inner.shutdown.is_cancelled() && stored != JobStatus::Cancelled {
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
    let now = engine.now();
    if status != stored {
        engine.blocking(move |s| s.set_job_status(job, status, now)).await?;
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

/// Appends one line to the job's event log.
pub(super) async fn log(
    engine: &Engine,
    job: u64,
    kind: LogKind,
    stage: Option<u8>,
    text: String,
) -> Result<(), EngineError> {
    let row = JobLogRow { at_ms: engine.now(), kind, stage, target: None, text };
    engine.blocking(move |s| s.append_job_log(job, &[row])).await
}
