//! Directory fsyncs as a group commit. A finished download is renamed into its directory, and
//! the rename is durable only once the directory itself is fsynced (POSIX `rename(2)` and
//! `fsync(2)`; ext4 and XFS document the same). Downloads of one playlist land in one
//! directory, often a dozen at a time, and one directory fsync makes every rename that came
//! before it durable. So a caller takes a ticket after its rename; when an fsync of that
//! directory is under way, it waits for the next one, which starts after the ticket and so
//! covers its rename; whoever finds none running runs it for everyone waiting. A caller
//! returns only once an fsync that began after its rename succeeded: the guarantee of one
//! fsync per rename, with fewer fsyncs. A failed fsync is the error of the caller that ran
//! it; the others run another.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The directories with renames waiting for, or covered by, an fsync.
#[derive(Default)]
pub(super) struct DirSyncs {
    dirs: Mutex<HashMap<PathBuf, DirState>>,
    synced: Condvar,
}

/// One directory's tickets: `requested` handed out, `covered` made durable by a finished
/// fsync, and whether one is running.
#[derive(Default)]
struct DirState {
    requested: u64,
    covered: u64,
    running: bool,
}

impl DirSyncs {
    /// Makes the renames done in `dir` before this call durable, running `fsync` (blocking) or
    /// waiting for a run of it by another caller (module docs). Errors: `fsync`'s, when this
    /// caller ran it.
    pub(super) fn sync(
        &self,
        dir: &Path,
        fsync: impl Fn(&Path) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let mut dirs = self.lock();
        let ticket = {
            let state = dirs.entry(dir.to_path_buf()).or_default();
            state.requested += 1;
            state.requested
        };
        loop {
            // an entry is removed only once every ticket was covered
            let Some(state) = dirs.get_mut(dir) else { return Ok(()) };
            if state.covered >= ticket {
                return Ok(());
            }
            if !state.running {
                state.running = true;
                let target = state.requested;
                drop(dirs);
                let result = fsync(dir);
                dirs = self.lock();
                if let Some(state) = dirs.get_mut(dir) {
                    state.running = false;
                    if result.is_ok() {
                        state.covered = target;
                    }
                    if state.covered == state.requested {
                        dirs.remove(dir);
                    }
                }
                self.synced.notify_all();
                return result;
            }
            dirs = self.synced.wait(dirs).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, DirState>> {
        self.dirs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn tickets(&self, dir: &Path) -> u64 {
        self.lock().get(dir).map_or(0, |s| s.requested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{mpsc, Arc};
    use std::time::{Duration, Instant};

    #[test]
    fn calls_one_after_another_each_run_an_fsync() {
        let syncs = DirSyncs::default();
        let runs = AtomicU32::new(0);
        for _ in 0..3 {
            let fsync = |_: &Path| {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(())
            };
            syncs.sync(Path::new("/lib/a"), fsync).unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert!(syncs.lock().is_empty(), "nothing left once every ticket is covered");
    }

    #[test]
    fn callers_arriving_during_an_fsync_share_the_next_one_and_a_failure_is_retried() {
        let syncs = Arc::new(DirSyncs::default());
        let dir = Path::new("/lib/show");
        let runs = Arc::new(AtomicU32::new(0));
        let (release_tx, release_rx) = mpsc::channel::<std::io::Result<()>>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        // every fsync waits for the test to say how it ends
        let fsync = {
            let (runs, release_rx) = (runs.clone(), release_rx.clone());
            move |_: &Path| {
                runs.fetch_add(1, Ordering::SeqCst);
                release_rx.lock().unwrap().recv().unwrap()
            }
        };
        let call = |syncs: &Arc<DirSyncs>| {
            let (syncs, fsync) = (syncs.clone(), fsync.clone());
            std::thread::spawn(move || syncs.sync(Path::new("/lib/show"), fsync))
        };
        let wait_for = |what: &dyn Fn() -> bool| {
            let start = Instant::now();
            while !what() {
                assert!(start.elapsed() < Duration::from_secs(10), "timed out");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        let first = call(&syncs);
        wait_for(&|| runs.load(Ordering::SeqCst) == 1);
        let later: Vec<_> = (0..3).map(|_| call(&syncs)).collect();
        wait_for(&|| syncs.tickets(dir) == 4);
        release_tx.send(Ok(())).unwrap();
        first.join().unwrap().unwrap();
        // the three renames came after the first fsync began: one more covers them all; it
        // fails, so its caller gets the error and another runs it again for the other two
        wait_for(&|| runs.load(Ordering::SeqCst) == 2);
        release_tx.send(Err(std::io::Error::other("disk gone"))).unwrap();
        wait_for(&|| runs.load(Ordering::SeqCst) == 3);
        release_tx.send(Ok(())).unwrap();
        let results: Vec<_> = later.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1, "{results:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 3, "3 fsyncs for 4 renames");
        assert!(syncs.lock().is_empty());
    }
}
