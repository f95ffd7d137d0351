//! Auto-sync and start at login. [`run`] queues a `sync_download` of every playlist every
//! `auto_sync_hours` (config) while the app runs, counted from start or from the last change
//! of the setting, and skips a round while such a job is still queued or running (no pile-up).
//! [`apply_start_at_login`] makes the login item (tauri-plugin-autostart; an XDG autostart
//! entry on Linux) match the `start_at_login` setting.

use std::time::Duration;

use catalog_sync_core::api::Api;
use tauri::{AppHandle, Manager, Runtime};

use crate::commands::CmdResult;

/// Runs the auto-sync timer until shutdown.
pub async fn run(api: Api) {
    loop {
        let every = api.config().auto_sync_hours.map(|h| Duration::from_secs(u64::from(h) * 3600));
        tokio::select! {
            _ = async { tokio::time::sleep(every.unwrap_or_default()).await }, if every.is_some() => {
                if let Err(e) = sync_all(&api).await {
                    tracing::warn!(error = %e.message, "auto-sync failed");
                }
            }
            _ = api.settings_changed() => {}
            _ = api.shutting_down() => return,
        }
    }
}

/// Queues a `sync_download` of every playlist unless one is already queued or running (see
/// `Api::auto_sync`). Returns the new job's id. Errors: store failures.
pub async fn sync_all(api: &Api) -> CmdResult<Option<u64>> {
    api.auto_sync().await
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
    use catalog_sync_core::api::{JobAction, JobKind};

    #[tokio::test]
    async fn auto_sync_queues_one_sync_download_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let config = catalog_sync_core::config::Config {
            database: dir.path().join("c.redb"),
            library: dir.path().join("lib"),
            ..Default::default()
        };
        let api = Api::open_system(config, None).unwrap();
        let first = sync_all(&api).await.unwrap().expect("a job");
        assert_eq!(sync_all(&api).await.unwrap(), None, "one is still queued");
        let job = api.job_detail(first).await.unwrap().job;
        assert_eq!((job.kind, job.scope_summary.as_str()), (JobKind::SyncDownload, "all playlists"));
        api.job_command(first, JobAction::Cancel).await.unwrap();
        assert!(sync_all(&api).await.unwrap().is_some(), "after it ended, the next round queues again");
    }
}
