//! Retention's routes (issue 16, part 2), each one call to the core's `Api`:
//! `PUT /api/playlists/{id}/retention {"rule"}` (`set_playlist_retention`; a `Retention` or
//! null for the default), `PUT /api/items/{id}/keep {"keep"}` (`set_item_keep`) and
//! `POST /api/clean {"playlist_ids","dry_run"}` (`clean`: a preview with `dry_run`).

use axum::extract::{Path, State};
use axum::Json;
use catalog_sync_core::api::{KeepChange, PlaylistView, Retention, RetentionReport};
use serde::Deserialize;

use crate::wire::{ApiJson, ApiResult};
use crate::AppState;

/// Body of `PUT /api/playlists/{id}/retention`.
#[derive(Debug, Deserialize)]
pub struct SetRetention {
    /// The playlist's own rule, or `null` for the global default.
    pub rule: Option<Retention>,
}

/// `PUT /api/playlists/{id}/retention`.
pub async fn set_playlist_retention(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(b): ApiJson<SetRetention>,
) -> ApiResult<Json<PlaylistView>> {
    Ok(Json(s.api.set_playlist_retention(id, b.rule).await?))
}

/// Body of `PUT /api/items/{id}/keep`.
#[derive(Debug, Deserialize)]
pub struct SetKeep {
    /// Mark (true) or unmark (false).
    pub keep: bool,
}

/// `PUT /api/items/{id}/keep`.
pub async fn set_item_keep(
    State(s): State<AppState>,
    Path(id): Path<u64>,
    ApiJson(b): ApiJson<SetKeep>,
) -> ApiResult<Json<KeepChange>> {
    Ok(Json(s.api.set_item_keep(id, b.keep).await?))
}

/// Body of `POST /api/clean`.
#[derive(Debug, Deserialize)]
pub struct Clean {
    /// Playlists to clean; empty = all.
    #[serde(default)]
    pub playlist_ids: Vec<u64>,
    /// Only preview.
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/clean`.
pub async fn clean(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<Clean>,
) -> ApiResult<Json<RetentionReport>> {
    Ok(Json(s.api.clean(b.playlist_ids, b.dry_run).await?))
}
