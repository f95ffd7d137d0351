//! The two worker pools of a download stage and their live state. Resolvers turn claimed
//! items into checked, named transfers; downloaders move the bytes; a bounded ready queue of
//! capacity 2 x downloaders joins them, so resolvers stay a little ahead and never far. The
//! resolver pool adapts ([`PoolSplit`]): extra resolvers work only while downloaders starve.
//! Each worker publishes its state in a [`WorkerLive`] (atomics, updated per chunk); the
//! throughput sampler turns those into stored worker rows about twice a second.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// The workers of a download stage for `parallel_downloads` = N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSplit {
    /// Downloader tasks (`download-1`, ...): N, the transfers at once (at least 1), as
    /// aria2c's `-j` counts them.
    pub downloaders: usize,
    /// Resolver tasks (`resolve-1`, ...), at least 1. `resolve-1` always runs; the others stand
    /// by and claim work only while the ready queue is empty, i.e. while resolution is what
    /// keeps downloaders waiting (web-page or index lookups of the cascade). For known
    /// enclosures resolving costs a store read, so one resolver keeps every downloader fed.
    pub resolvers: usize,
}

/// The split for N = `parallel_downloads`: N downloaders and clamp(N / 4, 1, 4) resolvers
/// (1 -> 1 + 1, 8 -> 8 + 2, 16 -> 16 + 4).
pub fn pool_split(parallel_downloads: usize) -> PoolSplit {
    let downloaders = parallel_downloads.max(1);
    PoolSplit { downloaders, resolvers: (downloaders / 4).clamp(1, 4) }
}

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LiveState {
    /// Waiting for work.
    Idle = 0,
    /// Working on `current_item`.
    Working = 1,
    /// Finished: the stage ended or the worker stopped.
    Stopped = 2,
}

/// A worker's live state, shared with the sampler. Byte counts are cumulative for the
/// current item; `u64::MAX` in `total` means unknown, 0 in `current_item` means none.
#[derive(Debug)]
pub struct WorkerLive {
    /// `resolve-N` or `download-N`.
    pub name: String,
    state: AtomicU8,
    current_item: AtomicU64,
    downloaded: AtomicU64,
    total: AtomicU64,
    processed: AtomicU32,
    errors: AtomicU32,
    streamed: AtomicU64,
    display: Mutex<String>,
}

/// A copy of a [`WorkerLive`] at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSnapshot {
    /// Worker name.
    pub name: String,
    /// What it is doing.
    pub state: LiveState,
    /// Item id it works on.
    pub current_item: Option<u64>,
    /// Display text, e.g. the item title.
    pub display: String,
    /// Bytes of the current item on disk so far.
    pub downloaded: u64,
    /// Expected size of the current item in bytes.
    pub total: Option<u64>,
    /// Items finished by this worker.
    pub processed: u32,
    /// Items that failed under this worker.
    pub errors: u32,
    /// Bytes this worker actually received over its life (resumed parts excluded): the
    /// sampler's speed is the rate of change of this count.
    pub streamed: u64,
}

impl WorkerLive {
    /// An idle worker named `name`.
    pub fn new(name: String) -> WorkerLive {
        WorkerLive {
            name,
            state: AtomicU8::new(LiveState::Idle as u8),
            current_item: AtomicU64::new(0),
            downloaded: AtomicU64::new(0),
            total: AtomicU64::new(u64::MAX),
            processed: AtomicU32::new(0),
            errors: AtomicU32::new(0),
            streamed: AtomicU64::new(0),
            display: Mutex::new(String::new()),
        }
    }

    /// Starts work on `item`, shown as `display`.
    pub fn begin(&self, item: u64, display: &str) {
        *self.display.lock().expect("display lock") = display.to_string();
        self.downloaded.store(0, Ordering::Relaxed);
        self.total.store(u64::MAX, Ordering::Relaxed);
        self.current_item.store(item, Ordering::Relaxed);
        self.state.store(LiveState::Working as u8, Ordering::Relaxed);
    }

    /// Records transfer progress: cumulative bytes on disk, the expected total, and where a
    /// resumed transfer started (those bytes were not streamed now).
    pub fn progress(&self, downloaded: u64, total: Option<u64>, resumed_from: u64) {
        let prev = self.downloaded.swap(downloaded, Ordering::Relaxed);
        let base = if prev == 0 { resumed_from } else { prev };
        if downloaded > base {
            self.streamed.fetch_add(downloaded - base, Ordering::Relaxed);
        }
        self.total.store(total.unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Ends work on the current item; `failed` counts it as an error.
    pub fn end(&self, failed: bool) {
        self.processed.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.current_item.store(0, Ordering::Relaxed);
        self.state.store(LiveState::Idle as u8, Ordering::Relaxed);
    }

    /// Marks the worker finished.
    pub fn stop(&self) {
        self.current_item.store(0, Ordering::Relaxed);
        self.state.store(LiveState::Stopped as u8, Ordering::Relaxed);
    }

    /// The current state.
    pub fn snapshot(&self) -> LiveSnapshot {
        let state = match self.state.load(Ordering::Relaxed) {
            1 => LiveState::Working,
            2 => LiveState::Stopped,
            _ => LiveState::Idle,
        };
        let item = self.current_item.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        LiveSnapshot {
            name: self.name.clone(),
            state,
            current_item: (item != 0).then_some(item),
            display: self.display.lock().expect("display lock").clone(),
            downloaded: self.downloaded.load(Ordering::Relaxed),
            total: (total != u64::MAX).then_some(total),
            processed: self.processed.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            streamed: self.streamed.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        for (n, d, r) in [(0, 1, 1), (1, 1, 1), (4, 4, 1), (8, 8, 2), (16, 16, 4), (40, 40, 4)] {
            assert_eq!(pool_split(n), PoolSplit { downloaders: d, resolvers: r }, "N={n}");
        }
    }

    #[test]
    fn live_state_round_trip() {
        let w = WorkerLive::new("download-1".into());
        w.begin(7, "Episode 7");
        w.progress(400, Some(1000), 400); // resumed at 400: nothing streamed yet
        w.progress(500, Some(1000), 400);
        let s = w.snapshot();
        assert_eq!(
            (s.state, s.current_item, s.downloaded, s.total, s.streamed),
            (LiveState::Working, Some(7), 500, Some(1000), 100)
        );
        w.end(true);
        let s = w.snapshot();
        assert_eq!((s.state, s.current_item, s.processed, s.errors), (LiveState::Idle, None, 1, 1));
    }
}
