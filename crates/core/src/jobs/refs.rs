//! Reference-counted cancel (ARCHITECTURE.md, "reference") on the engine's side.
//!
//! Every transfer in flight is registered by item id with its own [`CancellationToken`] (a
//! child of the engine's shutdown token, not of its job's), through [`track_transfer`];
//! a download stage registers its job's references on the items it plans, idempotently, each
//! time it runs (`Store::add_references`). Cancelling a job ([`drop_job_references`]) or unselecting
//! a playlist ([`set_playlist_wanted`]) drops only that holder's references in one
//! store transaction; a transfer stops only when its item is left with no reference: its work
//! item goes `running -> cancelling` durably, its token fires, and the downloader ends it as
//! `cancelled` (the reaper finishes the move after a crash). When deletion was asked, orphans'
//! file rows go in the same transaction, their files are removed here, and a stopped transfer
//! removes its partial file.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::context::{Context, InFlight};
use super::error::EngineError;
use crate::download::naming::safe_join;
use crate::store::reaping::WorkKey;
use crate::store::refs::{DroppedRefs, Holder};
use crate::store::WorkStatus;

/// Registration of a transfer in flight; unregisters on drop.
pub(super) struct TrackedTransfer {
    cx: Context,
    item: u64,
    /// The transfer's state.
    pub(super) state: Arc<InFlight>,
}

impl Drop for TrackedTransfer {
    fn drop(&mut self) {
        let mut map = self.cx.transfers.lock().expect("transfers lock");
        if map.get(&self.item).is_some_and(|s| Arc::ptr_eq(s, &self.state)) {
            map.remove(&self.item);
        }
    }
}

/// Registers the transfer about to start (its job's reference was registered when the
/// stage was planned), returning its registration with a fresh token.
pub(super) fn track_transfer(cx: &Context, item: u64, key: WorkKey) -> TrackedTransfer {
    let state = Arc::new(InFlight {
        token: cx.shutdown.child_token(),
        key,
        unwanted: AtomicBool::new(false),
        delete: AtomicBool::new(false),
    });
    cx.transfers.lock().expect("transfers lock").insert(item, state.clone());
    TrackedTransfer { cx: cx.clone(), item, state }
}

/// Selects (`wanted`) or unselects playlist `playlist` for download. Unselecting drops the
/// playlist's references: transfers of items nobody wants any more stop, and with
/// `delete_orphans` the files (and partial files) of the playlist's items that nothing
/// references are deleted. Returns what changed. Errors: `StoreError::NotFound` for an
/// unknown playlist.
pub(super) async fn set_playlist_wanted(
    cx: &Context,
    playlist: u64,
    wanted: bool,
    delete_orphans: bool,
) -> Result<DroppedRefs, EngineError> {
    let dropped = cx.blocking(move |s| s.set_playlist_wanted(playlist, wanted, delete_orphans)).await?;
    settle(cx, &dropped, delete_orphans).await?;
    Ok(dropped)
}

/// Drops every reference of job `job` (it was cancelled or has ended): transfers of items
/// nobody else wants stop; with `delete_orphans`, orphans' files are deleted.
pub(super) async fn drop_job_references(
    cx: &Context,
    job: u64,
    delete_orphans: bool,
) -> Result<DroppedRefs, EngineError> {
    let dropped = cx.blocking(move |s| s.drop_holder(Holder::Job(job), delete_orphans)).await?;
    settle(cx, &dropped, delete_orphans).await?;
    Ok(dropped)
}

/// Stops transfers of orphans and deletes the files the store released.
async fn settle(cx: &Context, dropped: &DroppedRefs, delete: bool) -> Result<(), EngineError> {
    let stopping: Vec<Arc<InFlight>> = {
        let map = cx.transfers.lock().expect("transfers lock");
        dropped.orphans.iter().filter_map(|item| map.get(item).cloned()).collect()
    };
    for state in stopping {
        let (key, now) = (state.key, cx.now());
        cx.blocking(move |s| s.move_work_item(key, WorkStatus::Running, WorkStatus::Cancelling, now)).await?;
        state.delete.fetch_or(delete, Ordering::SeqCst);
        state.unwanted.store(true, Ordering::SeqCst);
        state.token.cancel();
    }
    for (root, rel) in &dropped.deleted_files {
        let root = root.clone().unwrap_or_else(|| cx.config().library.clone());
        match safe_join(&root, Path::new(rel)) {
            Ok(path) => match tokio::fs::remove_file(&path).await {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "deleted a file no playlist or job wants")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot delete orphaned file")
                }
            },
            Err(e) => tracing::warn!(%rel, error = %e, "orphaned file path is not inside its root"),
        }
    }
    Ok(())
}
