//! Document fetches against the testkit server (issue 12, behaviours 2 and 5): compressed
//! feeds are decoded whether or not we asked, a server that drips bytes ends at the document
//! deadline, and an oversized document fails with its reason. Windows are short configured
//! values; nothing asserts on timing.

use std::time::Duration;

use catalog_sync_core::catalog::fetch::{
    build_document_client, fetch_document_with, DocumentLimits, FetchError,
};
use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{feed_xml, Behaviour, Coding, Fault, FeedItem, ServerConfig, TestServer};

use crate::jobs_engine::Rig;

fn limits() -> DocumentLimits {
    DocumentLimits { stall: Duration::from_secs(5), deadline: Duration::from_secs(30), max_bytes: 1_000_000 }
}

#[tokio::test]
async fn compressed_documents_are_decoded_asked_or_not() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let client = build_document_client("catalog-sync-tests/0");
    let body = b"<rss version=\"2.0\"><channel><title>t</title></channel></rss>".repeat(20);
    for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli] {
        for forced in [false, true] {
            let path = format!("/{}-{forced}.rss", coding.token());
            let url = server.add_feed(&path, body.clone(), "application/rss+xml");
            server.set_behaviour(&path, Behaviour::Encode { coding, forced });
            let (got, _) = fetch_document_with(&client, &url, &limits()).await.unwrap();
            assert_eq!(got, body, "{coding:?} forced={forced}");
            assert!(server.stats().body_bytes_for(&path) < body.len() as u64, "it was sent encoded");
        }
    }
}

#[tokio::test]
async fn a_dripping_server_ends_at_the_document_deadline() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let url = server.add_feed("/drip.rss", vec![b'x'; 1_000], "application/rss+xml");
    server.set_fault("/drip.rss", Fault::Drip { interval_ms: 20 }, None);
    let short = DocumentLimits { deadline: Duration::from_millis(300), ..limits() };
    let err = fetch_document_with(&build_document_client("t"), &url, &short).await.unwrap_err();
    assert!(matches!(err, FetchError::DeadlineExceeded(d) if d == Duration::from_millis(300)), "{err:?}");
    assert!(err.is_transient());
    assert!(server.stats().body_bytes_for("/drip.rss") > 0, "bytes kept coming: no stall");
}

#[tokio::test]
async fn an_oversized_document_fails_with_its_reason() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let url = server.add_feed("/big.rss", vec![b' '; 5_000], "application/rss+xml");
    let small = DocumentLimits { max_bytes: 4_096, ..limits() };
    let err = fetch_document_with(&build_document_client("t"), &url, &small).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(4_096)), "{err:?}");
    assert!(!err.is_transient());
    assert!(err.to_string().contains("document_max_bytes"), "{err}");
    // decoded size counts: a small gzip body that inflates past the cap fails too
    server.set_behaviour("/big.rss", Behaviour::Encode { coding: Coding::Gzip, forced: true });
    let err = fetch_document_with(&build_document_client("t"), &url, &small).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(4_096)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_reads_a_gzip_feed_and_a_dripping_feed_fails_only_its_playlist() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media = server.add_media("/z/1.mp3", 1_000);
    let item = FeedItem {
        guid: "z-1".into(),
        title: "one".into(),
        link: None,
        enclosure: Some((media.url.to_string(), media.size, "audio/mpeg".into())),
        alternates: vec![],
    };
    let gz = server.add_feed("/z.rss", feed_xml("Zipped", &[item]).into_bytes(), "application/rss+xml");
    server.set_behaviour("/z.rss", Behaviour::Encode { coding: Coding::Gzip, forced: true });
    let drip = server.add_feed("/drip.rss", feed_xml("Drip", &[]).into_bytes(), "application/rss+xml");
    server.set_fault("/drip.rss", Fault::Drip { interval_ms: 50 }, None);
    let (zipped, dripping) = (rig.add(&gz), rig.add(&drip));
    let config =
        catalog_sync_core::config::Config { document_deadline_ms: 300, max_attempts: 1, ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncOnly, vec![zipped, dripping]).await.unwrap();
    let ran = engine.run_queued().await.unwrap();
    assert_eq!(ran.iter().find(|(id, _)| *id == job).unwrap().1, JobStatus::Failed);
    let items = rig.store.playlist_items(zipped).unwrap();
    assert_eq!(items.len(), 1, "the gzip feed was read");
    let failed = rig.store.playlists().unwrap().into_iter().find(|(id, _)| *id == dripping).unwrap().1;
    let error = failed.last_error.unwrap_or_default();
    assert!(error.contains("no complete document within"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_m3us_relative_entries_download_from_its_host() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let root_relative = server.add_media("/media/one.mp3", 2_000);
    let relative = server.add_media("/lists/two.mp3", 3_000);
    let m3u =
        "#EXTM3U\n#EXTINF:1,One\n/media/one.mp3\n#EXTINF:2,Two\ntwo.mp3\n#EXTINF:3,Local\nC:\\Music\\x.mp3\n";
    let list = server.add_feed("/lists/mix.m3u", m3u.as_bytes().to_vec(), "audio/x-mpegurl");
    let id = rig.add(&list);
    let (_, status) = rig.run(JobKind::SyncDownload, vec![id]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let mut urls: Vec<String> = rig
        .store
        .playlist_items(id)
        .unwrap()
        .into_iter()
        .filter_map(|e| e.item.enclosure.map(|enc| enc.url))
        .collect();
    urls.sort();
    let mut expected = vec![root_relative.url.to_string(), relative.url.to_string()];
    expected.sort();
    assert_eq!(urls, expected, "no entry became a local path");
    let mut got: Vec<String> = rig.library_files().into_values().collect();
    got.sort();
    let mut want = vec![root_relative.sha256_hex, relative.sha256_hex];
    want.sort();
    assert_eq!(got, want, "both entries downloaded from the playlist's host");
}

#[tokio::test]
async fn errors_say_why_a_connection_failed() {
    // a loopback port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/feed.rss")).unwrap();
    let err = fetch_document_with(&build_document_client("t"), &url, &limits()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("cannot fetch: error sending request"), "{text}");
    assert!(text.contains("Connection refused"), "the cause is named: {text}");
    let client = catalog_sync_core::download::build_client("t");
    let dir = tempfile::tempdir().unwrap();
    let opts = catalog_sync_core::download::TransferOptions { max_attempts: 1, ..Default::default() };
    let cancel = tokio_util::sync::CancellationToken::new();
    let failure = catalog_sync_core::download::fetch_to_file_from(
        &client,
        &url,
        &dir.path().join("x.mp3"),
        &opts,
        &|_| {},
        &cancel,
        None,
    )
    .await
    .unwrap_err();
    let text = failure.to_string();
    assert!(text.starts_with("attempt 1/1, transient: HTTP request failed"), "{text}");
    assert!(text.contains("Connection refused"), "the cause is named: {text}");
}
