//! Live worker state for the task center: one row per worker of a running job (a resolver or a
//! downloader), keyed by `(job, name)`. Workers report samples (progress, speed, heartbeat)
//! often, so [`Store::put_worker_samples`] writes a whole batch in one write transaction with
//! `Durability::None` (ARCHITECTURE.md, convention 6): such a commit is visible to every later
//! read transaction of this process at once, but reaches the disk only with the next durable
//! commit (any state change, e.g. a finished work item). A crash may lose the last samples,
//! which is harmless: rows of a crashed worker are stale by their heartbeat, and the task
//! center ignores stale rows.

use redb::ReadableTable;

use super::{tables, Result, Store, StoreError};

pub use super::layouts::{WorkerRow, WorkerState};

impl Store {
    /// Stores a batch of worker samples, replacing earlier samples of the same `(job, name)`:
    /// every row in one write transaction committed with `Durability::None` (no fsync). The
    /// rows are readable at once; they are persisted by the next durable commit of the store
    /// (see the module docs). Errors: [`StoreError::Db`].
    pub fn put_worker_samples(&self, rows: &[WorkerRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_write()?;
        tx.set_durability(redb::Durability::None).map_err(|e| StoreError::Db(e.into()))?;
        {
            let mut t = tx.open_table(tables::WORKER_KEY_TO_WORKER)?;
            for row in rows {
                t.insert((row.job, row.name.as_str()), row)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Workers of `job`, by name. Errors: [`StoreError::Db`].
    pub fn workers(&self, job: u64) -> Result<Vec<WorkerRow>> {
        self.read(|tx| {
            let t = tx.open_table(tables::WORKER_KEY_TO_WORKER)?;
            let mut out = Vec::new();
            for e in t.range((job, "")..(job.saturating_add(1), ""))? {
                let row = e?.1.value();
                if row.job == job {
                    out.push(row);
                }
            }
            Ok(out)
        })
    }

    /// Workers of every job, by job id then name. Errors: [`StoreError::Db`].
    pub fn all_workers(&self) -> Result<Vec<WorkerRow>> {
        self.read(|tx| {
            let t = tx.open_table(tables::WORKER_KEY_TO_WORKER)?;
            let mut out = Vec::new();
            for e in t.iter()? {
                out.push(e?.1.value());
            }
            Ok(out)
        })
    }

    /// Removes every worker row of `job` in one durable transaction (e.g. when the job ends).
    /// Errors: [`StoreError::Db`].
    pub fn remove_workers(&self, job: u64) -> Result<()> {
        self.write(|tx| {
            let mut t = tx.open_table(tables::WORKER_KEY_TO_WORKER)?;
            let names: Vec<String> = {
                let mut v = Vec::new();
                for e in t.range((job, "")..(job.saturating_add(1), ""))? {
                    let (k, _) = e?;
                    let (j, name) = k.value();
                    if j == job {
                        v.push(name.to_string());
                    }
                }
                v
            };
            for name in &names {
                t.remove((job, name.as_str()))?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A working sample of worker `name` of `job` at `now_ms`.
    fn sample(job: u64, name: &str, speed_bps: u64, now_ms: i64) -> WorkerRow {
        WorkerRow {
            job,
            name: name.to_string(),
            stage: 0,
            state: WorkerState::Working,
            current_item: Some(1),
            display: "Episode 1".into(),
            progress_text: "1.2 MB / 3.4 MB".into(),
            downloaded: 1_200_000,
            total: Some(3_400_000),
            speed_bps,
            percent: Some(35.3),
            processed: 0,
            errors: 0,
            heartbeat_ms: now_ms,
        }
    }

    #[test]
    fn a_batch_is_one_transaction_and_readable_without_fsync() {
        let (_dir, store) = crate::store::temp_store();
        let rows: Vec<WorkerRow> = (0..100).map(|i| sample(7, &format!("download-{i}"), i, 10)).collect();
        store.put_worker_samples(&rows).unwrap();
        // one transaction: all 100 rows are there, and the non-durable commit is readable
        assert_eq!(store.workers(7).unwrap().len(), 100);
        assert_eq!(store.all_workers().unwrap().len(), 100);
        // a later sample replaces the earlier one of the same worker
        store.put_worker_samples(&[sample(7, "download-3", 999, 20), sample(8, "resolve-1", 0, 20)]).unwrap();
        let w = store.workers(7).unwrap();
        assert_eq!(w.len(), 100);
        assert_eq!(w.iter().find(|r| r.name == "download-3").unwrap().speed_bps, 999);
        assert_eq!(store.workers(8).unwrap().len(), 1);
        store.remove_workers(7).unwrap();
        assert!(store.workers(7).unwrap().is_empty());
        assert_eq!(store.all_workers().unwrap().len(), 1);
    }

    #[test]
    fn samples_survive_a_later_durable_commit_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.redb");
        let store = Store::open(&path).unwrap();
        store.put_worker_samples(&[sample(1, "download-1", 5, 1)]).unwrap();
        // a durable state change persists the earlier non-durable commit with it
        store.create_job(crate::store::JobKind::SyncOnly, &[crate::store::StageKind::Sync], &[], 2).unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.workers(1).unwrap().len(), 1);
    }
}
