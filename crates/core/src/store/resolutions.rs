//! What the resolver cascade learned about items: the last [`DownloadFailed`] of an item
//! (every source tried and its outcome, shown by `catalog-sync list items` and the app), and
//! enclosure URLs replaced by a URL a later tier found ([`EnclosureReplaced`], keeping the
//! stale URL). Both are written in the same transaction as the item's change: a failure with
//! the work item's end, a replacement with the item row.
//!
//! A sync that reads the stale URL again from the feed keeps the replacement
//! ([`keep_replaced`]); a feed naming another URL wins.
//!
//! The two tables are created by their first write; reads treat a missing table as empty, so
//! the schema version does not change.

use redb::ReadableTable;

use super::failures::DownloadFailed;
use super::{tables, Result, Store, StoreError};
use crate::catalog::ParsedItem;

pub use super::layouts::EnclosureReplaced;

fn missing_is_none<T>(r: std::result::Result<T, redb::TableError>) -> Result<Option<T>> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `parsed` with its enclosure URL swapped for the replacement, when `parsed` still names the
/// stale URL the resolver replaced for `item`; `None` otherwise. Inside a sync's transaction,
/// with its open `ITEM_ID_TO_ENCLOSURE_REPLACED` table.
pub(super) fn keep_replaced(
    replaced: &impl ReadableTable<u64, super::codec::Row<EnclosureReplaced>>,
    item: u64,
    parsed: &ParsedItem,
) -> Result<Option<ParsedItem>> {
    let Some(url) = parsed.enclosure.as_ref().map(|e| e.url.as_str()) else { return Ok(None) };
    let replaced = replaced.get(item)?.map(|g| g.value());
    Ok(replaced.filter(|r| r.old_url == url).map(|r| {
        let mut kept = parsed.clone();
        if let Some(e) = kept.enclosure.as_mut() {
            e.url = r.new_url;
        }
        kept
    }))
}

impl Store {
    /// Ends the download work item `(job, stage, item)` as failed with `failed`'s one-line
    /// text, and stores `failed` as the item's last download failure, in one transaction.
    /// Errors: [`StoreError::NotFound`] for an unknown work item; database errors.
    pub fn fail_download(&self, job: u64, stage: u8, failed: &DownloadFailed, now_ms: i64) -> Result<()> {
        self.write(super::work_ops::fail_download(job, stage, failed.clone(), now_ms))
    }

    /// The last download failure of `item`, if any (kept after a later success: compare with
    /// the item's file).
    pub fn download_failure(&self, item: u64) -> Result<Option<DownloadFailed>> {
        self.read(|tx| match missing_is_none(tx.open_table(tables::ITEM_ID_TO_DOWNLOAD_FAILURE))? {
            Some(t) => Ok(t.get(item)?.map(|g| g.value())),
            None => Ok(None),
        })
    }

    /// Replaces the enclosure URL of `item` with `new_url` found by `source`, keeping the old
    /// URL in [`EnclosureReplaced`], in one transaction. Declared length and type stay (the
    /// caller checked the new URL). No-op when the URL is already `new_url`.
    /// Errors: [`StoreError::NotFound`] for an unknown item.
    pub fn replace_enclosure(&self, item: u64, new_url: &str, source: &str, now_ms: i64) -> Result<()> {
        let new_url = new_url.to_owned();
        let source = source.to_owned();
        self.write(move |tx| {
            let new_url = new_url.as_str();
            let source = source.as_str();
            let mut items = tx.open_table(tables::ITEM_ID_TO_ITEM)?;
            let mut row = items
                .get(item)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "item", id: item.to_string() })?;
            let Some(enclosure) = row.enclosure.as_mut() else { return Ok(()) };
            if enclosure.url == new_url {
                return Ok(());
            }
            let old_url = std::mem::replace(&mut enclosure.url, new_url.to_string());
            row.updated_ms = now_ms;
            items.insert(item, &row)?;
            let replaced = EnclosureReplaced {
                old_url,
                new_url: new_url.to_string(),
                source: source.to_string(),
                at_ms: now_ms,
            };
            tx.open_table(tables::ITEM_ID_TO_ENCLOSURE_REPLACED)?.insert(item, &replaced)?;
            Ok(())
        })
    }

    /// The last enclosure replacement of `item`, if any.
    pub fn enclosure_replaced(&self, item: u64) -> Result<Option<EnclosureReplaced>> {
        self.read(|tx| match missing_is_none(tx.open_table(tables::ITEM_ID_TO_ENCLOSURE_REPLACED))? {
            Some(t) => Ok(t.get(item)?.map(|g| g.value())),
            None => Ok(None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::failures::{Outcome, SourceOutcome};
    use crate::store::{temp_store, JobKind, StageKind, WorkStatus};

    #[test]
    fn failure_and_work_end_commit_together_and_a_replacement_outlives_a_resync() {
        let (_dir, store) = temp_store();
        let pl = store.add_playlist("http://h/feed.xml", None, &[], 0).unwrap().id;
        let doc = crate::catalog::ParsedPlaylist {
            items: vec![crate::catalog::ParsedItem {
                guid: Some("g".into()),
                enclosure: Some(crate::catalog::Enclosure {
                    url: "http://h/old.mp3".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let item = store.apply_sync(pl, &doc, 0).unwrap().new_items[0];
        assert_eq!(store.download_failure(item).unwrap(), None);
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 0).unwrap();
        store.add_stage_items(job, 0, &[item], 0).unwrap();
        store.claim_stage_item(job, 0, 0).unwrap();
        let failed = DownloadFailed {
            item,
            sources_tried: vec![SourceOutcome::new(
                "enclosure",
                Outcome::Rejected(vec![("http://h/old.mp3".into(), "HTTP 404".into())]),
            )],
            direct_error: Some("HTTP 404".into()),
            agent_message: None,
        };
        store.fail_download(job, 0, &failed, 5).unwrap();
        assert_eq!(store.download_failure(item).unwrap(), Some(failed.clone()));
        let (_, work) = store.stage_items(job, 0).unwrap().remove(0);
        assert_eq!((work.status, work.last_error), (WorkStatus::Failed, Some(failed.to_string())));

        store.replace_enclosure(item, "http://h/new.mp3", "feed", 9).unwrap();
        assert_eq!(store.item(item).unwrap().enclosure.unwrap().url, "http://h/new.mp3");
        let r = store.enclosure_replaced(item).unwrap().unwrap();
        assert_eq!(
            (r.old_url.as_str(), r.new_url.as_str(), r.source.as_str(), r.at_ms),
            ("http://h/old.mp3", "http://h/new.mp3", "feed", 9)
        );

        // a sync reading the stale URL again keeps the replacement; a feed naming another wins
        store.apply_sync(pl, &doc, 10).unwrap();
        assert_eq!(store.item(item).unwrap().enclosure.unwrap().url, "http://h/new.mp3");
        let mut moved = doc.clone();
        moved.items[0].enclosure.as_mut().unwrap().url = "http://h/third.mp3".into();
        store.apply_sync(pl, &moved, 11).unwrap();
        assert_eq!(store.item(item).unwrap().enclosure.unwrap().url, "http://h/third.mp3");
    }
}
