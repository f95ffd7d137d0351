//! The watchdog's overall deadline and the retry policy against loopback servers: the testkit
//! server for a peer that trickles or hangs, and a few-line scripted responder for statuses
//! with `Retry-After` (RFC 9110 §10.2.3). Windows are short configured values, never timing goals.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::download::{
    build_client, fetch_to_file_from, part_path, FetchFailure, FetchedFile, TransferError, TransferOptions,
    TransferProgress,
};
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// [`fetch_to_file_from`] with no progress report, no cancel and no part read beforehand.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &url::Url,
    dest: &std::path::Path,
    opts: &TransferOptions,
) -> Result<FetchedFile, FetchFailure> {
    fetch_to_file_from(client, url, dest, opts, &|_| {}, &CancellationToken::new(), None).await
}

fn opts(max_attempts: u32) -> TransferOptions {
    TransferOptions {
        stall_timeout: Duration::from_secs(600),
        max_attempts,
        retry_backoff: Duration::from_millis(10),
        ..TransferOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_peer_ends_at_the_deadline_and_resumes_on_the_next_attempt() {
    // 1 KiB/s with a long stall window: bytes keep flowing, so only the deadline ends it
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(1_024), ..Default::default() }).await.unwrap();
    let media = server.add_media("/slow.mp3", 200_000);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("slow.mp3");
    let client = build_client("catalog-sync-tests/0");
    let o = TransferOptions { deadline: Duration::from_millis(1_500), ..opts(1) };
    let failure = fetch(&client, &media.url, &dest, &o).await.unwrap_err();
    let TransferError::DeadlineExceeded { after, downloaded } = failure.error else { panic!("{failure:?}") };
    assert_eq!(after, Duration::from_millis(1_500));
    assert!(downloaded > 0 && downloaded < 200_000, "{downloaded}");
    assert!(failure.to_string().starts_with("attempt 1/1, transient: transfer deadline"), "{failure}");
    assert!(!dest.exists(), "nothing under the final name");
    assert_eq!(
        std::fs::metadata(part_path(&dest).unwrap()).unwrap().len(),
        downloaded,
        "the part keeps every byte received"
    );
    // the next attempt resumes from the part
    server.set_rate_limit(None);
    let got = fetch(&client, &media.url, &dest, &opts(1)).await.unwrap();
    assert_eq!((got.sha256_hex, got.resumed_from), (media.sha256_hex, downloaded));
    assert_eq!(server.stats().ranges_for("/slow.mp3"), [format!("bytes={downloaded}-")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_a_silent_stall_ends_the_transfer_at_once() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/hang.mp3", 100_000);
    server.set_fault("/hang.mp3", Fault::Stall { after_bytes: 30_000 }, None);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("hang.mp3");
    let cancel = CancellationToken::new();
    let (c, got_bytes) = (cancel.clone(), Arc::new(AtomicU32::new(0)));
    let seen = got_bytes.clone();
    let report = move |p: TransferProgress| {
        seen.store(p.downloaded as u32, Ordering::SeqCst);
    };
    let client = build_client("catalog-sync-tests/0");
    // a 10 min stall window and a 4 h deadline: only the cancel can end this transfer
    let o = opts(3);
    let transfer =
        tokio::spawn(
            async move { fetch_to_file_from(&client, &media.url, &dest, &o, &report, &c, None).await },
        );
    while got_bytes.load(Ordering::SeqCst) < 30_000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // the peer is silent now
    cancel.cancel();
    // a generous guard so a hang fails the test instead of blocking it
    let failure = tokio::time::timeout(Duration::from_secs(20), transfer)
        .await
        .expect("cancel ends the silent transfer")
        .unwrap()
        .unwrap_err();
    assert!(matches!(failure.error, TransferError::Cancelled), "{failure:?}");
    assert_eq!(failure.attempt, 1);
    assert_eq!(server.stats().requests_for("/hang.mp3"), 1, "a cancel is never retried");
}

/// A loopback responder answering every request with the next of `replies` (the last one
/// repeats): raw HTTP/1.1 heads with a small body, connection closed after each.
async fn scripted(replies: Vec<&'static str>) -> (url::Url, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}/a.mp3", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicU32::new(0));
    let n = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let i = n.fetch_add(1, Ordering::SeqCst) as usize;
            let head = replies[i.min(replies.len() - 1)];
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(
                    format!("{head}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello").as_bytes(),
                )
                .await;
        }
    });
    (url, count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_errors_retry_by_class_and_the_failure_names_its_attempt() {
    let client = build_client("catalog-sync-tests/0");
    let dir = tempfile::tempdir().unwrap();
    let o = opts(3);
    // 503 three times: transient, retried to the last attempt
    let (url, count) = scripted(vec!["HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0"]).await;
    let failure = fetch(&client, &url, &dir.path().join("a"), &o).await.unwrap_err();
    assert_eq!(
        failure.to_string(),
        format!("attempt 3/3, transient: HTTP 503 Service Unavailable from {url}")
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // 429 with Retry-After, then success: the wait honours the header (1 s, not 10 ms)
    let (url, count) =
        scripted(vec!["HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1", "HTTP/1.1 200 OK"]).await;
    let started = tokio::time::Instant::now();
    let got = fetch(&client, &url, &dir.path().join("b"), &o).await.unwrap();
    assert_eq!((got.attempts, got.size, count.load(Ordering::SeqCst)), (2, 5, 2));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    // 410 and 404: final, one request each
    for (head, code) in [("HTTP/1.1 410 Gone", 410), ("HTTP/1.1 404 Not Found", 404)] {
        let (url, count) = scripted(vec![head]).await;
        let failure = fetch(&client, &url, &dir.path().join("c"), &o).await.unwrap_err();
        assert!(failure.to_string().starts_with(&format!("attempt 1/3, final: HTTP {code}")), "{failure}");
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_failing_with_enospc_is_disk_full_and_never_takes_the_final_name() {
    // `/dev/full` fails every write with ENOSPC: the part, linked to it, is a disk that fills
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/full.mp3", 300_000);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("full.mp3");
    std::os::unix::fs::symlink("/dev/full", part_path(&dest).unwrap()).unwrap();
    let client = build_client("catalog-sync-tests/0");
    let failure = fetch(&client, &media.url, &dest, &opts(3)).await.unwrap_err();
    assert!(failure.error.is_disk_full(), "{failure:?}");
    assert!(failure.to_string().starts_with("attempt 1/3, disk_full: write"), "{failure}");
    assert!(!dest.exists(), "nothing under the final name");
    assert_eq!(server.stats().requests_for("/full.mp3"), 1, "a full disk is final: not retried");
}
