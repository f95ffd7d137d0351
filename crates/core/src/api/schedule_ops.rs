//! Auto-sync on a schedule that keeps time (issue 16, part 4), the same for every front that
//! runs the engine for long (the desktop app, `serve`): [`Api::run_auto_sync`] is the loop,
//! [`Api::auto_sync_tick`] one step of it, [`Api::auto_sync_status`] what a front shows.
//!
//! The next due time lives in the catalog (`store::schedule`), so a restart keeps counting
//! where it was; `jobs::schedule::plan` moves it: a run missed while the machine slept or the
//! app was closed runs once at the next tick, with up to 10 % jitter on every due time. A due
//! run queues one `sync_download` of every playlist through [`Api::auto_sync`], which queues
//! nothing while such a job is still queued or running: overlapping runs are never queued
//! twice, and the skipped round counts as run (the next is due an interval later).
//!
//! The loop wakes at the due time, at saved settings, and at least every [`CHECK_MS`], reading
//! the wall clock each time: a timer does not count time the machine spent suspended, the
//! clock does.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ApiResult;
use super::Api;
use crate::jobs::schedule::{plan, Plan};
use crate::store::schedule::AUTO_SYNC;
use crate::store::ScheduleRow;

/// Longest sleep of the loop between two looks at the clock (ms).
pub const CHECK_MS: i64 = 60_000;

/// A source of random draws in `[0, 1)` (the schedule's jitter). Randomness is a parameter
/// (ARCHITECTURE.md, convention 13): tests set a fixed one with [`Api::set_random`].
pub type RandomSource = Arc<dyn Fn() -> f64 + Send + Sync>;

/// The default [`RandomSource`]: std's randomly keyed SipHash over a counter (no extra crate;
/// jitter needs spread, not cryptographic strength).
pub(crate) fn system_random() -> RandomSource {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    let keys = std::collections::hash_map::RandomState::new();
    let counter = AtomicU64::new(0);
    Arc::new(move || {
        let mut h = keys.build_hasher();
        h.write_u64(counter.fetch_add(1, Ordering::Relaxed));
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// The auto-sync schedule as a front shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AutoSyncView {
    /// The interval (hours); `None` when auto-sync is off.
    pub every_hours: Option<u32>,
    /// When the next run is due (Unix ms); `None` when off or not computed yet (no front
    /// runs the schedule, e.g. only the command line used this catalog).
    pub next_run_ms: Option<i64>,
    /// When it last ran (Unix ms).
    pub last_run_ms: Option<i64>,
    /// The job its last run queued; `None` when that run was skipped (a sync was still going).
    pub last_job: Option<u64>,
}

fn view(every_hours: Option<u32>, row: Option<ScheduleRow>) -> AutoSyncView {
    let every_ms = every_hours.map(|h| i64::from(h) * 3_600_000);
    let current = row.filter(|r| Some(r.every_ms) == every_ms);
    AutoSyncView {
        every_hours,
        next_run_ms: current.map(|r| r.due_ms),
        last_run_ms: row.and_then(|r| r.last_run_ms),
        last_job: row.and_then(|r| r.last_job),
    }
}

impl Api {
    /// Replaces the random source of the schedule's jitter (tests pin it).
    pub fn set_random(&self, random: RandomSource) {
        *self.inner.random.lock().expect("random lock") = random;
    }

    fn draw(&self) -> f64 {
        let random = self.inner.random.lock().expect("random lock").clone();
        random()
    }

    /// The auto-sync schedule as stored (module docs). Errors: the store's.
    pub async fn auto_sync_status(&self) -> ApiResult<AutoSyncView> {
        let every = self.config().auto_sync_hours;
        let row = self.blocking(|s| Ok(s.schedule(AUTO_SYNC)?)).await?;
        Ok(view(every, row))
    }

    /// One step of the schedule at the clock's now (module docs): stores a first or
    /// recomputed due time, or, when due, queues one sync through [`Api::auto_sync`] and
    /// stores the next due time. The job is queued before the new due time is stored, so a
    /// crash between the two finds the job queued and queues no second one. Returns the
    /// schedule after the step. Errors: the store's.
    pub async fn auto_sync_tick(&self) -> ApiResult<AutoSyncView> {
        let _one_at_a_time = self.inner.schedule_lock.lock().await;
        let every = self.config().auto_sync_hours;
        let stored = self.blocking(|s| Ok(s.schedule(AUTO_SYNC)?)).await?;
        let every_ms = every.map(|h| i64::from(h) * 3_600_000);
        let row = match plan(stored, self.now_ms(), every_ms, self.draw()) {
            Plan::Off => {
                if stored.is_some() {
                    self.blocking(|s| Ok(s.put_schedule(AUTO_SYNC, None)?)).await?;
                }
                None
            }
            Plan::Wait { row, changed } => {
                if changed {
                    self.blocking(move |s| Ok(s.put_schedule(AUTO_SYNC, Some(&row))?)).await?;
                }
                Some(row)
            }
            Plan::Run { mut next } => {
                next.last_job = self.auto_sync().await?;
                match next.last_job {
                    Some(job) => tracing::info!(job, "auto-sync queued"),
                    None => tracing::info!("auto-sync skipped: a sync of every playlist is still going"),
                }
                self.blocking(move |s| Ok(s.put_schedule(AUTO_SYNC, Some(&next))?)).await?;
                self.touch(true, false);
                Some(next)
            }
        };
        Ok(view(every, row))
    }

    /// After saved settings: when the schedule runs in this process, one tick now, so the
    /// next run a front shows right after saving follows the new interval.
    pub(crate) async fn retick_after_save(&self) {
        if self.inner.scheduling.load(std::sync::atomic::Ordering::SeqCst) {
            if let Err(e) = self.auto_sync_tick().await {
                tracing::warn!(error = %e.message, "auto-sync failed");
            }
        }
    }

    /// Runs the auto-sync schedule until shutdown (module docs): the loop of every front that
    /// keeps the engine running.
    pub async fn run_auto_sync(&self) {
        self.inner.scheduling.store(true, std::sync::atomic::Ordering::SeqCst);
        loop {
            let wait_ms = match self.auto_sync_tick().await {
                Ok(v) => v.next_run_ms.map(|due| (due - self.now_ms()).clamp(1_000, CHECK_MS)),
                Err(e) => {
                    tracing::warn!(error = %e.message, "auto-sync failed");
                    Some(CHECK_MS)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait_ms.unwrap_or(0) as u64)), if wait_ms.is_some() => {}
                _ = self.settings_changed() => {}
                _ = self.shutting_down() => return,
            }
        }
    }
}
