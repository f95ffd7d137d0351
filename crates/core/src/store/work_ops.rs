//! The writes of a stage's hot path, per work item: claim, release, finish, and a finished or
//! failed download. Each is built here once as an owned operation for the writer
//! ([`super::writer`]), so the blocking methods (`Store::claim_stage_item`, ...) and their
//! async twins below run the same code. The async twins are what the download and sync stages
//! await: no blocking-pool thread per write, and concurrent workers' writes share one
//! transaction and one fsync.

use std::path::PathBuf;

use redb::{ReadableTable, WriteTransaction};

use super::failures::DownloadFailed;
use super::writes::{beat_in, finish_work, insert_file, put_work, WorkEnd};
use super::{tables, FileRow, Result, Store, StoreError, WorkStatus};

/// Claims the first queued work item of a stage (see [`Store::claim_stage_item`]).
pub(super) fn claim(
    job: u64,
    stage: u8,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<Option<u64>> + Send + 'static {
    let mut many = claim_many(job, stage, 1, now_ms);
    move |tx| Ok(many(tx)?.pop())
}

/// Claims up to `max` queued work items of a stage, first queued first (see
/// [`Store::claim_stage_items_async`]): each goes queued -> running, attempts + 1, with its
/// first heartbeat at `now_ms`.
pub(super) fn claim_many(
    job: u64,
    stage: u8,
    max: usize,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<Vec<u64>> + Send + 'static {
    move |tx| {
        let code = WorkStatus::Queued.code();
        let targets = {
            let index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
            let range = index.range((job, stage, code, 0)..=(job, stage, code, u64::MAX))?;
            range.take(max).map(|e| Ok(e?.0.value().3)).collect::<Result<Vec<u64>>>()?
        };
        for &target in &targets {
            let key = (job, stage, target);
            let mut row = tx
                .open_table(tables::STAGE_ITEM)?
                .get(key)?
                .map(|g| g.value())
                .ok_or_else(|| StoreError::Conflict(format!("index names missing work item {key:?}")))?;
            row.status = WorkStatus::Running;
            row.attempts += 1;
            row.updated_ms = now_ms;
            put_work(tx, key, Some(WorkStatus::Queued), &row)?;
            tx.open_table(tables::WORK_HEARTBEAT)?.insert(key, now_ms)?;
        }
        Ok(targets)
    }
}

/// Returns a running work item to the queue (see [`Store::release_stage_item`]).
pub(super) fn release(
    job: u64,
    stage: u8,
    target: u64,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<()> + Send + 'static {
    move |tx| {
        let key = (job, stage, target);
        let item = tx.open_table(tables::STAGE_ITEM)?.get(key)?.map(|g| g.value());
        if let Some(mut item) = item.filter(|i| i.status == WorkStatus::Running) {
            item.status = WorkStatus::Queued;
            item.updated_ms = now_ms;
            put_work(tx, key, Some(WorkStatus::Running), &item)?;
        }
        Ok(())
    }
}

/// Ends a work item as `end` says (see [`Store::finish_stage_item`]).
pub(super) fn finish(
    job: u64,
    stage: u8,
    target: u64,
    end: WorkEnd,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<()> + Send + 'static {
    move |tx| finish_work(tx, (job, stage, target), end.clone(), now_ms)
}

/// Records a completed download under `root` and ends its work item as done (see
/// [`Store::finish_download_in`]).
pub(super) fn finish_download(
    job: u64,
    stage: u8,
    item_id: u64,
    file: FileRow,
    root: Option<PathBuf>,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<()> + Send + 'static {
    move |tx| {
        insert_file(tx, item_id, &file)?;
        let mut roots = tx.open_table(tables::ITEM_ID_TO_FILE_ROOT)?;
        match &root {
            Some(root) => {
                roots.insert(item_id, root.to_string_lossy().as_ref())?;
            }
            None => {
                roots.remove(item_id)?;
            }
        }
        drop(roots);
        let done = WorkEnd { status: WorkStatus::Done, error: None, note: None };
        finish_work(tx, (job, stage, item_id), done, now_ms)
    }
}

/// Records a failed download with every source's reason and ends its work item as failed
/// (see [`Store::fail_download`]).
pub(super) fn fail_download(
    job: u64,
    stage: u8,
    failed: DownloadFailed,
    now_ms: i64,
) -> impl FnMut(&WriteTransaction) -> Result<()> + Send + 'static {
    move |tx| {
        tx.open_table(tables::ITEM_ID_TO_DOWNLOAD_FAILURE)?.insert(failed.item, &failed)?;
        finish_work(tx, (job, stage, failed.item), WorkEnd::failed(failed.to_string()), now_ms)
    }
}

/// The async twins of the hot-path writes: awaited on the writer, no blocking-pool thread.
impl Store {
    /// [`Store::beat_work`] for one running work item, queued on the writer at once and
    /// committed without fsync, batched with whatever else is queued (convention 6).
    pub fn beat_work_async(
        &self,
        key: (u64, u8, u64),
        now_ms: i64,
    ) -> impl std::future::Future<Output = Result<()>> {
        self.submit(false, move |tx| beat_in(tx, &[key], now_ms))
    }

    /// Claims up to `max` queued work items of a stage in one write (first queued first), as
    /// [`Store::claim_stage_item`] claims one: not durable, like a heartbeat. Returns the
    /// claimed targets, empty when nothing is queued.
    pub async fn claim_stage_items_async(
        &self,
        job: u64,
        stage: u8,
        max: usize,
        now_ms: i64,
    ) -> Result<Vec<u64>> {
        self.submit(false, claim_many(job, stage, max, now_ms)).await
    }

    /// [`Store::release_stage_item`], awaited; durable when it resolves.
    pub async fn release_stage_item_async(
        &self,
        job: u64,
        stage: u8,
        target: u64,
        now_ms: i64,
    ) -> Result<()> {
        self.submit(true, release(job, stage, target, now_ms)).await
    }

    /// [`Store::finish_stage_item`], awaited; durable when it resolves.
    pub async fn finish_stage_item_async(
        &self,
        job: u64,
        stage: u8,
        target: u64,
        end: WorkEnd,
        now_ms: i64,
    ) -> Result<()> {
        self.submit(true, finish(job, stage, target, end, now_ms)).await
    }

    /// [`Store::finish_download_in`], queued on the writer when called (before any later
    /// write of this thread); the returned future resolves once it is committed, and it is
    /// durable within the writer's `DEFER_WINDOW_MS` (500 ms; a deferred write, see the
    /// store's `deferred` module). A crash before that loses the write whole: the item stays claimed,
    /// and the next run records the complete file it finds under its name. `dir`: the folder
    /// the file was renamed into, fsynced by the writer before the durable commit (once for
    /// every write it persists), so the file's name is durable before the row that records it;
    /// `None` when the caller already made it durable.
    /// Errors: [`StoreError::DirSync`](super::StoreError::DirSync) when that fsync failed in
    /// the write's own batch (nothing is recorded); the work item's errors as
    /// [`Store::finish_stage_item`].
    pub fn finish_download_async(
        &self,
        (job, stage, item_id): (u64, u8, u64),
        file: FileRow,
        root: Option<PathBuf>,
        dir: Option<PathBuf>,
        now_ms: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        self.writer.submit_deferred(dir, finish_download(job, stage, item_id, file, root, now_ms))
    }

    /// [`Store::fail_download`], awaited; durable when it resolves.
    pub async fn fail_download_async(
        &self,
        job: u64,
        stage: u8,
        failed: DownloadFailed,
        now_ms: i64,
    ) -> Result<()> {
        self.submit(true, fail_download(job, stage, failed, now_ms)).await
    }
}
