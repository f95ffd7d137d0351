//! The reaper with an injected clock (ARCHITECTURE.md conventions 8 and 13): running work
//! items whose heartbeat went stale return to the queue, `cancelling` ones end `cancelled`,
//! and work that a live worker of the engine holds is never touched, at start-up and on the
//! periodic pass while jobs run. A real redb file and a throttled testkit transfer.

use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::clock::ManualClock;
use catalog_sync_core::config::Config;
use catalog_sync_core::jobs::Engine;
use catalog_sync_core::store::{JobKind, JobStatus, StageKind, WorkStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

use crate::jobs_engine::Rig;

const T0: i64 = 1_700_000_000_000;

/// A paused job left with two claimed work items (targets 901, 902) stamped at `T0`, the
/// second being cancelled: what a process that died mid-stage leaves behind.
fn leftover_job(rig: &Rig) -> u64 {
    let s = &rig.store;
    let job = s.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], T0).unwrap();
    s.claim_next_job(|_| true, T0).unwrap();
    s.add_stage_items(job, 0, &[901, 902], T0).unwrap();
    s.claim_stage_item(job, 0, T0).unwrap();
    s.claim_stage_item(job, 0, T0).unwrap();
    s.move_work_item((job, 0, 902), WorkStatus::Running, WorkStatus::Cancelling, T0).unwrap();
    s.set_job_status(job, JobStatus::Paused, T0).unwrap();
    job
}

fn status_of(rig: &Rig, job: u64, target: u64) -> WorkStatus {
    rig.store.stage_items(job, 0).unwrap().into_iter().find(|(t, _)| *t == target).unwrap().1.status
}

fn engine_at(rig: &Rig, clock: &ManualClock, config: Config) -> Engine {
    let events = rig.events.clone();
    Engine::new(
        rig.store.clone(),
        config,
        Arc::new(clock.clone()),
        Arc::new(move |e| events.lock().unwrap().push(e.clone())),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_reaps_only_items_whose_heartbeat_is_stale() {
    let rig = Rig::new();
    let job = leftover_job(&rig);
    let clock = ManualClock::new(T0);
    let config = Config { item_stale_ms: 1_800_000, ..rig.config() };
    // 29 minutes later the heartbeat is still fresh: the running item stays
    clock.advance(29 * 60_000);
    let report = engine_at(&rig, &clock, config.clone()).reap().await.unwrap();
    assert_eq!(
        (report.work.requeued, report.work.cancelled),
        (vec![], vec![(job, 0, 902)]),
        "a cancelling item ends at once"
    );
    assert_eq!(status_of(&rig, job, 901), WorkStatus::Running);
    assert_eq!(status_of(&rig, job, 902), WorkStatus::Cancelled);
    // past the 30 min window it goes back to the queue, attempts kept, heartbeat gone
    clock.advance(2 * 60_000);
    let report = engine_at(&rig, &clock, config).reap().await.unwrap();
    assert_eq!(report.work.requeued, vec![(job, 0, 901)]);
    let (_, row) = rig.store.stage_items(job, 0).unwrap().into_iter().find(|(t, _)| *t == 901).unwrap();
    assert_eq!((row.status, row.attempts), (WorkStatus::Queued, 1));
    assert_eq!(rig.store.work_heartbeat((job, 0, 901)).unwrap(), None);
    assert!(report.jobs.is_empty(), "a paused job is not the job reaper's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_pass_requeues_stale_work_and_spares_a_live_transfer() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(300_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    let p = rig.add(&server.add_podcast("live", 1, 1_500_000));
    let leftover = leftover_job(&rig);
    let clock = ManualClock::new(T0);
    // heartbeats of the live transfer are stamped once only (a huge interval), so only the
    // engine's live set keeps the reaper off it once the clock has moved past the window
    let config = Config {
        item_stale_ms: 60_000,
        reaper_interval_ms: 1_000,
        item_heartbeat_ms: 1_000_000_000_000,
        ..rig.config()
    };
    let engine = engine_at(&rig, &clock, config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let store = rig.store.clone();
    let transfer_running = || {
        store.stage_counts(job, 1).map(|c| c.running == 1).unwrap_or(false)
            && store.work_with_status(WorkStatus::Running).unwrap().len() == 2
    };
    for _ in 0..2000 {
        if transfer_running() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(transfer_running(), "the download and the leftover item run");
    assert_eq!(
        status_of(&rig, leftover, 901),
        WorkStatus::Running,
        "the start-up pass found its heartbeat fresh"
    );
    clock.advance(61_000);
    for _ in 0..2000 {
        if status_of(&rig, leftover, 901) == WorkStatus::Queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        status_of(&rig, leftover, 901),
        WorkStatus::Queued,
        "the periodic pass requeued the stale item"
    );
    let item = rig.store.playlist_items(p).unwrap()[0].id;
    assert_eq!(status_of_stage(&rig, job, 1, item), WorkStatus::Running, "the live transfer is untouched");
    server.set_rate_limit(None);
    let ran = run.await.unwrap().unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)]);
    assert_eq!(server.stats().requests_for("/live/1.mp3"), 1, "never fetched twice");
}

fn status_of_stage(rig: &Rig, job: u64, stage: u8, target: u64) -> WorkStatus {
    rig.store.stage_items(job, stage).unwrap().into_iter().find(|(t, _)| *t == target).unwrap().1.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_download_stamps_its_heartbeat_while_bytes_flow() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(200_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    let p = rig.add(&server.add_podcast("beat", 1, 2_000_000));
    let clock = ManualClock::new(T0);
    let config = Config { item_heartbeat_ms: 5_000, ..rig.config() };
    let engine = engine_at(&rig, &clock, config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let store = rig.store.clone();
    let beat = move || {
        store
            .work_with_status(WorkStatus::Running)
            .unwrap()
            .into_iter()
            .find(|k| k.1 == 1)
            .and_then(|k| store.work_heartbeat(k).unwrap())
    };
    // a part on disk means the download started, and its start stamp has landed
    let lib = rig.library();
    let has_part = || {
        let mut found = false;
        crate::jobs_engine::walk(&lib, &mut |p| found |= p.extension().is_some_and(|e| e == "part"));
        found
    };
    for _ in 0..2000 {
        if has_part() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(beat(), Some(T0), "stamped when the download starts");
    clock.advance(4_000);
    tokio::time::sleep(Duration::from_millis(300)).await; // chunks flow; not yet due
    assert_eq!(beat(), Some(T0));
    clock.advance(2_000);
    for _ in 0..2000 {
        if beat() == Some(T0 + 6_000) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(beat(), Some(T0 + 6_000), "stamped again once item_heartbeat_ms passed");
    server.set_rate_limit(None);
    assert_eq!(run.await.unwrap().unwrap(), vec![(job, JobStatus::Succeeded)]);
    assert_eq!(rig.store.work_with_status(WorkStatus::Running).unwrap(), vec![]);
}
