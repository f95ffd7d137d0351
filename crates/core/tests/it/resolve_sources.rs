//! The cascade's feed-side sources end to end through the engine (real redb, loopback HTTP):
//! `podcast:alternateEnclosure` with and without `podcast:integrity` (a mismatching hash is
//! rejected and its bytes deleted), the re-fetched feed with a moved enclosure, and the
//! episode page. A URL found past the known enclosure replaces it in the catalog, keeping the
//! old one.

use base64::Engine as _;
use catalog_sync_core::config::Config;
use catalog_sync_core::download::resolve::Outcome;
use catalog_sync_core::store::{JobKind, JobStatus, WorkStatus};
use catalog_sync_testkit::{episode_page, feed_xml, FeedAlternate, FeedItem, ServerConfig, TestServer};
use sha2::{Digest, Sha256, Sha384};

use crate::jobs_engine::Rig;
use crate::resolve_common::offline_config;

fn config(rig: &Rig) -> Config {
    Config {
        database: rig.dir.path().join("catalog.redb"),
        library: rig.library(),
        retry_backoff_ms: 10,
        max_attempts: 1,
        ..offline_config()
    }
}

async fn run(rig: &Rig, kind: JobKind) -> JobStatus {
    let engine = rig.engine_with(config(rig));
    let job = engine.enqueue(kind, vec![]).await.unwrap();
    engine.run_queued().await.unwrap().into_iter().find(|(id, _)| *id == job).unwrap().1
}

fn item(guid: &str, enclosure: &str) -> FeedItem {
    FeedItem {
        guid: guid.into(),
        title: format!("Episode {guid}"),
        enclosure: Some((enclosure.into(), 1000, "audio/mpeg".into())),
        ..Default::default()
    }
}

/// (item id, title) by guid.
fn item_id(rig: &Rig, guid: &str) -> u64 {
    let (pl, _) = rig.store.playlists().unwrap()[0].clone();
    rig.store
        .playlist_items(pl)
        .unwrap()
        .into_iter()
        .find(|e| e.item.guid.as_deref() == Some(guid))
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternate_enclosures_are_used_and_a_mismatching_integrity_hash_is_rejected() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let good = server.add_media("/alt/good.mp3", 40_000);
    let plain = server.add_media("/alt/plain.opus", 30_000);
    let bad = server.add_media("/alt/bad.mp3", 20_000);
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    let good_sri = format!(
        "sha384-{}",
        b64(&Sha384::digest(reqwest::get(good.url.clone()).await.unwrap().bytes().await.unwrap()))
    );
    let wrong_sri = format!("sha256-{}", b64(&Sha256::digest(b"some other file")));
    let gone = server.url("/alt/gone.mp3").to_string(); // never registered: 404
    let alt = |url: &str, mime: &str, length: u64, sri: Option<&str>| FeedAlternate {
        mime_type: mime.into(),
        length: Some(length),
        default: false,
        sources: vec!["ipfs://QmNotFetched".into(), url.into()],
        integrity: sri.map(|s| ("sri".to_string(), s.to_string())),
    };
    let items = vec![
        FeedItem {
            alternates: vec![alt(good.url.as_str(), "audio/mpeg", 40_000, Some(&good_sri))],
            ..item("with-integrity", &gone)
        },
        FeedItem {
            alternates: vec![alt(plain.url.as_str(), "audio/opus", 30_000, None)],
            ..item("without-integrity", &gone)
        },
        FeedItem {
            alternates: vec![alt(bad.url.as_str(), "audio/mpeg", 20_000, Some(&wrong_sri))],
            ..item("mismatch", &gone)
        },
    ];
    let feed =
        server.add_feed("/alt/feed.xml", feed_xml("Alternates", &items).into_bytes(), "application/rss+xml");
    let rig = Rig::new();
    rig.add(&feed);
    assert_eq!(run(&rig, JobKind::SyncDownload).await, JobStatus::Failed, "one item must fail");

    let files = rig.library_files();
    let mut hashes: Vec<&str> = files.values().map(String::as_str).collect();
    hashes.sort();
    let mut expected = vec![good.sha256_hex.as_str(), plain.sha256_hex.as_str()];
    expected.sort();
    assert_eq!(hashes, expected, "the mismatching file is not kept, not even as a part: {files:?}");

    for (guid, url, ext) in
        [("with-integrity", &good.url, ".mp3"), ("without-integrity", &plain.url, ".opus")]
    {
        let id = item_id(&rig, guid);
        let path = rig.store.item_file(id).unwrap().unwrap().path;
        assert!(
            path.ends_with(&format!("Episode {guid}{ext}")),
            "{guid}: the file is named for its own format: {path}"
        );
        assert_eq!(
            rig.store.item(id).unwrap().enclosure.unwrap().url,
            url.as_str(),
            "{guid}: the working URL replaces the stale one"
        );
        let replaced = rig.store.enclosure_replaced(id).unwrap().unwrap();
        assert_eq!((replaced.old_url.as_str(), replaced.source.as_str()), (gone.as_str(), "alternate"));
    }
    let id = item_id(&rig, "mismatch");
    let failed = rig.store.download_failure(id).unwrap().expect("stored with the item");
    let alternate = failed.sources_tried.iter().find(|s| s.source == "alternate").unwrap();
    assert_eq!(
        alternate.outcome,
        Outcome::Rejected(vec![(bad.url.to_string(), "integrity mismatch (sha256)".into())])
    );
    assert!(failed.direct_error.as_deref().is_some_and(|e| e.contains("404")), "{failed:?}");
    assert_eq!(
        rig.store.item(id).unwrap().enclosure.unwrap().url,
        gone,
        "a rejected URL never replaces the enclosure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_enclosure_is_found_in_the_refetched_feed_and_the_next_attempt_starts_there() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let old = server.add_media("/moved/old.mp3", 25_000);
    let items = vec![item("ep-1", old.url.as_str())];
    let feed =
        server.add_feed("/moved/feed.xml", feed_xml("Moved", &items).into_bytes(), "application/rss+xml");
    let rig = Rig::new();
    rig.add(&feed);
    assert_eq!(run(&rig, JobKind::SyncOnly).await, JobStatus::Succeeded);
    // the publisher moves the file: the old URL is gone, the feed names the new one
    let new = server.add_media("/moved/cdn2/new.mp3", 25_000);
    server.add_feed("/moved/old.mp3", b"<html><body>Not here any more</body></html>".to_vec(), "text/html");
    server.add_feed(
        "/moved/feed.xml",
        feed_xml("Moved", &[item("ep-1", new.url.as_str())]).into_bytes(),
        "application/rss+xml",
    );
    assert_eq!(run(&rig, JobKind::DownloadOnly).await, JobStatus::Succeeded);
    let files = rig.library_files();
    assert_eq!(
        files.values().collect::<Vec<_>>(),
        vec![&new.sha256_hex],
        "an HTML page served with 200 is not taken for the episode"
    );
    let id = item_id(&rig, "ep-1");
    assert_eq!(rig.store.item(id).unwrap().enclosure.unwrap().url, new.url.as_str());
    let replaced = rig.store.enclosure_replaced(id).unwrap().unwrap();
    assert_eq!(
        (replaced.old_url.as_str(), replaced.new_url.as_str(), replaced.source.as_str()),
        (old.url.as_str(), new.url.as_str(), "feed")
    );
    assert_eq!(rig.store.item_file(id).unwrap().unwrap().url, new.url.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_episode_page_gives_the_media_when_the_enclosure_is_gone() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/wp/wp-content/uploads/2024/05/ep7.mp3", 35_000);
    let page = server.add_page("/wp/2024/05/ep7/", &episode_page("Episode 7", media.url.as_str()));
    let empty = server.add_page("/wp/2024/05/ep8/", "<html><body><p>Show notes only</p></body></html>");
    let gone = server.url("/wp/old/ep.mp3").to_string();
    let items = vec![
        FeedItem { link: Some(page.to_string()), ..item("ep-7", &gone) },
        FeedItem { link: Some(empty.to_string()), ..item("ep-8", &gone) },
    ];
    let feed =
        server.add_feed("/wp/feed/", feed_xml("WordPress show", &items).into_bytes(), "application/rss+xml");
    let rig = Rig::new();
    rig.add(&feed);
    assert_eq!(run(&rig, JobKind::SyncDownload).await, JobStatus::Failed);
    assert_eq!(rig.library_files().values().collect::<Vec<_>>(), vec![&media.sha256_hex]);
    let (ok, failed) = (item_id(&rig, "ep-7"), item_id(&rig, "ep-8"));
    assert_eq!(rig.store.enclosure_replaced(ok).unwrap().unwrap().source, "page");
    let failure = rig.store.download_failure(failed).unwrap().unwrap();
    let page_outcome = &failure.sources_tried.iter().find(|s| s.source == "page").unwrap().outcome;
    assert_eq!(page_outcome, &Outcome::Nothing(None));
    let job_items = rig.store.stage_items(rig.store.jobs().unwrap()[0].0, 1).unwrap();
    let (_, row) = job_items.iter().find(|(id, _)| *id == failed).unwrap();
    assert_eq!((row.status, row.last_error.clone()), (WorkStatus::Failed, Some(failure.to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_transient_failure_the_next_attempt_starts_with_the_url_found_and_a_resync_keeps_it() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let alt_media = server.add_media("/t/alt.mp3", 200_000);
    let gone = server.url("/t/gone.mp3").to_string();
    let alternate = FeedAlternate {
        mime_type: "audio/mpeg".into(),
        length: Some(200_000),
        sources: vec![alt_media.url.to_string()],
        ..Default::default()
    };
    let items = vec![FeedItem { alternates: vec![alternate], ..item("ep-t", &gone) }];
    let feed =
        server.add_feed("/t/feed.xml", feed_xml("Transient", &items).into_bytes(), "application/rss+xml");
    // the alternate answers its check (HEAD) but its transfer is cut: a transient failure
    server.set_fault("/t/alt.mp3", catalog_sync_testkit::Fault::Reset { after_bytes: 50_000 }, None);
    let rig = Rig::new();
    rig.add(&feed);
    assert_eq!(run(&rig, JobKind::SyncDownload).await, JobStatus::Failed);
    let id = item_id(&rig, "ep-t");
    assert_eq!(
        rig.store.item(id).unwrap().enclosure.unwrap().url,
        alt_media.url.as_str(),
        "the checked URL is kept for the next attempt"
    );
    let stale_requests = server.stats().requests_for("/t/gone.mp3");

    server.clear_faults();
    assert_eq!(run(&rig, JobKind::SyncDownload).await, JobStatus::Succeeded);
    assert_eq!(
        rig.store.item(id).unwrap().enclosure.unwrap().url,
        alt_media.url.as_str(),
        "the sync did not bring the stale URL back"
    );
    assert_eq!(
        server.stats().requests_for("/t/gone.mp3"),
        stale_requests,
        "the stale URL is not asked again"
    );
    assert_eq!(rig.library_files().values().collect::<Vec<_>>(), vec![&alt_media.sha256_hex]);
}
