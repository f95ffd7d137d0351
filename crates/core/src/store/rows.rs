//! Row types of the store, one per aggregate, and the status enums whose `u8` codes key the
//! status indexes. Rows are encoded by [`super::codec::Row`]; changing a row's layout means a
//! new `NAME` suffix and a new table (convention 3), plus a migration in `schema.rs`.

use serde::{Deserialize, Serialize};

use super::codec::RowType;
use crate::catalog::{AlternateEnclosure, Enclosure, PlaylistFormat};

/// A playlist in the catalog: a feed or a playlist file, with what its last sync found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlaylistRow {
    /// The URL the playlist is fetched from (`http(s)://` or `file://`).
    pub url: String,
    /// Title from the document, else the OPML title it was imported with.
    pub title: Option<String>,
    /// Format of the last successfully parsed document.
    pub format: Option<PlaylistFormat>,
    /// Channel description.
    pub description: Option<String>,
    /// Web page of the show.
    pub link: Option<String>,
    /// Cover image URL.
    pub image: Option<String>,
    /// `podcast:guid` of the channel.
    pub podcast_guid: Option<String>,
    /// `itunes:new-feed-url` announced by the feed (not followed automatically).
    pub new_feed_url: Option<String>,
    /// OPML folder path the playlist was imported under, outermost first.
    pub folders: Vec<String>,
    /// When the playlist was added (Unix ms).
    pub added_ms: i64,
    /// When the last sync attempt ended (Unix ms), successful or not.
    pub last_sync_ms: Option<i64>,
    /// The last sync's error, `None` after a successful sync.
    pub last_error: Option<String>,
    /// Items in the last successfully parsed document.
    pub item_count: u32,
}

impl RowType for PlaylistRow {
    const NAME: &'static str = "PlaylistRow_v1";
}

impl PlaylistRow {
    /// Title for display: the title, else the URL.
    pub fn display_title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.url)
    }
}

/// An item (episode or track) in the catalog. One item can belong to several playlists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    /// Scoped identity key (see `store::items::scoped_key`).
    pub key: String,
    /// The playlist that first listed the item; names its folder in the library.
    pub playlist_id: u64,
    /// `<guid>` / Atom id, if the entry had one.
    pub guid: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Publication time, Unix seconds.
    pub published: Option<i64>,
    /// Description as given by the feed.
    pub description: Option<String>,
    /// Web page of the entry.
    pub link: Option<String>,
    /// Duration in seconds.
    pub duration_secs: Option<u64>,
    /// The media URL with declared length and type.
    pub enclosure: Option<Enclosure>,
    /// `podcast:alternateEnclosure` alternatives, kept for the resolver cascade.
    pub alternate_enclosures: Vec<AlternateEnclosure>,
    /// First time a sync saw the item (Unix ms).
    pub first_seen_ms: i64,
    /// Last time a sync changed one of its fields (Unix ms).
    pub updated_ms: i64,
}

impl RowType for ItemRow {
    const NAME: &'static str = "ItemRow_v1";
}

/// A downloaded file: written only once the file is complete, fsynced and renamed into place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow {
    /// Path relative to the library root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// The URL the bytes came from.
    pub url: String,
    /// When the download completed (Unix ms).
    pub downloaded_ms: i64,
}

impl RowType for FileRow {
    const NAME: &'static str = "FileRow_v1";
}

macro_rules! status_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// The `u8` code used as a key in status indexes.
            pub fn code(self) -> u8 { match self { $(Self::$variant => $code),+ } }
            /// Inverse of [`Self::code`]; `None` for an unknown code.
            pub fn from_code(code: u8) -> Option<Self> { match code { $($code => Some(Self::$variant),)+ _ => None } }
            /// The snake_case name shown to users and used on the wire.
            pub fn as_str(self) -> &'static str { match self { $(Self::$variant => $text),+ } }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

status_enum!(
    /// Lifecycle of a job.
    JobStatus {
        /// Waiting for the scheduler.
        Queued = 0 => "queued",
        /// Claimed by a runner.
        Running = 1 => "running",
        /// Every stage finished and no work item failed.
        Succeeded = 2 => "succeeded",
        /// A stage failed or some work items failed.
        Failed = 3 => "failed",
        /// Cancelled by the user.
        Cancelled = 4 => "cancelled",
        /// The user asked to pause; workers are finishing or stopping.
        PauseRequested = 5 => "pause_requested",
        /// Paused: no worker runs; `resume` queues it again.
        Paused = 6 => "paused",
    }
);

status_enum!(
    /// Lifecycle of a stage and of one work item of a stage.
    WorkStatus {
        /// Not started.
        Queued = 0 => "queued",
        /// Being worked on.
        Running = 1 => "running",
        /// Finished successfully.
        Done = 2 => "done",
        /// Finished with an error (stored alongside).
        Failed = 3 => "failed",
        /// Nothing to do (e.g. already downloaded).
        Skipped = 4 => "skipped",
        /// No reference wants the item any more; its transfer is being stopped.
        Cancelling = 5 => "cancelling",
        /// Stopped because no reference wants the item; partial files stay.
        Cancelled = 6 => "cancelled",
    }
);

status_enum!(
    /// Kind of a job: which stages it runs, in order (see `jobs::JobKind::stages`).
    JobKind {
        /// Refresh playlists into the catalog.
        SyncOnly = 0 => "sync_only",
        /// Download items already in the catalog.
        DownloadOnly = 1 => "download_only",
        /// Sync, then download.
        SyncDownload = 2 => "sync_download",
        /// Collect (re-read subscription lists), sync, download.
        CatalogSync = 3 => "catalog_sync",
        /// Re-read subscription lists only.
        CollectOnly = 4 => "collect_only",
        /// Write M3U playlists of downloaded files only.
        ExportOnly = 5 => "export_only",
        /// Download, then export.
        DownloadExport = 6 => "download_export",
        /// Send downloaded files to the playlists' upload targets.
        UploadOnly = 7 => "upload_only",
        /// Download, then upload.
        DownloadUpload = 8 => "download_upload",
        /// Move downloaded files to the names the current template gives them (`organize`).
        Organize = 9 => "organize",
    }
);

status_enum!(
    /// Kind of a stage.
    StageKind {
        /// Refresh playlists into the catalog; work items are playlists.
        Sync = 0 => "sync",
        /// Move media bytes into the library; work items are catalog items.
        Download = 1 => "download",
        /// Discover playlists: re-read the subscription lists (OPML) playlists came from.
        Collect = 2 => "collect",
        /// Write an M3U file per playlist listing its downloaded files.
        Export = 3 => "export",
        /// Send downloaded files and M3U playlists to upload targets; work items are playlists.
        Upload = 4 => "upload",
        /// Rename downloaded files after the name template; work items are catalog items.
        Organize = 5 => "organize",
    }
);

/// A stage of a job, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRow {
    /// What the stage does.
    pub kind: StageKind,
    /// Where it is.
    pub status: WorkStatus,
    /// When it started (Unix ms).
    pub started_ms: Option<i64>,
    /// When it ended (Unix ms).
    pub ended_ms: Option<i64>,
    /// The stage's error, e.g. `2 of 40 items failed`.
    pub error: Option<String>,
}

/// A job: one request of the user, with its ordered stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    /// What kind of job.
    pub kind: JobKind,
    /// Playlist ids the job is scoped to, in the user's order; empty = all playlists.
    pub scope: Vec<u64>,
    /// Where the job is.
    pub status: JobStatus,
    /// Ordered stages.
    pub stages: Vec<StageRow>,
    /// When the job was created (Unix ms).
    pub created_ms: i64,
    /// Last status change (Unix ms).
    pub updated_ms: i64,
    /// How many times a runner claimed it (the reaper re-queues after a crash).
    pub runs: u32,
}

impl RowType for JobRow {
    const NAME: &'static str = "JobRow_v1";
}

/// One work item of a stage: a playlist to sync or an item to download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageItemRow {
    /// Where it is.
    pub status: WorkStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Extra outcome text, e.g. `already downloaded`.
    pub note: Option<String>,
    /// Last change (Unix ms).
    pub updated_ms: i64,
}

impl RowType for StageItemRow {
    const NAME: &'static str = "StageItemRow_v1";
}
