//! Live worker state, in memory only (ARCHITECTURE.md, "live progress flows back from the
//! workers through memory"): every resolver (`resolve-N`) and downloader (`download-N`) of a
//! running stage is sampled by `throughput` about once a second into a [`WorkerSample`], and
//! the [`WorkerRegistry`] keeps the latest sample per `(job, worker name)`. The task center and
//! a job's detail read the registry; nothing of it goes to the database, so a sample costs no
//! write transaction and display text never reaches the disk. A crash loses the samples, which
//! is harmless: the state they describe (work items, runs) is in the store.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Most worker samples kept in memory; beyond it the samples of the oldest jobs go.
const MAX_WORKER_SAMPLES: usize = 4096;

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Waiting for work.
    Idle,
    /// Working on `item`.
    Working,
    /// Ended (stage finished, job paused or cancelled).
    Stopped,
}

/// The latest sample of one worker (shown to the UI as `WorkerView`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename = "WorkerView")] // the name the UI knows it by (bindings.ts)
pub struct WorkerSample {
    /// Job id the worker belongs to.
    pub job: u64,
    /// Worker name, unique within the job, e.g. `resolve-1` or `download-2`.
    pub name: String,
    /// Index of the stage the worker serves in the job's stages.
    pub stage: u8,
    /// What the worker is doing.
    pub state: WorkerState,
    /// Target id (item or playlist) being worked on.
    pub item: Option<u64>,
    /// Title of the current work, e.g. the item's title.
    pub display: String,
    /// Bytes moved for the current item.
    pub downloaded: u64,
    /// Expected size of the current item in bytes, when known.
    pub total: Option<u64>,
    /// Smoothed transfer speed in bytes/s; 0 unless working.
    pub speed_bps: u64,
    /// Progress of the current item, 0-100, when working and the total is known.
    pub percent: Option<f32>,
    /// Work items this worker has finished.
    pub processed: u32,
    /// Work items this worker has finished with an error.
    pub errors: u32,
    /// Time of the sample (Unix ms); the task center ignores samples older than its stale window.
    pub heartbeat_ms: i64,
}

/// The latest sample of every worker by (job, worker name). Shared by every engine a process
/// builds (the API swaps engines when settings change), so samples survive the swap.
#[derive(Debug, Default)]
pub struct WorkerRegistry {
    rows: Mutex<BTreeMap<(u64, String), WorkerSample>>,
}

impl WorkerRegistry {
    /// Replaces the samples of `rows`' workers; keeps at most [`MAX_WORKER_SAMPLES`], dropping
    /// those of the oldest (lowest id) jobs first.
    pub(super) fn put(&self, rows: Vec<WorkerSample>) {
        let mut map = self.rows.lock().expect("workers lock");
        for row in rows {
            map.insert((row.job, row.name.clone()), row);
        }
        while map.len() > MAX_WORKER_SAMPLES {
            map.pop_first();
        }
    }

    /// The latest samples of `job`'s workers (every job's when `None`), by job and name.
    pub fn samples(&self, job: Option<u64>) -> Vec<WorkerSample> {
        let map = self.rows.lock().expect("workers lock");
        map.values().filter(|w| job.is_none_or(|j| w.job == j)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(job: u64, name: &str, speed_bps: u64) -> WorkerSample {
        WorkerSample {
            job,
            name: name.to_string(),
            stage: 0,
            state: WorkerState::Working,
            item: Some(1),
            display: "Episode 1".into(),
            downloaded: 1,
            total: None,
            speed_bps,
            percent: None,
            processed: 0,
            errors: 0,
            heartbeat_ms: 0,
        }
    }

    #[test]
    fn a_later_sample_replaces_the_earlier_one_and_old_jobs_go_first() {
        let reg = WorkerRegistry::default();
        reg.put(vec![sample(7, "download-1", 1), sample(8, "download-1", 2)]);
        reg.put(vec![sample(7, "download-1", 3)]);
        let s = reg.samples(Some(7));
        assert_eq!((s.len(), s[0].speed_bps), (1, 3));
        assert_eq!(reg.samples(None).len(), 2);
        reg.put((0..MAX_WORKER_SAMPLES).map(|i| sample(9, &format!("download-{i}"), 0)).collect());
        assert!(reg.samples(Some(7)).is_empty(), "the oldest job's samples went first");
        assert_eq!(reg.samples(None).len(), MAX_WORKER_SAMPLES);
    }
}
