//! Auto-sync and start at login. [`run`] queues a `sync_download` of every playlist every
//! `auto_sync_hours` (config) while the app runs, counted from start or from the last change
//! of the setting, and skips a round while such a job is still queued or running (no pile-up).
//! [`apply_start_at_login`] makes the login item (tauri-plugin-autostart; an XDG autostart
//! entry on Linux) match the `start_at_login` setting.

use std::time::Duration;

use catalog_sync_core::store::{JobKind, JobStatus};
use tauri::{AppHandle, Manager, Runtime};

use crate::app_core::AppCore;

/// Runs the auto-sync timer until shutdown.
pub async fn run(core: AppCore) {
    loop {
        let every = core.config().auto_sync_hours.map(|h| Duration::from_secs(u64::from(h) * 3600));
        tokio::select! {
            _ = async { tokio::time::sleep(every.unwrap_or_default()).await }, if every.is_some() => {
                if let Err(e) = sync_all(&core).await {
                    tracing::warn!(error = %e.message, "auto-sync failed");
                }
            }
            _ = core.settings_changed() => {}
            _ = core.shutting_down() => return,
        }
    }
}

/// Queues a `sync_download` of every playlist unless one is already queued or running.
/// Returns the new job's id. Errors: store failures.
pub async fn sync_all(core: &AppCore) -> crate::error::CmdResult<Option<u64>> {
    let busy = core
        .blocking(|s| {
            Ok(s.jobs()?.iter().any(|(_, j)| {
                j.kind == JobKind::SyncDownload
                    && j.scope.is_empty()
                    && matches!(j.status, JobStatus::Queued | JobStatus::Running | JobStatus::PauseRequested)
            }))
        })
        .await?;
    if busy || core.is_shutting_down() {
        return Ok(None);
    }
    core.enqueue(JobKind::SyncDownload, Vec::new()).await.map(Some)
}

/// Enables or disables the login item to match `enabled`; failures are logged.
pub fn apply_start_at_login<R: Runtime>(app: &AppHandle<R>, enabled: bool) {
    use tauri_plugin_autostart::ManagerExt;
    if app.try_state::<tauri_plugin_autostart::AutoLaunchManager>().is_none() {
        return;
    }
    let launcher = app.autolaunch();
    let result = match (enabled, launcher.is_enabled()) {
        (true, Ok(false)) => launcher.enable(),
        (false, Ok(true)) => launcher.disable(),
        (_, Ok(_)) => Ok(()),
        (_, Err(e)) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "start at login could not be changed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn auto_sync_queues_one_sync_download_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let config = catalog_sync_core::config::Config {
            database: dir.path().join("c.redb"),
            library: dir.path().join("lib"),
            ..Default::default()
        };
        let (core, _rx) = AppCore::open_system(config, None).unwrap();
        let first = sync_all(&core).await.unwrap().expect("a job");
        assert_eq!(sync_all(&core).await.unwrap(), None, "one is still queued");
        let job = core.store().job(first).unwrap();
        assert_eq!((job.kind, job.scope.len()), (JobKind::SyncDownload, 0));
        core.store().set_job_status(first, JobStatus::Succeeded, 1).unwrap();
        assert!(sync_all(&core).await.unwrap().is_some(), "after it ended, the next round queues again");
    }
}
