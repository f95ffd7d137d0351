//! The auto-sync schedule through the application API with the injected clock and a pinned
//! random source (issue 16, part 4): the due time survives a restart, a run missed while the
//! app was closed runs once at start (not once per missed slot), jitter stays within 10 % of
//! the interval, and a round due while the last one is still queued queues nothing.

use std::sync::Arc;

use catalog_sync_core::api::{Api, JobKind};
use catalog_sync_core::clock::ManualClock;
use catalog_sync_core::config::Config;

const H: i64 = 3_600_000;
const T0: i64 = 1_764_547_200_000; // 2025-12-01 00:00 UTC

fn open(dir: &tempfile::TempDir, clock: &ManualClock, unit: f64) -> Api {
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        auto_sync_hours: Some(1),
        fyyd_enabled: false,
        ..Config::default()
    };
    let api = Api::open(config, None, Arc::new(clock.clone())).unwrap();
    api.set_random(Arc::new(move || unit));
    api
}

async fn jobs(api: &Api) -> Vec<(u64, JobKind)> {
    api.task_center().await.unwrap().jobs.iter().map(|j| (j.id, j.kind)).collect()
}

#[tokio::test]
async fn the_due_time_survives_a_restart() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(T0));
    let api = open(&dir, &clock, 0.5);
    let first = api.auto_sync_tick().await.unwrap();
    let due = T0 + H + H / 20; // half of the 10 % jitter
    assert_eq!((first.every_hours, first.next_run_ms, first.last_run_ms), (Some(1), Some(due), None));
    drop(api);
    clock.advance(H / 2);
    let api = open(&dir, &clock, 0.9);
    assert_eq!(api.auto_sync_status().await.unwrap().next_run_ms, Some(due), "read back after the restart");
    let again = api.auto_sync_tick().await.unwrap();
    assert_eq!(again.next_run_ms, Some(due), "not counted again from the restart");
    assert!(jobs(&api).await.is_empty());
}

#[tokio::test]
async fn a_run_missed_while_closed_runs_once_at_start() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(T0));
    open(&dir, &clock, 0.0).auto_sync_tick().await.unwrap(); // the Api closes here
    clock.advance(5 * H + 7); // five slots missed
    let api = open(&dir, &clock, 0.0);
    let ran = api.auto_sync_tick().await.unwrap();
    let now = T0 + 5 * H + 7;
    let listed = jobs(&api).await;
    assert_eq!(listed.len(), 1, "one run, not five: {listed:?}");
    assert_eq!(listed[0].1, JobKind::SyncDownload);
    assert_eq!(
        (ran.last_job, ran.last_run_ms, ran.next_run_ms),
        (Some(listed[0].0), Some(now), Some(now + H))
    );
    let again = api.auto_sync_tick().await.unwrap();
    assert_eq!((jobs(&api).await.len(), again.next_run_ms), (1, Some(now + H)));
}

#[tokio::test]
async fn a_round_due_while_the_last_is_queued_queues_nothing() {
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(T0));
    let api = open(&dir, &clock, 0.0);
    api.auto_sync_tick().await.unwrap();
    clock.advance(H);
    let first = api.auto_sync_tick().await.unwrap().last_job.expect("queued");
    clock.advance(H);
    let skipped = api.auto_sync_tick().await.unwrap();
    assert_eq!(skipped.last_job, None, "the first is still queued (no engine runs here)");
    assert_eq!(skipped.next_run_ms, Some(T0 + 3 * H), "the skipped round counts as run");
    assert_eq!(jobs(&api).await.iter().map(|j| j.0).collect::<Vec<_>>(), vec![first]);
    api.cancel(first).await.unwrap();
    clock.advance(H);
    assert!(api.auto_sync_tick().await.unwrap().last_job.is_some(), "after it ended, the next round queues");
}

#[tokio::test]
async fn jitter_stays_within_a_tenth_of_the_interval() {
    for (unit, extra) in [(0.0, 0), (0.999_999, H / 10 - 1)] {
        let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(T0));
        let due = open(&dir, &clock, unit).auto_sync_tick().await.unwrap().next_run_ms.unwrap();
        assert!((due - (T0 + H + extra)).abs() <= 1, "{unit}: {due}");
    }
    // the system's draws: spread, and each within [every, every * 1.1)
    let (dir, clock) = (tempfile::tempdir().unwrap(), ManualClock::new(T0));
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        ..Config::default()
    };
    let api = Api::open(config, None, Arc::new(clock.clone())).unwrap();
    let mut dues = std::collections::BTreeSet::new();
    for hours in (0..20).map(|i| 1 + i % 2) {
        let mut s = api.settings();
        s.auto_sync_hours = Some(hours);
        api.save_settings(s).await.unwrap();
        let due = api.auto_sync_tick().await.unwrap().next_run_ms.unwrap();
        let every = i64::from(hours) * H;
        assert!((T0 + every..T0 + every + every / 10).contains(&due), "{hours} h: {}", due - T0);
        dues.insert(due);
    }
    assert!(dues.len() > 10, "draws spread: {dues:?}");
}
