//! What tagging a downloaded file needs from the catalog and what it leaves there (schema 7,
//! issue 16 part 1): each item's author and iTunes episode / season numbers and each channel's
//! author (written by a sync in its transaction: [`record_sync_meta`], `super::sync_apply`),
//! the per-playlist choice ([`Store::tagging_enabled`], on by default for feeds), everything a
//! tag is made of in one read ([`Store::tag_parts`]), and the tags written
//! ([`Store::record_tagged`]).

use std::path::PathBuf;

use redb::ReadableTable;

use super::{tables, EpisodeMetaRow, FileRow, ItemRow, PlaylistRow, Result, Store, StoreError, TaggedRow};
use crate::catalog::PlaylistFormat;

/// Everything the tags of one item's file are made of, read in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TagParts {
    /// The item.
    pub item: ItemRow,
    /// The playlist that first listed it (its folder, its album).
    pub playlist: PlaylistRow,
    /// Whether that playlist's downloads are tagged.
    pub enabled: bool,
    /// The channel's author.
    pub channel_author: Option<String>,
    /// The episode's author and numbers.
    pub meta: EpisodeMetaRow,
    /// The episode's own image URL.
    pub item_image: Option<String>,
    /// Its file, once downloaded.
    pub file: Option<FileRow>,
    /// The library root of an overflow file (`None`: the default library).
    pub root: Option<PathBuf>,
    /// The tags written last.
    pub tagged: Option<TaggedRow>,
}

/// Records the channel author of playlist `id` from a sync, in the sync's transaction.
pub(super) fn record_sync_meta(tx: &redb::WriteTransaction, id: u64, author: Option<&str>) -> Result<()> {
    let mut t = tx.open_table(tables::PLAYLIST_ID_TO_AUTHOR)?;
    match author {
        Some(a) => drop(t.insert(id, a)?),
        None => drop(t.remove(id)?),
    }
    Ok(())
}

/// The default of a playlist without a stored choice: on for feeds (and playlists not read
/// yet), off for M3U, PLS and XSPF playlists and yt-dlp playlists.
fn default_enabled(playlist: &PlaylistRow, ytdlp: bool) -> bool {
    !ytdlp
        && !matches!(playlist.format, Some(PlaylistFormat::M3u | PlaylistFormat::Pls | PlaylistFormat::Xspf))
}

fn enabled_in(tx: &redb::ReadTransaction, id: u64, playlist: &PlaylistRow) -> Result<bool> {
    if let Some(choice) = tx.open_table(tables::PLAYLIST_ID_TO_TAGGING)?.get(id)? {
        return Ok(choice.value());
    }
    let ytdlp = tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?.get(id)?.is_some();
    Ok(default_enabled(playlist, ytdlp))
}

fn get_str(
    tx: &redb::ReadTransaction,
    table: redb::TableDefinition<'static, u64, &'static str>,
    key: u64,
) -> Result<Option<String>> {
    Ok(tx.open_table(table)?.get(key)?.map(|g| g.value().to_owned()))
}

fn playlist_in(tx: &redb::ReadTransaction, id: u64) -> Result<PlaylistRow> {
    let row = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.get(id)?.map(|g| g.value());
    row.ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })
}

impl Store {
    /// Whether playlist `id`'s downloads are tagged: the user's choice, else the default (on
    /// for feeds). Errors: [`StoreError::NotFound`].
    pub fn tagging_enabled(&self, id: u64) -> Result<bool> {
        self.read(|tx| {
            let playlist = playlist_in(tx, id)?;
            enabled_in(tx, id, &playlist)
        })
    }

    /// Stores the user's choice for playlist `id` (`None`: back to the default).
    /// Errors: [`StoreError::NotFound`].
    pub fn set_tagging(&self, id: u64, enabled: Option<bool>) -> Result<()> {
        self.write(move |tx| {
            if tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.get(id)?.is_none() {
                return Err(StoreError::NotFound { what: "playlist", id: id.to_string() });
            }
            let mut t = tx.open_table(tables::PLAYLIST_ID_TO_TAGGING)?;
            match enabled {
                Some(on) => drop(t.insert(id, on)?),
                None => drop(t.remove(id)?),
            }
            Ok(())
        })
    }

    /// Everything item `id`'s tags are made of (see [`TagParts`]). Errors:
    /// [`StoreError::NotFound`] for an unknown item.
    pub fn tag_parts(&self, id: u64) -> Result<TagParts> {
        self.read(|tx| {
            let item = tx.open_table(tables::ITEM_ID_TO_ITEM)?.get(id)?.map(|g| g.value());
            let item = item.ok_or_else(|| StoreError::NotFound { what: "item", id: id.to_string() })?;
            let playlist = playlist_in(tx, item.playlist_id)?;
            let enabled = enabled_in(tx, item.playlist_id, &playlist)?;
            let get_str = |t, k| get_str(tx, t, k);
            Ok(TagParts {
                channel_author: get_str(tables::PLAYLIST_ID_TO_AUTHOR, item.playlist_id)?,
                item_image: get_str(tables::ITEM_ID_TO_IMAGE_URL, id)?,
                root: get_str(tables::ITEM_ID_TO_FILE_ROOT, id)?.map(PathBuf::from),
                meta: tx
                    .open_table(tables::ITEM_ID_TO_EPISODE_META)?
                    .get(id)?
                    .map(|g| g.value())
                    .unwrap_or_default(),
                file: tx.open_table(tables::ITEM_ID_TO_FILE)?.get(id)?.map(|g| g.value()),
                tagged: tx.open_table(tables::ITEM_ID_TO_TAGGED)?.get(id)?.map(|g| g.value()),
                item,
                playlist,
                enabled,
            })
        })
    }

    /// Records the tags written into item `id`'s file, unless its file row changed meanwhile
    /// (`expected_path`): a file moved or removed since is not what was tagged. Returns whether
    /// it was recorded. Durable when the file was tagged (its bytes changed); a file left
    /// untagged (`row.tagged_sha256` is `None`) is recorded without fsync, as losing that
    /// record in a crash costs only another try. Errors: database failures.
    pub async fn record_tagged(&self, id: u64, expected_path: String, row: TaggedRow) -> Result<bool> {
        let durable = row.tagged_sha256.is_some();
        self.submit(durable, move |tx| {
            let file = tx.open_table(tables::ITEM_ID_TO_FILE)?.get(id)?.map(|g| g.value());
            if file.is_none_or(|f| f.path != expected_path) {
                return Ok(false);
            }
            tx.open_table(tables::ITEM_ID_TO_TAGGED)?.insert(id, &row)?;
            Ok(true)
        })
        .await
    }

    /// The tags written into item `id`'s file, if any. Errors: database failures.
    pub fn item_tagged(&self, id: u64) -> Result<Option<TaggedRow>> {
        self.read(|tx| Ok(tx.open_table(tables::ITEM_ID_TO_TAGGED)?.get(id)?.map(|g| g.value())))
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};

    #[test]
    fn a_sync_records_what_tags_need_and_the_choice_defaults_to_feeds() {
        let (_dir, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        let item = ParsedItem {
            guid: Some("g".into()),
            author: Some("Guest".into()),
            episode: Some(4),
            season: Some(2),
            image: Some("http://x/4.jpg".into()),
            enclosure: Some(Enclosure { url: "http://m/4.mp3".into(), ..Default::default() }),
            ..Default::default()
        };
        let doc = ParsedPlaylist {
            format: Some(PlaylistFormat::Rss),
            author: Some("Hosts".into()),
            items: vec![item],
            ..Default::default()
        };
        store.apply_sync(p, &doc, 2).unwrap();
        let id = store.playlist_items(p).unwrap()[0].id;
        let parts = store.tag_parts(id).unwrap();
        assert_eq!(parts.channel_author.as_deref(), Some("Hosts"));
        assert_eq!(
            (parts.meta.author.as_deref(), parts.meta.episode, parts.meta.season),
            (Some("Guest"), Some(4), Some(2))
        );
        assert_eq!(parts.item_image.as_deref(), Some("http://x/4.jpg"));
        assert!(parts.enabled && parts.file.is_none() && parts.tagged.is_none());
        store.set_tagging(p, Some(false)).unwrap();
        assert!(!store.tagging_enabled(p).unwrap());
        store.set_tagging(p, None).unwrap();
        assert!(store.tagging_enabled(p).unwrap());
        let m3u = ParsedPlaylist { format: Some(PlaylistFormat::M3u), ..Default::default() };
        let q = store.add_playlist("http://x/list.m3u", None, &[], 1).unwrap().id;
        store.apply_sync(q, &m3u, 3).unwrap();
        assert!(!store.tagging_enabled(q).unwrap(), "off by default for playlist files");
        assert!(store.set_tagging(99, Some(true)).is_err());
    }
}
