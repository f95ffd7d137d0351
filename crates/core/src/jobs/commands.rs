//! User commands on jobs (pause, resume, cancel, retry failed items) are stored data: any
//! front end, in any process, pushes one with `Engine::command` (or the store directly), and
//! the runner applies them on its next tick, idempotently (`store::commands::apply_command`
//! gives the transition, `None` = nothing to do). A runner applies commands only for jobs it
//! runs itself or that no runner holds, so a command for a job running in another process is
//! left for that process. A cancel drops the job's references on items (`super::refs`): its
//! transfers stop unless a playlist selected for download still wants their items.

use super::context::{Context, Running};
use super::error::EngineError;
use super::refs;
use crate::store::commands::{apply_command, JobCommand};
use crate::store::job_log::LogKind;
use crate::store::{JobStatus, StoreError};

/// Applies pending stored commands (see the module docs); `running` is the engine's table of
/// jobs it runs.
pub(super) async fn apply_pending(cx: &Context, running: &Running) -> Result<(), EngineError> {
    let pending = cx.blocking(|s| s.pending_commands()).await?;
    for (seq, cmd) in pending {
        let job = cmd.job;
        let row = match cx.blocking(move |s| s.job(job)).await {
            Ok(row) => row,
            Err(EngineError::Store(StoreError::NotFound { .. })) => {
                cx.blocking(move |s| s.ack_command(seq)).await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let ctx = running.lock().expect("running lock").get(&job).map(|(_, ctx)| ctx.clone());
        let held_elsewhere =
            ctx.is_none() && matches!(row.status, JobStatus::Running | JobStatus::PauseRequested);
        if held_elsewhere {
            continue;
        }
        if let Some(to) = apply_command(row.status, cmd.command) {
            let now = cx.now();
            let command = cmd.command;
            cx.blocking(move |s| {
                if command == JobCommand::RetryFailed {
                    s.retry_failed_items(job, now)?;
                }
                s.set_job_status(job, to, now)
            })
            .await?;
            if let Some(ctx) = &ctx {
                match command {
                    JobCommand::Pause => ctx.stop.cancel(),
                    JobCommand::Cancel => ctx.abort.cancel(),
                    JobCommand::Resume | JobCommand::RetryFailed => {}
                }
            }
            if command == JobCommand::Cancel {
                // transfers of items that a selected playlist still wants go on
                refs::drop_job_references(cx, job, false).await?;
            }
            cx.log(job, LogKind::Command, None, format!("{command:?}: {} -> {to}", row.status)).await?;
        }
        cx.blocking(move |s| s.ack_command(seq)).await?;
    }
    Ok(())
}
