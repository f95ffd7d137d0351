//! What retention (issue 16, part 2) keeps in the catalog (schema 10): each playlist's own rule
//! (`PLAYLIST_ID_TO_RETENTION`, absent = the global default), the items the user marked
//! "keep" (`ITEM_KEEP`, never deleted), the items retention deleted (`ITEM_ID_TO_REMOVED`,
//! never downloaded again until the user marks them "keep") and the deletions decided but not
//! yet done on disk (`REMOVAL_PENDING`, with where each file is).
//!
//! Crash safety: [`Store::record_removals`] removes the file rows, remembers the items as
//! deleted and marks their files pending in ONE transaction; only then are the files deleted
//! (`library::retention`), and [`Store::clear_pending_removals`] forgets them. A kill in between
//! leaves files the catalog no longer claims (never a file the catalog claims but which is
//! missing); the next run deletes the pending ones first.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub use super::layouts::RemovedRow;
use super::refs::{remove_file_row, Holder};
use super::{tables, FileRow, Result, Store, StoreError};
use crate::config::Retention;
use redb::ReadableTable;

/// What retention needs to know of one downloaded item of a playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionFacts {
    /// Item id.
    pub item: u64,
    /// Its title.
    pub title: Option<String>,
    /// Publication time (Unix seconds).
    pub published: Option<i64>,
    /// Its file.
    pub file: FileRow,
    /// The overflow root of the file (`None` = the default library).
    pub root: Option<PathBuf>,
    /// Size of the file as tagged (bytes), when tags were written into it.
    pub tagged_size: Option<u64>,
    /// Marked "keep".
    pub keep: bool,
    /// Who references it (playlists selected for download, jobs not ended).
    pub holders: Vec<Holder>,
}

/// A deletion decided by retention, to record with [`Store::record_removals`].
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    /// Item id.
    pub item: u64,
    /// The file the decision saw; the item is skipped when its row changed meanwhile.
    pub file: FileRow,
    /// The playlist whose rule decided it.
    pub playlist: u64,
    /// The job running retention, whose own references do not protect the item.
    pub own_job: Option<u64>,
    /// The rule in words.
    pub rule: String,
}

/// Whether `holders` protect an item from `playlist`'s rule run by `own_job`: any holder other
/// than that playlist and that job does.
pub fn protecting_holder(holders: &[Holder], playlist: u64, own_job: Option<u64>) -> Option<Holder> {
    holders.iter().copied().find(|h| match *h {
        Holder::Playlist(p) => p != playlist,
        Holder::Job(j) => Some(j) != own_job,
    })
}

fn holders_in(refs: &impl ReadableTable<(u64, u8, u64), ()>, item: u64) -> Result<Vec<Holder>> {
    let mut out = Vec::new();
    for e in refs.range((item, 0, 0)..=(item, u8::MAX, u64::MAX))? {
        let (_, kind, id) = e?.0.value();
        out.push(if kind == 0 { Holder::Playlist(id) } else { Holder::Job(id) });
    }
    Ok(out)
}

impl Store {
    /// Playlist `id`'s own retention rule; `None` = the global default.
    pub fn playlist_retention(&self, id: u64) -> Result<Option<Retention>> {
        self.read(|tx| {
            Ok(tx
                .open_table(tables::PLAYLIST_ID_TO_RETENTION)?
                .get(id)?
                .and_then(|g| Retention::from_code(g.value())))
        })
    }

    /// Every playlist's own retention rule, by playlist id.
    pub fn playlist_retentions(&self) -> Result<HashMap<u64, Retention>> {
        self.read(|tx| {
            let mut out = HashMap::new();
            for e in tx.open_table(tables::PLAYLIST_ID_TO_RETENTION)?.iter()? {
                let (k, v) = e?;
                out.extend(Retention::from_code(v.value()).map(|r| (k.value(), r)));
            }
            Ok(out)
        })
    }

    /// Sets playlist `id`'s own rule (`None`: back to the global default).
    /// Errors: [`StoreError::NotFound`] for an unknown playlist.
    pub fn set_playlist_retention(&self, id: u64, rule: Option<Retention>) -> Result<()> {
        self.write(move |tx| {
            if tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.get(id)?.is_none() {
                return Err(StoreError::NotFound { what: "playlist", id: id.to_string() });
            }
            let mut t = tx.open_table(tables::PLAYLIST_ID_TO_RETENTION)?;
            match rule {
                Some(r) => drop(t.insert(id, r.to_code())?),
                None => drop(t.remove(id)?),
            }
            Ok(())
        })
    }

    /// Marks item `id` "keep" (never deleted by retention) or clears the mark. Marking an item
    /// retention deleted also forgets the deletion, so the next download fetches it again (the
    /// user asked for it). Returns whether a deletion was forgotten.
    /// Errors: [`StoreError::NotFound`] for an unknown item.
    pub fn set_item_keep(&self, id: u64, keep: bool) -> Result<bool> {
        self.write(move |tx| {
            if tx.open_table(tables::ITEM_ID_TO_ITEM)?.get(id)?.is_none() {
                return Err(StoreError::NotFound { what: "item", id: id.to_string() });
            }
            let mut marks = tx.open_table(tables::ITEM_KEEP)?;
            if !keep {
                marks.remove(id)?;
                return Ok(false);
            }
            marks.insert(id, ())?;
            Ok(tx.open_table(tables::ITEM_ID_TO_REMOVED)?.remove(id)?.is_some())
        })
    }

    /// Ids of the items marked "keep".
    pub fn kept_items(&self) -> Result<HashSet<u64>> {
        self.read(|tx| {
            let mut out = HashSet::new();
            for e in tx.open_table(tables::ITEM_KEEP)?.iter()? {
                out.insert(e?.0.value());
            }
            Ok(out)
        })
    }

    /// Ids of the items retention deleted (and the user did not ask for again).
    pub fn removed_items(&self) -> Result<HashSet<u64>> {
        self.read(|tx| {
            let mut out = HashSet::new();
            for e in tx.open_table(tables::ITEM_ID_TO_REMOVED)?.iter()? {
                out.insert(e?.0.value());
            }
            Ok(out)
        })
    }

    /// What retention deleted of item `id`, if it did.
    pub fn removed_item(&self, id: u64) -> Result<Option<RemovedRow>> {
        self.read(|tx| Ok(tx.open_table(tables::ITEM_ID_TO_REMOVED)?.get(id)?.map(|g| g.value())))
    }

    /// The downloaded items of playlist `playlist` with what retention weighs, in one read.
    pub fn retention_facts(&self, playlist: u64) -> Result<Vec<RetentionFacts>> {
        self.read(|tx| {
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let files = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let roots = tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?;
            let tagged = tx.open_table(tables::ITEM_ID_TO_TAGGED)?;
            let keep = tx.open_table(tables::ITEM_KEEP)?;
            let refs = tx.open_table(tables::ITEM_REF)?;
            let mut out = Vec::new();
            for e in members.range((playlist, 0)..=(playlist, u64::MAX))? {
                let item = e?.0.value().1;
                let (Some(file), Some(row)) = (files.get(item)?, items.get(item)?) else { continue };
                let row = row.value();
                out.push(RetentionFacts {
                    item,
                    title: row.title,
                    published: row.published,
                    file: file.value(),
                    root: roots.get(item)?.map(|g| PathBuf::from(g.value())),
                    tagged_size: tagged
                        .get(item)?
                        .map(|g| g.value())
                        .filter(|t| t.tagged_sha256.is_some())
                        .map(|t| t.tagged_size),
                    keep: keep.get(item)?.is_some(),
                    holders: holders_in(&refs, item)?,
                });
            }
            Ok(out)
        })
    }

    /// Every downloaded file the catalog records: (item id, library-relative path, overflow
    /// root or `None` for the default library), by item id.
    pub fn recorded_files(&self) -> Result<Vec<(u64, String, Option<PathBuf>)>> {
        self.read(|tx| {
            let roots = tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?;
            let mut out = Vec::new();
            for e in tx.open_table(tables::ITEM_ID_TO_FILE)?.iter()? {
                let (k, v) = e?;
                let item = k.value();
                out.push((item, v.value().path, roots.get(item)?.map(|g| PathBuf::from(g.value()))));
            }
            Ok(out)
        })
    }

    /// Records deletions decided by retention in one transaction (module docs): for each
    /// removal whose item still has the same file row, is not marked "keep" and has no
    /// protecting holder ([`protecting_holder`]), the file row goes (with its path index
    /// entries, root and tag record), the item is remembered as deleted and its file marked
    /// pending. Returns the items recorded, in order.
    pub fn record_removals(&self, removals: Vec<Removal>, now_ms: i64) -> Result<Vec<u64>> {
        self.write(move |tx| {
            let mut recorded = Vec::new();
            for r in &removals {
                let current = tx.open_table(tables::ITEM_ID_TO_FILE)?.get(r.item)?.map(|g| g.value());
                let kept = tx.open_table(tables::ITEM_KEEP)?.get(r.item)?.is_some();
                let holders = holders_in(&tx.open_table(tables::ITEM_REF)?, r.item)?;
                if current.as_ref() != Some(&r.file)
                    || kept
                    || protecting_holder(&holders, r.playlist, r.own_job).is_some()
                {
                    continue;
                }
                let Some((root, path)) = remove_file_row(tx, r.item)? else { continue };
                let row = RemovedRow {
                    path,
                    root: root.map(|p| p.display().to_string()),
                    size: r.file.size,
                    playlist: r.playlist,
                    rule: r.rule.clone(),
                    removed_ms: now_ms,
                };
                tx.open_table(tables::REMOVAL_PENDING)?.insert(r.item, &row)?;
                tx.open_table(tables::ITEM_ID_TO_REMOVED)?.insert(r.item, &row)?;
                recorded.push(r.item);
            }
            Ok(recorded)
        })
    }

    /// Deletions recorded whose files may still be on disk, with where they are; a file
    /// whose path an item recorded again meanwhile (downloaded anew after a "keep") is left
    /// out, so it is never deleted (`clear_pending_removals` forgets it all the same).
    /// Returns (item, where its file was, whether the path is ours again).
    pub fn pending_removals(&self) -> Result<Vec<(u64, RemovedRow, bool)>> {
        self.read(|tx| {
            let pending = tx.open_table(tables::REMOVAL_PENDING)?;
            let paths = tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?;
            let mut out = Vec::new();
            for e in pending.iter()? {
                let (item, row) = e?;
                let row = row.value();
                let taken = paths.get(row.path.as_str())?.is_some();
                out.push((item.value(), row, taken));
            }
            Ok(out)
        })
    }

    /// Forgets pending deletions whose files are gone.
    pub fn clear_pending_removals(&self, items: Vec<u64>) -> Result<()> {
        self.write(move |tx| {
            let mut pending = tx.open_table(tables::REMOVAL_PENDING)?;
            for item in &items {
                pending.remove(*item)?;
            }
            Ok(())
        })
    }
}
