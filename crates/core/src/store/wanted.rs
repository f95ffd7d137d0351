//! Wanted marks: the user's "Mark wanted" / "Unmark wanted" on playlists, stored per item in
//! `ITEM_ID_TO_WANTED_MS` (item id -> when it was marked, Unix ms). Marking a playlist marks
//! every item it lists at that moment; unmarking removes the marks of its items. A mark stays
//! after the item is downloaded (the file index says that), so "wanted, not downloaded yet" is
//! a mark without a file. One write transaction per call.

use std::collections::HashSet;

use redb::ReadableTable;

use super::{tables, Result, Store};

impl Store {
    /// Marks (`wanted = true`) or unmarks every item of the playlists `playlists` at `now_ms`
    /// (Unix ms), in one transaction. Returns how many items changed. Unknown playlist ids list
    /// no items, so they change nothing.
    pub fn set_wanted(&self, playlists: &[u64], wanted: bool, now_ms: i64) -> Result<u32> {
        self.write(|tx| {
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let mut marks = tx.open_table(tables::ITEM_ID_TO_WANTED_MS)?;
            let mut changed = 0;
            for &id in playlists {
                for entry in members.range((id, 0)..=(id, u64::MAX))? {
                    let item = entry?.0.value().1;
                    let had = if wanted { marks.insert(item, now_ms)?.is_some() } else { marks.remove(item)?.is_some() };
                    changed += u32::from(had != wanted);
                }
            }
            Ok(changed)
        })
    }

    /// Ids of every item marked wanted.
    pub fn wanted_items(&self) -> Result<HashSet<u64>> {
        self.read(|tx| {
            let marks = tx.open_table(tables::ITEM_ID_TO_WANTED_MS)?;
            let mut out = HashSet::new();
            for entry in marks.iter()? {
                out.insert(entry?.0.value());
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};

    fn doc(urls: &[&str]) -> ParsedPlaylist {
        let items = urls.iter().map(|u| ParsedItem { enclosure: Some(Enclosure { url: (*u).into(), length: None, mime_type: None }), ..Default::default() }).collect();
        ParsedPlaylist { items, ..Default::default() }
    }

    #[test]
    fn marks_follow_playlists_and_count_changes() {
        let (_d, store) = crate::store::temp_store();
        let a = store.add_playlist("http://x/a", None, &[], 1).unwrap().id;
        let b = store.add_playlist("http://x/b", None, &[], 1).unwrap().id;
        store.apply_sync(a, &doc(&["http://m/1", "http://m/2"]), 1).unwrap();
        store.apply_sync(b, &doc(&["http://m/2", "http://m/3"]), 1).unwrap();
        assert_eq!(store.set_wanted(&[a], true, 5).unwrap(), 2);
        assert_eq!(store.set_wanted(&[a], true, 6).unwrap(), 0, "marking twice changes nothing");
        assert_eq!(store.set_wanted(&[b], true, 7).unwrap(), 1, "the shared item was already marked");
        assert_eq!(store.wanted_items().unwrap().len(), 3);
        assert_eq!(store.set_wanted(&[a, 999], false, 8).unwrap(), 2);
        let left = store.wanted_items().unwrap();
        let b_items: Vec<u64> = store.playlist_items(b).unwrap().iter().map(|e| e.id).collect();
        assert_eq!(left.len(), 1);
        assert!(left.contains(&b_items[1]), "only b's own item stays marked");
    }
}
