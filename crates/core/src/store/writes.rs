//! Write-transaction building blocks several aggregates share, inside the caller's
//! transaction: a work item's row with both status indexes and its heartbeat ([`put_work`]),
//! its end with the job-log line ([`finish_work`]), heartbeats ([`beat_in`]), a new item ([`insert_item`]), requeueing a stage's items
//! ([`requeue_items`]), and a file row with its path index ([`insert_file`]). They sit below
//! the aggregate modules (`jobs`, `resolutions`, `reaping`, `commands`, `refs`) that use them,
//! so those never import each other in a circle.

use redb::ReadableTable;

use super::job_log::append_in;
use super::layouts::{JobLogRow, LogKind};
use super::{tables, FileRow, Result, StageItemRow, StoreError, WorkStatus};

/// How a work item ended: its end status with the error or note stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkEnd {
    /// `done`, `failed` or `skipped`.
    pub status: WorkStatus,
    /// The failure's reason (for `failed`).
    pub error: Option<String>,
    /// Outcome text, e.g. `already downloaded` or `3 new of 40`.
    pub note: Option<String>,
}

impl WorkEnd {
    /// Done, with an outcome note.
    pub fn done(note: impl Into<String>) -> WorkEnd {
        WorkEnd { status: WorkStatus::Done, error: None, note: Some(note.into()) }
    }
    /// Failed with `error`.
    pub fn failed(error: impl Into<String>) -> WorkEnd {
        WorkEnd { status: WorkStatus::Failed, error: Some(error.into()), note: None }
    }
    /// Skipped because of `note`.
    pub fn skipped(note: impl Into<String>) -> WorkEnd {
        WorkEnd { status: WorkStatus::Skipped, error: None, note: Some(note.into()) }
    }
}

/// Writes a work item with both status indexes (per stage and across jobs); an item leaving
/// `running` loses its heartbeat.
pub(super) fn put_work(
    tx: &redb::WriteTransaction,
    key: (u64, u8, u64),
    old: Option<WorkStatus>,
    row: &StageItemRow,
) -> Result<()> {
    let (job, stage, target) = key;
    let mut index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
    let mut global = tx.open_table(tables::WORK_STATUS_INDEX)?;
    if let Some(old) = old {
        index.remove((job, stage, old.code(), target))?;
        global.remove((old.code(), job, stage, target))?;
    }
    index.insert((job, stage, row.status.code(), target), ())?;
    global.insert((row.status.code(), job, stage, target), ())?;
    if row.status != WorkStatus::Running {
        tx.open_table(tables::WORK_HEARTBEAT)?.remove(key)?;
    }
    tx.open_table(tables::STAGE_ITEM)?.insert(key, row)?;
    Ok(())
}

/// Moves every work item of a stage in status `from` back to queued (attempts and errors
/// kept), index entries with them. Returns how many moved.
pub(super) fn requeue_items(
    tx: &redb::WriteTransaction,
    job: u64,
    stage: u8,
    from: WorkStatus,
    now_ms: i64,
) -> Result<u32> {
    let code = from.code();
    let stale: Vec<u64> = {
        let index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
        let mut v = Vec::new();
        for e in index.range((job, stage, code, 0)..=(job, stage, code, u64::MAX))? {
            v.push(e?.0.value().3);
        }
        v
    };
    for &target in &stale {
        let key = (job, stage, target);
        let item = tx.open_table(tables::STAGE_ITEM)?.get(key)?.map(|g| g.value());
        if let Some(mut item) = item {
            item.status = WorkStatus::Queued;
            item.updated_ms = now_ms;
            put_work(tx, key, Some(from), &item)?;
        }
    }
    Ok(stale.len() as u32)
}

/// Ends a work item with `end` and logs the line, inside the caller's transaction.
pub(super) fn finish_work(
    tx: &redb::WriteTransaction,
    key: (u64, u8, u64),
    end: WorkEnd,
    now_ms: i64,
) -> Result<()> {
    let mut row = tx
        .open_table(tables::STAGE_ITEM)?
        .get(key)?
        .map(|g| g.value())
        .ok_or_else(|| StoreError::NotFound { what: "work item", id: format!("{key:?}") })?;
    let old = row.status;
    let (job, stage, target) = key;
    let detail = end.error.as_deref().or(end.note.as_deref()).map(|d| format!(": {d}")).unwrap_or_default();
    let line = JobLogRow {
        at_ms: now_ms,
        kind: if end.status == WorkStatus::Failed { LogKind::Error } else { LogKind::Item },
        stage: Some(stage),
        target: Some(target),
        text: format!("{target} {}{detail}", end.status),
    };
    row.status = end.status;
    row.last_error = end.error;
    row.note = end.note;
    row.updated_ms = now_ms;
    put_work(tx, key, Some(old), &row)?;
    append_in(tx, job, &[line])
}

/// Records `file` for `item_id` and indexes its path, inside the caller's transaction.
/// Errors: [`StoreError::Conflict`] when another item already owns that path.
pub(crate) fn insert_file(tx: &redb::WriteTransaction, item_id: u64, file: &FileRow) -> Result<()> {
    let mut paths = tx.open_table(tables::FILE_PATH_TO_ITEM_ID)?;
    if let Some(owner) = paths.get(file.path.as_str())?.map(|g| g.value()) {
        if owner != item_id {
            return Err(StoreError::Conflict(format!("path {} already belongs to item {owner}", file.path)));
        }
    }
    paths.insert(file.path.as_str(), item_id)?;
    tx.open_table(tables::FILE_PATH_FOLDED_TO_ITEM_ID)?
        .insert(tables::fold_path(&file.path).as_str(), item_id)?;
    tx.open_table(tables::ITEM_ID_TO_FILE)?.insert(item_id, file)?;
    Ok(())
}

/// Stamps the heartbeats of the running items among `keys` inside the caller's transaction.
pub(super) fn beat_in(tx: &redb::WriteTransaction, keys: &[(u64, u8, u64)], now_ms: i64) -> Result<()> {
    let index = tx.open_table(tables::WORK_STATUS_INDEX)?;
    let mut beats = tx.open_table(tables::WORK_HEARTBEAT)?;
    for &(job, stage, target) in keys {
        if index.get((WorkStatus::Running.code(), job, stage, target))?.is_some() {
            beats.insert((job, stage, target), now_ms)?;
        }
    }
    Ok(())
}

/// Inserts a new item of playlist `playlist_id` under identity `key` (first seen and updated
/// at `now_ms`), its fields filled by `fill`, with its key index entry; returns its id.
pub(super) fn insert_item(
    tx: &redb::WriteTransaction,
    items: &mut redb::Table<u64, super::codec::Row<super::ItemRow>>,
    keys: &mut redb::Table<&str, u64>,
    (key, playlist_id, now_ms): (&str, u64, i64),
    fill: impl FnOnce(&mut super::ItemRow),
) -> Result<u64> {
    let item_id = super::next_id(tx, "next_item_id")?;
    insert_item_with_id(items, keys, item_id, (key, playlist_id, now_ms), fill)?;
    Ok(item_id)
}

/// [`insert_item`] under `item_id`, taken by the caller from the `next_item_id` counter (a
/// sync of many new items reads and writes that counter once: `super::sync_apply`).
pub(super) fn insert_item_with_id(
    items: &mut redb::Table<u64, super::codec::Row<super::ItemRow>>,
    keys: &mut redb::Table<&str, u64>,
    item_id: u64,
    (key, playlist_id, now_ms): (&str, u64, i64),
    fill: impl FnOnce(&mut super::ItemRow),
) -> Result<()> {
    let mut row = super::ItemRow {
        key: key.to_string(),
        playlist_id,
        first_seen_ms: now_ms,
        updated_ms: now_ms,
        ..Default::default()
    };
    fill(&mut row);
    items.insert(item_id, row)?;
    keys.insert(key, item_id)?;
    Ok(())
}
