//! Playlists in the store: add (unique by URL), look up by id / URL / title, list, and record
//! a sync attempt's outcome. Rows live in `PLAYLIST_ID_TO_PLAYLIST`, indexed by URL in
//! `PLAYLIST_URL_TO_ID`.

use redb::ReadableTable;

use super::{next_id, tables, PlaylistRow, Result, Store, StoreError};

/// What [`Store::add_playlist`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// The playlist's id.
    pub id: u64,
    /// `false` when the URL was already in the catalog (nothing changed).
    pub created: bool,
}

impl Store {
    /// Adds a playlist by URL, or returns the existing one with that URL unchanged.
    /// `title` and `folders` come from an OPML import and are kept until a sync finds the
    /// document's own title.
    pub fn add_playlist(
        &self,
        url: &str,
        title: Option<&str>,
        folders: &[String],
        now_ms: i64,
    ) -> Result<Added> {
        self.write(|tx| {
            let mut by_url = tx.open_table(tables::PLAYLIST_URL_TO_ID)?;
            if let Some(id) = by_url.get(url)?.map(|g| g.value()) {
                return Ok(Added { id, created: false });
            }
            let id = next_id(tx, "next_playlist_id")?;
            by_url.insert(url, id)?;
            let row = PlaylistRow {
                url: url.to_string(),
                title: title.map(str::to_string),
                folders: folders.to_vec(),
                added_ms: now_ms,
                ..Default::default()
            };
            tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.insert(id, row)?;
            Ok(Added { id, created: true })
        })
    }

    /// The playlist with this id. Errors: [`StoreError::NotFound`].
    pub fn playlist(&self, id: u64) -> Result<PlaylistRow> {
        self.read(|tx| {
            let t = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let row = t.get(id)?.map(|g| g.value());
            row.ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })
        })
    }

    /// Every playlist, by id.
    pub fn playlists(&self) -> Result<Vec<(u64, PlaylistRow)>> {
        self.read(|tx| {
            let t = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut out = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                out.push((k.value(), v.value()));
            }
            Ok(out)
        })
    }

    /// The playlists a job scoped to `scope` covers: `scope` itself (the user's order), or
    /// every playlist by id when it is empty.
    pub fn scope_playlists(&self, scope: &[u64]) -> Result<Vec<u64>> {
        if scope.is_empty() {
            Ok(self.playlists()?.into_iter().map(|(id, _)| id).collect())
        } else {
            Ok(scope.to_vec())
        }
    }

    /// Finds a playlist from what a user typed: its id, its URL, or its title (exact, then
    /// case-insensitive). Errors: [`StoreError::NotFound`] naming the selector;
    /// [`StoreError::Conflict`] when a title matches several playlists.
    pub fn find_playlist(&self, selector: &str) -> Result<u64> {
        let not_found = || StoreError::NotFound { what: "playlist", id: selector.to_string() };
        if let Ok(id) = selector.parse::<u64>() {
            return self.playlist(id).map(|_| id).map_err(|_| not_found());
        }
        if let Some(id) =
            self.read(|tx| Ok(tx.open_table(tables::PLAYLIST_URL_TO_ID)?.get(selector)?.map(|g| g.value())))?
        {
            return Ok(id);
        }
        let all = self.playlists()?;
        let exact: Vec<u64> =
            all.iter().filter(|(_, p)| p.title.as_deref() == Some(selector)).map(|(id, _)| *id).collect();
        let matches = if exact.is_empty() {
            let lower = selector.to_lowercase();
            all.iter()
                .filter(|(_, p)| p.title.as_deref().map(str::to_lowercase).as_deref() == Some(lower.as_str()))
                .map(|(id, _)| *id)
                .collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [id] => Ok(*id),
            [] => Err(not_found()),
            many => Err(StoreError::Conflict(format!("'{selector}' matches playlists {many:?}; use an id"))),
        }
    }

    /// Records a failed sync of playlist `id`: the error text and the time; items are kept.
    pub fn record_sync_error(&self, id: u64, error: &str, now_ms: i64) -> Result<()> {
        self.write(|tx| {
            let mut t = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut row = t
                .get(id)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })?;
            row.last_sync_ms = Some(now_ms);
            row.last_error = Some(error.to_string());
            t.insert(id, row)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_is_unique_by_url_and_find_by_id_url_title() {
        let (_dir, store) = crate::store::temp_store();
        let a = store.add_playlist("http://x/a.xml", Some("Show A"), &[], 1).unwrap();
        let again = store.add_playlist("http://x/a.xml", Some("Other"), &[], 2).unwrap();
        assert!(a.created && !again.created && a.id == again.id);
        let b = store.add_playlist("http://x/b.xml", None, &["News".into()], 3).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(store.find_playlist(&b.id.to_string()).unwrap(), b.id);
        assert_eq!(store.find_playlist("http://x/b.xml").unwrap(), b.id);
        assert_eq!(store.find_playlist("show a").unwrap(), a.id);
        assert!(matches!(store.find_playlist("nope"), Err(StoreError::NotFound { .. })));
        assert_eq!(store.playlist(b.id).unwrap().folders, vec!["News".to_string()]);
        store.record_sync_error(a.id, "not a feed: html", 9).unwrap();
        assert_eq!(store.playlist(a.id).unwrap().last_error.as_deref(), Some("not a feed: html"));
    }
}
