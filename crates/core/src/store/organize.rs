//! The rename journal of the `organize` job (schema 9, `ITEM_ID_TO_ORGANIZE_MOVE`).
//!
//! Renaming a downloaded file after the name template changed is three steps, each durable
//! before the next starts: [`Store::journal_move`] records the item's old and new
//! library-relative paths (the old one must still be the item's file row); the caller moves
//! the file on disk; [`Store::commit_move`] then rewrites the file row and its two path
//! indexes (exact and case-folded) and drops the journal entry, in one transaction. A crash
//! between the steps leaves a journal entry, and whichever of the two paths holds the file is
//! reachable through it: the next run looks at the disk and commits the move (the file is at
//! the new path) or forgets it ([`Store::abandon_move`]: the file is still at the old path).
//!
//! A journaled new path counts as taken ([`Store::organize_path_owner`]), so no other rename
//! or download picks it while the move is in flight.

use redb::ReadableTable;

pub use super::layouts::OrganizeMoveRow;
use super::{tables, FileRow, Result, Store, StoreError};

/// What [`Store::commit_move`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// The file row now names the new path.
    Moved,
    /// Nothing was journaled for the item (committed before).
    NothingJournaled,
}

impl Store {
    /// Creates a queued `organize` job that renames after `template`, in one transaction;
    /// returns its id.
    pub fn create_organize_job(&self, template: &str, now_ms: i64) -> Result<u64> {
        let template = template.to_owned();
        self.write(move |tx| {
            let id = super::jobs::insert_job(
                tx,
                super::JobKind::Organize,
                &[super::StageKind::Organize],
                &[],
                now_ms,
            )?;
            tx.open_table(tables::JOB_ID_TO_ORGANIZE_TEMPLATE)?.insert(id, template.as_str())?;
            Ok(id)
        })
    }

    /// The template organize job `job` renames after, when one was recorded.
    pub fn organize_template(&self, job: u64) -> Result<Option<String>> {
        self.read(|tx| {
            Ok(tx.open_table(tables::JOB_ID_TO_ORGANIZE_TEMPLATE)?.get(job)?.map(|g| g.value().to_string()))
        })
    }

    /// Every journaled move, by item id.
    pub fn organize_journal(&self) -> Result<Vec<(u64, OrganizeMoveRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// The ids of every item with a downloaded file, ascending.
    pub fn downloaded_item_ids(&self) -> Result<Vec<u64>> {
        self.read(|tx| {
            let t = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                out.push(entry?.0.value());
            }
            Ok(out)
        })
    }

    /// Who holds library-relative path `rel`: the item whose file row names it (exactly or
    /// case-folded, as case-insensitive volumes compare), else the item whose journaled move
    /// goes there; `None` when it is free in the catalog (the disk is the caller's to check).
    pub fn organize_path_owner(&self, rel: &str) -> Result<Option<u64>> {
        let folded = tables::fold_path(rel);
        self.read(|tx| {
            if let Some(owner) = tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?.get(rel)? {
                return Ok(Some(owner.value()));
            }
            if let Some(owner) = tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?.get(folded.as_str())? {
                return Ok(Some(owner.value()));
            }
            for entry in tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?.iter()? {
                let (k, v) = entry?;
                if tables::fold_path(&v.value().to) == folded {
                    return Ok(Some(k.value()));
                }
            }
            Ok(None)
        })
    }

    /// Journals the move of `item`'s file (durably, before the caller touches the disk).
    /// Errors: [`StoreError::Conflict`] when the item's file row no longer names `row.from`
    /// or another item holds `row.to`; [`StoreError::NotFound`] when the item has no file.
    pub fn journal_move(&self, item: u64, row: OrganizeMoveRow) -> Result<()> {
        self.write(move |tx| {
            let file = tx
                .open_table(tables::ITEM_ID_TO_FILE)?
                .get(item)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "file of item", id: item.to_string() })?;
            if file.path != row.from {
                return Err(StoreError::Conflict(format!(
                    "item {item} is at {}, not {}",
                    file.path, row.from
                )));
            }
            let folded = tables::fold_path(&row.to);
            let owner =
                tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?.get(folded.as_str())?.map(|g| g.value());
            if owner.is_some_and(|o| o != item) {
                return Err(StoreError::Conflict(format!("path {} already belongs to another item", row.to)));
            }
            tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?.insert(item, &row)?;
            Ok(())
        })
    }

    /// Records that `item`'s file now sits at its journaled new path: the file row and both
    /// path indexes follow, the journal entry goes, in one durable transaction. Errors:
    /// [`StoreError::Conflict`] when another item took the new path meanwhile.
    pub fn commit_move(&self, item: u64) -> Result<Committed> {
        self.write(move |tx| {
            let Some(row) = tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?.remove(item)?.map(|g| g.value())
            else {
                return Ok(Committed::NothingJournaled);
            };
            let file: Option<FileRow> = tx.open_table(tables::ITEM_ID_TO_FILE)?.get(item)?.map(|g| g.value());
            let Some(mut file) = file else { return Ok(Committed::NothingJournaled) };
            if file.path == row.to {
                return Ok(Committed::Moved);
            }
            {
                let mut paths = tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?;
                if paths.get(file.path.as_str())?.is_some_and(|g| g.value() == item) {
                    paths.remove(file.path.as_str())?;
                }
                let mut folded = tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?;
                let old = tables::fold_path(&file.path);
                if folded.get(old.as_str())?.is_some_and(|g| g.value() == item) {
                    folded.remove(old.as_str())?;
                }
                let new = tables::fold_path(&row.to);
                if folded.get(new.as_str())?.is_some_and(|g| g.value() != item) {
                    return Err(StoreError::Conflict(format!(
                        "path {} already belongs to another item",
                        row.to
                    )));
                }
            }
            file.path = row.to;
            super::writes::insert_file(tx, item, &file)?;
            Ok(Committed::Moved)
        })
    }

    /// Forgets `item`'s journaled move: the file never left its old path (or is gone).
    pub fn abandon_move(&self, item: u64) -> Result<()> {
        self.write(move |tx| {
            tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?.remove(item)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(store: &Store, path: &str) -> u64 {
        use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
        let p = store.add_playlist(&format!("http://x/{path}"), None, &[], 1).unwrap().id;
        let item = ParsedItem {
            guid: Some(path.into()),
            enclosure: Some(Enclosure { url: format!("http://m/{path}"), ..Default::default() }),
            ..Default::default()
        };
        store.apply_sync(p, &ParsedPlaylist { items: vec![item], ..Default::default() }, 1).unwrap();
        let id = store.playlist_items(p).unwrap()[0].id;
        let file =
            FileRow { path: path.into(), size: 1, sha256: "s".into(), url: "u".into(), downloaded_ms: 1 };
        store.write(move |tx| super::super::writes::insert_file(tx, id, &file)).unwrap();
        id
    }

    #[test]
    fn journal_then_commit_moves_the_row_and_both_indexes() {
        let (_dir, store) = crate::store::temp_store();
        let a = with_file(&store, "old/a.mp3");
        let b = with_file(&store, "b.mp3");
        let row = |from: &str, to: &str| OrganizeMoveRow {
            job: 1,
            from: from.into(),
            to: to.into(),
            planned_ms: 1,
        };
        assert!(matches!(store.journal_move(a, row("wrong.mp3", "new/a.mp3")), Err(StoreError::Conflict(_))));
        assert!(matches!(store.journal_move(a, row("old/a.mp3", "B.mp3")), Err(StoreError::Conflict(_))));
        store.journal_move(a, row("old/a.mp3", "new/A.mp3")).unwrap();
        assert_eq!(store.organize_path_owner("new/a.mp3").unwrap(), Some(a), "journaled target is taken");
        assert_eq!(store.organize_path_owner("b.mp3").unwrap(), Some(b));
        assert_eq!(store.commit_move(a).unwrap(), Committed::Moved);
        assert_eq!(store.item_file(a).unwrap().unwrap().path, "new/A.mp3");
        assert!(!store.file_path_taken("old/a.mp3").unwrap());
        assert!(store.file_path_taken("new/a.mp3").unwrap(), "folded index follows");
        assert!(store.organize_journal().unwrap().is_empty());
        assert_eq!(store.commit_move(a).unwrap(), Committed::NothingJournaled);
        store.journal_move(b, row("b.mp3", "c.mp3")).unwrap();
        store.abandon_move(b).unwrap();
        assert_eq!(store.item_file(b).unwrap().unwrap().path, "b.mp3");
        assert_eq!(store.organize_path_owner("c.mp3").unwrap(), None);
    }
}
