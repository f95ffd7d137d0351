//! Writing one synced document into the catalog ([`Store::apply_sync_shared`], and with its
//! validators and work item [`Store::finish_sync`]): the playlist's fields, every item
//! (inserted, or updated in place by identity key) with its membership position, image URL and
//! episode numbers, in one write transaction, so a crash mid-sync leaves the previous catalog
//! intact and a playlist reported synced is stored whole.
//!
//! The write is shaped for big feeds (issue 18: 100 feeds of 1,000 items): every table is
//! opened once per document, not once per item; new item ids are taken from the
//! `next_item_id` counter in one read and one write; and a known item whose fields, position,
//! image and numbers are what the catalog already holds is only read, never rewritten, so
//! an unchanged feed dirties no page but its playlist row. Identity rules are in
//! [`super::items`] (`scoped_key`, the same-media match of a changed guid).

use std::collections::HashSet;
use std::sync::Arc;

use redb::ReadableTable;

use super::items::{copy_fields, scoped_key, SyncOutcome};
use super::writes::insert_item_with_id;
use super::writes::WorkEnd;
use super::{tables, EpisodeMetaRow, ItemRow, Result, Store, StoreError};
use crate::catalog::identity::same_media;
use crate::catalog::{ParsedItem, ParsedPlaylist};

impl Store {
    /// Records a successful sync of playlist `id` from `doc` (module docs), sharing the
    /// document so a big feed is not copied for the writer. The writer thread lets go of its
    /// reference before this returns, so the caller holds the last one and chooses the thread
    /// that frees the document (the sync stage: the parse thread that allocated it, see
    /// `jobs::parse_lane`). Returns the new item ids, how many known items changed and the
    /// document's item count.
    /// Errors: [`StoreError::NotFound`] for an unknown playlist; database errors.
    pub fn apply_sync_shared(&self, id: u64, doc: Arc<ParsedPlaylist>, now_ms: i64) -> Result<SyncOutcome> {
        self.write(move |tx| apply(tx, id, &doc, now_ms))
    }

    /// Ends playlist `id`'s work item of sync stage `stage` of job `job` with its document, in
    /// one durable transaction: records `doc` as [`Store::apply_sync_shared`] does (sharing
    /// it the same way), stores the validators (`etag`, `last_modified`) of the response it
    /// came in, and ends the work item as done with the line `line` makes of the outcome. One
    /// commit per synced playlist instead of three, and no crash can leave the document
    /// stored without its validators or its work item.
    /// A deferred write (the store's `deferred` module): committed without an fsync and durable
    /// within the writer's `DEFER_WINDOW_MS`; a crash before that loses it whole, never half,
    /// and the next run fetches the feed again (its validators went with it).
    /// Errors: as [`Store::apply_sync_shared`]; the work item's errors as
    /// [`Store::finish_stage_item`].
    pub fn finish_sync(
        &self,
        (job, stage, id): (u64, u8, u64),
        doc: Arc<ParsedPlaylist>,
        (etag, last_modified): (Option<String>, Option<String>),
        line: impl Fn(&SyncOutcome) -> String + Send + 'static,
        now_ms: i64,
    ) -> Result<SyncOutcome> {
        self.writer.run_blocking(super::writer::Durability::Deferred, move |tx| {
            let out = apply(tx, id, &doc, now_ms)?;
            super::playlists::put_validators(tx, id, etag.as_deref(), last_modified.as_deref())?;
            super::writes::finish_work(tx, (job, stage, id), WorkEnd::done(line(&out)), now_ms)?;
            Ok(out)
        })
    }
}

fn apply(tx: &redb::WriteTransaction, id: u64, doc: &ParsedPlaylist, now_ms: i64) -> Result<SyncOutcome> {
    {
        let mut playlists = tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
        let mut pl = playlists
            .get(id)?
            .map(|g| g.value())
            .ok_or_else(|| StoreError::NotFound { what: "playlist", id: id.to_string() })?;
        pl.format = doc.format;
        if doc.title.is_some() {
            pl.title = doc.title.clone();
        }
        pl.description = doc.description.clone();
        pl.link = doc.link.clone();
        pl.image = doc.image.clone();
        pl.podcast_guid = doc.podcast_guid.clone();
        pl.new_feed_url = doc.new_feed_url.clone();
        pl.last_sync_ms = Some(now_ms);
        pl.last_error = None;
        pl.item_count = doc.items.len() as u32;
        playlists.insert(id, pl)?;
    }
    super::tagging::record_sync_meta(tx, id, doc.author.as_deref())?;
    let wanted = tx.open_table(tables::PLAYLIST_WANTED)?.get(id)?.is_some();
    let first_id = tx.open_table(tables::META)?.get(NEXT_ITEM_ID)?.map(|g| g.value()).unwrap_or(1);

    let mut t = Tables {
        items: tx.open_table(tables::ITEM_ID_TO_ITEM)?,
        keys: tx.open_table(tables::ITEM_KEY_TO_ID)?,
        members: tx.open_table(tables::PLAYLIST_ITEM_INDEX)?,
        images: tx.open_table(tables::ITEM_ID_TO_IMAGE_URL)?,
        meta: tx.open_table(tables::ITEM_ID_TO_EPISODE_META)?,
        replaced: tx.open_table(tables::ITEM_ID_TO_ENCLOSURE_REPLACED)?,
    };
    let mut out = SyncOutcome { total: doc.items.len() as u32, ..Default::default() };
    let mut next_id = first_id;
    let mut listed = Vec::with_capacity(if wanted { doc.items.len() } else { 0 });
    let mut seen = HashSet::with_capacity(doc.items.len());
    let mut known_media: Option<Vec<(u64, String, Option<u64>)>> = None;
    for (position, parsed) in doc.items.iter().enumerate() {
        let key = scoped_key(id, parsed);
        if !seen.insert(key.clone()) {
            continue; // the parser merges duplicates; a second copy changes nothing
        }
        let mut existing = t.keys.get(key.as_str())?.map(|g| g.value());
        if existing.is_none() {
            // a new key may be a known episode whose guid changed (catalog::identity)
            if let Some(enc) = &parsed.enclosure {
                if known_media.is_none() {
                    known_media = Some(media_of_playlist(&t.members, &t.items, id)?);
                }
                let media = known_media.as_deref().unwrap_or_default();
                existing = media
                    .iter()
                    .find(|(_, url, len)| same_media(url, *len, &enc.url, enc.length))
                    .map(|(item_id, _, _)| *item_id);
                if let Some(item_id) = existing {
                    t.keys.insert(key.as_str(), item_id)?; // the new key names the same item
                }
            }
        }
        let position = position as u32;
        let item_id = match existing {
            Some(item_id) => {
                t.update_known(item_id, (id, position, now_ms), parsed, &mut out)?;
                item_id
            }
            None => {
                let item_id = next_id;
                next_id += 1;
                t.insert_new(item_id, &key, (id, position, now_ms), parsed)?;
                out.new_items.push(item_id);
                item_id
            }
        };
        if wanted {
            listed.push(item_id);
        }
    }
    drop(t);
    if next_id != first_id {
        tx.open_table(tables::META)?.insert(NEXT_ITEM_ID, next_id)?;
    }
    for item_id in listed {
        super::refs::add_ref(tx, item_id, super::refs::Holder::Playlist(id))?;
    }
    Ok(out)
}

/// The `META` counter new item ids come from (shared with `store::next_id`).
const NEXT_ITEM_ID: &str = "next_item_id";

/// The tables one document's items touch, open for the whole document.
struct Tables<'tx> {
    items: redb::Table<'tx, u64, super::codec::Row<ItemRow>>,
    keys: redb::Table<'tx, &'static str, u64>,
    members: redb::Table<'tx, (u64, u64), u32>,
    images: redb::Table<'tx, u64, &'static str>,
    meta: redb::Table<'tx, u64, super::codec::Row<EpisodeMetaRow>>,
    replaced: redb::Table<'tx, u64, super::codec::Row<super::EnclosureReplaced>>,
}

impl Tables<'_> {
    /// A known item: its fields (a stale URL the resolver replaced stays replaced), position,
    /// image and numbers, each written only when it differs from the stored one.
    fn update_known(
        &mut self,
        item_id: u64,
        (playlist, position, now_ms): (u64, u32, i64),
        parsed: &ParsedItem,
        out: &mut SyncOutcome,
    ) -> Result<()> {
        // a stale URL the resolver replaced stays replaced
        let kept = super::resolutions::keep_replaced(&self.replaced, item_id, parsed)?;
        let mut row = self.items.get(item_id)?.map(|g| g.value()).unwrap_or_default();
        if copy_fields(&mut row, kept.as_ref().unwrap_or(parsed)) {
            row.updated_ms = now_ms;
            out.updated += 1;
            self.items.insert(item_id, row)?;
        }
        if self.members.get((playlist, item_id))?.map(|g| g.value()) != Some(position) {
            self.members.insert((playlist, item_id), position)?;
        }
        let stored = self.images.get(item_id)?.map(|g| g.value().to_owned());
        match (&parsed.image, stored) {
            (Some(url), Some(old)) if *url == old => {}
            (Some(url), _) => drop(self.images.insert(item_id, url.as_str())?),
            (None, Some(_)) => drop(self.images.remove(item_id)?),
            (None, None) => {}
        }
        let meta = episode_meta(parsed);
        let stored = self.meta.get(item_id)?.map(|g| g.value());
        if stored.unwrap_or_default() != meta {
            if meta == EpisodeMetaRow::default() {
                self.meta.remove(item_id)?;
            } else {
                self.meta.insert(item_id, &meta)?;
            }
        }
        Ok(())
    }

    /// A new item under a fresh id: its row, key, position, image and numbers.
    fn insert_new(
        &mut self,
        item_id: u64,
        key: &str,
        (playlist, position, now_ms): (u64, u32, i64),
        parsed: &ParsedItem,
    ) -> Result<()> {
        insert_item_with_id(&mut self.items, &mut self.keys, item_id, (key, playlist, now_ms), |row| {
            copy_fields(row, parsed);
        })?;
        self.members.insert((playlist, item_id), position)?;
        if let Some(url) = &parsed.image {
            self.images.insert(item_id, url.as_str())?;
        }
        let meta = episode_meta(parsed);
        if meta != EpisodeMetaRow::default() {
            self.meta.insert(item_id, &meta)?;
        }
        Ok(())
    }
}

/// The episode numbers and author a sync stores for `parsed` (`ITEM_ID_TO_EPISODE_META`).
fn episode_meta(parsed: &ParsedItem) -> EpisodeMetaRow {
    EpisodeMetaRow { author: parsed.author.clone(), episode: parsed.episode, season: parsed.season }
}

/// (item id, enclosure URL, declared length) of every item of `playlist` with an enclosure.
fn media_of_playlist(
    members: &redb::Table<(u64, u64), u32>,
    items: &redb::Table<u64, super::codec::Row<ItemRow>>,
    playlist: u64,
) -> Result<Vec<(u64, String, Option<u64>)>> {
    let mut out = Vec::new();
    for entry in members.range((playlist, 0)..=(playlist, u64::MAX))? {
        let item_id = entry?.0.value().1;
        if let Some(enc) = items.get(item_id)?.and_then(|g| g.value().enclosure) {
            out.push((item_id, enc.url, enc.length));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
    use crate::store::{temp_store, JobKind, StageKind, WorkStatus};

    #[test]
    fn finish_sync_stores_the_document_its_validators_and_the_work_items_end_in_one_commit() {
        let (_dir, store) = temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        let job = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[p], 1).unwrap();
        store.claim_next_job(|_| true, 1).unwrap();
        store.add_stage_items(job, 0, &[p], 1).unwrap();
        assert_eq!(store.claim_stage_item(job, 0, 2).unwrap(), Some(p));
        let item = |g: &str| ParsedItem {
            guid: Some(g.into()),
            enclosure: Some(Enclosure { url: format!("http://m/{g}.mp3"), length: None, mime_type: None }),
            ..Default::default()
        };
        let doc = Arc::new(ParsedPlaylist { items: vec![item("a"), item("b")], ..Default::default() });
        let validators = (Some("\"v1\"".to_string()), Some("Sat, 01 Jun 2024 12:00:00 GMT".to_string()));
        let before = store.commits();
        let line = |out: &super::SyncOutcome| format!("{} new of {}", out.new_items.len(), out.total);
        let out = store.finish_sync((job, 0, p), doc.clone(), validators, line, 3).unwrap();
        assert_eq!(store.commits() - before, 1, "one transaction");
        assert_eq!((out.new_items.len(), out.total), (2, 2));
        assert_eq!(Arc::strong_count(&doc), 1, "the writer let go of the document");
        assert_eq!(store.playlist(p).unwrap().item_count, 2);
        let state = store.fetch_state(p).unwrap();
        assert_eq!(state.etag.as_deref(), Some("\"v1\""));
        assert_eq!(state.last_modified.as_deref(), Some("Sat, 01 Jun 2024 12:00:00 GMT"));
        let items = store.stage_items(job, 0).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].1.status, WorkStatus::Done);
        let logged = store.job_log(job).unwrap();
        assert!(logged.iter().any(|(_, row)| format!("{row:?}").contains("2 new of 2")), "{logged:?}");
    }
}
