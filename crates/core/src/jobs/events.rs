//! Domain events of the engine. Front ends subscribe with an [`EventSink`]; events carry ids
//! and cumulative totals (bytes so far, not deltas), so a missed event loses no information.

use std::sync::Arc;

use crate::store::{JobKind, JobStatus, StageCounts, StageKind};

/// How a download work item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// The file is complete in the library.
    Downloaded {
        /// Library-relative path.
        path: String,
        /// Size in bytes.
        bytes: u64,
        /// Bytes that came from an earlier partial file (resumed with a range request).
        resumed_from: u64,
    },
    /// A complete file was already recorded; nothing was fetched.
    AlreadyDownloaded,
    /// The item failed; the reason is stored with the work item.
    Failed(String),
}

/// Something the engine did.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A runner claimed a job.
    JobStarted {
        /// Job id.
        job: u64,
        /// Its kind.
        kind: JobKind,
    },
    /// A stage began with `total` work items (playlists for sync, items for download).
    StageStarted {
        /// Job id.
        job: u64,
        /// Stage kind.
        stage: StageKind,
        /// Work items in the stage, including ones finished by an earlier run.
        total: u32,
        /// Work items already finished by an earlier run.
        finished: u32,
    },
    /// A playlist synced.
    PlaylistSynced {
        /// Job id.
        job: u64,
        /// Playlist id.
        playlist: u64,
        /// Display title.
        title: String,
        /// Items new to the catalog.
        new_items: u32,
        /// Items in the document.
        total: u32,
    },
    /// A playlist failed to sync; `error` reads `playlist <id> <url>: <reason>`.
    PlaylistFailed {
        /// Job id.
        job: u64,
        /// Playlist id.
        playlist: u64,
        /// The full error line.
        error: String,
    },
    /// A resolver found the media URL of an item and queued it for the downloaders.
    ItemResolved {
        /// Job id.
        job: u64,
        /// Item id.
        item: u64,
        /// The resolver, e.g. `resolve-1`.
        worker: String,
        /// The first candidate URL.
        url: String,
    },
    /// A download began.
    DownloadStarted {
        /// Job id.
        job: u64,
        /// Item id.
        item: u64,
        /// Display title.
        title: String,
        /// The downloader, e.g. `download-2`.
        worker: String,
    },
    /// Bytes of a download so far (cumulative, includes a resumed part).
    DownloadProgress {
        /// Job id.
        job: u64,
        /// Item id.
        item: u64,
        /// Bytes on disk so far.
        downloaded: u64,
        /// Expected size in bytes, when the server said.
        total: Option<u64>,
    },
    /// A download work item ended.
    DownloadFinished {
        /// Job id.
        job: u64,
        /// Item id.
        item: u64,
        /// Display title.
        title: String,
        /// How it ended.
        outcome: ItemOutcome,
    },
    /// A stage ended.
    StageFinished {
        /// Job id.
        job: u64,
        /// Stage kind.
        stage: StageKind,
        /// Its work items by status.
        counts: StageCounts,
    },
    /// A collection (subscription list) was read.
    CollectionRead {
        /// Job id.
        job: u64,
        /// Collection URL.
        url: String,
        /// Playlists new to the catalog.
        new_playlists: u32,
    },
    /// A collection failed to read; `error` reads `collection <id> <url>: <reason>`.
    CollectionFailed {
        /// Job id.
        job: u64,
        /// The full error line.
        error: String,
    },
    /// An upload stage finished its run on one target.
    Uploaded {
        /// Job id.
        job: u64,
        /// Target name.
        target: String,
        /// Files sent (new or changed).
        sent: u32,
        /// Files of ours deleted (mirror mode).
        deleted: u32,
        /// Files that could not be sent (or, when the target failed as a whole, its playlists).
        failed: u32,
    },
    /// An organize stage ended its pass: files renamed after the name template.
    Organized {
        /// Job id.
        job: u64,
        /// Files moved to their new names (moves a crash left and this run finished included).
        renamed: u32,
        /// Files that could not be moved (each named in the job's log).
        failed: u32,
    },
    /// M3U files were written.
    Exported {
        /// Job id.
        job: u64,
        /// Files written.
        files: u32,
    },
    /// A job ended; `queued` when interrupted by shutdown, `paused` after a pause.
    JobFinished {
        /// Job id.
        job: u64,
        /// Final status.
        status: JobStatus,
    },
}

/// Receiver of engine events; called from worker tasks, so it must be cheap and thread-safe.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;
