//! Items, playlist membership and downloaded files. A sync writes the playlist's fields, every
//! item (insert or update by identity key) and the membership index in one write transaction
//! ([`Store::apply_sync`], written by [`super::sync_apply`]), so a crash mid-sync leaves the
//! previous catalog intact.
//!
//! Identity keys are scoped by [`scoped_key`]: an item known by its enclosure URL is the same
//! item wherever it is listed (one item can sit in several playlists); a guid or a title+date
//! hash is only trusted within its own feed, since real feeds reuse short guids like `1`.
//! A new key whose enclosure is the same media as a known item of the same playlist
//! (`catalog::identity::same_media`: the URL minus tracking parameters, the same length) is
//! that item under a new guid: the key is added as another name of it, so nothing is
//! downloaded twice.

use super::{tables, FileRow, ItemRow, Result, Store, StoreError};
use crate::catalog::identity::{key_ref, KeyRef};
use crate::catalog::{ParsedItem, ParsedPlaylist};

/// The store key of an item listed by playlist `playlist_id`: `url:<enclosure url>` (global),
/// or `p<playlist_id>:guid:<guid>` / `p<playlist_id>:hash:<hex>` (per feed).
pub fn scoped_key(playlist_id: u64, item: &ParsedItem) -> String {
    match key_ref(item) {
        key @ KeyRef::EnclosureUrl(_) => key.to_string(),
        key => format!("p{playlist_id}:{key}"),
    }
}

/// What one sync changed in the catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Items seen for the first time, by id.
    pub new_items: Vec<u64>,
    /// Known items whose fields changed (e.g. a new enclosure URL).
    pub updated: u32,
    /// Items in the document.
    pub total: u32,
}

/// One item with its downloaded file, if any, and its own image URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEntry {
    /// Item id.
    pub id: u64,
    /// The item.
    pub item: ItemRow,
    /// Its file, once downloaded.
    pub file: Option<FileRow>,
    /// Its own cover image URL (`ITEM_ID_TO_IMAGE_URL`), if the entry names one.
    pub image: Option<String>,
}

/// Copies the fields a feed sets from `parsed` into `row`; whether anything changed.
pub(super) fn copy_fields(row: &mut ItemRow, parsed: &ParsedItem) -> bool {
    let before = row.clone();
    row.guid = parsed.guid.clone();
    row.title = parsed.title.clone();
    row.published = parsed.published;
    row.description = parsed.description.clone();
    row.link = parsed.link.clone();
    row.duration_secs = parsed.duration_secs;
    row.enclosure = parsed.enclosure.clone();
    row.alternate_enclosures = parsed.alternate_enclosures.clone();
    *row != before
}

impl Store {
    /// Records a successful sync of playlist `id`: channel fields, items (new ones inserted,
    /// known ones updated in place) and membership positions, in one transaction.
    /// Errors: [`StoreError::NotFound`] for an unknown playlist.
    pub fn apply_sync(&self, id: u64, doc: &ParsedPlaylist, now_ms: i64) -> Result<SyncOutcome> {
        self.apply_sync_shared(id, std::sync::Arc::new(doc.clone()), now_ms)
    }

    /// The item with this id. Errors: [`StoreError::NotFound`].
    pub fn item(&self, id: u64) -> Result<ItemRow> {
        self.read(|tx| {
            let row = tx.open_table(tables::ITEM_ID_TO_ITEM)?.get(id)?.map(|g| g.value());
            row.ok_or_else(|| StoreError::NotFound { what: "item", id: id.to_string() })
        })
    }

    /// Items of playlist `id` in document order (position in the last synced document), each
    /// with its file if downloaded.
    pub fn playlist_items(&self, id: u64) -> Result<Vec<ItemEntry>> {
        self.read(|tx| {
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let files = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let images = tx.open_table(tables::ITEM_ID_TO_IMAGE_URL)?;
            let mut listed = Vec::new();
            for entry in members.range((id, 0)..=(id, u64::MAX))? {
                let (k, pos) = entry?;
                listed.push((pos.value(), k.value().1));
            }
            listed.sort_unstable();
            let mut out = Vec::with_capacity(listed.len());
            for (_, item_id) in listed {
                let Some(item) = items.get(item_id)?.map(|g| g.value()) else { continue };
                let file = files.get(item_id)?.map(|g| g.value());
                let image = images.get(item_id)?.map(|g| g.value().to_owned());
                out.push(ItemEntry { id: item_id, item, file, image });
            }
            Ok(out)
        })
    }

    /// Ids of the items playlist `id` lists that have a downloaded file and were first listed
    /// by it (their file sits in its folder), in key order. Only those items' rows are read:
    /// a sync asks this of every playlist it refreshes (`library::retag_playlist`).
    pub fn playlist_downloads(&self, id: u64) -> Result<Vec<u64>> {
        self.read(|tx| {
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let files = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let mut out = Vec::new();
            for entry in members.range((id, 0)..=(id, u64::MAX))? {
                let item_id = entry?.0.value().1;
                if files.get(item_id)?.is_some()
                    && items.get(item_id)?.is_some_and(|g| g.value().playlist_id == id)
                {
                    out.push(item_id);
                }
            }
            Ok(out)
        })
    }

    /// The own cover image URL of item `id` (see `ITEM_ID_TO_IMAGE_URL`); `None` when its entry
    /// names none. Errors: [`StoreError::Db`] (the table is missing in a database not yet
    /// migrated to schema 4).
    pub fn item_image(&self, id: u64) -> Result<Option<String>> {
        self.read(|tx| {
            Ok(tx.open_table(tables::ITEM_ID_TO_IMAGE_URL)?.get(id)?.map(|g| g.value().to_owned()))
        })
    }

    /// The downloaded file of item `id`, if any.
    pub fn item_file(&self, id: u64) -> Result<Option<FileRow>> {
        self.read(|tx| Ok(tx.open_table(tables::ITEM_ID_TO_FILE)?.get(id)?.map(|g| g.value())))
    }

    /// Whether a library-relative path is already recorded for some item, in this case or
    /// another (`FILE_PATH_FOLDED_TO_ITEM_ID`: one file on case-insensitive volumes).
    pub fn file_path_taken(&self, rel_path: &str) -> Result<bool> {
        self.read(|tx| {
            let folded = tables::fold_path(rel_path);
            Ok(tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?.get(rel_path)?.is_some()
                || tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?.get(folded.as_str())?.is_some())
        })
    }

    /// Items of the given playlists (all playlists when `scope` is empty) that have an
    /// enclosure, no downloaded file and were not deleted by retention (`store::retention`), in playlist order then document order, without
    /// repeats (an item listed by two playlists is downloaded once).
    pub fn pending_downloads(&self, scope: &[u64]) -> Result<Vec<u64>> {
        let ids = self.scope_playlists(scope)?;
        // items retention deleted stay deleted until the user marks them "keep"
        let mut seen = self.removed_items()?;
        let mut out = Vec::new();
        for id in ids {
            for entry in self.playlist_items(id)? {
                if entry.file.is_none() && entry.item.enclosure.is_some() && seen.insert(entry.id) {
                    out.push(entry.id);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Enclosure;

    fn item(guid: Option<&str>, url: &str, title: &str) -> ParsedItem {
        ParsedItem {
            guid: guid.map(str::to_string),
            title: Some(title.into()),
            enclosure: Some(Enclosure { url: url.into(), length: None, mime_type: None }),
            ..Default::default()
        }
    }

    #[test]
    fn a_key_is_scoped_by_playlist_unless_it_is_the_enclosure_url() {
        let hashed = ParsedItem { title: Some("t".into()), ..Default::default() };
        let hash = crate::catalog::item_key(&hashed).as_string();
        assert_eq!(scoped_key(7, &item(Some(" g "), "http://m/1.mp3", "One")), "p7:guid:g");
        assert_eq!(scoped_key(7, &item(None, " http://m/1.mp3", "One")), "url:http://m/1.mp3");
        assert_eq!(scoped_key(7, &hashed), format!("p7:{hash}"));
    }

    #[test]
    fn resync_updates_in_place_and_new_enclosure_replaces_old() {
        let (_dir, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        let doc1 = ParsedPlaylist {
            title: Some("Show".into()),
            items: vec![item(Some("g1"), "http://m/1.mp3", "One"), item(None, "http://m/2.mp3", "Two")],
            ..Default::default()
        };
        let out = store.apply_sync(p, &doc1, 10).unwrap();
        assert_eq!((out.new_items.len(), out.updated, out.total), (2, 0, 2));
        let doc2 = ParsedPlaylist {
            items: vec![item(Some("g1"), "http://m/1-new.mp3", "One"), item(None, "http://m/2.mp3", "Two")],
            ..Default::default()
        };
        let out = store.apply_sync(p, &doc2, 20).unwrap();
        assert_eq!((out.new_items.len(), out.updated), (0, 1));
        let items = store.playlist_items(p).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].item.enclosure.as_ref().unwrap().url, "http://m/1-new.mp3");
        assert_eq!(items[0].item.updated_ms, 20);
        assert_eq!(
            store.playlist(p).unwrap().title.as_deref(),
            Some("Show"),
            "a document without title keeps the old one"
        );
        assert_eq!(store.pending_downloads(&[]).unwrap(), vec![items[0].id, items[1].id]);
    }

    #[test]
    fn item_images_follow_the_document() {
        let (_dir, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        let with_image = |img: Option<&str>| ParsedItem {
            image: img.map(str::to_string),
            ..item(Some("g1"), "http://m/1.mp3", "One")
        };
        let doc = |img| ParsedPlaylist { items: vec![with_image(img)], ..Default::default() };
        store.apply_sync(p, &doc(Some("http://i/1.jpg")), 1).unwrap();
        let entry = &store.playlist_items(p).unwrap()[0];
        assert_eq!(entry.image.as_deref(), Some("http://i/1.jpg"));
        let before = entry.item.clone();
        store.apply_sync(p, &doc(Some("http://i/2.jpg")), 2).unwrap();
        let entry = &store.playlist_items(p).unwrap()[0];
        assert_eq!(store.item_image(entry.id).unwrap().as_deref(), Some("http://i/2.jpg"));
        assert_eq!(entry.item, before, "the item row itself is unchanged");
        store.apply_sync(p, &doc(None), 3).unwrap();
        assert_eq!(store.item_image(entry.id).unwrap(), None, "an image the feed dropped is gone");
    }

    #[test]
    fn guid_is_scoped_per_playlist_but_enclosure_urls_are_shared() {
        let (_dir, store) = crate::store::temp_store();
        let a = store.add_playlist("http://x/a", None, &[], 1).unwrap().id;
        let b = store.add_playlist("http://x/b", None, &[], 1).unwrap().id;
        let doc_a = ParsedPlaylist {
            items: vec![item(Some("1"), "http://m/a1.mp3", "A1"), item(None, "http://m/shared.mp3", "S")],
            ..Default::default()
        };
        let doc_b = ParsedPlaylist {
            items: vec![item(Some("1"), "http://m/b1.mp3", "B1"), item(None, "http://m/shared.mp3", "S")],
            ..Default::default()
        };
        store.apply_sync(a, &doc_a, 1).unwrap();
        let out_b = store.apply_sync(b, &doc_b, 2).unwrap();
        assert_eq!(out_b.new_items.len(), 1, "guid 1 of b is a new item; the shared URL is not");
        assert_eq!(store.pending_downloads(&[]).unwrap().len(), 3, "the shared item is downloaded once");
    }
}
