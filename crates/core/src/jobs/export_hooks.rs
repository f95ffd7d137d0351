//! Export hooks of the download stage (when `export_m3u` is on): a completed item marks its
//! playlist's M3U file for refresh, and a [`PlaylistExporter`] task rewrites marked files at
//! most once per [`EXPORT_EVERY`], off the downloaders' path; a completed stage refreshes all.
//! Hooks only run once the stage's workers have started and an item completed, never before
//! the first claim (a seed regression: an export before the first claim held a stage back).
//! Hook failures are logged and do not fail the download.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::context::Context;
use super::events::Event;

/// How often marked playlists' M3U files are rewritten.
pub const EXPORT_EVERY: Duration = Duration::from_millis(1000);

/// Rewrites the M3U files of playlists whose items completed; dropping it stops the task.
pub(super) struct PlaylistExporter {
    dirty: Arc<Mutex<BTreeSet<u64>>>,
    stop: CancellationToken,
    handle: Option<JoinHandle<()>>,
}

impl PlaylistExporter {
    /// Starts the exporter for `job` (idle when `export_m3u` is off).
    pub(super) fn spawn(cx: &Context, job: u64) -> PlaylistExporter {
        let dirty: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
        let stop = CancellationToken::new();
        let handle = cx.config().export_m3u.then(|| {
            let (cx, dirty, stop) = (cx.clone(), dirty.clone(), stop.clone());
            tokio::spawn(async move {
                loop {
                    let stopping = tokio::select! {
                        _ = tokio::time::sleep(EXPORT_EVERY) => false,
                        _ = stop.cancelled() => true,
                    };
                    let playlists = std::mem::take(&mut *dirty.lock().expect("dirty lock"));
                    if !playlists.is_empty() {
                        export(&cx, job, playlists).await;
                    }
                    if stopping {
                        return;
                    }
                }
            })
        });
        PlaylistExporter { dirty, stop, handle }
    }

    /// Marks `playlist`'s M3U for the next refresh.
    pub(super) fn item_completed(&self, playlist: u64) {
        if self.handle.is_some() {
            self.dirty.lock().expect("dirty lock").insert(playlist);
        }
    }

    /// Refreshes what is still marked and stops.
    pub(super) async fn finish(mut self) {
        self.stop.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for PlaylistExporter {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn export(cx: &Context, job: u64, playlists: BTreeSet<u64>) {
    let library = cx.config().library.clone();
    let written = cx
        .blocking(move |s| {
            let mut written = 0;
            for playlist in playlists {
                match crate::export::export_playlist(s, &library, playlist) {
                    Ok(path) => written += u32::from(path.is_some()),
                    Err(e) => tracing::warn!(playlist, error = %e, "M3U export failed"),
                }
            }
            Ok(written)
        })
        .await;
    match written {
        Ok(files) => cx.emit(Event::Exported { job, files }),
        Err(e) => tracing::warn!(error = %e, "M3U export failed"),
    }
}

/// Refreshes every playlist's M3U after a download stage completed.
pub(super) async fn stage_completed(cx: &Context, job: u64) {
    if !cx.config().export_m3u {
        return;
    }
    let library = cx.config().library.clone();
    match cx.blocking(move |s| Ok(crate::export::export_all(s, &library))).await {
        Ok(Ok(written)) => cx.emit(Event::Exported { job, files: written.len() as u32 }),
        Ok(Err(e)) => tracing::warn!(error = %e, "M3U export failed"),
        Err(e) => tracing::warn!(error = %e, "M3U export failed"),
    }
}
