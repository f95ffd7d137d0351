//! The commands the window invokes. Each parses its arguments, makes one call into the core
//! (through [`AppCore`] or a view function over the store) and maps the error to the wire error
//! (ARCHITECTURE.md, convention 1). Store reads run on the blocking pool, so the window never
//! waits on disk on the main thread; job commands only queue work for the engine driver.

use catalog_sync_core::store::JobCommand;
use catalog_sync_core::subscriptions;
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

use crate::app_core::AppCore;
use crate::error::{CmdResult, ErrorCode, WireError};
use crate::job_views::{self, JobDetail, TaskCenterView};
use crate::settings::Settings;
use crate::views::{self, ItemView, PlaylistView};
use crate::wire::{JobAction, JobKind};

/// What adding playlists did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct AddResult {
    /// Ids of the playlists named, new or known, in input order.
    pub ids: Vec<u64>,
    /// How many are new.
    pub created: u32,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct ImportResult {
    /// The source as a URL.
    pub url: String,
    /// An OPML subscription list (else one playlist).
    pub subscription_list: bool,
    /// Playlists it names, in document order.
    pub ids: Vec<u64>,
    /// How many are new.
    pub created: u32,
    /// Items in the document, for a single playlist.
    pub items: u32,
}

/// One throughput sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ThroughputPoint {
    /// When (Unix ms).
    pub t_ms: i64,
    /// Summed speed of all live downloads (bytes/s).
    pub bytes_per_sec: u64,
}

/// Where the app keeps things, for the settings page and empty states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct AppInfo {
    /// App version.
    pub version: String,
    /// The catalog database file.
    pub database: String,
    /// The config file settings are saved to, if any.
    pub config_file: Option<String>,
}

/// Every playlist with its counts.
#[tauri::command]
#[specta::specta]
pub async fn list_playlists(core: State<'_, AppCore>) -> CmdResult<Vec<PlaylistView>> {
    core.blocking(|s| Ok(views::list_playlists(s)?)).await
}

/// Items of one playlist in document order. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn list_items(core: State<'_, AppCore>, playlist_id: u64) -> CmdResult<Vec<ItemView>> {
    core.blocking(move |s| Ok(views::list_items(s, playlist_id)?)).await
}

/// Adds playlists by URL or path. Each is fetched and added by its content, as an import: a
/// feed or playlist becomes one playlist, an OPML subscription list adds every feed it lists.
/// When the fetch fails transiently (offline, timeout, 5xx) the URL is added as it is and the
/// next sync reads it. Errors: the first entry that is not a URL or path (`invalid_input`),
/// not found (`not_found`), or not a feed (`unparsable`); entries before it stay added.
#[tauri::command]
#[specta::specta]
pub async fn add_playlists(core: State<'_, AppCore>, urls: Vec<String>) -> CmdResult<AddResult> {
    let engine = core.engine();
    let mut out = AddResult { ids: Vec::new(), created: 0 };
    let result = async {
        for url in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            match subscriptions::import_source(core.store(), engine.client(), url, core.now_ms()).await {
                Ok(import) => {
                    out.created += import.created;
                    out.ids.extend(import.ids);
                }
                Err(subscriptions::SubscriptionError::Fetch { source, .. }) if source.is_transient() => {
                    let (id, created, _) = subscriptions::add_url(core.store(), url, core.now_ms())?;
                    out.ids.push(id);
                    out.created += u32::from(created);
                }
                Err(e) => return Err(WireError::from(e)),
            }
        }
        Ok(())
    }
    .await;
    if !out.ids.is_empty() {
        core.touch(false, true);
    }
    result.map(|()| out)
}

/// Imports an OPML, M3U, PLS, XSPF or feed file (or URL) by its content. Errors: `io`,
/// `not_found`, `network`, `unparsable`, `invalid_input`.
#[tauri::command]
#[specta::specta]
pub async fn import_file(core: State<'_, AppCore>, path: String) -> CmdResult<ImportResult> {
    let engine = core.engine();
    let out = subscriptions::import_source(core.store(), engine.client(), &path, core.now_ms()).await?;
    core.touch(false, true);
    Ok(ImportResult {
        url: out.url,
        subscription_list: out.subscription_list,
        ids: out.ids,
        created: out.created,
        items: out.items,
    })
}

/// Writes the catalog as OPML 2.0 to `path`. Errors: `io`.
#[tauri::command]
#[specta::specta]
pub async fn export_opml(core: State<'_, AppCore>, path: String) -> CmdResult<()> {
    core.blocking(move |s| {
        let xml = subscriptions::export_opml_document(s)?;
        std::fs::write(&path, xml).map_err(|e| WireError::new(ErrorCode::Io, format!("writing {path}: {e}")))
    })
    .await
}

fn dialog_path(handle: Option<rfd::FileHandle>) -> Option<String> {
    handle.map(|h| h.path().display().to_string())
}

/// Native open dialog for a subscription list or playlist file; `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_import_file() -> CmdResult<Option<String>> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Import playlists")
        .add_filter(
            "Subscription lists and playlists",
            &["opml", "xml", "m3u", "m3u8", "pls", "xspf", "rss", "atom"],
        )
        .add_filter("All files", &["*"])
        .pick_file()
        .await;
    Ok(dialog_path(picked))
}

/// Native save dialog for the OPML export; `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_export_path() -> CmdResult<Option<String>> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Export OPML")
        .set_file_name("catalog-sync.opml")
        .add_filter("OPML", &["opml"])
        .save_file()
        .await;
    Ok(dialog_path(picked))
}

/// Native folder dialog (library and overflow roots); `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn pick_folder() -> CmdResult<Option<String>> {
    Ok(dialog_path(rfd::AsyncFileDialog::new().set_title("Choose a folder").pick_folder().await))
}

/// Queues a job of `kind` over `playlist_ids` (empty = every playlist); returns its id.
/// Errors: `invalid_input` for an unknown playlist id.
#[tauri::command]
#[specta::specta]
pub async fn enqueue_job(core: State<'_, AppCore>, kind: JobKind, playlist_ids: Vec<u64>) -> CmdResult<u64> {
    let ids = playlist_ids.clone();
    core.blocking(move |s| {
        for id in ids {
            s.playlist(id).map_err(|_| WireError::invalid(format!("playlist {id} is not in the catalog")))?;
        }
        Ok(())
    })
    .await?;
    core.enqueue(kind.into(), playlist_ids).await
}

/// Selects (`wanted`) or unselects the playlists for download (reference-counted: an item
/// stays wanted while any selected playlist still references it; unselecting stops transfers
/// of items nothing wants any more). Returns how many items changed their wanted state.
#[tauri::command]
#[specta::specta]
pub async fn set_wanted(core: State<'_, AppCore>, playlist_ids: Vec<u64>, wanted: bool) -> CmdResult<u32> {
    let engine = core.engine();
    let before = core.blocking(|s| Ok(s.wanted_items()?)).await?;
    for id in playlist_ids {
        engine.set_playlist_wanted(id, wanted, false).await?;
    }
    let after = core.blocking(|s| Ok(s.wanted_items()?)).await?;
    core.touch(false, true);
    Ok(before.symmetric_difference(&after).count() as u32)
}

/// The task center projection now.
#[tauri::command]
#[specta::specta]
pub async fn task_center(core: State<'_, AppCore>) -> CmdResult<TaskCenterView> {
    let (now, stale) = (core.now_ms(), core.stale_after_ms());
    core.blocking(move |s| Ok(job_views::task_center_view(s, now, stale)?)).await
}

/// Stages, work items, workers, runs and recent log lines of one job. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn job_detail(core: State<'_, AppCore>, job_id: u64) -> CmdResult<JobDetail> {
    let (now, stale) = (core.now_ms(), core.stale_after_ms());
    core.blocking(move |s| Ok(job_views::job_detail(s, job_id, now, stale)?)).await
}

/// Pause, resume, cancel or retry the failed items of a job. Errors: `not_found`, `conflict`
/// when the action does not apply to the job's status.
#[tauri::command]
#[specta::specta]
pub async fn job_command(core: State<'_, AppCore>, job_id: u64, action: JobAction) -> CmdResult<()> {
    core.command(job_id, JobCommand::from(action)).await
}

/// Pauses every job that can pause; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn pause_all(core: State<'_, AppCore>) -> CmdResult<u32> {
    core.command_all(JobCommand::Pause).await
}

/// Resumes every paused job; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn resume_all(core: State<'_, AppCore>) -> CmdResult<u32> {
    core.command_all(JobCommand::Resume).await
}

/// Summed download speed, one sample a second while jobs run, oldest first (last 10 minutes).
#[tauri::command]
#[specta::specta]
pub async fn throughput_history(core: State<'_, AppCore>) -> CmdResult<Vec<ThroughputPoint>> {
    Ok(core
        .throughput()
        .into_iter()
        .map(|(t_ms, bytes_per_sec)| ThroughputPoint { t_ms, bytes_per_sec })
        .collect())
}

/// The settings as saved.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(core: State<'_, AppCore>) -> CmdResult<Settings> {
    Ok(Settings::from_config(&core.config()))
}

/// Checks and saves the settings to the config file; the engine uses them from its next idle
/// moment. Returns the settings as saved. Errors: `invalid_input` naming the field, `io`.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(core: State<'_, AppCore>, settings: Settings) -> CmdResult<Settings> {
    let mut config = core.config();
    settings.apply_to(&mut config)?;
    let core = core.inner().clone();
    let saved = Settings::from_config(&config);
    tokio::task::spawn_blocking(move || core.save_config(config))
        .await
        .map_err(|e| WireError::new(ErrorCode::Internal, e.to_string()))??;
    Ok(saved)
}

/// Version and file locations.
#[tauri::command]
#[specta::specta]
pub async fn app_info(core: State<'_, AppCore>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: core.store().path().display().to_string(),
        config_file: core.config_path().map(|p| p.display().to_string()),
    })
}
