//! The commands the window invokes. Each parses its arguments, makes one call to the core's
//! [`Api`] and returns its view or wire error (ARCHITECTURE.md, convention 1): the behaviour
//! lives in `catalog_sync_core::api`, shared with the command line. The native dialogs are the
//! only commands of the shell's own.

use catalog_sync_core::api::{
    AddKind, AddResult, Api, AutoSyncView, ImportResult, ItemPage, JobAction, JobDetail, JobKind, KeepChange,
    MediaChoice, OrganizePreview, Page, PlaylistPage, PlaylistView, Retention, RetentionReport, Settings,
    TargetInput, TargetTest, TargetView, TaskCenterView, ThroughputPoint, WireError, YtDlpStatus,
    YtDlpUpdate,
};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

/// Result of a command: a view or the wire error.
pub type CmdResult<T> = Result<T, WireError>;

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

/// A page of the playlists with their counts, by id, after cursor `after` (the `next` of the
/// page before), at most `limit` rows. Errors: `invalid_input` for a bad cursor.
#[tauri::command]
#[specta::specta]
pub async fn list_playlists(
    api: State<'_, Api>,
    after: Option<String>,
    limit: Option<u32>,
) -> CmdResult<PlaylistPage> {
    api.list_playlists(Page { after, limit: limit.map(|l| l as usize) }).await
}

/// A page of one playlist's items in document order (see `list_playlists`). Errors:
/// `not_found`, `invalid_input` for a bad cursor.
#[tauri::command]
#[specta::specta]
pub async fn list_items(
    api: State<'_, Api>,
    playlist_id: u64,
    after: Option<String>,
    limit: Option<u32>,
) -> CmdResult<ItemPage> {
    api.list_items(playlist_id, Page { after, limit: limit.map(|l| l as usize) }).await
}

/// The cover of a playlist as a `data:image/...;base64,...` URL from the app's art cache
/// (fetched, size- and type-checked and cached on first request), or `null` when it names
/// none or the image cannot be had: the window never loads a remote image (CSP `img-src
/// 'self' data:`). Errors: `not_found`, `io`.
#[tauri::command]
#[specta::specta]
pub async fn playlist_art(api: State<'_, Api>, playlist_id: u64) -> CmdResult<Option<String>> {
    api.playlist_art(playlist_id).await
}

/// An item's own image as a `data:` URL, like `playlist_art`; `null` when it names none.
/// Errors: `not_found`, `io`.
#[tauri::command]
#[specta::specta]
pub async fn item_art(api: State<'_, Api>, item_id: u64) -> CmdResult<Option<String>> {
    api.item_art(item_id).await
}

/// Adds playlists by URL or path. Each is fetched and added by its content, as an import: a
/// feed or playlist becomes one playlist, an OPML subscription list adds every feed it lists.
/// When the fetch fails transiently (offline, timeout, 5xx) the URL is added as it is and the
/// next sync reads it. Errors: the first entry that is not a URL or path (`invalid_input`),
/// not found (`not_found`), or not a feed (`unparsable`); entries before it stay added.
#[tauri::command]
#[specta::specta]
pub async fn add_playlists(api: State<'_, Api>, urls: Vec<String>) -> CmdResult<AddResult> {
    api.add_playlists(urls).await
}

/// Adds playlists by URL as `kind`: by content (a web page yt-dlp reads as a channel or
/// playlist becomes a yt-dlp playlist), a document only, or a yt-dlp playlist; yt-dlp
/// playlists download `media` (default: video up to 1080p). Errors: as `add_playlists`, and
/// `invalid_input` when yt-dlp is not installed, `unparsable` when yt-dlp reads the URL as a
/// single video or not at all.
#[tauri::command]
#[specta::specta]
pub async fn add_playlists_as(
    api: State<'_, Api>,
    urls: Vec<String>,
    kind: AddKind,
    media: Option<MediaChoice>,
) -> CmdResult<AddResult> {
    api.add_playlists_as(urls, kind, media).await
}

/// Sets what a yt-dlp playlist downloads of each entry. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn set_playlist_media(
    api: State<'_, Api>,
    playlist_id: u64,
    media: MediaChoice,
) -> CmdResult<PlaylistView> {
    api.set_playlist_media(playlist_id, media).await
}

/// Turns tags and cover art for a playlist's downloads on or off (`null`: back to the
/// default, on for feeds); returns the playlist. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn set_playlist_tagging(
    api: State<'_, Api>,
    playlist_id: u64,
    enabled: Option<bool>,
) -> CmdResult<PlaylistView> {
    api.set_playlist_tagging(playlist_id, enabled).await
}

/// Sets a playlist's own retention rule (`null`: the global default); returns the playlist.
/// Errors: `not_found`; `invalid_input` for a count or age of 0.
#[tauri::command]
#[specta::specta]
pub async fn set_playlist_retention(
    api: State<'_, Api>,
    playlist_id: u64,
    rule: Option<Retention>,
) -> CmdResult<PlaylistView> {
    api.set_playlist_retention(playlist_id, rule).await
}

/// Marks an item "keep" (retention never deletes it; a deleted one is downloaded again) or
/// clears the mark. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn set_item_keep(api: State<'_, Api>, item_id: u64, keep: bool) -> CmdResult<KeepChange> {
    api.set_item_keep(item_id, keep).await
}

/// Runs retention over `playlists` (empty = all) now; with `dry_run`, only previews.
/// Errors: `invalid_input` for an unknown playlist.
#[tauri::command]
#[specta::specta]
pub async fn clean_library(
    api: State<'_, Api>,
    playlists: Vec<u64>,
    dry_run: bool,
) -> CmdResult<RetentionReport> {
    api.clean(playlists, dry_run).await
}

/// The yt-dlp in use and its version.
#[tauri::command]
#[specta::specta]
pub async fn ytdlp_status(api: State<'_, Api>) -> CmdResult<YtDlpStatus> {
    api.ytdlp_status().await
}

/// The auto-sync schedule: interval, next run and last run (times in Unix ms). Errors: `io`.
#[tauri::command]
#[specta::specta]
pub async fn auto_sync_status(api: State<'_, Api>) -> CmdResult<AutoSyncView> {
    api.auto_sync_status().await
}

/// Updates yt-dlp where the user installed it. Errors: `invalid_input` (not found),
/// `conflict` (installed system-wide), `network`, `io`.
#[tauri::command]
#[specta::specta]
pub async fn update_ytdlp(api: State<'_, Api>) -> CmdResult<YtDlpUpdate> {
    api.update_ytdlp().await
}

/// Imports an OPML, M3U, PLS, XSPF or feed file (or URL) by its content. Errors: `io`,
/// `not_found`, `network`, `unparsable`, `invalid_input`.
#[tauri::command]
#[specta::specta]
pub async fn import_file(api: State<'_, Api>, path: String) -> CmdResult<ImportResult> {
    api.import(path).await
}

/// Writes the catalog as OPML 2.0 to `path`. Errors: `io`.
#[tauri::command]
#[specta::specta]
pub async fn export_opml(api: State<'_, Api>, path: String) -> CmdResult<()> {
    api.export_opml_to(path).await
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
pub async fn enqueue_job(api: State<'_, Api>, kind: JobKind, playlist_ids: Vec<u64>) -> CmdResult<u64> {
    api.enqueue(kind, playlist_ids).await
}

/// Selects (`wanted`) or unselects the playlists for download (reference-counted: an item
/// stays wanted while any selected playlist still references it; unselecting stops transfers
/// of items nothing wants any more). Returns how many items changed their wanted state.
#[tauri::command]
#[specta::specta]
pub async fn set_wanted(api: State<'_, Api>, playlist_ids: Vec<u64>, wanted: bool) -> CmdResult<u32> {
    api.set_wanted(playlist_ids, wanted, false).await.map(|c| c.changed)
}

/// The task center projection now.
#[tauri::command]
#[specta::specta]
pub async fn task_center(api: State<'_, Api>) -> CmdResult<TaskCenterView> {
    api.task_center().await
}

/// Stages, work items, workers, runs and recent log lines of one job. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn job_detail(api: State<'_, Api>, job_id: u64) -> CmdResult<JobDetail> {
    api.job_detail(job_id).await
}

/// Pause, resume, cancel or retry the failed items of a job. Errors: `not_found`, `conflict`
/// when the action does not apply to the job's status.
#[tauri::command]
#[specta::specta]
pub async fn job_command(api: State<'_, Api>, job_id: u64, action: JobAction) -> CmdResult<()> {
    api.job_command(job_id, action).await.map(drop)
}

/// Pauses every job that can pause; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn pause_all(api: State<'_, Api>) -> CmdResult<u32> {
    api.pause_all().await
}

/// Resumes every paused job; returns how many.
#[tauri::command]
#[specta::specta]
pub async fn resume_all(api: State<'_, Api>) -> CmdResult<u32> {
    api.resume_all().await
}

/// Summed download speed, one sample a second while jobs run, oldest first (last 10 minutes).
#[tauri::command]
#[specta::specta]
pub async fn throughput_history(api: State<'_, Api>) -> CmdResult<Vec<ThroughputPoint>> {
    Ok(api.throughput_history())
}

/// The settings as saved.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(api: State<'_, Api>) -> CmdResult<Settings> {
    Ok(api.settings())
}

/// Checks and saves the settings to the config file; the engine uses them from its next idle
/// moment. Returns the settings as saved. Errors: `invalid_input` naming the field, `io`.
#[tauri::command]
#[specta::specta]
pub async fn save_settings(api: State<'_, Api>, settings: Settings) -> CmdResult<Settings> {
    api.save_settings(settings).await
}

/// Version and file locations.
#[tauri::command]
#[specta::specta]
pub async fn app_info(api: State<'_, Api>) -> CmdResult<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: api.database_path().display().to_string(),
        config_file: api.config_path().map(|p| p.display().to_string()),
    })
}

/// The upload targets with their assigned playlists (no credentials: `has_password`).
#[tauri::command]
#[specta::specta]
pub async fn list_targets(api: State<'_, Api>) -> CmdResult<Vec<TargetView>> {
    api.list_targets().await
}

/// Adds or replaces (by name) an upload target; an empty password keeps the stored one.
/// Errors: `invalid_input` naming the field, `io`.
#[tauri::command]
#[specta::specta]
pub async fn save_target(api: State<'_, Api>, target: TargetInput) -> CmdResult<TargetView> {
    api.save_target(target).await
}

/// Removes an upload target and its playlist assignments. Errors: `not_found`, `io`.
#[tauri::command]
#[specta::specta]
pub async fn remove_target(api: State<'_, Api>, name: String) -> CmdResult<()> {
    api.remove_target(name).await
}

/// Tests an upload target with a probe file. Errors: `not_found`.
#[tauri::command]
#[specta::specta]
pub async fn test_target(api: State<'_, Api>, name: String) -> CmdResult<TargetTest> {
    api.test_target(name).await
}

/// Assigns a playlist to exactly these upload targets. Errors: `not_found`, `invalid_input`.
#[tauri::command]
#[specta::specta]
pub async fn set_playlist_targets(
    api: State<'_, Api>,
    playlist_id: u64,
    targets: Vec<String>,
) -> CmdResult<Vec<String>> {
    api.set_playlist_targets(playlist_id, targets).await
}

/// Queues `upload_only` or `download_upload` over `playlist_ids` (empty = every playlist with
/// a target), limited to `targets` (empty = all of theirs); returns the job id.
#[tauri::command]
#[specta::specta]
pub async fn enqueue_upload(
    api: State<'_, Api>,
    kind: JobKind,
    playlist_ids: Vec<u64>,
    targets: Vec<String>,
) -> CmdResult<u64> {
    api.enqueue_upload(kind, playlist_ids, targets).await
}

/// The dry run of renaming: which downloaded files would move where under the saved
/// `name_template` (nothing changes). Errors: `invalid_input` (the template), `io`.
#[tauri::command]
#[specta::specta]
pub async fn organize_preview(api: State<'_, Api>) -> CmdResult<OrganizePreview> {
    api.organize_preview().await
}

/// Queues the `organize` job (or returns the unfinished one's id): files move to their
/// template names, empty folders go. Errors: `io`.
#[tauri::command]
#[specta::specta]
pub async fn organize(api: State<'_, Api>) -> CmdResult<u64> {
    api.organize().await
}
