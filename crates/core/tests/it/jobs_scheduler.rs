//! The task engine: lanes, the compare-and-set claim, the two pools and their ready queue,
//! worker rows, pause / resume / cancel / retry as stored commands, export hooks and durable
//! runs. Real redb files and real HTTP from the testkit server; waits poll the store.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use catalog_sync_core::config::Config;
use catalog_sync_core::jobs::task_center::task_center;
use catalog_sync_core::jobs::{Engine, Event};
use catalog_sync_core::store::commands::JobCommand;
use catalog_sync_core::store::runs::{run_id, StepOutcome};
use catalog_sync_core::store::{JobKind, JobStatus, StageKind};
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};

use crate::jobs_engine::Rig;

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Runs the engine's queue in the background.
fn spawn_run(
    engine: &Engine,
) -> tokio::task::JoinHandle<Result<Vec<(u64, JobStatus)>, catalog_sync_core::jobs::EngineError>> {
    let engine = engine.clone();
    tokio::spawn(async move { engine.run_queued().await })
}

fn position(events: &[Event], pred: impl Fn(&Event) -> bool) -> Option<usize> {
    events.iter().position(pred)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_job_holds_its_lane_while_a_sync_job_runs_beside_it() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(500_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    let a = rig.add(&server.add_podcast("a", 3, 200_000));
    let b = rig.add(&server.add_podcast("b", 2, 10_000));
    let engine = rig.engine();
    let first = engine.enqueue(JobKind::SyncDownload, vec![a]).await.unwrap();
    let second = engine.enqueue(JobKind::SyncDownload, vec![b]).await.unwrap();
    let sync = engine.enqueue(JobKind::SyncOnly, vec![b]).await.unwrap();
    let run = spawn_run(&engine);
    let store = rig.store.clone();
    wait_for("the first download job to run", || store.job(first).unwrap().status == JobStatus::Running)
        .await;
    let tc = task_center(
        &store,
        &engine.worker_samples(None),
        catalog_sync_core::clock::Clock::now_ms(&catalog_sync_core::clock::SystemClock),
        30_000,
    )
    .unwrap();
    let second_view = tc.jobs.iter().find(|j| j.id == second).unwrap();
    assert_eq!(second_view.status, JobStatus::Queued);
    assert_eq!(second_view.queue_label.as_deref(), Some("queued #1"));
    assert_eq!(tc.summary.queued_download_jobs, 1);
    let ran = run.await.unwrap().unwrap();
    assert!(ran.iter().all(|(_, s)| *s == JobStatus::Succeeded), "{ran:?}");
    let events = rig.events.lock().unwrap().clone();
    let finished =
        |id| position(&events, |e| matches!(e, Event::JobFinished { job, .. } if *job == id)).unwrap();
    let started =
        |id| position(&events, |e| matches!(e, Event::JobStarted { job, .. } if *job == id)).unwrap();
    assert!(finished(sync) < finished(first), "the sync job ran beside the download job");
    assert!(started(second) > finished(first), "the second download job waited for the lane");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_schedulers_never_start_a_job_twice() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let p = rig.add(&server.add_podcast("cas", 2, 1_000));
    let first = rig.engine();
    for _ in 0..8 {
        first.enqueue(JobKind::SyncOnly, vec![p]).await.unwrap();
    }
    let engines: Vec<Engine> = (0..3).map(|_| rig.engine()).collect();
    let runs = engines.iter().map(|e| {
        let e = e.clone();
        tokio::spawn(async move { e.run_queued().await.unwrap() })
    });
    let mut ran: Vec<u64> = Vec::new();
    for r in runs {
        ran.extend(r.await.unwrap().into_iter().map(|(id, _)| id));
    }
    ran.sort_unstable();
    assert_eq!(ran, (1..=8).collect::<Vec<_>>(), "each job ran exactly once");
    for id in 1..=8 {
        assert_eq!(rig.store.job(id).unwrap().runs, 1);
    }
    // and the raw claim under threads
    let store = rig.store.clone();
    let ids: Vec<u64> =
        (0..20).map(|_| store.create_job(JobKind::SyncOnly, &[StageKind::Sync], &[], 0).unwrap()).collect();
    let claimed: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    std::iter::from_fn(|| store.claim_next_job(|_| true, 0).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<u64> = claimed.iter().copied().collect();
    assert_eq!((claimed.len(), unique), (ids.len(), ids.into_iter().collect()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_flow_from_named_resolvers_to_named_downloaders() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("flow", 12, 20_000));
    let (job, status) = rig.run(JobKind::SyncDownload, vec![]).await; // the rig's 3 downloaders: 1 resolver
    assert_eq!(status, JobStatus::Succeeded);
    let events = rig.events.lock().unwrap().clone();
    let resolvers: HashSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::ItemResolved { worker, .. } => Some(worker.clone()),
            _ => None,
        })
        .collect();
    let downloaders: HashSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::DownloadStarted { worker, .. } => Some(worker.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(resolvers, HashSet::from(["resolve-1".to_string()]));
    assert!(
        !downloaders.is_empty()
            && downloaders.iter().all(|w| ["download-1", "download-2", "download-3"].contains(&w.as_str())),
        "{downloaders:?}"
    );
    for item in events.iter().filter_map(|e| match e {
        Event::DownloadStarted { item, .. } => Some(*item),
        _ => None,
    }) {
        let resolved =
            position(&events, |e| matches!(e, Event::ItemResolved { item: i, .. } if *i == item)).unwrap();
        let started =
            position(&events, |e| matches!(e, Event::DownloadStarted { item: i, .. } if *i == item)).unwrap();
        assert!(resolved < started, "item {item} went through the ready queue");
    }
    let workers = rig.workers.samples(Some(job));
    let names: HashSet<String> = workers.iter().map(|w| w.name.clone()).collect();
    assert_eq!(
        names,
        ["resolve-1", "download-1", "download-2", "download-3"].map(String::from).into_iter().collect()
    );
    assert_eq!(
        workers.iter().filter(|w| w.name.starts_with("download")).map(|w| w.processed).sum::<u32>(),
        12
    );
}

/// With downloads slower than resolution (known enclosures), the standby resolver (`resolve-2`
/// of 8 downloaders) works only while the ready queue runs dry at the start; `resolve-1` keeps
/// every downloader fed after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_resolvers_work_only_while_downloaders_starve() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(200_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("many", 64, 20_000));
    let config = Config { parallel_downloads: 8, per_host_connections: 8, ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let ran = engine.run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)]);
    let resolved_by = |name: &str| {
        rig.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, Event::ItemResolved { worker, .. } if worker == name))
            .count()
    };
    let (first, standby) = (resolved_by("resolve-1"), resolved_by("resolve-2"));
    assert_eq!(first + standby, 64);
    // the queue (16) and the 8 downloaders fill at the start; after that it never runs dry
    assert!(standby <= 24 && first >= 40, "resolve-1 {first}, resolve-2 {standby}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_speed_is_reported_while_running_and_never_from_finished_workers() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(300_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("speed", 3, 450_000));
    let engine = rig.engine();
    let job = engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let run = spawn_run(&engine);
    let store = rig.store.clone();
    let now = || catalog_sync_core::clock::Clock::now_ms(&catalog_sync_core::clock::SystemClock);
    // worker samples live in the engine's memory
    let task_center = |store: &_, now, stale| task_center(store, &engine.worker_samples(None), now, stale);
    wait_for("a measured speed", || {
        task_center(&store, now(), 30_000).unwrap().jobs.iter().any(|j| j.id == job && j.speed_bps > 0)
    })
    .await;
    let view = task_center(&store, now(), 30_000).unwrap().jobs.into_iter().find(|j| j.id == job).unwrap();
    assert!(view.active_workers >= 1 && view.progress_text.contains("items"), "{view:?}");
    assert!(view.speed_bps < 3 * 300_000 * 2, "speed comes from streamed bytes: {view:?}");
    run.await.unwrap().unwrap();
    let view = task_center(&store, now(), 30_000).unwrap().jobs.into_iter().find(|j| j.id == job).unwrap();
    assert_eq!((view.speed_bps, view.active_workers), (0, 0), "finished workers never count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_cancel_mid_stage_lose_nothing_and_repeat_nothing() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(400_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("p", 8, 200_000));
    let engine = rig.engine();
    let job = engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let run = spawn_run(&engine);
    let store = rig.store.clone();
    wait_for("a first download", || store.playlist_items(1).unwrap().iter().any(|e| e.file.is_some())).await;
    engine.command(job, JobCommand::Pause).await.unwrap();
    let ran = run.await.unwrap().unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Paused)]);
    let done_at_pause = store.playlist_items(1).unwrap().iter().filter(|e| e.file.is_some()).count();
    assert!(done_at_pause < 8, "paused mid-stage");
    let (files, parts): (Vec<_>, Vec<_>) =
        rig.library_files().into_keys().partition(|p| !p.ends_with(".part"));
    assert_eq!((files.len(), parts.len()), (done_at_pause, 0), "a pause drains: no partial file");
    // resume: the job is queued again and finishes; no media is fetched twice
    engine.command(job, JobCommand::Resume).await.unwrap();
    server.set_rate_limit(None);
    let ran = engine.run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)]);
    for n in 1..=8 {
        assert_eq!(
            server.stats().body_bytes_for(&format!("/p/{n}.mp3")),
            200_000,
            "episode {n} sent exactly once"
        );
    }
    // cancel: transfers stop at once; parts stay; a later job resumes them with ranges
    server.set_rate_limit(Some(200_000));
    let c = rig.add(&server.add_podcast("c", 3, 400_000));
    let cancel_job = engine.enqueue(JobKind::SyncDownload, vec![c]).await.unwrap();
    let run = spawn_run(&engine);
    let lib = rig.library();
    wait_for("partial files", || {
        std::fs::read_dir(lib.join("Podcast c"))
            .map(|d| {
                d.flatten().any(|e| {
                    e.path().extension().is_some_and(|x| x == "part") && e.metadata().unwrap().len() > 20_000
                })
            })
            .unwrap_or(false)
    })
    .await;
    engine.command(cancel_job, JobCommand::Cancel).await.unwrap();
    assert_eq!(run.await.unwrap().unwrap(), vec![(cancel_job, JobStatus::Cancelled)]);
    assert_eq!(store.stage_counts(cancel_job, 1).unwrap().running, 0, "nothing is left looking claimed");
    server.set_rate_limit(None);
    let (_, status) = rig.run(JobKind::DownloadOnly, vec![c]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let ranges: Vec<String> =
        (1..=3).flat_map(|n| server.stats().ranges_for(&format!("/c/{n}.mp3")).to_vec()).collect();
    assert!(!ranges.is_empty(), "cancelled transfers resume from their parts");
    let manifest: BTreeMap<String, String> =
        server.manifest().into_iter().map(|(k, v)| (k, v.sha256_hex)).collect();
    let got: HashSet<String> =
        rig.library_files().into_iter().filter(|(p, _)| p.ends_with(".mp3")).map(|(_, s)| s).collect();
    assert_eq!(got, manifest.into_values().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_runs_only_after_workers_start_and_writes_m3u_files() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("ex", 3, 5_000));
    rig.run(JobKind::SyncDownload, vec![]).await;
    let events = rig.events.lock().unwrap().clone();
    let first_export = position(&events, |e| matches!(e, Event::Exported { .. })).expect("an export ran");
    let first_claim = position(&events, |e| matches!(e, Event::ItemResolved { .. })).unwrap();
    assert!(first_claim < first_export, "no export before the first worker claimed");
    let m3u = std::fs::read_to_string(rig.library().join("Podcast ex.m3u")).unwrap();
    assert_eq!(m3u.lines().filter(|l| l.ends_with(".mp3")).count(), 3, "{m3u}");
    let (job, status) = rig.run(JobKind::ExportOnly, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(rig.store.stage_counts(job, 0).unwrap().done, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_increase_and_failed_stages_carry_typed_errors() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("r", 3, 5_000));
    server.set_fault("/r/2.mp3", Fault::Status(404), Some(1));
    let (job, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Failed);
    let runs = rig.store.runs(job).unwrap();
    assert_eq!(runs.len(), 1);
    let download = runs[0].steps.iter().find(|s| s.kind == StageKind::Download).unwrap();
    assert_eq!(download.outcome, Some(StepOutcome::Failed));
    let error = download.error.as_ref().expect("a failed stage carries a typed error");
    assert_eq!((error.code.as_str(), error.message.as_str()), ("items_failed", "1 of 3 items failed"));
    // retry the failed item: run 2 succeeds; runs list newest first
    let engine = rig.engine();
    engine.command(job, JobCommand::RetryFailed).await.unwrap();
    let ran = engine.run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)]);
    let runs = rig.store.runs(job).unwrap();
    assert_eq!(
        runs.iter().map(|r| run_id(job, r.n)).collect::<Vec<_>>(),
        vec![format!("job-{job}-run-2"), format!("job-{job}-run-1")]
    );
    assert!(runs[0].steps.iter().all(|s| s.error.is_none()));
    assert_eq!(rig.library_files().keys().filter(|p| p.ends_with(".mp3")).count(), 3);
    let log = rig.store.job_log(job).unwrap();
    assert!(log.iter().any(|(_, l)| l.text.contains("RetryFailed")), "commands are in the job log");
    assert!(
        log.iter().any(|(_, l)| l.kind == catalog_sync_core::store::job_log::LogKind::Error
            && l.text.contains("failed: ")
            && l.text.contains("404")),
        "item errors are in the job log: {log:?}"
    );
    assert!(
        log.iter()
            .filter(|(_, l)| l.kind == catalog_sync_core::store::job_log::LogKind::Item
                && l.text.contains(" done"))
            .count()
            >= 4,
        "item transitions are in the job log: {log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_bandwidth_limit_holds_all_transfers_together() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("bw", 3, 200_000));
    let limited =
        catalog_sync_core::config::Config { bandwidth_limit_bytes_per_sec: Some(400_000), ..rig.config() };
    let engine = rig.engine_with(limited);
    engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let started = std::time::Instant::now();
    let ran = engine.run_queued().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(ran[0].1, JobStatus::Succeeded);
    // 600 KB at 400 KB/s over all three transfers takes at least 1.5 s less the 0.25 s burst;
    // a lower bound only: the limiter can make a run slower, never faster
    assert!(elapsed >= Duration::from_millis(1_200), "{elapsed:?}");
    assert_eq!(rig.library_files().len(), 3);
}
