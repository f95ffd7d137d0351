//! Cancel during a silent stall (issue 4): the peer sends some bytes, or only accepts the
//! connection, and then nothing, while the stall window is a minute long, so only the cancel
//! can end the transfer. The tests bound the wait with a generous `tokio::time::timeout` (5 s,
//! far below the 60 s window) instead of asserting a duration, and print the measured time
//! (`cargo test -p catalog-sync-core --test it fault_cancel -- --nocapture`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use catalog_sync_core::config::Config;
use catalog_sync_core::download::{build_client, fetch_to_file, part_path, TransferError, TransferOptions};
use catalog_sync_core::jobs::Event;
use catalog_sync_core::store::{JobCommand, JobKind, JobStatus};
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
use tokio_util::sync::CancellationToken;

use crate::jobs_engine::Rig;

/// A stall window only a cancel can beat.
const LONG_STALL: Duration = Duration::from_secs(60);
/// The bound the cancelled call must end within (the goal is under a second).
const BOUND: Duration = Duration::from_secs(5);

/// Polls `cond` every 5 ms for up to 10 s.
async fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_transfer_stalled_mid_body_ends_it_at_once_and_keeps_the_part() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/hang/1.mp3", 500_000);
    server.set_fault("/hang/1.mp3", Fault::Stall { after_bytes: 64_000 }, None);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("1.mp3");
    let cancel = CancellationToken::new();
    let opts = TransferOptions { stall_timeout: LONG_STALL, max_attempts: 1, ..TransferOptions::default() };
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let task = tokio::spawn({
        let (cancel, dest, received, url) =
            (cancel.clone(), dest.clone(), received.clone(), media.url.clone());
        async move {
            let progress = move |p: catalog_sync_core::download::TransferProgress| {
                received.store(p.downloaded, std::sync::atomic::Ordering::SeqCst)
            };
            fetch_to_file(&build_client("test"), &url, &dest, &opts, &progress, &cancel).await
        }
    });
    wait_until("the bytes before the stall", || received.load(std::sync::atomic::Ordering::SeqCst) == 64_000)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await; // silent now
    let started = Instant::now();
    cancel.cancel();
    let result = tokio::time::timeout(BOUND, task).await.expect("cancel ends a silent transfer").unwrap();
    println!("cancel during a mid-body stall ended the transfer after {:?}", started.elapsed());
    assert!(matches!(result, Err(TransferError::Cancelled)), "{result:?}");
    assert!(!dest.exists(), "nothing under the final name");
    let part = std::fs::metadata(part_path(&dest).unwrap()).expect("the part is kept for a resume");
    assert_eq!(part.len(), 64_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_request_whose_response_head_never_comes_ends_it_at_once() {
    let server = TestServer::start(ServerConfig { latency_ms: 120_000, ..Default::default() }).await.unwrap();
    let media = server.add_media("/mute/1.mp3", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("1.mp3");
    let cancel = CancellationToken::new();
    let opts = TransferOptions { stall_timeout: LONG_STALL, max_attempts: 1, ..TransferOptions::default() };
    let task = tokio::spawn({
        let (cancel, dest, url) = (cancel.clone(), dest.clone(), media.url.clone());
        async move { fetch_to_file(&build_client("test"), &url, &dest, &opts, &|_| {}, &cancel).await }
    });
    wait_until("the request", || server.stats().requests_for("/mute/1.mp3") == 1).await;
    let started = Instant::now();
    cancel.cancel();
    let result =
        tokio::time::timeout(BOUND, task).await.expect("cancel ends a request without answer").unwrap();
    println!("cancel before the response head ended the transfer after {:?}", started.elapsed());
    assert!(matches!(result, Err(TransferError::Cancelled)), "{result:?}");
    assert!(!dest.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_whose_download_stalls_silently_ends_the_job_promptly() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("stuck", 1, 300_000);
    server.set_fault("/stuck/1.mp3", Fault::Stall { after_bytes: 32_000 }, None);
    let p = rig.add(&feed);
    let config = Config { stall_timeout_ms: LONG_STALL.as_millis() as u64, ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let events = rig.events.clone();
    wait_until("the bytes before the stall", || {
        events.lock().unwrap().iter().any(|e| matches!(e, Event::DownloadProgress { downloaded: 32_000, .. }))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await; // silent now
    let started = Instant::now();
    engine.command(job, JobCommand::Cancel).await.unwrap();
    let ran = tokio::time::timeout(BOUND, run)
        .await
        .expect("the cancel ends the job and run_queued")
        .unwrap()
        .unwrap();
    println!("cancel of a job stalled in a download ended the run after {:?}", started.elapsed());
    assert_eq!(ran, vec![(job, JobStatus::Cancelled)]);
    assert_eq!(rig.store.job(job).unwrap().status, JobStatus::Cancelled);
    let (files, partial): (Vec<String>, Vec<String>) =
        rig.library_files().into_keys().partition(|p| !p.ends_with(".part"));
    assert!(files.is_empty(), "nothing under a final name: {files:?}");
    assert_eq!(partial.len(), 1, "the part is kept: {partial:?}");
}
