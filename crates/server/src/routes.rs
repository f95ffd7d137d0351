//! The JSON API: one route per `Api` operation (ARCHITECTURE.md, convention 1). Each handler
//! parses its input, makes one call to the core's `Api` and returns its view as JSON, or the wire
//! error with its status (`wire`). Bodies are JSON with the Rust argument names; ids are
//! numbers. The routes, with the desktop command each mirrors:
//!
//! | route | `Api` call |
//! | --- | --- |
//! | `GET /api/health` (open) | none: `{"status":"ok","version"}` |
//! | `POST /api/login`, `POST /api/logout` (open / session) | `auth` |
//! | `GET /api/info` | `database_path`, `config_path` (`app_info`) |
//! | `GET /api/playlists` | `list_playlists` |
//! | `POST /api/playlists {"urls","kind"?,"media"?}` | `add_playlists_as` (`http(s)` URLs only) |
//! | `GET /api/playlists/{id}/items` | `list_items` |
//! | `PUT /api/playlists/{id}/media` (a `MediaChoice`) | `set_playlist_media` |
//! | `GET /api/playlists/{id}/art`, `GET /api/items/{id}/art` | `playlist_art`, `item_art` (`data:` URL or null) |
//! | `PUT /api/playlists/{id}/tagging {"enabled"}` (true, false or null) | `set_playlist_tagging` |
//! | `PUT /api/playlists/{id}/retention {"rule"}` (a `Retention` or null) | `set_playlist_retention` |
//! | `PUT /api/items/{id}/keep {"keep"}` | `set_item_keep` |
//! | `POST /api/clean {"playlist_ids","dry_run"}` | `clean` (`clean_library`) |
//! | `GET /api/ytdlp` | `ytdlp_status` |
//! | `GET /api/auto-sync` | `auto_sync_status` (next run) |
//! | `POST /api/ytdlp/update` | `update_ytdlp` |
//! | `POST /api/import?name=FILE` (raw body) | `import_upload` |
//! | `GET /api/opml` | `export_opml` |
//! | `PUT /api/wanted {"playlist_ids","wanted"}` | `set_wanted` |
//! | `POST /api/jobs {"kind","playlist_ids"}` | `enqueue` |
//! | `GET /api/jobs/{id}` | `job_detail` |
//! | `POST /api/jobs/{id}/command {"action"}` | `job_command` |
//! | `POST /api/jobs/pause-all`, `/api/jobs/resume-all` | `pause_all`, `resume_all` |
//! | `GET /api/task-center` | `task_center` |
//! | `GET /api/throughput` | `throughput_history` |
//! | `GET /api/settings`, `PUT /api/settings` | `settings`, `save_settings` |
//! | `GET /api/targets`, `PUT /api/targets` (a `TargetInput`) | `list_targets`, `save_target` (remote kinds only) |
//! | `DELETE /api/targets/{name}`, `POST /api/targets/{name}/test` | `remove_target`, `test_target` |
//! | `PUT /api/playlists/{id}/targets {"targets"}` | `set_playlist_targets` |
//! | `POST /api/uploads {"kind","playlist_ids","targets"}` | `enqueue_upload` |
//! | `GET /api/organize` (the dry run), `POST /api/organize` (the job) | `organize_preview`, `organize` |
//! | `GET /api/events` | live events (`live`) |
//!
//! Through the API the server never reads a local path a client names: playlists are added by
//! `http(s)` URL, subscription lists are uploaded, the OPML export is the response body; upload
//! targets saved over the network are WebDAV or S3 only (a folder or an SFTP key file is a
//! local path: those are set in the config file). JSON
//! bodies are capped at [`JSON_LIMIT`] bytes, uploads at `api::MAX_UPLOAD_BYTES`.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use catalog_sync_core::api::{
    AddKind, AddResult, AutoSyncView, ImportResult, ItemPage, JobAction, JobDetail, JobKind, MediaChoice,
    OrganizePreview, Page, PlaylistPage, PlaylistView, Settings, TargetInput, TargetTest, TargetView,
    TaskCenterView, ThroughputPoint, WireError, YtDlpStatus, YtDlpUpdate, MAX_UPLOAD_BYTES,
};
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::wire::{ApiBytes, ApiJson, ApiResult};
use crate::{assets, auth, live, retention_routes, AppState};

/// Largest JSON body a route reads (bytes).
pub const JSON_LIMIT: usize = 1_000_000;

/// The Content-Security-Policy of every response: only this origin's scripts, styles (inline
/// style attributes allowed: the UI sets widths), images (and `data:` URLs) and connections;
/// no framing, no plugins, no `<base>`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
form-action 'self'";

/// The whole app: API routes, live events, the UI, and the layers every response passes.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/info", get(info))
        .route("/api/playlists", get(list_playlists).post(add_playlists))
        .route("/api/playlists/{id}/items", get(list_items))
        .route("/api/playlists/{id}/media", put(set_playlist_media))
        .route("/api/playlists/{id}/tagging", put(set_playlist_tagging))
        .route("/api/playlists/{id}/retention", put(retention_routes::set_playlist_retention))
        .route("/api/items/{id}/keep", put(retention_routes::set_item_keep))
        .route("/api/clean", post(retention_routes::clean))
        .route("/api/playlists/{id}/art", get(playlist_art))
        .route("/api/items/{id}/art", get(item_art))
        .route("/api/ytdlp", get(ytdlp_status))
        .route("/api/auto-sync", get(auto_sync_status))
        .route("/api/ytdlp/update", post(update_ytdlp))
        .route("/api/import", post(import_upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
        .route("/api/opml", get(export_opml))
        .route("/api/wanted", put(set_wanted))
        .route("/api/jobs", post(enqueue_job))
        .route("/api/jobs/pause-all", post(pause_all))
        .route("/api/jobs/resume-all", post(resume_all))
        .route("/api/jobs/{id}", get(job_detail))
        .route("/api/jobs/{id}/command", post(job_command))
        .route("/api/task-center", get(task_center))
        .route("/api/throughput", get(throughput_history))
        .route("/api/settings", get(get_settings).put(save_settings))
        .route("/api/targets", get(list_targets).put(save_target))
        .route("/api/targets/{name}", delete(remove_target))
        .route("/api/targets/{name}/test", post(test_target))
        .route("/api/playlists/{id}/targets", put(set_playlist_targets))
        .route("/api/uploads", post(enqueue_upload))
        .route("/api/organize", get(organize_preview).post(organize))
        .route("/api/events", get(live::events))
        .layer(DefaultBodyLimit::max(JSON_LIMIT));
    api.fallback(assets::static_file)
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

/// `GET /api/health`.
async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Version and file locations: the desktop's `AppInfo`, same shape.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    /// Server version.
    pub version: String,
    /// The catalog database file.
    pub database: String,
    /// The config file settings are saved to, if any.
    pub config_file: Option<String>,
}

async fn info(State(s): State<AppState>) -> Json<AppInfo> {
    Json(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: s.api.database_path().display().to_string(),
        config_file: s.api.config_path().map(|p| p.display().to_string()),
    })
}

/// Query of the paged lists (`GET /api/playlists`, `GET /api/playlists/{id}/items`): the
/// `next` cursor of the page before and the most rows wanted.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

impl From<PageQuery> for Page {
    fn from(q: PageQuery) -> Page {
        Page { after: q.after, limit: q.limit }
    }
}

async fn list_playlists(
    State(s): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PlaylistPage>> {
    Ok(Json(s.api.list_playlists(q.into()).await?))
}

async fn list_items(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<ItemPage>> {
    Ok(Json(s.api.list_items(id, q.into()).await?))
}

/// Body of `POST /api/playlists`.
#[derive(Debug, Deserialize)]
pub struct AddPlaylists {
    /// Feed, playlist or OPML URLs (`http`/`https`).
    pub urls: Vec<String>,
    /// How to read them: by content (default), as documents only, or through yt-dlp.
    #[serde(default)]
    pub kind: AddKind,
    /// The format of the yt-dlp playlists this adds (default: the core's).
    #[serde(default)]
    pub media: Option<MediaChoice>,
}

/// Checks that every entry is an `http(s)` URL: a local path or `file:` URL would make the
/// server read its own files for a client. Errors: `invalid_input` naming the entry.
pub fn http_urls_only(urls: &[String]) -> Result<(), WireError> {
    for u in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        let ok =
            url_scheme(u).is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
        if !ok {
            return Err(WireError::invalid(format!(
                "{u}: only http(s) URLs can be added here; upload OPML files"
            )));
        }
    }
    Ok(())
}

fn url_scheme(u: &str) -> Option<&str> {
    let (scheme, rest) = u.split_once("://")?;
    (!rest.is_empty() && !scheme.is_empty()).then_some(scheme)
}

async fn add_playlists(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<AddPlaylists>,
) -> ApiResult<Json<AddResult>> {
    http_urls_only(&b.urls)?;
    Ok(Json(s.api.add_playlists_as(b.urls, b.kind, b.media).await?))
}

async fn set_playlist_media(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(media): ApiJson<MediaChoice>,
) -> ApiResult<Json<PlaylistView>> {
    Ok(Json(s.api.set_playlist_media(id, media).await?))
}

/// Body of `PUT /api/playlists/{id}/tagging`.
#[derive(Debug, Deserialize)]
pub struct SetTagging {
    /// On, off, or `null` for the default (on for feeds).
    pub enabled: Option<bool>,
}

async fn set_playlist_tagging(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(b): ApiJson<SetTagging>,
) -> ApiResult<Json<PlaylistView>> {
    Ok(Json(s.api.set_playlist_tagging(id, b.enabled).await?))
}

async fn playlist_art(State(s): State<AppState>, Path(id): Path<u64>) -> ApiResult<Json<Option<String>>> {
    Ok(Json(s.api.playlist_art(id).await?))
}

async fn item_art(State(s): State<AppState>, Path(id): Path<u64>) -> ApiResult<Json<Option<String>>> {
    Ok(Json(s.api.item_art(id).await?))
}

async fn ytdlp_status(State(s): State<AppState>) -> ApiResult<Json<YtDlpStatus>> {
    Ok(Json(s.api.ytdlp_status().await?))
}

async fn auto_sync_status(State(s): State<AppState>) -> ApiResult<Json<AutoSyncView>> {
    Ok(Json(s.api.auto_sync_status().await?))
}

async fn update_ytdlp(State(s): State<AppState>) -> ApiResult<Json<YtDlpUpdate>> {
    Ok(Json(s.api.update_ytdlp().await?))
}

/// Query of `POST /api/import`.
#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// The uploaded file's name (for messages).
    #[serde(default)]
    pub name: Option<String>,
}

async fn import_upload(
    State(s): State<AppState>,
    Query(q): Query<ImportQuery>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<Json<ImportResult>> {
    let name = q.name.unwrap_or_else(|| "upload".into());
    Ok(Json(s.api.import_upload(name, body.to_vec()).await?))
}

async fn export_opml(State(s): State<AppState>) -> ApiResult<Response> {
    let xml = s.api.export_opml().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/x-opml; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog-sync.opml\""),
        ],
        xml,
    )
        .into_response())
}

/// Body of `PUT /api/wanted`.
#[derive(Debug, Deserialize)]
pub struct SetWanted {
    /// Playlist ids.
    pub playlist_ids: Vec<u64>,
    /// Select (true) or unselect.
    pub wanted: bool,
}

async fn set_wanted(State(s): State<AppState>, ApiJson(b): ApiJson<SetWanted>) -> ApiResult<Json<u32>> {
    Ok(Json(s.api.set_wanted(b.playlist_ids, b.wanted, false).await?.changed))
}

/// Body of `POST /api/jobs`.
#[derive(Debug, Deserialize)]
pub struct EnqueueJob {
    /// Job kind (`sync_download`, ...).
    pub kind: JobKind,
    /// Playlist ids; empty = every playlist.
    #[serde(default)]
    pub playlist_ids: Vec<u64>,
}

async fn enqueue_job(State(s): State<AppState>, ApiJson(b): ApiJson<EnqueueJob>) -> ApiResult<Json<u64>> {
    Ok(Json(s.api.enqueue(b.kind, b.playlist_ids).await?))
}

async fn job_detail(State(s): State<AppState>, Path(id): Path<u64>) -> ApiResult<Json<JobDetail>> {
    Ok(Json(s.api.job_detail(id).await?))
}

/// Body of `POST /api/jobs/{id}/command`.
#[derive(Debug, Deserialize)]
pub struct Command {
    /// `pause`, `resume`, `cancel` or `retry`.
    pub action: JobAction,
}

async fn job_command(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(b): ApiJson<Command>,
) -> ApiResult<Json<()>> {
    s.api.job_command(id, b.action).await?;
    Ok(Json(()))
}

async fn pause_all(State(s): State<AppState>) -> ApiResult<Json<u32>> {
    Ok(Json(s.api.pause_all().await?))
}

async fn resume_all(State(s): State<AppState>) -> ApiResult<Json<u32>> {
    Ok(Json(s.api.resume_all().await?))
}

async fn task_center(State(s): State<AppState>) -> ApiResult<Json<TaskCenterView>> {
    Ok(Json(s.api.task_center().await?))
}

async fn throughput_history(State(s): State<AppState>) -> Json<Vec<ThroughputPoint>> {
    Json(s.api.throughput_history())
}

async fn get_settings(State(s): State<AppState>) -> Json<Settings> {
    Json(s.api.settings())
}

async fn save_settings(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<Settings>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(s.api.save_settings(b).await?))
}

async fn list_targets(State(s): State<AppState>) -> ApiResult<Json<Vec<TargetView>>> {
    Ok(Json(s.api.list_targets().await?))
}

async fn save_target(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<TargetInput>,
) -> ApiResult<Json<TargetView>> {
    if !matches!(b.kind.as_str(), "webdav" | "s3") {
        return Err(WireError::new(
            catalog_sync_core::api::ErrorCode::Forbidden,
            "folder and SFTP targets name local paths: set them in the config file",
        )
        .into());
    }
    Ok(Json(s.api.save_target(b).await?))
}

async fn remove_target(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<()>> {
    s.api.remove_target(name).await?;
    Ok(Json(()))
}

async fn test_target(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<TargetTest>> {
    Ok(Json(s.api.test_target(name).await?))
}

/// Body of `PUT /api/playlists/{id}/targets`.
#[derive(Debug, Deserialize)]
pub struct SetTargets {
    /// Target names; empty = none.
    pub targets: Vec<String>,
}

async fn set_playlist_targets(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(b): ApiJson<SetTargets>,
) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(s.api.set_playlist_targets(id, b.targets).await?))
}

/// Body of `POST /api/uploads`.
#[derive(Debug, Deserialize)]
pub struct EnqueueUpload {
    /// `upload_only` or `download_upload`.
    pub kind: JobKind,
    /// Playlist ids; empty = every playlist with a target.
    #[serde(default)]
    pub playlist_ids: Vec<u64>,
    /// Target names; empty = every target of those playlists.
    #[serde(default)]
    pub targets: Vec<String>,
}

async fn enqueue_upload(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<EnqueueUpload>,
) -> ApiResult<Json<u64>> {
    Ok(Json(s.api.enqueue_upload(b.kind, b.playlist_ids, b.targets).await?))
}

async fn organize_preview(State(s): State<AppState>) -> ApiResult<Json<OrganizePreview>> {
    Ok(Json(s.api.organize_preview().await?))
}

async fn organize(State(s): State<AppState>) -> ApiResult<Json<u64>> {
    Ok(Json(s.api.organize().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls() {
        assert!(http_urls_only(&["https://a.example/f.xml".into(), "HTTP://b/x".into()]).is_ok());
        for bad in ["/etc/passwd", "file:///etc/passwd", "ftp://x/y", "C:\\x.opml", "feed.xml"] {
            assert!(http_urls_only(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
