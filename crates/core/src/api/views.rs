//! What the fronts show of the catalog, as typed views (`specta::Type` behind the `specta`
//! feature) built from store rows:
//! [`PlaylistView`] per playlist with its counts and [`ItemView`] per item with its status.
//! Item status comes from the store only: a recorded file is `downloaded`; else the newest
//! job's download work item for it says `queued`, `downloading` or `failed` (with its error);
//! else `not_downloaded`, or `no_media` for an entry without enclosure. [`ItemStates`] reads the
//! download stages of the newest [`RECENT_JOBS`] jobs once per call, so a list costs one pass.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::store::items::ItemEntry;
pub use crate::store::listing::ItemCursor;
use crate::store::listing::MemberFacts;
use crate::store::{
    PlaylistRow, StageKind as CoreStage, Store, StoreError, WorkStatus as CoreWork, YtDlpSourceRow,
};

/// What adding playlists did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AddResult {
    /// Ids of the playlists named, new or known, in input order.
    pub ids: Vec<u64>,
    /// How many are new.
    pub created: u32,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ThroughputPoint {
    /// When (Unix ms).
    pub t_ms: i64,
    /// Summed speed of all live downloads (bytes/s).
    pub bytes_per_sec: u64,
}

/// How many of the newest jobs are read for item states.
pub const RECENT_JOBS: usize = 50;

/// One playlist row of the playlists page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlaylistView {
    /// Playlist id.
    pub id: u64,
    /// The URL it is fetched from.
    pub url: String,
    /// Title from the document or the OPML import, else the URL.
    pub title: String,
    /// Format of the last parsed document (`rss`, `atom`, `m3u`, `pls`, `xspf`, ...), or
    /// `ytdlp` for a channel or playlist yt-dlp lists; `None` before the first successful sync
    /// of a document.
    pub format: Option<String>,
    /// What a yt-dlp playlist downloads of each entry; `None` for other kinds.
    pub media: Option<crate::catalog::ytdlp::MediaChoice>,
    /// The class of the last sync's yt-dlp failure (`private`, `rate limited`, `removed`...).
    pub error_kind: Option<String>,
    /// Items the catalog lists for it.
    pub item_count: u32,
    /// Items with a complete file in the library.
    pub downloaded_count: u32,
    /// Items whose newest download attempt failed.
    pub failed_count: u32,
    /// Items marked wanted and not downloaded yet.
    pub wanted_count: u32,
    /// When the last sync attempt ended (Unix ms).
    pub last_sync_ms: Option<i64>,
    /// The last sync's error.
    pub last_error: Option<String>,
    /// OPML folder path, outermost first.
    pub folders: Vec<String>,
    /// The last document named a cover image (`playlist_art` serves it).
    pub has_image: bool,
    /// Its downloads get tags and cover art (`set_playlist_tagging`; on by default for feeds).
    pub tagging: bool,
    /// Its own retention rule (`set_playlist_retention`); `None` = the global default.
    pub retention: Option<crate::config::Retention>,
}

/// Where an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// A complete file is in the library.
    Downloaded,
    /// A download job is transferring it.
    Downloading,
    /// A download job will take it.
    Queued,
    /// The newest attempt failed (see `error`).
    Failed,
    /// Not downloaded and not queued.
    NotDownloaded,
    /// The entry has no media URL.
    NoMedia,
}

/// One item of a playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemView {
    /// Item id.
    pub id: u64,
    /// Title, else `(untitled)`.
    pub title: String,
    /// Publication time (Unix ms).
    pub published_ms: Option<i64>,
    /// Where it is.
    pub status: ItemStatus,
    /// Library-relative path of the file, once downloaded.
    pub file_path: Option<String>,
    /// Size of the file (bytes), or the enclosure's declared length before download.
    pub size_bytes: Option<u64>,
    /// The newest failed attempt's error.
    pub error: Option<String>,
    /// Marked wanted.
    pub wanted: bool,
    /// The entry names its own image (`item_art` serves it).
    pub has_image: bool,
    /// Marked "keep": retention never deletes it (`set_item_keep`).
    pub keep: bool,
    /// Retention deleted its file; not downloaded again until marked "keep".
    pub removed: bool,
}

/// Download state of items from recent jobs, newest job first (see the module docs).
pub struct ItemStates {
    latest: HashMap<u64, (CoreWork, Option<String>)>,
    wanted: HashSet<u64>,
    kept: HashSet<u64>,
    removed: HashSet<u64>,
    retention: HashMap<u64, crate::config::Retention>,
}

impl ItemStates {
    /// Reads the download stages of the newest [`RECENT_JOBS`] jobs, the wanted and keep marks,
    /// the items retention deleted and the playlists' own retention rules.
    /// Errors: [`StoreError`] from reading.
    pub fn read(store: &Store) -> Result<ItemStates, StoreError> {
        let mut latest = HashMap::new();
        for (job, row) in store.recent_jobs(RECENT_JOBS)? {
            for (index, stage) in row.stages.iter().enumerate() {
                if stage.kind != CoreStage::Download {
                    continue;
                }
                for (item, work) in store.stage_items(job, index as u8)? {
                    latest.entry(item).or_insert((work.status, work.last_error));
                }
            }
        }
        Ok(ItemStates {
            latest,
            wanted: store.wanted_items()?,
            kept: store.kept_items()?,
            removed: store.removed_items()?,
            retention: store.playlist_retentions()?,
        })
    }

    /// The view of one item.
    pub fn view(&self, entry: &ItemEntry) -> ItemView {
        let recent = self.latest.get(&entry.id);
        let (status, error) = match (&entry.file, &entry.item.enclosure, recent) {
            (Some(_), _, _) => (ItemStatus::Downloaded, None),
            (None, None, _) => (ItemStatus::NoMedia, None),
            (None, Some(_), Some((CoreWork::Queued, _))) => (ItemStatus::Queued, None),
            (None, Some(_), Some((CoreWork::Running, _))) => (ItemStatus::Downloading, None),
            (None, Some(_), Some((CoreWork::Failed, e))) => (ItemStatus::Failed, e.clone()),
            (None, Some(_), _) => (ItemStatus::NotDownloaded, None),
        };
        ItemView {
            id: entry.id,
            title: entry.item.title.clone().unwrap_or_else(|| "(untitled)".to_string()),
            published_ms: entry.item.published.map(|s| s.saturating_mul(1000)),
            status,
            file_path: entry.file.as_ref().map(|f| f.path.clone()),
            size_bytes: entry
                .file
                .as_ref()
                .map(|f| f.size)
                .or_else(|| entry.item.enclosure.as_ref().and_then(|e| e.length)),
            error,
            wanted: self.wanted.contains(&entry.id),
            has_image: entry.image.is_some(),
            keep: self.kept.contains(&entry.id),
            removed: self.removed.contains(&entry.id),
        }
    }

    /// The view of playlist `id` with counts over its items (`facts`, key-only; item rows
    /// are read only for items whose newest download failed, to check they still have media).
    /// `ytdlp` is the playlist's yt-dlp source, for a playlist of that kind; `tagging` whether
    /// its downloads are tagged. Errors: [`StoreError`].
    pub fn playlist(
        &self,
        store: &Store,
        (id, row): (u64, &PlaylistRow),
        facts: &MemberFacts,
        ytdlp: Option<&YtDlpSourceRow>,
        tagging: bool,
    ) -> Result<PlaylistView, StoreError> {
        let mut failed_count = 0;
        for item in facts.items.iter().filter(|i| !facts.with_file.contains(i)) {
            if matches!(self.latest.get(item), Some((CoreWork::Failed, _)))
                && store.item(*item).is_ok_and(|r| r.enclosure.is_some())
            {
                failed_count += 1;
            }
        }
        let wanted_count =
            facts.items.iter().filter(|i| self.wanted.contains(i) && !facts.with_file.contains(i)).count();
        Ok(PlaylistView {
            id,
            url: row.url.clone(),
            title: row.display_title().to_string(),
            format: match ytdlp {
                Some(_) => Some("ytdlp".to_string()),
                None => row.format.map(|f| format!("{f:?}").to_lowercase()),
            },
            media: ytdlp.map(|y| y.media),
            error_kind: ytdlp.and_then(|y| y.last_error_kind.clone()),
            item_count: facts.total,
            downloaded_count: facts.with_file.len() as u32,
            failed_count,
            wanted_count: wanted_count as u32,
            last_sync_ms: row.last_sync_ms,
            last_error: row.last_error.clone(),
            folders: row.folders.clone(),
            has_image: row.image.is_some(),
            tagging,
            retention: self.retention.get(&id).copied(),
        })
    }
}

/// The view of playlist `id` (row `row`) with its counts. Errors: [`StoreError`].
pub fn playlist_view(
    store: &Store,
    states: &ItemStates,
    id: u64,
    row: &PlaylistRow,
) -> Result<PlaylistView, StoreError> {
    let facts = store.member_facts(id)?;
    let tagging = store.tagging_enabled(id)?;
    states.playlist(store, (id, row), &facts, store.ytdlp_source(id)?.as_ref(), tagging)
}

/// A page of a list: its rows, where the next page starts and how many rows the list has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlaylistPage {
    /// Playlists by id.
    pub playlists: Vec<PlaylistView>,
    /// Cursor of the next page (pass it as `after`); `None` at the end.
    pub next: Option<String>,
    /// Playlists in the catalog.
    pub total: u32,
}

/// A page of a playlist's items (see [`PlaylistPage`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemPage {
    /// Items in document order.
    pub items: Vec<ItemView>,
    /// Cursor of the next page (pass it as `after`); `None` at the end.
    pub next: Option<String>,
    /// Items the playlist lists.
    pub total: u32,
}

/// Most rows a page holds, whatever the caller asks.
pub const MAX_PAGE: usize = 1_000;

/// A page of the playlists, by id, with ids above `after`. Errors: [`StoreError`].
pub fn list_playlists(store: &Store, after: u64, limit: usize) -> Result<PlaylistPage, StoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let (mut rows, total) = store.playlists_page(after, limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let states = ItemStates::read(store)?;
    let mut playlists = Vec::with_capacity(rows.len());
    for (id, row) in &rows {
        playlists.push(playlist_view(store, &states, *id, row)?);
    }
    let next = rows.last().filter(|_| more).map(|(id, _)| id.to_string());
    Ok(PlaylistPage { playlists, next, total })
}

/// A page of playlist `id`'s items in document order after `after` (see `store::listing`).
/// Errors: [`StoreError::NotFound`] for an unknown playlist.
pub fn list_items(
    store: &Store,
    id: u64,
    after: Option<ItemCursor>,
    limit: usize,
) -> Result<ItemPage, StoreError> {
    let page = store.playlist_items_page(id, after, limit.clamp(1, MAX_PAGE))?;
    let states = ItemStates::read(store)?;
    Ok(ItemPage {
        items: page.items.iter().map(|e| states.view(e)).collect(),
        next: page.next.map(|c| format!("{}.{}", c.position, c.item)),
        total: page.total,
    })
}
