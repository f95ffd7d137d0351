//! Work item heartbeats and the item-level reaper's store side (ARCHITECTURE.md convention 8).
//!
//! A running work item has a heartbeat in `WORK_HEARTBEAT`: stamped in the claim's own
//! transaction (itself committed without fsync, see [`Store::claim_stage_item`]), then by [`Store::beat_work`] when its transfer starts and about every
//! `item_heartbeat_ms` while bytes flow, in transactions committed without fsync (convention 6;
//! the next durable commit persists them). [`Store::reap_stale_work`] scans the cross-job
//! `WORK_STATUS_INDEX` (convention 4: `(status, ...)` keys, no walk of the work items): a
//! `running` item whose heartbeat is older than the window goes back to `queued` (attempts and
//! errors kept; its partial file stays for a Range resume), and a `cancelling` item, whose
//! transfer was being stopped when the process ended, becomes `cancelled`. Items the caller
//! holds live in this process are never touched.

use std::collections::HashSet;

use redb::ReadableTable;

use super::writes::{beat_in, put_work};
use super::{tables, Result, Store, WorkStatus};

/// A work item's key: (job id, stage index, target id).
pub type WorkKey = (u64, u8, u64);

/// What one reaper pass changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapedWork {
    /// Running items with a stale heartbeat, now queued.
    pub requeued: Vec<WorkKey>,
    /// Cancelling items, now cancelled.
    pub cancelled: Vec<WorkKey>,
}

impl Store {
    /// Stamps the heartbeat of running work items at `now_ms` (Unix ms), without fsync.
    /// Keys of items not running are skipped, so a late beat never revives a finished item.
    pub fn beat_work(&self, keys: &[WorkKey], now_ms: i64) -> Result<()> {
        let keys = keys.to_vec();
        self.write_volatile(move |tx| {
            let keys = keys.as_slice();
            beat_in(tx, keys, now_ms)
        })
    }

    /// The heartbeat of a work item (Unix ms), while it runs.
    pub fn work_heartbeat(&self, key: WorkKey) -> Result<Option<i64>> {
        self.read(|tx| Ok(tx.open_table(tables::WORK_HEARTBEAT)?.get(key)?.map(|g| g.value())))
    }

    /// Keys of every work item in `status`, across jobs, in (job, stage, target) order: a
    /// range scan of `WORK_STATUS_INDEX`.
    pub fn work_with_status(&self, status: WorkStatus) -> Result<Vec<WorkKey>> {
        self.read(|tx| scan(&tx.open_table(tables::WORK_STATUS_INDEX)?, status))
    }

    /// One reaper pass (module docs): running items whose heartbeat is missing or older than
    /// `now_ms - stale_after_ms` become queued, cancelling items become cancelled, except the
    /// keys in `live` (held by workers of this process). One durable transaction.
    pub fn reap_stale_work(
        &self,
        now_ms: i64,
        stale_after_ms: i64,
        live: &HashSet<WorkKey>,
    ) -> Result<ReapedWork> {
        let live = live.clone();
        self.write(move |tx| {
            let live = &live;
            let (running, cancelling) = {
                let index = tx.open_table(tables::WORK_STATUS_INDEX)?;
                (scan(&index, WorkStatus::Running)?, scan(&index, WorkStatus::Cancelling)?)
            };
            let mut out = ReapedWork::default();
            for key in running.into_iter().filter(|k| !live.contains(k)) {
                let beat = tx.open_table(tables::WORK_HEARTBEAT)?.get(key)?.map(|g| g.value());
                if beat.is_some_and(|b| b > now_ms - stale_after_ms) {
                    continue;
                }
                if move_work(tx, key, WorkStatus::Running, WorkStatus::Queued, now_ms)? {
                    out.requeued.push(key);
                }
            }
            for key in cancelling.into_iter().filter(|k| !live.contains(k)) {
                if move_work(tx, key, WorkStatus::Cancelling, WorkStatus::Cancelled, now_ms)? {
                    out.cancelled.push(key);
                }
            }
            Ok(out)
        })
    }

    /// The error stored with each item's latest failed download work item (newest job wins),
    /// by item id: e.g. `attempt 3/3, transient: HTTP 503 Service Unavailable from <url>`. A
    /// range scan of the failed entries of `WORK_STATUS_INDEX`, keeping download stages only.
    pub fn download_failures(&self) -> Result<std::collections::HashMap<u64, String>> {
        self.read(|tx| {
            let failed = scan(&tx.open_table(tables::WORK_STATUS_INDEX)?, WorkStatus::Failed)?;
            let jobs = tx.open_table(tables::JOB_ID_TO_JOB)?;
            let work = tx.open_table(tables::STAGE_ITEM)?;
            let mut out = std::collections::HashMap::new();
            let mut kinds: std::collections::HashMap<u64, Vec<super::StageKind>> =
                std::collections::HashMap::new();
            for (job, stage, target) in failed {
                let stages = match kinds.entry(job) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        jobs.get(job)?
                            .map(|g| g.value().stages.iter().map(|s| s.kind).collect())
                            .unwrap_or_default(),
                    ),
                };
                if stages.get(stage as usize) != Some(&super::StageKind::Download) {
                    continue;
                }
                if let Some(error) = work.get((job, stage, target))?.and_then(|g| g.value().last_error) {
                    out.insert(target, error); // keys ascend by job: a newer job overwrites
                }
            }
            Ok(out)
        })
    }

    /// The most recent failure among `job`'s work items, `(target id, error)`: range scans of
    /// the per-stage status index over the job's `stages` stages; for a compacted job, the
    /// error its summary kept, with target 0.
    pub fn last_failure(&self, job: u64, stages: u8) -> Result<Option<(u64, String)>> {
        self.read(|tx| {
            let index = tx.open_table(tables::STAGE_ITEM_STATUS_INDEX)?;
            let work = tx.open_table(tables::STAGE_ITEM)?;
            let code = WorkStatus::Failed.code();
            let mut best: Option<(i64, u64, String)> = None;
            for stage in 0..stages {
                for e in index.range((job, stage, code, 0)..=(job, stage, code, u64::MAX))? {
                    let target = e?.0.value().3;
                    let Some(row) = work.get((job, stage, target))?.map(|g| g.value()) else { continue };
                    if let Some(error) = row.last_error {
                        let newer = match &best {
                            Some((at, _, _)) => row.updated_ms >= *at,
                            None => true,
                        };
                        if newer {
                            best = Some((row.updated_ms, target, error));
                        }
                    }
                }
            }
            if best.is_none() {
                // a compacted job kept only the error (`store::history`); its target is gone
                let summary = tx.open_table(tables::JOB_ID_TO_SUMMARY)?.get(job)?.map(|g| g.value());
                return Ok(summary.and_then(|s| s.last_error).map(|e| (0, e)));
            }
            Ok(best.map(|(_, target, error)| (target, error)))
        })
    }

    /// Moves one work item from `from` to `to` (a no-op returning false when it is in another
    /// state), e.g. running -> cancelling when its last reference goes.
    pub fn move_work_item(
        &self,
        key: WorkKey,
        from: WorkStatus,
        to: WorkStatus,
        now_ms: i64,
    ) -> Result<bool> {
        self.write(move |tx| move_work(tx, key, from, to, now_ms))
    }
}

fn scan(index: &impl ReadableTable<(u8, u64, u8, u64), ()>, status: WorkStatus) -> Result<Vec<WorkKey>> {
    let c = status.code();
    let mut out = Vec::new();
    for e in index.range((c, 0, 0, 0)..=(c, u64::MAX, u8::MAX, u64::MAX))? {
        let (_, job, stage, target) = e?.0.value();
        out.push((job, stage, target));
    }
    Ok(out)
}

/// Moves a work item from `from` to `to` inside the caller's transaction; false when the item
/// is missing or not in `from`.
pub(super) fn move_work(
    tx: &redb::WriteTransaction,
    key: WorkKey,
    from: WorkStatus,
    to: WorkStatus,
    now_ms: i64,
) -> Result<bool> {
    let row = tx.open_table(tables::STAGE_ITEM)?.get(key)?.map(|g| g.value());
    let Some(mut row) = row.filter(|r| r.status == from) else { return Ok(false) };
    row.status = to;
    row.updated_ms = now_ms;
    put_work(tx, key, Some(from), &row)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JobKind, StageKind};

    #[test]
    fn stale_running_items_are_requeued_live_and_fresh_ones_untouched() {
        let (_d, store) = crate::store::temp_store();
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 0).unwrap();
        store.add_stage_items(job, 0, &[1, 2, 3, 4], 0).unwrap();
        for _ in 0..4 {
            store.claim_stage_item(job, 0, 1_000).unwrap();
        }
        store.beat_work(&[(job, 0, 2)], 50_000).unwrap(); // bytes flowing on item 2
        store.move_work_item((job, 0, 4), WorkStatus::Running, WorkStatus::Cancelling, 1_000).unwrap();
        let live: HashSet<WorkKey> = [(job, 0, 3)].into();
        // at 40 s with a 30 s window: item 1 (beat at 1 s) is stale, 2 fresh, 3 held live
        let reaped = store.reap_stale_work(40_000, 30_000, &live).unwrap();
        assert_eq!(reaped, ReapedWork { requeued: vec![(job, 0, 1)], cancelled: vec![(job, 0, 4)] });
        assert_eq!(store.work_with_status(WorkStatus::Running).unwrap(), vec![(job, 0, 2), (job, 0, 3)]);
        assert_eq!(store.work_with_status(WorkStatus::Queued).unwrap(), vec![(job, 0, 1)]);
        assert_eq!(store.work_heartbeat((job, 0, 1)).unwrap(), None, "a queued item has no heartbeat");
        assert_eq!(store.work_heartbeat((job, 0, 2)).unwrap(), Some(50_000));
        let c = store.stage_counts(job, 0).unwrap();
        assert_eq!((c.queued, c.running, c.cancelled), (1, 2, 1));
        // a beat for an item no longer running does not revive it
        store.beat_work(&[(job, 0, 1)], 60_000).unwrap();
        assert_eq!(store.work_heartbeat((job, 0, 1)).unwrap(), None);
        // the requeued item is claimed again with its attempt count kept
        assert_eq!(store.claim_stage_item(job, 0, 61_000).unwrap(), Some(1));
        let one = store.stage_items(job, 0).unwrap().into_iter().find(|(t, _)| *t == 1).unwrap().1;
        assert_eq!(one.attempts, 2);
        // a failed download is listed with its error; a failed sync work item is not
        store
            .finish_stage_item(
                job,
                0,
                1,
                crate::store::jobs::WorkEnd::failed("attempt 3/3, transient: HTTP 503"),
                62_000,
            )
            .unwrap();
        let sync = store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], 0).unwrap();
        store.add_stage_items(sync, 0, &[2], 0).unwrap();
        store.claim_stage_item(sync, 0, 1).unwrap();
        store
            .finish_stage_item(sync, 0, 2, crate::store::jobs::WorkEnd::failed("playlist 2: HTTP 404"), 2)
            .unwrap();
        assert_eq!(
            store.download_failures().unwrap(),
            [(1, "attempt 3/3, transient: HTTP 503".to_string())].into()
        );
        assert_eq!(
            store.last_failure(job, 1).unwrap(),
            Some((1, "attempt 3/3, transient: HTTP 503".to_string()))
        );
        assert_eq!(store.last_failure(job + 5, 1).unwrap(), None);
    }
}
