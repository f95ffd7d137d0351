//! Paged reads of the catalog for the fronts' lists: a page of a playlist's items in document
//! order after a stable cursor ([`ItemCursor`]), a page of playlists by id, and per-playlist
//! counts from key-only scans. A page decodes only the rows it returns, so the first page of a
//! 5,000-item playlist costs one scan of its membership keys (`PLAYLIST_ITEM_INDEX`, a few
//! bytes each) plus the page's rows.
//!
//! Why the item cursor names an item and not an offset: a sync that adds items at the top of
//! a feed shifts every position, so "skip 100" would show rows twice. The cursor is the last
//! row shown, `(position, item id)`; the next page starts after that item's *current*
//! position, so items keep their relative order across syncs and each appears exactly once
//! (items added before the cursor are not shown; a front reloads on the catalog event).

use std::collections::HashSet;

use redb::ReadableTable;

use super::items::ItemEntry;
use super::{tables, JobRow, JobStatus, PlaylistRow, Result, Store, StoreError};

/// Where a page of a playlist's items starts: after the item `item` last shown at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemCursor {
    /// Position of the item in the playlist's document when it was shown.
    pub position: u32,
    /// The item's id.
    pub item: u64,
}

/// A page of a playlist's items.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsPage {
    /// The items, in document order.
    pub items: Vec<ItemEntry>,
    /// Where the next page starts; `None` when this page reached the end.
    pub next: Option<ItemCursor>,
    /// Items the playlist lists in all.
    pub total: u32,
}

/// Key-only facts about a playlist's items, for its counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFacts {
    /// Items listed.
    pub total: u32,
    /// Item ids with a downloaded file.
    pub with_file: HashSet<u64>,
    /// Every item id listed.
    pub items: Vec<u64>,
}

/// The jobs the task center lists, and counts over every job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobsShown {
    /// Every queued, running, pausing or paused job, plus the newest `recent` jobs of any
    /// status; newest first.
    pub jobs: Vec<(u64, JobRow)>,
    /// Jobs per status over the whole history, indexed by `JobStatus::code`.
    pub by_status: [u32; 7],
    /// Ids and kinds of every queued job, oldest first (queue positions).
    pub queued: Vec<(u64, super::JobKind)>,
}

impl Store {
    /// The task center's jobs (see [`JobsShown`]) from index scans and the listed rows only,
    /// in one read transaction: the cost does not grow with finished history.
    pub fn jobs_shown(&self, recent: usize) -> Result<JobsShown> {
        self.read(|tx| {
            let jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let index = tx.open_table(tables::JOB_STATUS_INDEX)?;
            let mut shown = JobsShown::default();
            let mut ids: Vec<u64> = Vec::new();
            for code in 0..7u8 {
                let open = matches!(
                    JobStatus::from_code(code),
                    Some(
                        JobStatus::Queued
                            | JobStatus::Running
                            | JobStatus::PauseRequested
                            | JobStatus::Paused
                    )
                );
                let mut n = 0;
                for e in index.range((code, 0)..=(code, u64::MAX))? {
                    let id = e?.0.value().1;
                    n += 1;
                    if open {
                        ids.push(id);
                    }
                }
                shown.by_status[usize::from(code)] = n;
            }
            for e in jobs.iter()?.rev().take(recent) {
                ids.push(e?.0.value());
            }
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
            for id in ids {
                if let Some(row) = jobs.get(id)?.map(|g| g.value()) {
                    shown.jobs.push((id, row));
                }
            }
            for (id, row) in shown.jobs.iter().rev() {
                if row.status == JobStatus::Queued {
                    shown.queued.push((*id, row.kind));
                }
            }
            Ok(shown)
        })
    }

    /// Up to `limit` items of playlist `id` in document order, after `after` (`None`: from the
    /// first). Errors: [`StoreError::NotFound`] for an unknown playlist.
    pub fn playlist_items_page(&self, id: u64, after: Option<ItemCursor>, limit: usize) -> Result<ItemsPage> {
        self.read(|tx| {
            if tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.get(id)?.is_none() {
                return Err(StoreError::NotFound { what: "playlist", id: id.to_string() });
            }
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let mut listed = Vec::new();
            for entry in members.range((id, 0)..=(id, u64::MAX))? {
                let (k, pos) = entry?;
                listed.push(ItemCursor { position: pos.value(), item: k.value().1 });
            }
            listed.sort_unstable();
            let start = match after {
                None => 0,
                Some(c) => {
                    // the cursor item where it is now (a sync may have moved every position)
                    let now =
                        members.get((id, c.item))?.map(|p| ItemCursor { position: p.value(), item: c.item });
                    let from = now.unwrap_or(c);
                    listed.partition_point(|x| *x <= from)
                }
            };
            let items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let files = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let images = tx.open_table(tables::ITEM_ID_TO_IMAGE_URL)?;
            let end = start.saturating_add(limit).min(listed.len());
            let mut out = Vec::with_capacity(end.saturating_sub(start));
            for c in listed.get(start..end).unwrap_or_default() {
                let Some(item) = items.get(c.item)?.map(|g| g.value()) else { continue };
                let file = files.get(c.item)?.map(|g| g.value());
                let image = images.get(c.item)?.map(|g| g.value().to_owned());
                out.push(ItemEntry { id: c.item, item, file, image });
            }
            let next = (end < listed.len()).then(|| listed[end - 1]).filter(|_| end > 0);
            Ok(ItemsPage { items: out, next, total: listed.len() as u32 })
        })
    }

    /// Up to `limit` playlists with ids above `after`, by id.
    pub fn playlists_page(&self, after: u64, limit: usize) -> Result<(Vec<(u64, PlaylistRow)>, u32)> {
        self.read(|tx| {
            let t = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut out = Vec::new();
            for entry in t.range(after.saturating_add(1)..)?.take(limit) {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok((out, redb::ReadableTableMetadata::len(&t)? as u32))
        })
    }

    /// The items playlist `id` lists and which of them have a file: key lookups only, no item
    /// row is decoded.
    pub fn member_facts(&self, id: u64) -> Result<MemberFacts> {
        self.read(|tx| {
            let members = tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
            let files = tx.open_table(tables::ITEM_ID_TO_FILE)?;
            let mut facts = MemberFacts::default();
            for entry in members.range((id, 0)..=(id, u64::MAX))? {
                let item = entry?.0.value().1;
                if files.get(item)?.is_some() {
                    facts.with_file.insert(item);
                }
                facts.items.push(item);
            }
            facts.total = facts.items.len() as u32;
            Ok(facts)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};

    fn doc(guids: &[u32]) -> ParsedPlaylist {
        let items = guids
            .iter()
            .map(|g| ParsedItem {
                guid: Some(format!("g{g}")),
                title: Some(format!("Episode {g}")),
                enclosure: Some(Enclosure { url: format!("http://m/{g}.mp3"), ..Default::default() }),
                ..Default::default()
            })
            .collect();
        ParsedPlaylist { items, ..Default::default() }
    }

    fn title(e: &ItemEntry) -> String {
        e.item.title.clone().unwrap_or_default()
    }

    #[test]
    fn pages_return_every_item_once_while_syncs_add_items() {
        let (_d, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        // a feed lists newest first: episodes 50 down to 1
        let mut listed: Vec<u32> = (1..=50).rev().collect();
        store.apply_sync(p, &doc(&listed), 1).unwrap();
        let (mut seen, mut after, mut next_new, mut pages) = (Vec::new(), None, 51, 0);
        loop {
            let page = store.playlist_items_page(p, after, 7).unwrap();
            seen.extend(page.items.iter().map(title));
            pages += 1;
            // between two pages a sync puts three new episodes on top (every position shifts)
            // and one at the bottom (an old episode the feed re-listed)
            let mut top: Vec<u32> = (next_new..next_new + 3).rev().collect();
            next_new += 3;
            top.extend(listed.iter().copied());
            top.push(1_000 + pages);
            listed = top;
            store.apply_sync(p, &doc(&listed), 2).unwrap();
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no item twice: {seen:?}");
        for g in 1..=50 {
            assert!(seen.contains(&format!("Episode {g}")), "episode {g} missing");
        }
        let first_fifty: Vec<String> = seen.iter().take(50).cloned().collect();
        let want: Vec<String> = (1..=50).rev().map(|g| format!("Episode {g}")).collect();
        assert_eq!(first_fifty, want, "document order");
        assert!(seen.iter().skip(50).all(|t| t.starts_with("Episode 100")), "added at the bottom: {seen:?}");
    }

    #[test]
    fn a_page_reads_only_its_rows_and_counts_the_rest() {
        let (_d, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        store.apply_sync(p, &doc(&(1..=10).collect::<Vec<_>>()), 1).unwrap();
        let first = store.playlist_items_page(p, None, 4).unwrap();
        assert_eq!((first.items.len(), first.total), (4, 10));
        let last = store.playlist_items_page(p, first.next, 100).unwrap();
        assert_eq!((last.items.len(), last.next), (6, None));
        assert!(matches!(store.playlist_items_page(99, None, 4), Err(StoreError::NotFound { .. })));
        let facts = store.member_facts(p).unwrap();
        assert_eq!((facts.total, facts.with_file.len()), (10, 0));
    }
}
