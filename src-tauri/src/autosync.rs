//! Auto-sync and start at login. [`run`] runs the core's auto-sync schedule
//! (`Api::run_auto_sync`, the same `serve` runs): a `sync_download` of every playlist every
//! `auto_sync_hours` (config), its next due time kept in the catalog across restarts, a run
//! missed while the app was closed made up once at start, and no round queued while the last
//! one is still queued or running.
//! [`apply_start_at_login`] makes the login item (tauri-plugin-autostart; an XDG autostart
//! entry on Linux) match the `start_at_login` setting.

use catalog_sync_core::api::Api;
use tauri::{AppHandle, Manager, Runtime};

use crate::commands::CmdResult;

/// Runs the auto-sync timer until shutdown.
pub async fn run(api: Api) {
    api.run_auto_sync().await
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
