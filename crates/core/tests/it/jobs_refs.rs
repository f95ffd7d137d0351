//! Reference-counted cancel and library placement, end to end: a real redb file, real HTTP
//! from the testkit server (throttled so a transfer is surely in flight), two feeds listing
//! one enclosure URL (one item in two playlists), and an injected free-space probe that
//! simulates full disks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::download::space::SpaceProbe;
use catalog_sync_core::jobs::Engine;
use catalog_sync_core::store::commands::JobCommand;
use catalog_sync_core::store::refs::Holder;
use catalog_sync_core::store::{JobKind, JobStatus, WorkStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

use crate::jobs_engine::{walk, Rig};

/// A feed at `path` listing `media_urls` without guids, so items are known by enclosure URL.
fn feed_without_guids(server: &TestServer, path: &str, title: &str, media_urls: &[&url::Url]) -> url::Url {
    let mut xml = format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>");
    for (n, url) in media_urls.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{title} {n}</title><pubDate>Mon, 0{} Jan 2024 00:00:00 GMT</pubDate><enclosure url=\"{url}\" type=\"audio/mpeg\"/></item>",
            n + 1
        ));
    }
    xml.push_str("</channel></rss>");
    server.add_feed(path, xml.into_bytes(), "application/rss+xml")
}

/// Bytes of the one `.part` file under `dir`, if any.
fn part_bytes(dir: &Path) -> Option<u64> {
    let mut found = None;
    walk(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == "part") {
            found = Some(std::fs::metadata(p).unwrap().len());
        }
    });
    found
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Waits until the part grows past its current size: the transfer is alive.
async fn still_flowing(lib: &Path, what: &str) {
    let now = part_bytes(lib).expect("a part");
    wait_for(what, || part_bytes(lib).is_some_and(|b| b > now + 20_000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_item_downloads_until_its_last_reference_goes() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(200_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    let media = server.add_media("/shared.mp3", 6_000_000);
    let a = rig.add(&feed_without_guids(&server, "/a.xml", "A", &[&media.url]));
    let b = rig.add(&feed_without_guids(&server, "/b.xml", "B", &[&media.url]));
    rig.run(JobKind::SyncOnly, vec![]).await;
    let item = rig.store.playlist_items(a).unwrap()[0].id;
    assert_eq!(rig.store.playlist_items(b).unwrap()[0].id, item, "one item in two playlists");
    let engine = rig.engine();
    engine.set_playlist_wanted(a, true, false).await.unwrap();
    engine.set_playlist_wanted(b, true, false).await.unwrap();
    let job = engine.enqueue(JobKind::DownloadOnly, vec![]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let lib = rig.library();
    wait_for("a transfer in flight", || part_bytes(&lib).is_some_and(|b| b > 50_000)).await;
    assert_eq!(
        rig.store.references(item).unwrap(),
        vec![Holder::Playlist(a), Holder::Playlist(b), Holder::Job(job)]
    );
    // cancelling the job drops its reference only: both playlists still want the item
    engine.command(job, JobCommand::Cancel).await.unwrap();
    still_flowing(&lib, "the download to go on after the job's cancel").await;
    engine.set_playlist_wanted(a, false, true).await.unwrap();
    still_flowing(&lib, "the download to go on while playlist B wants it").await;
    assert_eq!(rig.store.references(item).unwrap(), vec![Holder::Playlist(b)]);
    // the last reference goes: the transfer stops, and with delete asked its part goes too
    engine.set_playlist_wanted(b, false, true).await.unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the job ends once nothing wants the item")
        .unwrap()
        .unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Cancelled)]);
    let work = rig.store.stage_items(job, 0).unwrap();
    assert_eq!(
        work.iter().map(|(t, w)| (*t, w.status)).collect::<Vec<_>>(),
        vec![(item, WorkStatus::Cancelled)]
    );
    assert!(server.stats().body_bytes_for("/shared.mp3") < 6_000_000, "stopped before the end");
    assert!(rig.library_files().is_empty(), "no file and no part left: {:?}", rig.library_files());
    assert!(rig.store.item_file(item).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unselecting_playlists_deletes_a_file_only_when_nothing_wants_it() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let shared = server.add_media("/s.mp3", 30_000);
    let own = server.add_media("/own.mp3", 20_000);
    let a = rig.add(&feed_without_guids(&server, "/a.xml", "A", &[&shared.url, &own.url]));
    let b = rig.add(&feed_without_guids(&server, "/b.xml", "B", &[&shared.url]));
    let engine = rig.engine();
    engine.set_playlist_wanted(a, true, false).await.unwrap();
    engine.set_playlist_wanted(b, true, false).await.unwrap();
    let (job, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(rig.library_files().len(), 2);
    let items = rig.store.playlist_items(a).unwrap();
    let (shared_id, own_id) = (items[0].id, items[1].id);
    assert!(
        !rig.store.references(shared_id).unwrap().contains(&Holder::Job(job)),
        "an ended job holds nothing"
    );
    let dropped = engine.set_playlist_wanted(a, false, true).await.unwrap();
    assert_eq!(dropped.orphans, vec![own_id]);
    let files = rig.library_files();
    assert_eq!(files.values().collect::<Vec<_>>(), vec![&shared.sha256_hex], "B still wants the shared file");
    assert!(rig.store.item_file(own_id).unwrap().is_none());
    engine.set_playlist_wanted(b, false, true).await.unwrap();
    assert!(rig.library_files().is_empty());
    assert!(rig.store.item_file(shared_id).unwrap().is_none(), "the orphan's file row goes with it");
}

/// Free space by root; anything else has plenty.
#[derive(Debug)]
struct FakeSpace(HashMap<PathBuf, u64>);

impl SpaceProbe for FakeSpace {
    fn available(&self, path: &Path) -> std::io::Result<u64> {
        let known = self.0.iter().filter(|(root, _)| path.starts_with(root)).map(|(_, free)| *free).next();
        Ok(known.unwrap_or(u64::MAX))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_library_overflows_to_the_next_root_or_fails_as_disk_full() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    // declared lengths 50 000 bytes (add_podcast declares the true size)
    let p = rig.add(&server.add_podcast("big", 2, 50_000));
    let overflow = rig.dir.path().join("overflow");
    let config =
        catalog_sync_core::config::Config { overflow_libraries: vec![overflow.clone()], ..rig.config() };
    let full: Arc<dyn SpaceProbe> = Arc::new(FakeSpace([(rig.library(), 10_000)].into()));
    let engine: Engine = rig.engine_with(config.clone()).with_space_probe(full);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);
    assert!(rig.library_files().is_empty(), "nothing lands in the full library");
    for entry in rig.store.playlist_items(p).unwrap() {
        let file = entry.file.expect("downloaded");
        assert_eq!(rig.store.item_file_root(entry.id).unwrap().as_deref(), Some(overflow.as_path()));
        assert_eq!(std::fs::metadata(overflow.join(&file.path)).unwrap().len(), 50_000);
    }
    // the playlist's M3U (in the library) lists the overflow files by absolute path
    let m3u = std::fs::read_to_string(rig.library().join("Podcast big.m3u")).unwrap();
    let listed: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(listed.len(), 2, "{m3u}");
    assert!(listed.iter().all(|l| Path::new(l).is_absolute() && Path::new(l).is_file()), "{m3u}");
    // every root full: the item fails with the final class disk_full and no file at all
    let q = rig.add(&server.add_podcast("more", 1, 50_000));
    let all_full: Arc<dyn SpaceProbe> =
        Arc::new(FakeSpace([(rig.library(), 10_000), (overflow.clone(), 20_000)].into()));
    let engine = rig.engine_with(config).with_space_probe(all_full);
    let job = engine.enqueue(JobKind::SyncDownload, vec![q]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Failed)]);
    let (_, work) = rig.store.stage_items(job, 1).unwrap().pop().unwrap();
    let error = work.last_error.unwrap();
    assert!(error.starts_with("disk_full: 50000 bytes needed, 20000 available under"), "{error}");
    assert_eq!(
        server.stats().requests_for("/more/1.mp3"),
        0,
        "no byte is fetched for a disk that cannot hold it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_declared_length_is_advice_and_the_real_content_length_decides() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media = server.add_media("/absurd.mp3", 50_000);
    let xml = format!(
        "<rss version=\"2.0\"><channel><title>A</title><item><title>one</title><guid>a1</guid>\
         <enclosure url=\"{}\" length=\"99999999999999\" type=\"audio/mpeg\"/></item></channel></rss>",
        media.url
    );
    let p = rig.add(&server.add_feed("/absurd.xml", xml.into_bytes(), "application/rss+xml"));
    // 10 MB free: far less than the declared 100 TB, plenty for the real 50 kB
    let small: Arc<dyn SpaceProbe> = Arc::new(FakeSpace([(rig.library(), 10_000_000)].into()));
    let engine = rig.engine().with_space_probe(small);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);
    let files: Vec<String> = rig.library_files().into_values().collect();
    assert_eq!(files, [media.sha256_hex]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_larger_than_declared_never_leaves_a_file_under_its_final_name() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    // the feed declares no length, so the check before the transfer passes; the response's
    // Content-Length (400 000) does not fit the 100 000 bytes left
    let media = server.add_media("/huge.mp3", 400_000);
    let p = rig.add(&feed_without_guids(&server, "/h.xml", "H", &[&media.url]));
    let tight: Arc<dyn SpaceProbe> = Arc::new(FakeSpace([(rig.library(), 100_000)].into()));
    let engine = rig.engine().with_space_probe(tight);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Failed)]);
    let (_, work) = rig.store.stage_items(job, 1).unwrap().pop().unwrap();
    let error = work.last_error.unwrap();
    assert!(error.contains("(attempt 1/2, disk_full: 400000 bytes needed, 100000 available"), "{error}");
    let mut names = Vec::new();
    walk(&rig.library(), &mut |p| names.push(p.to_path_buf()));
    assert!(!names.iter().any(|p| p.extension().is_some_and(|e| e == "mp3")), "{names:?}");
    assert!(rig.store.playlist_items(p).unwrap()[0].file.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_job_ends_a_transfer_whose_server_hangs_silently() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let p = rig.add(&server.add_podcast("hang", 1, 500_000));
    server.set_fault("/hang/1.mp3", catalog_sync_testkit::Fault::Stall { after_bytes: 100_000 }, None);
    // a 10 min stall window and the default 4 h deadline: only the cancel can end the transfer
    let config = catalog_sync_core::config::Config { stall_timeout_ms: 600_000, ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![p]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let lib = rig.library();
    // the part appears with the first 64 KiB write; the rest waits in the write buffer
    wait_for("the stalled part", || part_bytes(&lib).is_some_and(|b| b > 0)).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // the server is silent by now
    engine.command(job, JobCommand::Cancel).await.unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the cancel ends the silent transfer")
        .unwrap()
        .unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Cancelled)]);
    assert_eq!(part_bytes(&lib), Some(100_000), "the part, flushed, stays for a later resume");
    assert_eq!(server.stats().requests_for("/hang/1.mp3"), 1, "a cancel is not retried");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_transfer_moves_the_file_to_an_overflow_root() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let p = rig.add(&server.add_podcast("fill", 1, 200_000));
    rig.run(JobKind::SyncOnly, vec![p]).await;
    // the library's part of the episode is linked to /dev/full: its writes fail with ENOSPC
    let rel = "Podcast fill/2024-06-01 fill episode 1.mp3";
    std::fs::create_dir_all(rig.library().join("Podcast fill")).unwrap();
    std::os::unix::fs::symlink("/dev/full", rig.library().join(format!("{rel}.part"))).unwrap();
    let overflow = rig.dir.path().join("overflow");
    let config =
        catalog_sync_core::config::Config { overflow_libraries: vec![overflow.clone()], ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::DownloadOnly, vec![p]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);
    let entry = rig.store.playlist_items(p).unwrap().remove(0);
    assert_eq!(entry.file.unwrap().path, rel);
    assert_eq!(rig.store.item_file_root(entry.id).unwrap().as_deref(), Some(overflow.as_path()));
    let got = std::fs::read(overflow.join(rel)).unwrap();
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&got)),
        server.manifest().values().next().unwrap().sha256_hex
    );
    assert!(!rig.library().join(rel).exists(), "nothing under the final name in the full root");
}
