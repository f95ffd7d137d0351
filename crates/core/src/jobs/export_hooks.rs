//! Export hooks of the download stage (when `export_m3u` is on): a completed item refreshes
//! its playlist's M3U file; a completed stage refreshes all. Hooks only fire from downloaders
//! and from the end of a stage whose workers ran, never before the first claim (a seed
//! regression: an export before the first claim held a stage back). Hook failures are logged
//! and do not fail the download.

use super::events::Event;
use super::runner::Engine;

/// Refreshes the M3U of `playlist` after one of its items completed.
pub(super) async fn item_completed(engine: &Engine, job: u64, playlist: u64) {
    if !engine.config().export_m3u {
        return;
    }
    let library = engine.config().library.clone();
    match engine.blocking(move |s| Ok(crate::export::export_playlist(s, &library, playlist))).await {
        Ok(Ok(written)) => engine.emit(Event::Exported { job, files: u32::from(written.is_some()) }),
        Ok(Err(e)) => tracing::warn!(playlist, error = %e, "M3U export failed"),
        Err(e) => tracing::warn!(playlist, error = %e, "M3U export failed"),
    }
}

/// Refreshes every playlist's M3U after a download stage completed.
pub(super) async fn stage_completed(engine: &Engine, job: u64) {
    if !engine.config().export_m3u {
        return;
    }
    let library = engine.config().library.clone();
    match engine.blocking(move |s| Ok(crate::export::export_all(s, &library))).await {
        Ok(Ok(written)) => engine.emit(Event::Exported { job, files: written.len() as u32 }),
        Ok(Err(e)) => tracing::warn!(error = %e, "M3U export failed"),
        Err(e) => tracing::warn!(error = %e, "M3U export failed"),
    }
}
