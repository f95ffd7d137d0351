//! Hedged range requests (`download::hedge`) against the testkit server: a transfer that goes
//! silent while another transfer from the same host keeps receiving is continued by a second
//! range request from where it stopped, long before the fixed stall window, and no byte is
//! sent twice; a transfer alone on its host never hedges (no evidence).

use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::download::hedge::{Hedge, HostActivity};
use catalog_sync_core::download::{build_client, fetch_to_file, TransferError, TransferOptions};
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
use tokio_util::sync::CancellationToken;

const CUT: u64 = 30_000;

fn options(activity: &Arc<HostActivity>, stall: Duration) -> TransferOptions {
    TransferOptions {
        stall_timeout: stall,
        max_attempts: 1, // no retry: only a hedge can finish a stalled transfer
        hedge: Some(Hedge { min_silence: Duration::from_millis(300), ..Hedge::new(activity.clone()) }),
        ..TransferOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_stuck_while_its_host_delivers_elsewhere_is_hedged_from_where_it_stopped() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(200_000), ..Default::default() }).await.unwrap();
    let stuck = server.add_media("/h/stuck.mp3", 120_000);
    let flowing = server.add_media("/h/flowing.mp3", 500_000);
    server.set_fault("/h/stuck.mp3", Fault::Stall { after_bytes: CUT }, Some(1));
    let dir = tempfile::tempdir().unwrap();
    let activity = Arc::new(HostActivity::default());
    // the fixed window never ends it here: only the hedge can
    let opts = options(&activity, Duration::from_secs(600));
    let (client, cancel) = (build_client("catalog-sync-tests/0"), CancellationToken::new());
    let (a, b) = (dir.path().join("stuck.mp3"), dir.path().join("flowing.mp3"));
    let both = async {
        tokio::join!(
            fetch_to_file(&client, &stuck.url, &a, &opts, &|_| {}, &cancel),
            fetch_to_file(&client, &flowing.url, &b, &opts, &|_| {}, &cancel),
        )
    };
    // a guard against hanging without the hedge, not a timing assertion
    let (a_done, b_done) =
        tokio::time::timeout(Duration::from_secs(120), both).await.expect("hedged in time");
    let (a_done, b_done) = (a_done.unwrap(), b_done.unwrap());
    assert_eq!((a_done.sha256_hex.as_str(), a_done.attempts), (stuck.sha256_hex.as_str(), 1));
    assert_eq!(b_done.sha256_hex, flowing.sha256_hex);
    let stats = server.stats();
    assert_eq!(stats.ranges_for("/h/stuck.mp3"), [format!("bytes={CUT}-")], "one hedge, from the cut");
    assert_eq!(stats.body_bytes_for("/h/stuck.mp3"), stuck.size, "no byte sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_alone_on_its_host_waits_for_the_stall_window() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let stuck = server.add_media("/h/alone.mp3", 120_000);
    server.set_fault("/h/alone.mp3", Fault::Stall { after_bytes: CUT }, Some(1));
    let dir = tempfile::tempdir().unwrap();
    let activity = Arc::new(HostActivity::default());
    let opts = options(&activity, Duration::from_millis(1_500));
    let (client, cancel) = (build_client("catalog-sync-tests/0"), CancellationToken::new());
    let err = fetch_to_file(&client, &stuck.url, &dir.path().join("alone.mp3"), &opts, &|_| {}, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::Stalled { downloaded: CUT, .. }), "{err:?}");
    assert!(server.stats().ranges_for("/h/alone.mp3").is_empty(), "no evidence, no hedge");
}
