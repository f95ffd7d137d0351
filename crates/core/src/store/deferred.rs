//! Deferred durability: the writes the writer committed without fsync although they must
//! reach the disk soon ([`Durability::Deferred`](super::writer::Durability::Deferred)), and the
//! folders they wait for. The first durable commit after them persists them all (redb persists
//! the commits made without fsync before a durable one, in order); when no durable write comes
//! within the writer's window, the writer makes an empty durable commit itself. Before that
//! commit it fsyncs every folder those writes named, once each, so a file's name is durable
//! before the durable row that records it (POSIX `rename(2)`, `fsync(2)`).
//!
//! A crash before that commit loses those writes whole, never half: for a downloaded file's
//! row that leaves the item claimed, the reaper queues it again and the next run records the
//! complete file it finds under its name (`download_stage::adopt_completed_file`), without
//! fetching it again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A folder fsynced before a durable commit, and its failure if it failed.
pub(super) type Synced = (PathBuf, Option<std::io::Error>);

/// The deferred writes committed since the last durable commit (module docs).
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// When they must be durable: the first one's commit plus the window; `None` when none.
    due: Option<Instant>,
    /// The folders they named, each once.
    dirs: HashSet<PathBuf>,
}

impl Pending {
    /// Notes a deferred write committed at `now` without fsync, waiting for folder `dir`: it
    /// must be durable by `now + window` unless an earlier one set an earlier time.
    pub(super) fn note(&mut self, now: Instant, window: Duration, dir: Option<&Path>) {
        self.due.get_or_insert(now + window);
        if let Some(dir) = dir.filter(|d| !self.dirs.contains(*d)) {
            self.dirs.insert(dir.to_path_buf());
        }
    }

    /// Whether some deferred write waits for a durable commit.
    pub(super) fn any(&self) -> bool {
        self.due.is_some()
    }

    /// Whether the next commit must be durable because the window of a deferred write ended.
    pub(super) fn is_due(&self, now: Instant) -> bool {
        self.due.is_some_and(|due| due <= now)
    }

    /// How long the writer may wait for more work before the next durable commit is due;
    /// `None` when nothing is deferred.
    pub(super) fn wait(&self, now: Instant) -> Option<Duration> {
        self.due.map(|due| due.saturating_duration_since(now))
    }

    /// fsyncs each folder noted, once, before the durable commit that persists their writes.
    /// Returns them with their outcomes, so the batch committing along skips them. A failure
    /// is logged: those writes were already answered, and their rows will be durable while
    /// the file's name might not survive a power cut.
    pub(super) fn sync_dirs(&self, fsync: &dyn Fn(&Path) -> std::io::Result<()>) -> Vec<Synced> {
        let mut synced: Vec<Synced> = Vec::with_capacity(self.dirs.len());
        for dir in &self.dirs {
            let failed = fsync(dir).err();
            if let Some(e) = &failed {
                tracing::error!(dir = %dir.display(), error = %e,
                    "cannot fsync a folder of files already recorded; a power cut may lose their names");
            }
            synced.push((dir.clone(), failed));
        }
        synced
    }

    /// Moves the time they must be durable to `due`, after a durable commit failed.
    pub(super) fn postpone(&mut self, due: Instant) {
        if self.due.is_some() {
            self.due = Some(due);
        }
    }

    /// Forgets every deferred write: a durable commit persisted them.
    pub(super) fn clear(&mut self) {
        self.due = None;
        self.dirs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_write_sets_the_time_and_each_folder_is_synced_once() {
        let (mut pending, t0, window) = (Pending::default(), Instant::now(), Duration::from_millis(100));
        assert!(!pending.any() && pending.wait(t0).is_none() && !pending.is_due(t0 + window));
        pending.note(t0, window, Some(Path::new("/lib/a")));
        pending.note(t0 + Duration::from_millis(50), window, Some(Path::new("/lib/a")));
        pending.note(t0 + Duration::from_millis(60), window, None);
        pending.note(t0 + Duration::from_millis(70), window, Some(Path::new("/lib/bad")));
        assert_eq!(pending.wait(t0 + Duration::from_millis(40)), Some(Duration::from_millis(60)));
        assert!(!pending.is_due(t0 + Duration::from_millis(99)), "the first write's window rules");
        assert!(pending.is_due(t0 + window));
        let fsynced = std::cell::RefCell::new(Vec::new());
        let fsync = |dir: &Path| {
            fsynced.borrow_mut().push(dir.to_path_buf());
            match dir.ends_with("bad") {
                true => Err(std::io::Error::other("EIO")),
                false => Ok(()),
            }
        };
        let mut synced = pending.sync_dirs(&fsync);
        synced.sort_by(|a, b| a.0.cmp(&b.0));
        let outcomes: Vec<_> = synced.iter().map(|(d, e)| (d.to_str().unwrap(), e.is_some())).collect();
        assert_eq!(outcomes, [("/lib/a", false), ("/lib/bad", true)]);
        assert_eq!(fsynced.borrow().len(), 2, "once each");
        pending.clear();
        assert!(!pending.any() && !pending.is_due(t0 + window));
    }
}
