//! Collections: the subscription lists (OPML) playlists were imported from. The collect stage
//! re-reads each one and adds the playlists it lists that the catalog does not have yet, so a
//! subscription list kept elsewhere (a gPodder or AntennaPod export, a shared OPML URL) stays
//! the source of truth. Rows in `COLLECTION_ID_TO_COLLECTION`, unique by URL through
//! `COLLECTION_URL_TO_ID`.

use redb::ReadableTable;

use super::playlists::Added;
use super::{next_id, tables, Result, Store, StoreError};

pub use super::layouts::CollectionRow;

impl Store {
    /// Follows the subscription list at `url`, or returns the existing one unchanged.
    pub fn add_collection(&self, url: &str, now_ms: i64) -> Result<Added> {
        let url = url.to_owned();
        self.write(move |tx| {
            let url = url.as_str();
            let mut by_url = tx.open_table(tables::COLLECTION_URL_TO_ID)?;
            if let Some(id) = by_url.get(url)?.map(|g| g.value()) {
                return Ok(Added { id, created: false });
            }
            let id = next_id(tx, "next_collection_id")?;
            by_url.insert(url, id)?;
            let row = CollectionRow { url: url.to_string(), added_ms: now_ms, ..Default::default() };
            tx.open_table(tables::COLLECTION_ID_TO_COLLECTION)?.insert(id, row)?;
            Ok(Added { id, created: true })
        })
    }

    /// Every collection, by id.
    pub fn collections(&self) -> Result<Vec<(u64, CollectionRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::COLLECTION_ID_TO_COLLECTION)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// The collection with this id. Errors: [`StoreError::NotFound`].
    pub fn collection(&self, id: u64) -> Result<CollectionRow> {
        self.read(|tx| {
            let row = tx.open_table(tables::COLLECTION_ID_TO_COLLECTION)?.get(id)?.map(|g| g.value());
            row.ok_or_else(|| StoreError::NotFound { what: "collection", id: id.to_string() })
        })
    }

    /// Records a read of collection `id`: `Ok(listed)` subscriptions, or the error text.
    pub fn record_collect(
        &self,
        id: u64,
        outcome: std::result::Result<u32, &str>,
        now_ms: i64,
    ) -> Result<()> {
        let outcome = outcome.map_err(str::to_owned);
        self.write(move |tx| {
            let outcome = outcome.as_ref().copied().map_err(String::as_str);
            let mut t = tx.open_table(tables::COLLECTION_ID_TO_COLLECTION)?;
            let mut row = t
                .get(id)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "collection", id: id.to_string() })?;
            row.last_collect_ms = Some(now_ms);
            match outcome {
                Ok(listed) => {
                    row.listed = listed;
                    row.last_error = None;
                }
                Err(e) => row.last_error = Some(e.to_string()),
            }
            t.insert(id, row)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn collections_are_unique_by_url_and_record_reads() {
        let (_dir, store) = crate::store::temp_store();
        let a = store.add_collection("http://x/subs.opml", 1).unwrap();
        assert!(a.created);
        assert!(!store.add_collection("http://x/subs.opml", 2).unwrap().created);
        store.record_collect(a.id, Ok(12), 3).unwrap();
        assert_eq!(store.collection(a.id).unwrap().listed, 12);
        store.record_collect(a.id, Err("HTTP 404"), 4).unwrap();
        let row = store.collection(a.id).unwrap();
        assert_eq!(
            (row.listed, row.last_error.as_deref(), row.last_collect_ms),
            (12, Some("HTTP 404"), Some(4))
        );
        assert_eq!(store.collections().unwrap().len(), 1);
    }
}
