//! Group commit: one fsync makes many callers' state changes durable at once (ARCHITECTURE.md,
//! convention 6). [`Store::write`](super::Store) commits each caller's transaction with
//! `Durability::None` (no fsync; visible to every later read at once), then waits in
//! [`GroupCommit::wait_durable`] until a durable commit made after it has returned. Only one
//! thread at a time flushes (an empty write transaction committed with
//! `Durability::Immediate`, which persists every earlier non-durable commit, as redb
//! documents); callers that commit while it flushes queue behind it, and the first of them
//! flushes for all of them. Under load, one fsync covers every write that committed during the
//! previous fsync instead of one fsync per write; alone, a write costs one fsync as before.
//!
//! The crash guarantee is unchanged: `write` returns (the caller acknowledges, e.g. a finished
//! download moves on) only after its commit is durable, and redb persists commits in order, so
//! after a crash the database holds a prefix of the commits, with every acknowledged one in it.
//! Each caller keeps its own transaction, so a failing write rolls back alone.
//!
//! Ordering: a caller takes its sequence number after its commit returned; a flush reads the
//! highest number taken before it begins its transaction, so every number at or below it
//! names a commit the flush persists. A number taken later only causes one more flush.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{Result, StoreError};

/// Sequence numbers of non-durable commits and of the last one made durable.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    /// Highest sequence number taken by a committed write.
    committed: AtomicU64,
    /// Highest sequence number known durable; held while a flush runs.
    durable: Mutex<u64>,
    /// Flushes made (durable commits), for tests and diagnostics.
    flushes: AtomicU64,
}

impl GroupCommit {
    /// Takes the sequence number of a write whose transaction has just committed.
    pub(super) fn committed(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once the commit numbered `seq` is durable, flushing (one empty durable commit)
    /// when no flush since it did. Errors: [`StoreError::Db`] when the flush fails; the write
    /// stays visible but may not survive a crash.
    pub(super) fn wait_durable(&self, db: &redb::Database, seq: u64) -> Result<()> {
        let mut durable = self.durable.lock().unwrap_or_else(|e| e.into_inner());
        if *durable >= seq {
            return Ok(());
        }
        let target = self.committed.load(Ordering::SeqCst);
        let tx = db.begin_write()?;
        tx.commit().map_err(StoreError::from)?;
        *durable = target;
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::store::{next_id, tables, temp_store, Store, StoreError};

    fn meta(store: &Store, name: &str) -> u64 {
        store.read(|tx| Ok(tx.open_table(tables::META)?.get(name)?.map(|g| g.value()).unwrap_or(1))).unwrap()
    }

    #[test]
    fn writers_that_commit_during_a_flush_share_the_next_one() {
        let (_dir, store) = temp_store();
        let flushes_before = store.durable.flushes.load(Ordering::SeqCst);
        // hold the flush lock, as a flush in progress does, while 8 writers commit
        let held = store.durable.durable.lock().unwrap();
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let s = store.clone();
                std::thread::spawn(move || s.write(|tx| next_id(tx, "group")).unwrap())
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while meta(&store, "group") < 9 {
            assert!(Instant::now() < deadline, "writers did not commit");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(held);
        let mut ids: Vec<u64> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=8).collect::<Vec<_>>());
        // the first writer to get the lock flushed for all eight
        assert_eq!(store.durable.flushes.load(Ordering::SeqCst) - flushes_before, 1);
    }

    #[test]
    fn a_failing_write_rolls_back_alone_and_every_acknowledged_write_survives_a_reopen() {
        let (dir, store) = temp_store();
        let path = store.path().to_path_buf();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = store.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let r = s.write(|tx| {
                            next_id(tx, "kept")?;
                            if (t + i) % 5 == 0 {
                                next_id(tx, "dropped")?;
                                return Err(StoreError::Conflict("refused".into()));
                            }
                            Ok(())
                        });
                        assert_eq!(r.is_err(), (t + i) % 5 == 0);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(meta(&store, "kept"), 1 + 80, "20 of 100 writes failed and rolled back");
        assert_eq!(meta(&store, "dropped"), 1);
        drop(dir);
    }
}
