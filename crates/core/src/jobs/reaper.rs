//! The reaper (ARCHITECTURE.md convention 8) and the registry of work held live by this
//! engine's workers.
//!
//! Workers claim work items through [`claim_work`], which returns a `LiveWork`
//! guard: while it lives the item is in the engine's live set, and the reaper never touches
//! it. A pass ([`reap`], through `Engine::reap`) runs once at start-up, before the scheduler claims anything, and every
//! `reaper_interval_ms` (by the engine's clock) while `Engine::run_queued` runs: jobs whose
//! runner heartbeat is older than `heartbeat_stale_ms` go back to the queue with their running
//! work (`Store::reap_stale_jobs_except`, sparing jobs this engine runs), running work items
//! whose heartbeat is older than `item_stale_ms` and that no worker here holds go back to
//! `queued` (their partial files stay, so the next attempt resumes with a Range request), and
//! `cancelling` items become `cancelled` (`Store::reap_stale_work`). Both scans are index range
//! scans (convention 4). A running download stamps its heartbeat through `ItemBeat`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};

use super::context::Context;
use super::error::EngineError;
use crate::store::reaping::{ReapedWork, WorkKey};

/// What one reaper pass changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Jobs whose runner went silent, queued (or paused) again.
    pub jobs: Vec<u64>,
    /// Work items returned to the queue or ended as cancelled.
    pub work: ReapedWork,
}

impl ReapReport {
    /// True when the pass changed nothing.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.work.requeued.is_empty() && self.work.cancelled.is_empty()
    }
}

/// A work item held by a worker of this engine; leaves the live set when dropped.
pub(super) struct LiveWork {
    cx: Context,
    key: WorkKey,
    claimed_ms: i64,
}

impl LiveWork {
    /// The held item's key.
    pub(super) fn key(&self) -> WorkKey {
        self.key
    }

    /// When it was claimed (Unix ms, engine clock): its first heartbeat.
    pub(super) fn claimed_ms(&self) -> i64 {
        self.claimed_ms
    }
}

impl Drop for LiveWork {
    fn drop(&mut self) {
        self.cx.live.lock().expect("live lock").remove(&self.key);
    }
}

impl std::fmt::Debug for LiveWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveWork").field(&self.key).finish()
    }
}

/// Claims the next queued work item of a stage (see `Store::claim_stage_item`, which also
/// stamps its first heartbeat) and holds it live. `None` when nothing is queued.
pub(super) async fn claim_work(
    cx: &Context,
    job: u64,
    stage: u8,
) -> Result<Option<(u64, LiveWork)>, EngineError> {
    Ok(claim_works(cx, job, stage, 1).await?.pop())
}

/// Claims up to `max` queued work items of a stage in one write, first queued first, and
/// holds each live; empty when nothing is queued.
pub(super) async fn claim_works(
    cx: &Context,
    job: u64,
    stage: u8,
    max: usize,
) -> Result<Vec<(u64, LiveWork)>, EngineError> {
    let now = cx.now();
    let targets = cx.store().claim_stage_items_async(job, stage, max, now).await?;
    let mut live = cx.live.lock().expect("live lock");
    Ok(targets
        .into_iter()
        .map(|target| {
            let key = (job, stage, target);
            live.insert(key);
            (target, LiveWork { cx: cx.clone(), key, claimed_ms: now })
        })
        .collect())
}

/// One reaper pass (module docs), sparing the jobs in `ours` (this engine runs them).
pub(super) async fn reap(cx: &Context, ours: HashSet<u64>) -> Result<ReapReport, EngineError> {
    let now = cx.now();
    let (job_window, item_window) = (cx.config().heartbeat_stale_ms as i64, cx.config().item_stale_ms as i64);
    let live: HashSet<WorkKey> = cx.live.lock().expect("live lock").clone();
    let report = cx
        .blocking(move |s| {
            let jobs = s.reap_stale_jobs_except(now, job_window, &ours)?;
            let work = s.reap_stale_work(now, item_window, &live)?;
            Ok(ReapReport { jobs, work })
        })
        .await?;
    if !report.is_empty() {
        tracing::info!(?report, "reaper returned stale work to the queue");
    }
    Ok(report)
}

/// Stamps a running work item's heartbeat at most every `item_heartbeat_ms` (engine clock)
/// while bytes flow; each stamp is a non-durable write queued on the store's writer, which
/// batches it with the other workers' writes.
pub(super) struct ItemBeat {
    cx: Context,
    key: WorkKey,
    last_ms: AtomicI64,
}

impl ItemBeat {
    /// The ticker of a transfer starting now for a work item whose heartbeat was last stamped
    /// at `stamped_ms` (its claim): stamps again at once when that is `item_heartbeat_ms` old
    /// (the item waited in the ready queue), so a transfer always starts with a fresh beat.
    pub(super) fn start(cx: &Context, key: WorkKey, stamped_ms: i64) -> ItemBeat {
        let beat = ItemBeat { cx: cx.clone(), key, last_ms: AtomicI64::new(stamped_ms) };
        beat.tick();
        beat
    }

    /// Called on progress: stamps when `item_heartbeat_ms` passed since the last stamp.
    pub(super) fn tick(&self) {
        let now = self.cx.now();
        let every = self.cx.config().item_heartbeat_ms as i64;
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < every {
            return;
        }
        if self.last_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return; // another chunk stamped it
        }
        let (stamped, key) = (self.cx.store().beat_work_async(self.key, now), self.key);
        tokio::spawn(async move {
            if let Err(e) = stamped.await {
                tracing::warn!(?key, error = %e, "cannot stamp work item heartbeat");
            }
        });
    }
}
