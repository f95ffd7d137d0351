//! Playlists of kind yt-dlp in the store: the source row that makes a playlist one (format
//! choice and listing checkpoint, `PLAYLIST_ID_TO_YTDLP`), and the write of one batch of
//! listed entries ([`Store::apply_ytdlp_batch`]): items by their global key
//! (`ytdlp:<extractor>:<id>`, `catalog::identity::extractor_key`), their yt-dlp fields
//! (`ITEM_ID_TO_YTDLP_ENTRY`), membership and the checkpoint, in one write transaction, so a
//! sync cut short resumes from the last batch it committed.
//!
//! Positions (`PLAYLIST_ITEM_INDEX`): an entry listed at playlist index `i` sits at
//! [`LISTING_BASE`]` + i`; entries found at the head of a playlist already listed (newer than
//! everything before) sit below every earlier one, from `head_position` down. Known members
//! keep their position, so listing again never reorders the playlist.

use redb::ReadableTable;

use super::writes::insert_item;
use super::{tables, ItemRow, PlaylistRow, Result, Store, StoreError, YtDlpEntryRow, YtDlpSourceRow};
use crate::catalog::ytdlp::{MediaChoice, YtDlpEntry};
use crate::catalog::Enclosure;

/// Position of playlist index 0 of a listing (module docs); head entries sit below it.
pub const LISTING_BASE: u32 = 1 << 31;

/// One batch of entries to record (see [`Store::apply_ytdlp_batch`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YtDlpBatch {
    /// Entries in playlist order.
    pub entries: Vec<YtDlpEntry>,
    /// `true` when the entries were found at the head of a playlist listed before: they are
    /// newer than everything listed and go before it.
    pub head: bool,
    /// The checkpoint after this batch: the index the listing continues from.
    pub next_index: Option<u64>,
    /// The listing reached the playlist's end with this batch.
    pub complete: bool,
    /// The playlist's title, when yt-dlp gave one.
    pub title: Option<String>,
    /// The playlist's extractor, lowercase.
    pub extractor: Option<String>,
}

/// What a batch changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YtDlpBatchOutcome {
    /// Items new to this playlist (new to the catalog or first listed here), by id.
    pub new_items: Vec<u64>,
    /// Entries that were members already.
    pub known: u32,
}

fn not_ytdlp(id: u64) -> StoreError {
    StoreError::NotFound { what: "yt-dlp playlist", id: id.to_string() }
}

/// Whether dated entries run newest first, when at least two carry a date.
fn newest_first(entries: &[YtDlpEntry]) -> Option<bool> {
    let mut dates = entries.iter().filter_map(|e| e.published);
    let first = dates.next()?;
    let last = dates.next_back()?;
    (first != last).then_some(first > last)
}

impl Store {
    /// Adds a playlist of kind yt-dlp at `url` (or makes the playlist already at `url` one,
    /// keeping its items) with the format choice `media`. Returns its id and whether the
    /// playlist is new. Errors: the store's.
    pub fn add_ytdlp_playlist(
        &self,
        url: &str,
        title: Option<&str>,
        media: MediaChoice,
        now_ms: i64,
    ) -> Result<super::playlists::Added> {
        let added = self.add_playlist(url, title, &[], now_ms)?;
        self.write(move |tx| {
            let mut sources = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
            if sources.get(added.id)?.is_none() {
                let row = YtDlpSourceRow {
                    media,
                    next_index: 1,
                    head_position: LISTING_BASE,
                    ..Default::default()
                };
                sources.insert(added.id, row)?;
            }
            Ok(())
        })?;
        Ok(added)
    }

    /// The yt-dlp source of playlist `id`; `None` for a playlist of another kind.
    pub fn ytdlp_source(&self, id: u64) -> Result<Option<YtDlpSourceRow>> {
        self.read(|tx| Ok(tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?.get(id)?.map(|g| g.value())))
    }

    /// Sets what playlist `id` downloads of each entry. Errors: [`StoreError::NotFound`] when
    /// it is not a yt-dlp playlist.
    pub fn set_ytdlp_media(&self, id: u64, media: MediaChoice) -> Result<()> {
        self.write(move |tx| {
            let mut sources = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
            let mut row = sources.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            row.media = media;
            sources.insert(id, row)?;
            Ok(())
        })
    }

    /// Records the extractor yt-dlp names playlist `id`'s URL with (the key of its rate-limit
    /// back-off). Errors: [`StoreError::NotFound`] when it is not a yt-dlp playlist.
    pub fn set_ytdlp_extractor(&self, id: u64, extractor: &str) -> Result<()> {
        let extractor = extractor.to_owned();
        self.write(move |tx| {
            let extractor = extractor.as_str();
            let mut sources = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
            let mut row = sources.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            row.extractor = Some(extractor.to_lowercase());
            sources.insert(id, row)?;
            Ok(())
        })
    }

    /// What yt-dlp said of item `id`, for an item a yt-dlp playlist listed.
    pub fn ytdlp_entry(&self, id: u64) -> Result<Option<YtDlpEntryRow>> {
        self.read(|tx| Ok(tx.open_table(tables::ITEM_ID_TO_YTDLP_ENTRY)?.get(id)?.map(|g| g.value())))
    }

    /// For each key (`YtDlpEntry::key`), whether it names an item of playlist `id` already.
    pub fn ytdlp_known(&self, id: u64, keys: &[String]) -> Result<Vec<bool>> {
        self.read(|tx| {
            let (by_key, members) =
                (tx.open_table(tables::ITEM_KEY_TO_ID)?, tx.open_table(tables::PLAYLIST_ITEM_INDEX)?);
            let mut out = Vec::with_capacity(keys.len());
            for key in keys {
                let item = by_key.get(key.as_str())?.map(|g| g.value());
                out.push(match item {
                    Some(item) => members.get((id, item))?.is_some(),
                    None => false,
                });
            }
            Ok(out)
        })
    }

    /// Records a batch of playlist `id`'s entries in one transaction (module docs): new items
    /// inserted, known ones updated, membership, references of a selected playlist, the
    /// checkpoint and the playlist's title. Errors: [`StoreError::NotFound`] when `id` is not
    /// a yt-dlp playlist.
    pub fn apply_ytdlp_batch(&self, id: u64, batch: &YtDlpBatch, now_ms: i64) -> Result<YtDlpBatchOutcome> {
        let batch = batch.clone();
        self.write(move |tx| {
            let batch = &batch;
            let mut sources = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
            let mut source = sources.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            let mut playlists = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut pl: PlaylistRow = playlists.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            let mut items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let mut keys = tx.open_table(tables::ITEM_KEY_TO_ID)?;
            let mut members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let mut extra = tx.open_table(tables::ITEM_ID_TO_YTDLP_ENTRY)?;
            let mut out = YtDlpBatchOutcome::default();
            let mut placed = Vec::new();
            for entry in &batch.entries {
                let key = entry.key();
                let existing = keys.get(key.as_str())?.map(|g| g.value());
                let item_id = match existing {
                    Some(item_id) => {
                        let mut row = items.get(item_id)?.map(|g| g.value()).unwrap_or_default();
                        if copy_entry(&mut row, entry) {
                            row.updated_ms = now_ms;
                            items.insert(item_id, row)?;
                        }
                        item_id
                    }
                    None => insert_item(tx, &mut items, &mut keys, (&key, id, now_ms), |row| {
                        copy_entry(row, entry);
                    })?,
                };
                extra.insert(
                    item_id,
                    YtDlpEntryRow {
                        extractor: entry.extractor.clone(),
                        video_id: entry.id.clone(),
                        thumbnail: entry.thumbnail.clone(),
                        uploader: entry.uploader.clone(),
                    },
                )?;
                if members.get((id, item_id))?.is_some() {
                    out.known += 1;
                } else if !placed.iter().any(|(i, _)| *i == item_id) {
                    placed.push((item_id, entry.index));
                }
            }
            if batch.head {
                source.head_position = source.head_position.saturating_sub(placed.len() as u32);
            }
            for (n, (item_id, index)) in placed.iter().enumerate() {
                let position = if batch.head {
                    source.head_position + n as u32
                } else {
                    LISTING_BASE.saturating_add(index.unwrap_or(n as u64 + 1).min(u32::MAX as u64) as u32)
                };
                members.insert((id, *item_id), position)?;
                super::refs::reference_if_wanted(tx, id, *item_id)?;
                out.new_items.push(*item_id);
            }
            if let Some(next) = batch.next_index {
                source.next_index = next;
            }
            source.complete |= batch.complete;
            if let Some(order) = newest_first(&batch.entries) {
                source.newest_first = Some(order);
            }
            if batch.extractor.is_some() {
                source.extractor = batch.extractor.clone();
            }
            sources.insert(id, source)?;
            if batch.title.is_some() {
                pl.title = batch.title.clone();
            }
            pl.item_count = pl.item_count.saturating_add(out.new_items.len() as u32);
            playlists.insert(id, pl)?;
            Ok(out)
        })
    }

    /// Ends a sync of yt-dlp playlist `id`: the sync time, and its error and error kind (both
    /// `None` after a success). Errors: [`StoreError::NotFound`].
    pub fn finish_ytdlp_sync(&self, id: u64, error: Option<(&str, &str)>, now_ms: i64) -> Result<()> {
        let error = error.map(|(a, b)| (a.to_owned(), b.to_owned()));
        self.write(move |tx| {
            let error = error.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
            let mut playlists = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut pl = playlists.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            pl.last_sync_ms = Some(now_ms);
            pl.last_error = error.map(|(_, message)| message.to_string());
            playlists.insert(id, pl)?;
            let mut sources = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
            let mut source = sources.get(id)?.map(|g| g.value()).ok_or_else(|| not_ytdlp(id))?;
            source.last_error_kind = error.map(|(kind, _)| kind.to_string());
            sources.insert(id, source)?;
            Ok(())
        })
    }
}

/// Copies an entry's fields into its item row; `true` when something changed. The entry's URL
/// is both the item's page and its enclosure: yt-dlp downloads from it.
fn copy_entry(row: &mut ItemRow, e: &YtDlpEntry) -> bool {
    let before = row.clone();
    if e.title.is_some() {
        row.title = e.title.clone();
    }
    if e.description.is_some() {
        row.description = e.description.clone();
    }
    row.published = e.published.or(row.published);
    row.duration_secs = e.duration_secs.or(row.duration_secs);
    row.link = Some(e.url.clone());
    if row.enclosure.as_ref().is_none_or(|enc| enc.url != e.url) {
        row.enclosure = Some(Enclosure { url: e.url.clone(), length: None, mime_type: None });
    }
    *row != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, index: u64, published: i64) -> YtDlpEntry {
        YtDlpEntry {
            extractor: "youtube".into(),
            id: id.into(),
            title: Some(format!("video {id}")),
            url: format!("https://www.youtube.com/watch?v={id}"),
            published: Some(published),
            index: Some(index),
            ..Default::default()
        }
    }

    #[test]
    fn batches_checkpoint_and_head_entries_go_first() {
        let (_dir, store) = crate::store::temp_store();
        let a = store.add_ytdlp_playlist("https://y/@a", None, MediaChoice::BestAudio, 1).unwrap().id;
        let b = store.add_ytdlp_playlist("https://y/@b", None, MediaChoice::default(), 1).unwrap().id;
        let batch = YtDlpBatch {
            entries: vec![entry("v3", 1, 30), entry("v2", 2, 20)],
            next_index: Some(3),
            title: Some("Channel A".into()),
            ..Default::default()
        };
        assert_eq!(store.apply_ytdlp_batch(a, &batch, 5).unwrap().new_items.len(), 2);
        let src = store.ytdlp_source(a).unwrap().unwrap();
        assert_eq!((src.next_index, src.complete, src.newest_first), (3, false, Some(true)));
        let done = YtDlpBatch {
            entries: vec![entry("v1", 3, 10)],
            next_index: Some(4),
            complete: true,
            ..Default::default()
        };
        store.apply_ytdlp_batch(a, &done, 6).unwrap();
        let head = YtDlpBatch {
            entries: vec![entry("v4", 1, 40), entry("v3", 2, 30)],
            head: true,
            ..Default::default()
        };
        let out = store.apply_ytdlp_batch(a, &head, 7).unwrap();
        assert_eq!((out.new_items.len(), out.known), (1, 1));
        let titles: Vec<_> =
            store.playlist_items(a).unwrap().into_iter().map(|e| e.item.title.unwrap()).collect();
        assert_eq!(titles, ["video v4", "video v3", "video v2", "video v1"]);
        let pl = store.playlist(a).unwrap();
        assert_eq!((pl.title.as_deref(), pl.item_count), (Some("Channel A"), 4));
        // the same video in another playlist is the same item, new to that playlist
        let out = store
            .apply_ytdlp_batch(b, &YtDlpBatch { entries: vec![entry("v2", 1, 20)], ..Default::default() }, 8)
            .unwrap();
        assert_eq!(out.new_items, vec![store.playlist_items(a).unwrap()[2].id]);
        let keys = ["ytdlp:youtube:v2".to_string(), "ytdlp:youtube:v4".to_string()];
        assert_eq!(store.ytdlp_known(b, &keys).unwrap(), [true, false]);
        assert_eq!(store.pending_downloads(&[]).unwrap().len(), 4, "one shared item, downloaded once");
        assert!(store
            .apply_ytdlp_batch(store.add_playlist("http://feed", None, &[], 1).unwrap().id, &batch, 9)
            .is_err());
    }
}
