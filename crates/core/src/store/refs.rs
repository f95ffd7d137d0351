//! References: who wants an item downloaded (ARCHITECTURE.md, "reference").
//!
//! A [`Holder`] is a playlist the user selected ("wanted") for download or a job downloading
//! the item. `ITEM_REF` maps (item, holder) and `HOLDER_ITEM_INDEX` the reverse, both written in
//! one transaction, so adding a holder is idempotent and dropping one is a range scan.
//! Selecting a playlist references every item it lists, and each sync of a wanted playlist
//! references its new items in the sync's own transaction (`store::items`). Dropping a holder
//! ([`Store::drop_holder`]) removes only its references and reports the items left with none
//! (orphans); with deletion asked, the orphans' `FileRow`s, path index entries and overflow
//! roots go in the same transaction and their files are returned for the caller to remove.

use std::path::PathBuf;

use redb::ReadableTable;

use super::{tables, Result, Store, StoreError};

/// Who holds a reference on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A playlist selected for download (by playlist id).
    Playlist(u64),
    /// A job downloading the item (by job id).
    Job(u64),
}

impl Holder {
    fn key(self) -> (u8, u64) {
        match self {
            Holder::Playlist(id) => (0, id),
            Holder::Job(id) => (1, id),
        }
    }

    fn from_key(kind: u8, id: u64) -> Option<Holder> {
        match kind {
            0 => Some(Holder::Playlist(id)),
            1 => Some(Holder::Job(id)),
            _ => None,
        }
    }
}

/// What dropping references changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DroppedRefs {
    /// Items that lost their last reference, by id.
    pub orphans: Vec<u64>,
    /// Files of orphans whose rows were removed (deletion asked): (library root, or `None` for
    /// the default library; library-relative path). The caller deletes them from disk.
    pub deleted_files: Vec<(Option<PathBuf>, String)>,
}

/// Adds `holder`'s reference on `item` inside the caller's transaction; false when it was
/// already there.
pub(crate) fn add_ref(tx: &redb::WriteTransaction, item: u64, holder: Holder) -> Result<bool> {
    let (kind, id) = holder.key();
    let mut refs = tx.open_table(tables::ITEM_REF)?;
    let fresh = refs.insert((item, kind, id), ())?.is_none();
    tx.open_table(tables::HOLDER_ITEM_INDEX)?.insert((kind, id, item), ())?;
    Ok(fresh)
}

fn has_refs(tx: &redb::WriteTransaction, item: u64) -> Result<bool> {
    let refs = tx.open_table(tables::ITEM_REF)?;
    let found = refs.range((item, 0, 0)..=(item, u8::MAX, u64::MAX))?.next().transpose()?.is_some();
    Ok(found)
}

/// Removes the file row of `item` with its path index entries, root and tag record, returning
/// the file (its root, `None` = the default library; its library-relative path).
pub(super) fn remove_file_row(
    tx: &redb::WriteTransaction,
    item: u64,
) -> Result<Option<(Option<PathBuf>, String)>> {
    let Some(file) = tx.open_table(tables::ITEM_ID_TO_FILE)?.remove(item)?.map(|g| g.value()) else {
        return Ok(None);
    };
    tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?.remove(file.path.as_str())?;
    tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?.remove(tables::fold_path(&file.path).as_str())?;
    let root = tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?.remove(item)?.map(|g| PathBuf::from(g.value()));
    tx.open_table(tables::ITEM_ID_TO_TAGGED)?.remove(item)?;
    Ok(Some((root, file.path)))
}

/// Drops `holder`'s references on `items` (all of its references when `None`) in the caller's
/// transaction; see [`Store::drop_holder`]. `also_unreferenced` are items to treat as orphans
/// when nothing references them, even if `holder` held none (a playlist never selected).
fn drop_in(
    tx: &redb::WriteTransaction,
    holder: Holder,
    also_unreferenced: &[u64],
    delete: bool,
) -> Result<DroppedRefs> {
    let (kind, id) = holder.key();
    let held: Vec<u64> = {
        let index = tx.open_table(tables::HOLDER_ITEM_INDEX)?;
        let mut v = Vec::new();
        for e in index.range((kind, id, 0)..=(kind, id, u64::MAX))? {
            v.push(e?.0.value().2);
        }
        v
    };
    {
        let mut refs = tx.open_table(tables::ITEM_REF)?;
        let mut index = tx.open_table(tables::HOLDER_ITEM_INDEX)?;
        for &item in &held {
            refs.remove((item, kind, id))?;
            index.remove((kind, id, item))?;
        }
    }
    let mut out = DroppedRefs::default();
    let mut candidates = held;
    candidates.extend(also_unreferenced.iter().copied());
    candidates.sort_unstable();
    candidates.dedup();
    for item in candidates {
        if has_refs(tx, item)? {
            continue;
        }
        out.orphans.push(item);
        if delete {
            out.deleted_files.extend(remove_file_row(tx, item)?);
        }
    }
    Ok(out)
}

impl Store {
    /// Adds `holder`'s reference on `item`, idempotently. Returns true when it is new.
    pub fn add_reference(&self, item: u64, holder: Holder) -> Result<bool> {
        self.write(move |tx| add_ref(tx, item, holder))
    }

    /// Adds `holder`'s reference on each of `items` (idempotent) in one transaction committed
    /// without fsync: a job registers what it plans to download, and the stage's durable
    /// planning commit right after persists it (a crash in between loses nothing: the next run
    /// plans again). Returns how many references are new.
    pub fn add_references(&self, items: &[u64], holder: Holder) -> Result<u32> {
        let items = items.to_vec();
        self.write_volatile(move |tx| {
            let items = items.as_slice();
            let mut added = 0;
            for &item in items {
                added += u32::from(add_ref(tx, item, holder)?);
            }
            Ok(added)
        })
    }

    /// Who holds references on `item`.
    pub fn references(&self, item: u64) -> Result<Vec<Holder>> {
        self.read(|tx| {
            let refs = tx.open_table(tables::ITEM_REF)?;
            let mut out = Vec::new();
            for e in refs.range((item, 0, 0)..=(item, u8::MAX, u64::MAX))? {
                let (_, kind, id) = e?.0.value();
                out.extend(Holder::from_key(kind, id));
            }
            Ok(out)
        })
    }

    /// Drops every reference of `holder` in one transaction. Items left without references
    /// are reported as orphans; with `delete_orphans`, their file rows go too and their files
    /// are returned for the caller to delete ([`DroppedRefs`]).
    pub fn drop_holder(&self, holder: Holder, delete_orphans: bool) -> Result<DroppedRefs> {
        self.write(move |tx| drop_in(tx, holder, &[], delete_orphans))
    }

    /// Selects (`wanted`) or unselects a playlist for download, in one transaction. Selecting
    /// references every item the playlist lists (later syncs add new ones). Unselecting drops
    /// the playlist's references; the playlist's items left with no reference are orphans,
    /// deleted with their files when `delete_orphans` (see [`Store::drop_holder`]).
    /// Errors: [`StoreError::NotFound`] for an unknown playlist.
    pub fn set_playlist_wanted(
        &self,
        playlist: u64,
        wanted: bool,
        delete_orphans: bool,
    ) -> Result<DroppedRefs> {
        self.write(move |tx| {
            if tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.get(playlist)?.is_none() {
                return Err(StoreError::NotFound { what: "playlist", id: playlist.to_string() });
            }
            let items: Vec<u64> = {
                let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
                let mut v = Vec::new();
                for e in members.range((playlist, 0)..=(playlist, u64::MAX))? {
                    v.push(e?.0.value().1);
                }
                v
            };
            let mut marks = tx.open_table(tables::PLAYLIST_WANTED)?;
            if wanted {
                marks.insert(playlist, ())?;
                drop(marks);
                for item in items {
                    add_ref(tx, item, Holder::Playlist(playlist))?;
                }
                Ok(DroppedRefs::default())
            } else {
                marks.remove(playlist)?;
                drop(marks);
                drop_in(tx, Holder::Playlist(playlist), &items, delete_orphans)
            }
        })
    }

    /// Whether the playlist is selected for download.
    pub fn playlist_wanted(&self, playlist: u64) -> Result<bool> {
        self.read(|tx| Ok(tx.open_table(tables::PLAYLIST_WANTED)?.get(playlist)?.is_some()))
    }

    /// Ids of every item a selected ("wanted") playlist references: one range scan of the
    /// holder index.
    pub fn wanted_items(&self) -> Result<std::collections::HashSet<u64>> {
        self.read(|tx| {
            let index = tx.open_table(tables::HOLDER_ITEM_INDEX)?;
            let mut out = std::collections::HashSet::new();
            for entry in index.range((0u8, 0u64, 0u64)..=(0u8, u64::MAX, u64::MAX))? {
                out.insert(entry?.0.value().2);
            }
            Ok(out)
        })
    }

    /// The overflow roots of the files of `ids` that live in one (others are absent), read in
    /// one transaction.
    pub fn item_file_roots(&self, ids: &[u64]) -> Result<std::collections::HashMap<u64, PathBuf>> {
        self.read(|tx| {
            let roots = tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?;
            let mut out = std::collections::HashMap::new();
            for &id in ids {
                if let Some(root) = roots.get(id)? {
                    out.insert(id, PathBuf::from(root.value()));
                }
            }
            Ok(out)
        })
    }

    /// The library root of item `id`'s file when it lives in an overflow root (`None` = the
    /// default library, or no file).
    pub fn item_file_root(&self, id: u64) -> Result<Option<PathBuf>> {
        self.read(|tx| {
            Ok(tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?.get(id)?.map(|g| PathBuf::from(g.value())))
        })
    }
}

/// References a wanted playlist's item inside a sync's transaction (no-op for a playlist not
/// selected for download).
pub(crate) fn reference_if_wanted(tx: &redb::WriteTransaction, playlist: u64, item: u64) -> Result<()> {
    if tx.open_table(tables::PLAYLIST_WANTED)?.get(playlist)?.is_some() {
        add_ref(tx, item, Holder::Playlist(playlist))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
    use crate::store::FileRow;

    fn doc(urls: &[&str]) -> ParsedPlaylist {
        let items = urls
            .iter()
            .map(|u| ParsedItem {
                title: Some(u.to_string()),
                enclosure: Some(Enclosure { url: u.to_string(), length: None, mime_type: None }),
                ..Default::default()
            })
            .collect();
        ParsedPlaylist { items, ..Default::default() }
    }

    #[test]
    fn a_shared_item_is_orphaned_only_when_its_last_holder_goes() {
        let (_d, store) = crate::store::temp_store();
        let a = store.add_playlist("http://x/a", None, &[], 1).unwrap().id;
        let b = store.add_playlist("http://x/b", None, &[], 1).unwrap().id;
        store.apply_sync(a, &doc(&["http://m/shared.mp3", "http://m/a.mp3"]), 1).unwrap();
        store.set_playlist_wanted(a, true, false).unwrap();
        store.set_playlist_wanted(b, true, false).unwrap();
        // b lists the shared item only after it was selected: the sync references it
        store.apply_sync(b, &doc(&["http://m/shared.mp3"]), 2).unwrap();
        let shared = store.playlist_items(b).unwrap()[0].id;
        let only_a = store.playlist_items(a).unwrap()[1].id;
        assert_eq!(store.references(shared).unwrap(), vec![Holder::Playlist(a), Holder::Playlist(b)]);
        assert!(store.add_reference(shared, Holder::Job(9)).unwrap());
        assert!(!store.add_reference(shared, Holder::Job(9)).unwrap(), "idempotent");
        let write = |id: u64, path: &str| {
            let row = FileRow { path: path.into(), ..Default::default() };
            store.write(move |tx| crate::store::writes::insert_file(tx, id, &row)).unwrap()
        };
        write(shared, "s.mp3");
        write(only_a, "a.mp3");
        assert_eq!(store.drop_holder(Holder::Job(9), true).unwrap(), DroppedRefs::default());
        let dropped = store.set_playlist_wanted(a, false, true).unwrap();
        assert_eq!(dropped.orphans, vec![only_a], "b still holds the shared item");
        assert_eq!(dropped.deleted_files, vec![(None, "a.mp3".to_string())]);
        assert!(store.item_file(only_a).unwrap().is_none() && !store.file_path_taken("a.mp3").unwrap());
        let dropped = store.set_playlist_wanted(b, false, false).unwrap();
        assert_eq!((dropped.orphans, dropped.deleted_files), (vec![shared], vec![]), "kept without a delete");
        assert!(store.item_file(shared).unwrap().is_some());
        assert!(!store.playlist_wanted(b).unwrap());
        assert!(store.references(shared).unwrap().is_empty());
    }
}
