//! Retention's operations (issue 16, part 2; `library::retention`): a clean run on demand
//! with a dry-run preview ([`Api::clean`]), the per-item "keep" mark ([`Api::set_item_keep`])
//! and each playlist's own rule ([`Api::set_playlist_retention`]). The global default rule is
//! a setting (`Settings::retention`).

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, WireError};
use super::views::PlaylistView;
use super::Api;
use crate::config::Retention;
pub use crate::library::retention::{RemovedFile, RetentionReport, SparedFile};

/// What marking an item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeepChange {
    /// Item id.
    pub item: u64,
    /// Marked "keep" now.
    pub keep: bool,
    /// Retention had deleted it; it is downloaded again by the next download.
    pub restored: bool,
}

impl Api {
    /// Runs retention over `playlists` (empty = every playlist) now: each playlist's rule, else
    /// the global default, never deleting kept items, files other playlists or running jobs
    /// reference, or files not ours. With `dry_run` nothing changes and the report previews
    /// what would go. M3U files are refreshed afterwards (when `export_m3u` is on). Returns what
    /// was removed, how many bytes that freed and what was spared.
    /// Errors: `invalid_input` for an unknown playlist; `io`/`internal` from the store.
    pub async fn clean(&self, playlists: Vec<u64>, dry_run: bool) -> ApiResult<RetentionReport> {
        let config = self.config();
        let now = self.now_ms();
        let report = self
            .blocking(move |s| {
                for &id in &playlists {
                    s.playlist(id)
                        .map_err(|_| WireError::invalid(format!("playlist {id} is not in the catalog")))?;
                }
                let report = crate::library::retention::run(
                    s,
                    &config.library,
                    config.retention,
                    &playlists,
                    now,
                    None,
                    dry_run,
                )?;
                if !dry_run
                    && config.export_m3u
                    && (!report.removed.is_empty() || report.finished_pending > 0)
                {
                    if let Err(e) = crate::export::export_all(s, &config.library) {
                        tracing::warn!(error = %e, "M3U refresh after retention failed");
                    }
                }
                Ok(report)
            })
            .await?;
        if !dry_run {
            self.touch(false, true);
        }
        Ok(report)
    }

    /// Marks item `item` "keep" (retention never deletes it) or clears the mark. Marking an
    /// item retention deleted asks for it again: the next download of its playlist fetches it.
    /// Errors: `not_found` for an unknown item.
    pub async fn set_item_keep(&self, item: u64, keep: bool) -> ApiResult<KeepChange> {
        let restored = self.blocking(move |s| Ok(s.set_item_keep(item, keep)?)).await?;
        self.touch(false, true);
        Ok(KeepChange { item, keep, restored })
    }

    /// Sets playlist `id`'s own retention rule (`None`: the global default); returns the
    /// playlist. Errors: `not_found`; `invalid_input` for a count or age of 0.
    pub async fn set_playlist_retention(&self, id: u64, rule: Option<Retention>) -> ApiResult<PlaylistView> {
        let rule = rule.map(|r| r.validate().map_err(WireError::invalid)).transpose()?;
        self.blocking(move |s| Ok(s.set_playlist_retention(id, rule)?)).await?;
        self.touch(false, true);
        self.playlist(id).await
    }
}
