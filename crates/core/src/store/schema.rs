//! Schema version and forward migrations (ARCHITECTURE.md, convention 5). The version lives
//! in the meta table under `"schema_version"`. Opening a database runs every migration from the
//! file's version up to [`SCHEMA_VERSION`] in one write transaction, so a crash mid-migration
//! leaves the old schema intact; a file with a higher version is refused untouched.

use super::{tables, Result, Store, StoreError};

/// The schema version this build writes. Bump it with every migration added to [`MIGRATIONS`].
pub const SCHEMA_VERSION: u64 = 11;

type Migration = fn(&redb::WriteTransaction) -> Result<()>;

/// `MIGRATIONS[i]` takes a database from version `i` to `i + 1`. Version 0 is a new file.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [
    create_v1, v1_to_v2, v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7, v7_to_v8, v8_to_v9, v9_to_v10,
    v10_to_v11,
];

fn create_v1(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::PLAYLIST_ID_TO_PLAYLIST)?;
    tx.open_table(tables::PLAYLIST_URL_TO_ID)?;
    tx.open_table(tables::ITEM_ID_TO_ITEM)?;
    tx.open_table(tables::ITEM_KEY_TO_ID)?;
    tx.open_table(tables::PLAYLIST_ITEM_INDEX)?;
    tx.open_table(tables::ITEM_ID_TO_FILE)?;
    tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?;
    tx.open_table(tables::JOB_ID_TO_JOB)?;
    tx.open_table(tables::JOB_STATUS_INDEX)?;
    tx.open_table(tables::JOB_ID_TO_HEARTBEAT)?;
    tx.open_table(tables::COLLECTION_ID_TO_COLLECTION)?;
    tx.open_table(tables::COLLECTION_URL_TO_ID)?;
    tx.open_table(tables::STAGE_ITEM)?;
    tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
    tx.open_table(tables::RUN_KEY_TO_RUN)?;
    tx.open_table(tables::RUN_OPEN_INDEX)?;
    tx.open_table(tables::JOB_LOG)?;
    tx.open_table(tables::COMMAND_SEQ_TO_COMMAND)?;
    Ok(())
}

/// Version 2: the cross-job work status index (filled from the existing work items), work
/// item heartbeats, item references, wanted playlists and overflow file roots.
fn v1_to_v2(tx: &redb::WriteTransaction) -> Result<()> {
    use redb::ReadableTable;
    let items = tx.open_table(tables::STAGE_ITEM)?;
    let mut index = tx.open_table(tables::WORK_STATUS_INDEX)?;
    for entry in items.iter()? {
        let (key, row) = entry?;
        let (job, stage, target) = key.value();
        index.insert((row.value().status.code(), job, stage, target), ())?;
    }
    tx.open_table(tables::WORK_HEARTBEAT)?;
    tx.open_table(tables::ITEM_REF)?;
    tx.open_table(tables::HOLDER_ITEM_INDEX)?;
    tx.open_table(tables::PLAYLIST_WANTED)?;
    tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?;
    Ok(())
}

/// Version 3: each playlist's fetch state (validators for conditional refreshes, earlier URLs),
/// and the case-folded file path index (filled from the exact one).
fn v2_to_v3(tx: &redb::WriteTransaction) -> Result<()> {
    use redb::ReadableTable;
    tx.open_table(tables::PLAYLIST_ID_TO_FETCH_STATE)?;
    let paths = tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?;
    let mut folded = tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?;
    for entry in paths.iter()? {
        let (path, item) = entry?;
        folded.insert(tables::fold_path(path.value()).as_str(), item.value())?;
    }
    Ok(())
}

/// Version 4: each item's own image URL. Items synced before it have none until their
/// playlist's next sync writes it (a sync rewrites every item of the document).
fn v3_to_v4(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::ITEM_ID_TO_IMAGE_URL)?;
    Ok(())
}

/// Version 5: live worker samples left the database (they live in memory, `jobs::workers`):
/// the table that held them is deleted, when present.
fn v4_to_v5(tx: &redb::WriteTransaction) -> Result<()> {
    tx.delete_table(tables::RETIRED_WORKER_KEY_TO_WORKER)?;
    Ok(())
}

/// Version 6: playlists of kind yt-dlp (format choice, listing checkpoint) and what yt-dlp
/// said of their items. Both tables start empty: no playlist was of that kind before.
fn v5_to_v6(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?;
    tx.open_table(tables::ITEM_ID_TO_YTDLP_ENTRY)?;
    Ok(())
}

/// Version 7 (library care, issue 16): recurring schedules' state (auto-sync's next due time);
/// what tags need beyond the item row (episode author and numbers, channel author), the
/// per-playlist tagging choice and the tags written. Tables start empty: the first start
/// computes the due time, the next sync of each playlist fills the metadata.
fn v6_to_v7(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::SCHEDULE_NAME_TO_SCHEDULE)?;
    tx.open_table(tables::ITEM_ID_TO_EPISODE_META)?;
    tx.open_table(tables::PLAYLIST_ID_TO_AUTHOR)?;
    tx.open_table(tables::PLAYLIST_ID_TO_TAGGING)?;
    tx.open_table(tables::ITEM_ID_TO_TAGGED)?;
    Ok(())
}

/// Version 8: uploads. Playlist -> target assignments, what we put on each target, the
/// temporary files in flight and the targets an upload job is limited to; all start empty.
fn v7_to_v8(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::PLAYLIST_TARGET)?;
    tx.open_table(tables::TARGET_PATH_TO_UPLOAD)?;
    tx.open_table(tables::TARGET_TEMP_PATHS)?;
    tx.open_table(tables::JOB_ID_TO_UPLOAD_TARGETS)?;
    Ok(())
}

/// Version 9: the journal of planned renames of the `organize` job and the template each
/// organize job renames after; both start empty.
fn v8_to_v9(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?;
    tx.open_table(tables::JOB_ID_TO_ORGANIZE_TEMPLATE)?;
    Ok(())
}

/// Version 10 (retention, issue 16 part 2): per-playlist retention rules, "keep" marks, items
/// retention deleted and deletions pending on disk; all start empty (keep everything).
fn v9_to_v10(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::PLAYLIST_ID_TO_RETENTION)?;
    tx.open_table(tables::ITEM_KEEP)?;
    tx.open_table(tables::ITEM_ID_TO_REMOVED)?;
    tx.open_table(tables::REMOVAL_PENDING)?;
    Ok(())
}

/// Version 11 (issue 18): summaries of compacted jobs (`store::history`); starts empty, the
/// first compaction fills it.
fn v10_to_v11(tx: &redb::WriteTransaction) -> Result<()> {
    tx.open_table(tables::JOB_ID_TO_SUMMARY)?;
    Ok(())
}

/// Stamps schema version `version` into the file without migrating anything: for the bench
/// generator only (`bench-catalog generate --schema 8` makes a file builds before schema 9
/// open: every table added since starts empty, and older builds ignore tables they do not
/// know). Errors: [`StoreError::Db`].
pub fn stamp_version(store: &Store, version: u64) -> Result<()> {
    store.write(move |tx| Ok(tx.open_table(tables::META)?.insert("schema_version", version).map(drop)?))
}

/// Reads the stored schema version; 0 for a new, empty file.
pub fn stored_version(store: &Store) -> Result<u64> {
    store.read(|tx| match tx.open_table(tables::META) {
        Ok(meta) => Ok(meta.get("schema_version")?.map(|g| g.value()).unwrap_or(0)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    })
}

/// Brings the database to [`SCHEMA_VERSION`]; see the module docs.
pub(super) fn migrate(store: &Store) -> Result<()> {
    let found = stored_version(store)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: store.path().to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    store.write(move |tx| {
        for migration in &MIGRATIONS[found as usize..] {
            migration(tx)?;
        }
        tx.open_table(tables::META)?.insert("schema_version", SCHEMA_VERSION)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_gets_current_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.redb");
        let store = Store::open(&path).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_version_1_file_gets_the_work_status_index_of_its_items() {
        let (_dir, store) = crate::store::temp_store();
        let job = store
            .create_job(crate::store::JobKind::DownloadOnly, &[crate::store::StageKind::Download], &[], 1)
            .unwrap();
        store.add_stage_items(job, 0, &[4, 5], 1).unwrap();
        store.claim_stage_item(job, 0, 2).unwrap();
        // back to version 1: drop the new tables, then migrate again
        store
            .write(|tx| {
                tx.delete_table(tables::WORK_STATUS_INDEX)?;
                tx.delete_table(tables::WORK_HEARTBEAT)?;
                tx.delete_table(tables::ITEM_REF)?;
                tx.delete_table(tables::HOLDER_ITEM_INDEX)?;
                tx.delete_table(tables::PLAYLIST_WANTED)?;
                tx.delete_table(tables::ITEM_ID_TO_FILE_ROOT)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 1).map(|_| ())?)
            })
            .unwrap();
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let running = store.work_with_status(crate::store::WorkStatus::Running).unwrap();
        let queued = store.work_with_status(crate::store::WorkStatus::Queued).unwrap();
        assert_eq!((running, queued), (vec![(job, 0, 4)], vec![(job, 0, 5)]));
    }

    #[test]
    fn a_version_3_file_gets_the_item_image_table_and_keeps_its_items() {
        use crate::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
        let (_dir, store) = crate::store::temp_store();
        let p = store.add_playlist("http://x/feed", None, &[], 1).unwrap().id;
        let item = ParsedItem {
            guid: Some("g".into()),
            enclosure: Some(Enclosure { url: "http://m/1.mp3".into(), ..Default::default() }),
            image: Some("http://m/1.jpg".into()),
            ..Default::default()
        };
        let doc = ParsedPlaylist { items: vec![item], ..Default::default() };
        store.apply_sync(p, &doc, 1).unwrap();
        let id = store.playlist_items(p).unwrap()[0].id;
        store
            .write(|tx| {
                tx.delete_table(tables::ITEM_ID_TO_IMAGE_URL)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 3).map(|_| ())?)
            })
            .unwrap();
        assert!(store.item_image(id).is_err(), "version 3 has no image table");
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        assert_eq!(store.item_image(id).unwrap(), None, "known until the next sync");
        assert_eq!(store.playlist_items(p).unwrap().len(), 1);
        store.apply_sync(p, &doc, 2).unwrap();
        assert_eq!(store.item_image(id).unwrap().as_deref(), Some("http://m/1.jpg"));
    }

    #[test]
    fn a_version_4_file_loses_its_worker_sample_table() {
        use redb::ReadableDatabase;
        let (_dir, store) = crate::store::temp_store();
        store
            .write(|tx| {
                tx.open_table(tables::RETIRED_WORKER_KEY_TO_WORKER)?.insert((1, "download-1"), &b"x"[..])?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 4).map(|_| ())?)
            })
            .unwrap();
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let tx = store.db.begin_read().unwrap();
        let gone = tx.open_table(tables::RETIRED_WORKER_KEY_TO_WORKER);
        assert!(matches!(gone, Err(redb::TableError::TableDoesNotExist(_))), "{:?}", gone.map(|_| ()));
    }

    #[test]
    fn a_version_5_file_gets_the_ytdlp_tables_and_keeps_its_playlists() {
        use redb::ReadableTableMetadata;
        let (_dir, store) = crate::store::temp_store();
        let id = store.add_playlist("http://x/feed", Some("Show"), &[], 1).unwrap().id;
        store
            .write(|tx| {
                tx.delete_table(tables::PLAYLIST_ID_TO_YTDLP)?;
                tx.delete_table(tables::ITEM_ID_TO_YTDLP_ENTRY)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 5).map(|_| ())?)
            })
            .unwrap();
        assert_eq!(stored_version(&store).unwrap(), 5);
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let empty = store
            .read(|tx| {
                Ok(tx.open_table(tables::PLAYLIST_ID_TO_YTDLP)?.len()?
                    + tx.open_table(tables::ITEM_ID_TO_YTDLP_ENTRY)?.len()?)
            })
            .unwrap();
        assert_eq!(empty, 0);
        assert_eq!(store.playlist(id).unwrap().title.as_deref(), Some("Show"));
        assert!(store.ytdlp_source(id).unwrap().is_none(), "a feed stays a feed");
    }

    #[test]
    fn a_version_6_file_gets_the_library_care_tables_and_keeps_its_playlists() {
        let (_dir, store) = crate::store::temp_store();
        let id = store.add_playlist("http://x/feed", Some("Show"), &[], 1).unwrap().id;
        store
            .write(|tx| {
                tx.delete_table(tables::SCHEDULE_NAME_TO_SCHEDULE)?;
                tx.delete_table(tables::ITEM_ID_TO_EPISODE_META)?;
                tx.delete_table(tables::PLAYLIST_ID_TO_AUTHOR)?;
                tx.delete_table(tables::PLAYLIST_ID_TO_TAGGING)?;
                tx.delete_table(tables::ITEM_ID_TO_TAGGED)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 6).map(|_| ())?)
            })
            .unwrap();
        assert!(
            store.schedule(crate::store::schedule::AUTO_SYNC).is_err(),
            "version 6 has no schedule table"
        );
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        assert_eq!(store.schedule(crate::store::schedule::AUTO_SYNC).unwrap(), None);
        assert_eq!(store.playlist(id).unwrap().title.as_deref(), Some("Show"));
        assert!(store.tagging_enabled(id).unwrap(), "a playlist of unknown format counts as a feed");
    }

    #[test]
    fn newer_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.redb");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| {
                Ok(tx.open_table(tables::META)?.insert("schema_version", SCHEMA_VERSION + 5).map(|_| ())?)
            })
            .unwrap();
        drop(store);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 5), "{err}");
        assert!(err.to_string().contains("newer than this build"), "{err}");
    }

    #[test]
    fn a_version_7_file_gets_the_upload_tables_and_keeps_its_playlists() {
        use redb::ReadableTableMetadata;
        let (_dir, store) = crate::store::temp_store();
        let id = store.add_playlist("http://x/feed", Some("Show"), &[], 1).unwrap().id;
        store
            .write(|tx| {
                tx.delete_table(tables::PLAYLIST_TARGET)?;
                tx.delete_table(tables::TARGET_PATH_TO_UPLOAD)?;
                tx.delete_table(tables::TARGET_TEMP_PATHS)?;
                tx.delete_table(tables::JOB_ID_TO_UPLOAD_TARGETS)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 7).map(|_| ())?)
            })
            .unwrap();
        let gone = store.read(|tx| Ok(tx.open_table(tables::PLAYLIST_TARGET).map(|_| ()).is_err())).unwrap();
        assert!(gone, "the test starts from a file without the tables");
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let empty = store
            .read(|tx| {
                Ok(tx.open_table(tables::PLAYLIST_TARGET)?.len()?
                    + tx.open_table(tables::TARGET_PATH_TO_UPLOAD)?.len()?
                    + tx.open_table(tables::TARGET_TEMP_PATHS)?.len()?
                    + tx.open_table(tables::JOB_ID_TO_UPLOAD_TARGETS)?.len()?)
            })
            .unwrap();
        assert_eq!(empty, 0);
        assert_eq!(store.playlist(id).unwrap().title.as_deref(), Some("Show"));
        assert!(store.playlist_targets(id).unwrap().is_empty());
    }

    #[test]
    fn a_version_8_file_gets_the_organize_journal_and_keeps_its_playlists() {
        use redb::ReadableTableMetadata;
        let (_dir, store) = crate::store::temp_store();
        let id = store.add_playlist("http://x/feed", Some("Show"), &[], 1).unwrap().id;
        store
            .write(|tx| {
                tx.delete_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?;
                tx.delete_table(tables::JOB_ID_TO_ORGANIZE_TEMPLATE)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 8).map(|_| ())?)
            })
            .unwrap();
        assert!(store.organize_journal().is_err(), "version 8 has no journal table");
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let empty = store.read(|tx| Ok(tx.open_table(tables::ITEM_ID_TO_ORGANIZE_MOVE)?.len()?)).unwrap();
        assert_eq!(empty, 0);
        assert!(store.organize_journal().unwrap().is_empty());
        assert_eq!(store.playlist(id).unwrap().title.as_deref(), Some("Show"));
    }

    #[test]
    fn a_version_9_file_gets_the_retention_tables_and_keeps_its_playlists() {
        let (_dir, store) = crate::store::temp_store();
        let id = store.add_playlist("http://x/feed", Some("Show"), &[], 1).unwrap().id;
        store
            .write(|tx| {
                tx.delete_table(tables::PLAYLIST_ID_TO_RETENTION)?;
                tx.delete_table(tables::ITEM_KEEP)?;
                tx.delete_table(tables::ITEM_ID_TO_REMOVED)?;
                tx.delete_table(tables::REMOVAL_PENDING)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 9).map(|_| ())?)
            })
            .unwrap();
        assert!(store.playlist_retention(id).is_err(), "version 9 has no retention table");
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        assert_eq!(store.playlist_retention(id).unwrap(), None);
        assert!(store.kept_items().unwrap().is_empty() && store.removed_items().unwrap().is_empty());
        assert!(store.pending_removals().unwrap().is_empty());
        assert_eq!(store.playlist(id).unwrap().title.as_deref(), Some("Show"));
    }

    #[test]
    fn a_version_10_file_gets_the_job_summary_table_and_keeps_its_jobs() {
        use redb::ReadableTableMetadata;
        let (_dir, store) = crate::store::temp_store();
        let job = store
            .create_job(crate::store::JobKind::SyncOnly, &[crate::store::StageKind::Sync], &[], 1)
            .unwrap();
        store
            .write(|tx| {
                tx.delete_table(tables::JOB_ID_TO_SUMMARY)?;
                Ok(tx.open_table(tables::META)?.insert("schema_version", 10).map(|_| ())?)
            })
            .unwrap();
        let gone =
            store.read(|tx| Ok(tx.open_table(tables::JOB_ID_TO_SUMMARY).map(|_| ()).is_err())).unwrap();
        assert!(gone, "the test starts from a file without the table");
        migrate(&store).unwrap();
        assert_eq!(stored_version(&store).unwrap(), SCHEMA_VERSION);
        let n = store.read(|tx| Ok(tx.open_table(tables::JOB_ID_TO_SUMMARY)?.len()?)).unwrap();
        assert_eq!(n, 0);
        assert_eq!(store.job(job).unwrap().kind, crate::store::JobKind::SyncOnly);
    }
}
