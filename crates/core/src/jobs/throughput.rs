//! Live throughput: a sampler task reads every worker's [`WorkerLive`] about twice a second,
//! turns bytes actually streamed into a smoothed speed (bytes/s, exponential moving average),
//! and puts all worker rows of the stage into the engine's in-memory `WorkerRegistry` (live
//! progress flows through memory, never through the database; convention 6: samples need not
//! be durable).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::context::Context;
use super::error::EngineError;
use super::pools::{LiveSnapshot, LiveState, WorkerLive};
use super::workers::{WorkerSample, WorkerState};

/// Sampling period.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// Weight of the newest sample in the smoothed speed.
const ALPHA: f64 = 0.5;

/// A running sampler; [`Sampler::finish`] writes the last sample and joins it. Dropping it
/// (e.g. when the stage's task is aborted) stops the task too (convention 7).
pub(super) struct Sampler {
    stop: CancellationToken,
    handle: Option<JoinHandle<Result<(), EngineError>>>,
}

impl Sampler {
    /// Stops sampling after one last sample (workers' final states) and joins the task.
    pub(super) async fn finish(mut self) -> Result<(), EngineError> {
        self.stop.cancel();
        match self.handle.take() {
            Some(handle) => handle.await.map_err(|e| EngineError::Worker(e.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn row(job: u64, stage: u8, s: &LiveSnapshot, speed: f64, now: i64) -> WorkerSample {
    let working = s.state == LiveState::Working && s.current_item.is_some();
    WorkerSample {
        job,
        name: s.name.clone(),
        stage,
        state: match s.state {
            LiveState::Idle => WorkerState::Idle,
            LiveState::Working => WorkerState::Working,
            LiveState::Stopped => WorkerState::Stopped,
        },
        item: s.current_item,
        display: s.display.clone(),
        downloaded: s.downloaded,
        total: s.total,
        speed_bps: if working { speed.round() as u64 } else { 0 },
        percent: s
            .total
            .filter(|t| *t > 0 && working)
            .map(|t| (s.downloaded as f64 * 100.0 / t as f64).min(100.0) as f32),
        processed: s.processed,
        errors: s.errors,
        heartbeat_ms: now,
    }
}

/// Starts sampling `lives` of stage `stage` of `job`.
pub(super) fn spawn_sampler(cx: Context, job: u64, stage: u8, lives: Vec<Arc<WorkerLive>>) -> Sampler {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let handle = tokio::spawn(async move {
        let mut last: Vec<(u64, f64)> = lives.iter().map(|l| (l.snapshot().streamed, 0.0)).collect();
        let mut at = Instant::now();
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(SAMPLE_EVERY) => false,
                _ = token.cancelled() => true,
            };
            let dt = at.elapsed().as_secs_f64().max(1e-3);
            at = Instant::now();
            let now = cx.now();
            let rows: Vec<WorkerSample> = lives
                .iter()
                .zip(last.iter_mut())
                .map(|(live, (streamed, speed))| {
                    let snap = live.snapshot();
                    let rate = snap.streamed.saturating_sub(*streamed) as f64 / dt;
                    *streamed = snap.streamed;
                    *speed = ALPHA * rate + (1.0 - ALPHA) * *speed;
                    row(job, stage, &snap, *speed, now)
                })
                .collect();
            cx.workers.put(rows);
            if stopping {
                return Ok(());
            }
        }
    });
    Sampler { stop, handle: Some(handle) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_or_stopped_workers_report_no_speed() {
        let live = WorkerLive::new("download-1".into());
        let r = row(1, 0, &live.snapshot(), 5_000.0, 10);
        assert_eq!((r.speed_bps, r.percent, r.state), (0, None, WorkerState::Idle));
        live.begin(3, "Ep");
        live.progress(500, Some(1000), 0);
        let r = row(1, 0, &live.snapshot(), 2_000.4, 10);
        assert_eq!((r.speed_bps, r.percent, r.item, r.display.as_str()), (2_000, Some(50.0), Some(3), "Ep"));
    }
}
