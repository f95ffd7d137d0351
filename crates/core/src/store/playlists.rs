//! Playlists in the store: add (unique by URL), look up by id / URL / title, list, and record
//! a sync attempt's outcome. Rows live in `PLAYLIST_ID_TO_PLAYLIST`, indexed by URL in
//! `PLAYLIST_URL_TO_ID`.

use redb::ReadableTable;

use super::{next_id, tables, FetchStateRow, PlaylistRow, Result, Store, StoreError, UrlMove};

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
        let url = url.to_owned();
        let title = title.map(str::to_owned);
        let folders = folders.to_vec();
        self.write(move |tx| {
            let url = url.as_str();
            let title = title.as_deref();
            let folders = folders.as_slice();
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

    /// Whether the catalog has no playlist at all (one key looked at).
    pub fn has_no_playlists(&self) -> Result<bool> {
        self.read(|tx| Ok(tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?.first()?.is_none()))
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

    /// What the last fetches of playlist `id` left (default when none).
    pub fn fetch_state(&self, id: u64) -> Result<FetchStateRow> {
        self.read(|tx| {
            let t = tx.open_table(tables::PLAYLIST_ID_TO_FETCH_STATE)?;
            Ok(t.get(id)?.map(|g| g.value()).unwrap_or_default())
        })
    }

    /// Stores the validators of the document just applied to playlist `id`, for the next
    /// conditional refresh. Call after the document is applied: validators must never speak
    /// for a document the catalog does not hold.
    pub fn set_fetch_validators(
        &self,
        id: u64,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<()> {
        let etag = etag.map(str::to_owned);
        let last_modified = last_modified.map(str::to_owned);
        self.write(move |tx| put_validators(tx, id, etag.as_deref(), last_modified.as_deref()))
    }

    /// Records an unchanged refresh of playlist `id` (a `304 Not Modified`): the time, and no
    /// error; nothing else is written.
    pub fn record_unchanged(&self, id: u64, now_ms: i64) -> Result<()> {
        self.update_playlist(id, move |row| {
            row.last_sync_ms = Some(now_ms);
            row.last_error = None;
        })
    }

    /// Moves playlist `id` to `to` (its document moved: `why` is `HTTP 301`, `HTTP 308` or
    /// `itunes:new-feed-url`), keeping the old URL in its fetch state and dropping the old
    /// validators, in one transaction. Returns `false` and changes nothing when `to` is the
    /// playlist's URL already. Errors: [`StoreError::Conflict`] when another playlist has
    /// that URL, or when the playlist lived at `to` before (a move back and forth).
    pub fn move_playlist(&self, id: u64, to: &str, why: &str, now_ms: i64) -> Result<bool> {
        let to = to.to_owned();
        let why = why.to_owned();
        self.write(move |tx| {
            let to = to.as_str();
            let why = why.as_str();
            let mut rows = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut row = rows
                .get(id)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })?;
            if row.url == to {
                return Ok(false);
            }
            let mut by_url = tx.open_table(tables::PLAYLIST_URL_TO_ID)?;
            if let Some(other) = by_url.get(to)?.map(|g| g.value()) {
                return Err(StoreError::Conflict(format!("{to} is the URL of playlist {other} already")));
            }
            let mut states = tx.open_table(tables::PLAYLIST_ID_TO_FETCH_STATE)?;
            let mut state = states.get(id)?.map(|g| g.value()).unwrap_or_default();
            if state.moves.iter().any(|m| m.from == to) {
                return Err(StoreError::Conflict(format!("{to} moved here before: a redirect loop")));
            }
            by_url.remove(row.url.as_str())?;
            by_url.insert(to, id)?;
            state.moves.push(UrlMove {
                from: row.url.clone(),
                to: to.to_owned(),
                why: why.to_owned(),
                at_ms: now_ms,
            });
            state.etag = None;
            state.last_modified = None;
            states.insert(id, state)?;
            row.url = to.to_owned();
            rows.insert(id, row)?;
            Ok(true)
        })
    }

    fn update_playlist(
        &self,
        id: u64,
        mut change: impl FnMut(&mut PlaylistRow) + Send + 'static,
    ) -> Result<()> {
        self.write(move |tx| {
            let mut t = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
            let mut row = t
                .get(id)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })?;
            change(&mut row);
            t.insert(id, row)?;
            Ok(())
        })
    }

    /// Records a failed sync of playlist `id`: the error text and the time; items are kept.
    pub fn record_sync_error(&self, id: u64, error: &str, now_ms: i64) -> Result<()> {
        let error = error.to_owned();
        self.update_playlist(id, move |row| {
            row.last_sync_ms = Some(now_ms);
            row.last_error = Some(error.clone());
        })
    }
}

/// Stores the validators `etag` / `last_modified` in playlist `id`'s fetch state, in `tx`
/// (see [`Store::set_fetch_validators`]).
pub(super) fn put_validators(
    tx: &redb::WriteTransaction,
    id: u64,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<()> {
    let mut t = tx.open_table(tables::PLAYLIST_ID_TO_FETCH_STATE)?;
    let mut state = t.get(id)?.map(|g| g.value()).unwrap_or_default();
    state.etag = etag.map(str::to_owned);
    state.last_modified = last_modified.map(str::to_owned);
    t.insert(id, state)?;
    Ok(())
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
