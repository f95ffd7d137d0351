//! The fault-injection suite of issue 4 (engine end to end): a real redb file, real HTTP over
//! loopback from the testkit server, the job engine's sync + download stages.
//!
//! Every fault kind hits an item's first request: a silent stall, a TCP reset, a body shorter
//! than its `Content-Length`, HTTP 500/503/408, 429 with `Retry-After`, and a 206 whose
//! `Content-Range` is not the range asked for. Each test checks the end state only: every
//! file has the server's sha256, nothing but complete files sits under final names, no `.part`
//! is left, and the server sent at most 5 % more body bytes than the payload (a cut transfer
//! resumes with `Range`, it does not start over). Permanent failures (404, 410) fail only
//! their item, with its reason, after exactly one request (a final error is not retried).
//! Windows are short configured values; nothing here asserts a duration.

use std::collections::BTreeMap;

use catalog_sync_core::config::Config;
use catalog_sync_core::store::{JobKind, JobStatus, WorkStatus};
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};

use crate::jobs_engine::{walk, Rig};

/// Size of each episode in the suite, in bytes.
const SIZE: u64 = 400_000;

/// Short windows for the suite: a stall is noticed after a second (long enough for a loaded
/// machine not to see one where bytes flow), retries come at once.
fn suite_config(rig: &Rig) -> Config {
    Config { stall_timeout_ms: 1_000, retry_backoff_ms: 10, max_attempts: 3, ..rig.config() }
}

/// Library files by relative path, split into (final name -> sha256, leftovers such as
/// `.part` and `.part.validator`).
fn library_state(rig: &Rig) -> (BTreeMap<String, String>, Vec<String>) {
    let files = rig.library_files();
    let mut leftovers = Vec::new();
    walk(&rig.library(), &mut |p| {
        let name = p.to_string_lossy();
        if name.ends_with(".part") || name.ends_with(".validator") {
            leftovers.push(name.into_owned());
        }
    });
    let complete = files.into_iter().filter(|(p, _)| !p.ends_with(".part") && !p.ends_with(".m3u")).collect();
    (complete, leftovers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_on_the_first_attempt_ends_with_correct_files_resumed_not_restarted() {
    // 1 MB/s per connection keeps the bytes a client drops (a wrong range) near one burst
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(1_000_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("faulty", 10, SIZE);
    let faults: [(u32, Fault); 8] = [
        (1, Fault::Stall { after_bytes: 150_000 }),
        (2, Fault::Reset { after_bytes: 120_000 }),
        (3, Fault::ShortBody { after_bytes: 200_000 }),
        (4, Fault::Status(500)),
        (5, Fault::Status(503)),
        (6, Fault::Status(408)),
        (7, Fault::RetryAfter { status: 429, retry_after_s: 1 }),
        (8, Fault::WrongContentRange { shift: 50_000 }),
    ];
    for (n, fault) in faults {
        server.set_fault(&format!("/faulty/{n}.mp3"), fault, Some(1));
    }
    let p = rig.add(&feed);
    let job = rig.engine_with(suite_config(&rig)).enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let ran = rig.engine_with(suite_config(&rig)).run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)], "{:?}", rig.store.stage_items(job, 1).unwrap());

    let (files, leftovers) = library_state(&rig);
    assert!(leftovers.is_empty(), "no partial file is left: {leftovers:?}");
    assert_eq!(files.len(), 10, "{files:?}");
    let manifest = server.manifest();
    let mut expected: Vec<&String> = manifest.values().map(|m| &m.sha256_hex).collect();
    let mut got: Vec<&String> = files.values().collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "every file under a final name has the server's sha256");
    for (_, w) in rig.store.stage_items(job, 1).unwrap() {
        assert_eq!(w.status, WorkStatus::Done, "{w:?}");
    }

    let stats = server.stats();
    for (n, fault) in faults {
        let path = format!("/faulty/{n}.mp3");
        assert!(
            stats.requests_for(&path) >= 2,
            "{path} ({fault:?}) was retried: {:?}",
            stats.ranges_for(&path)
        );
        if matches!(fault, Fault::Stall { .. } | Fault::Reset { .. } | Fault::ShortBody { .. }) {
            assert_eq!(
                stats.from_zero_for(&path),
                1,
                "{path} ({fault:?}) resumed with a Range, never from 0 again: {:?}",
                stats.ranges_for(&path)
            );
            // bytes in flight when the connection broke may be sent again, not the whole file
            assert!(
                stats.body_bytes_for(&path) <= SIZE + SIZE / 20,
                "{path} ({fault:?}): {} bytes sent",
                stats.body_bytes_for(&path)
            );
        }
    }
    let payload: u64 = manifest.values().map(|m| m.size).sum();
    let media_sent: u64 = manifest.values().map(|m| stats.body_bytes_for(m.url.path())).sum();
    println!("fault suite: {media_sent} media bytes sent for a payload of {payload}");
    assert!(
        media_sent * 100 <= payload * 105,
        "at most 5 % above the payload: {media_sent} bytes sent for {payload} ({:.2} %)",
        (media_sent as f64 / payload as f64 - 1.0) * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_on_the_resume_request_too_still_ends_with_a_correct_file() {
    // the first request is cut, and the Range request that resumes it is answered with the
    // wrong range: the part must not take those bytes
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("twice", 2, SIZE);
    let cut = server.clone();
    server.set_fault("/twice/1.mp3", Fault::Reset { after_bytes: 100_000 }, Some(1));
    let p = rig.add(&feed);
    let engine = rig.engine_with(suite_config(&rig));
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    // arm the second fault once the first one fired
    let armer = tokio::spawn(async move {
        while cut.stats().requests_for("/twice/1.mp3") == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        cut.set_fault("/twice/1.mp3", Fault::WrongContentRange { shift: 1_000 }, Some(1));
    });
    let ran = engine.run_queued().await.unwrap();
    armer.await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Succeeded)], "{:?}", rig.store.stage_items(job, 1).unwrap());
    let (files, leftovers) = library_state(&rig);
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let manifest = server.manifest();
    let mut expected: Vec<&String> = manifest.values().map(|m| &m.sha256_hex).collect();
    let mut got: Vec<&String> = files.values().collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failures_fail_their_item_once_with_the_reason_and_the_rest_completes() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("gone", 5, 50_000);
    server.set_fault("/gone/2.mp3", Fault::Status(404), None);
    server.set_fault("/gone/4.mp3", Fault::Status(410), None);
    let p = rig.add(&feed);
    let job = rig.engine_with(suite_config(&rig)).enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let ran = rig.engine_with(suite_config(&rig)).run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Failed)], "a job with failed items ends failed");

    let items = rig.store.playlist_items(p).unwrap();
    let by_episode: BTreeMap<String, _> = rig
        .store
        .stage_items(job, 1)
        .unwrap()
        .into_iter()
        .map(|(id, w)| {
            let url = items.iter().find(|e| e.id == id).unwrap().item.enclosure.clone().unwrap().url;
            (url.rsplit('/').next().unwrap().to_owned(), w)
        })
        .collect();
    for (episode, status) in [("2.mp3", "404"), ("4.mp3", "410")] {
        let w = &by_episode[episode];
        assert_eq!(w.status, WorkStatus::Failed, "{episode}: {w:?}");
        let reason = w.last_error.as_deref().unwrap_or_default();
        assert!(
            reason.contains(status) && reason.contains(&format!("/gone/{episode}")),
            "{episode}: the status and the URL: {reason}"
        );
        assert_eq!(
            server.stats().requests_for(&format!("/gone/{episode}")),
            1,
            "{episode}: final, not retried"
        );
    }
    for episode in ["1.mp3", "3.mp3", "5.mp3"] {
        assert_eq!(by_episode[episode].status, WorkStatus::Done, "{episode}");
    }
    let (files, leftovers) = library_state(&rig);
    assert!(leftovers.is_empty(), "a final failure before any byte leaves nothing: {leftovers:?}");
    assert_eq!(files.len(), 3, "{files:?}");
    let job_row = rig.store.job(job).unwrap();
    assert_eq!(job_row.stages[1].error.as_deref(), Some("2 of 5 items failed"));
}

/// A fresh catalog over `first`'s library, as if a crash had lost every record: `feed` added,
/// synced and downloaded, which succeeds. Returns the catalog and the playlist's id.
async fn with_records_lost(first: &Rig, feed: &url::Url) -> (Rig, u64) {
    let second = Rig::new();
    let p = second.add(feed);
    let config = Config { library: first.library(), ..suite_config(&second) };
    let job = second.engine_with(config.clone()).enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    assert_eq!(second.engine_with(config).run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);
    (second, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_file_whose_record_was_lost_in_a_crash_is_recorded_not_fetched_again() {
    // a crash between the rename that ends a transfer and the commit that records it leaves
    // complete files under final names and no file rows: here, a whole catalog lost
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let first = Rig::new();
    let feed = server.add_podcast("kept", 3, 60_000);
    first.add(&feed);
    assert_eq!(first.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let on_disk = first.library_files();
    assert_eq!(on_disk.len(), 3);
    // a part beside a final name means a transfer was under way: that file is not adopted
    let (busy, _) = on_disk.iter().next().unwrap();
    std::fs::write(first.library().join(format!("{busy}.part")), b"partial").unwrap();

    server.reset_stats();
    let (second, p) = with_records_lost(&first, &feed).await;
    let stats = server.stats();
    let media_requests: u64 = server.manifest().values().map(|m| stats.requests_for(m.url.path())).sum();
    assert_eq!(media_requests, 1, "only the file with a part beside it is fetched: {:?}", stats.requests);
    for entry in second.store.playlist_items(p).unwrap() {
        let file = entry.file.expect("every item recorded");
        if file.path == busy.replace(".mp3", " (2).mp3") {
            continue; // the fresh copy
        }
        assert_eq!(on_disk.get(&file.path), Some(&file.sha256), "{file:?} adopted with its sha256");
    }
    let files: Vec<String> = first.library_files().into_keys().filter(|p| !p.ends_with(".part")).collect();
    assert_eq!(files.len(), 4, "the three adopted files and the fresh copy beside the busy one: {files:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_titled_files_whose_records_were_lost_are_each_adopted_by_the_item_of_their_size() {
    // three episodes with one title share a name: `Same.mp3`, `Same (2).mp3`, `Same (3).mp3`,
    // given in whatever order the first run's workers took them; their declared lengths are
    // right, and they tell the files apart once the records are lost
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media: Vec<_> = [10_000, 20_000, 30_000]
        .iter()
        .enumerate()
        .map(|(i, &n)| server.add_media(&format!("/same/{i}.mp3"), n))
        .collect();
    let items: String = media
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "<item><title>Same</title><guid>same-{i}</guid><enclosure url=\"{}\" length=\"{}\" \
                 type=\"audio/mpeg\"/></item>",
                m.url, m.size
            )
        })
        .collect();
    let xml = format!("<rss version=\"2.0\"><channel><title>Same</title>{items}</channel></rss>");
    let feed = server.add_feed("/same/feed.xml", xml.into_bytes(), "application/rss+xml");
    let first = Rig::new();
    first.add(&feed);
    assert_eq!(first.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let on_disk = first.library_files();
    assert_eq!(on_disk.len(), 3, "{on_disk:?}");

    server.reset_stats();
    let (second, p) = with_records_lost(&first, &feed).await;
    let stats = server.stats();
    let requests: u64 = media.iter().map(|m| stats.requests_for(m.url.path())).sum();
    assert_eq!(requests, 0, "every file adopted, none fetched again: {:?}", stats.requests);
    for entry in second.store.playlist_items(p).unwrap() {
        let file = entry.file.expect("every item recorded");
        let url = entry.item.enclosure.expect("an enclosure").url;
        let m = media.iter().find(|m| m.url.as_str() == url).unwrap();
        assert_eq!((file.size, file.sha256.as_str()), (m.size, m.sha256_hex.as_str()), "{url}: its own file");
        assert_eq!(on_disk.get(&file.path), Some(&m.sha256_hex), "{file:?}");
    }
    assert_eq!(first.library_files().len(), 3, "no copy beside them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_that_fail_once_sync_on_a_retry_and_one_that_always_stalls_fails_alone() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let slugs = ["f-stall", "f-reset", "f-500", "f-short", "f-forever"];
    let ids: Vec<u64> = slugs.iter().map(|s| rig.add(&server.add_podcast(s, 2, 1_000))).collect();
    server.set_fault("/f-stall/feed.xml", Fault::Stall { after_bytes: 200 }, Some(1));
    server.set_fault("/f-reset/feed.xml", Fault::Reset { after_bytes: 200 }, Some(1));
    server.set_fault("/f-500/feed.xml", Fault::Status(500), Some(1));
    server.set_fault("/f-short/feed.xml", Fault::ShortBody { after_bytes: 200 }, Some(1));
    server.set_fault("/f-forever/feed.xml", Fault::Stall { after_bytes: 0 }, None);
    let engine = rig.engine_with(suite_config(&rig));
    let job = engine.enqueue(JobKind::SyncOnly, vec![]).await.unwrap();
    let ran = tokio::time::timeout(std::time::Duration::from_secs(60), engine.run_queued())
        .await
        .expect("a feed that never answers does not hold the sync")
        .unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Failed)], "one playlist failed");
    let work: BTreeMap<u64, _> = rig.store.stage_items(job, 0).unwrap().into_iter().collect();
    for (slug, id) in slugs.iter().zip(&ids).take(4) {
        assert_eq!(work[id].status, WorkStatus::Done, "{slug}: {:?}", work[id]);
        assert_eq!(rig.store.playlist_items(*id).unwrap().len(), 2, "{slug}");
        assert_eq!(
            server.stats().requests_for(&format!("/{slug}/feed.xml")),
            2,
            "{slug}: failed once, then fetched"
        );
    }
    let stuck = &work[&ids[4]];
    assert_eq!(stuck.status, WorkStatus::Failed);
    let reason = stuck.last_error.as_deref().unwrap_or_default();
    assert!(reason.contains("stalled") && reason.contains("attempt 3/3"), "{reason}");
    assert_eq!(server.stats().requests_for("/f-forever/feed.xml"), 3, "every attempt used");
}
