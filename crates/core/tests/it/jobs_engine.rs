//! The job engine end to end: a real redb file, real HTTP over loopback from the testkit
//! server, the real corpus. Each test queues jobs and runs them with `Engine::run_queued`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use catalog_sync_core::catalog::{parse_document, Document};
use catalog_sync_core::clock::SystemClock;
use catalog_sync_core::config::Config;
use catalog_sync_core::jobs::{Engine, Event, ItemOutcome, WorkerRegistry};
use catalog_sync_core::store::{JobKind, JobStatus, Store, WorkStatus};
use catalog_sync_testkit::{corpus_dir, Fault, ServerConfig, TestServer};
use sha2::{Digest, Sha256};

/// A store, a library and an engine in a temp folder, with short watchdog windows.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub events: Arc<Mutex<Vec<Event>>>,
    /// Worker samples of every engine the rig builds (they live in memory).
    pub workers: Arc<WorkerRegistry>,
}

impl Rig {
    pub fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("catalog.redb")).unwrap();
        Rig { dir, store, events: Arc::default(), workers: Arc::default() }
    }

    pub fn library(&self) -> PathBuf {
        self.dir.path().join("library")
    }

    pub fn config(&self) -> Config {
        Config {
            database: self.dir.path().join("catalog.redb"),
            library: self.library(),
            stall_timeout_ms: 2_000,
            retry_backoff_ms: 10,
            max_attempts: 2,
            // 3 transfers at once, 4 per host: tests that stop a stage mid-way need items waiting
            parallel_downloads: 3,
            per_host_connections: 4,
            // tests never reach real index APIs (podcastindex has no key here)
            fyyd_enabled: false,
            ..Config::default()
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine_with(self.config())
    }

    pub fn engine_with(&self, config: Config) -> Engine {
        let events = self.events.clone();
        Engine::new(
            self.store.clone(),
            config,
            Arc::new(SystemClock),
            Arc::new(move |e| events.lock().unwrap().push(e.clone())),
        )
        .with_worker_registry(self.workers.clone())
    }

    pub fn add(&self, url: &url::Url) -> u64 {
        self.store.add_playlist(url.as_str(), None, &[], 0).unwrap().id
    }

    pub async fn run(&self, kind: JobKind, scope: Vec<u64>) -> (u64, JobStatus) {
        let engine = self.engine();
        let job = engine.enqueue(kind, scope).await.unwrap();
        let ran = engine.run_queued().await.unwrap();
        *ran.iter().find(|(id, _)| *id == job).unwrap()
    }

    /// sha256 of every file under the library but the exported `.m3u` playlists and the
    /// `.part.validator` sidecars of partial files, by library-relative path.
    pub fn library_files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        walk(&self.library(), &mut |p| {
            if p.extension().is_some_and(|e| e == "m3u" || e == "validator") {
                return;
            }
            let rel = p.strip_prefix(self.library()).unwrap().to_string_lossy().into_owned();
            out.insert(rel, hex::encode(Sha256::digest(std::fs::read(p).unwrap())));
        });
        out
    }
}

pub fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, f);
        } else {
            f(&path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_download_fetches_every_enclosure_with_the_servers_bytes() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    for slug in ["alpha", "beta", "gamma"] {
        rig.add(&server.add_podcast(slug, 4, 30_000));
    }
    let (_, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let files = rig.library_files();
    assert_eq!(files.len(), 12, "{files:?}");
    let served: HashSet<String> = server.manifest().values().map(|m| m.sha256_hex.clone()).collect();
    let got: HashSet<String> = files.values().cloned().collect();
    assert_eq!(got, served);
    assert!(files.keys().all(|p| !p.ends_with(".part")));
    assert!(
        files.contains_key("Podcast alpha/2024-03-15 alpha episode 1.mp3")
            || files.keys().any(|k| k.starts_with("Podcast alpha/") && k.ends_with("alpha episode 1.mp3")),
        "{files:?}"
    );
    // every file recorded with its sha256; a second run fetches nothing
    let requests = server.stats().total_requests;
    let (_, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(server.stats().total_requests, requests + 3, "only the three feeds are fetched again");
    for (id, _) in rig.store.playlists().unwrap() {
        for entry in rig.store.playlist_items(id).unwrap() {
            let file = entry.file.expect("downloaded");
            assert_eq!(files[&file.path], file.sha256);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_and_a_truncated_download_fail_only_their_items_with_reasons() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("show", 5, 40_000);
    server.set_fault("/show/2.mp3", Fault::Status(404), None);
    server.set_fault("/show/4.mp3", Fault::ShortBody { after_bytes: 10_000 }, None);
    let p = rig.add(&feed);
    let (job, status) = rig.run(JobKind::SyncDownload, vec![p]).await;
    assert_eq!(status, JobStatus::Failed);
    let counts = rig.store.stage_counts(job, 1).unwrap();
    assert_eq!((counts.done, counts.failed), (3, 2));
    let items = rig.store.playlist_items(p).unwrap();
    let errors: BTreeMap<String, String> = rig
        .store
        .stage_items(job, 1)
        .unwrap()
        .into_iter()
        .filter(|(_, w)| w.status == WorkStatus::Failed)
        .map(|(id, w)| {
            (items.iter().find(|e| e.id == id).unwrap().item.title.clone().unwrap(), w.last_error.unwrap())
        })
        .collect();
    assert!(errors["show episode 2"].contains("404"), "{errors:?}");
    assert!(errors["show episode 4"].to_lowercase().contains("incomplete"), "{errors:?}");
    let files = rig.library_files();
    assert_eq!(files.keys().filter(|p| !p.ends_with(".part")).count(), 3, "{files:?}");
    assert!(!files.keys().any(|p| p.ends_with("episode 4.mp3")), "a truncated download never looks complete");
    let job_row = rig.store.job(job).unwrap();
    assert_eq!(job_row.stages[1].error.as_deref(), Some("2 of 5 items failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_mid_body_resumes_with_a_range_request() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let feed = server.add_podcast("cut", 1, 200_000);
    server.set_fault("/cut/1.mp3", Fault::Reset { after_bytes: 64_000 }, Some(1));
    rig.add(&feed);
    let (_, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let stats = server.stats();
    let ranges = stats.ranges_for("/cut/1.mp3");
    assert_eq!(ranges.len(), 1, "{ranges:?}");
    let resumed_from: u64 = ranges[0].strip_prefix("bytes=").unwrap().trim_end_matches('-').parse().unwrap();
    assert!(resumed_from > 0 && resumed_from <= 64_000, "{ranges:?}");
    assert_eq!(
        stats.body_bytes_for("/cut/1.mp3"),
        64_000 + (200_000 - resumed_from),
        "only the remaining bytes are sent again"
    );
    let files = rig.library_files();
    assert_eq!(files.values().next().unwrap(), &server.manifest().values().next().unwrap().sha256_hex);
    let outcome = rig.events.lock().unwrap().iter().find_map(|e| match e {
        Event::DownloadFinished { outcome: ItemOutcome::Downloaded { resumed_from, .. }, .. } => {
            Some(*resumed_from)
        }
        _ => None,
    });
    assert_eq!(outcome, Some(resumed_from));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_download_stage_resumes_without_losing_or_repeating_items() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(400_000), ..Default::default() }).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("slow", 6, 150_000));
    let engine = rig.engine();
    engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let crashed = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    // crash once the first file is complete and others are mid-transfer
    let store = rig.store.clone();
    while store
        .playlists()
        .unwrap()
        .iter()
        .all(|(id, _)| store.playlist_items(*id).unwrap().iter().all(|e| e.file.is_none()))
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    crashed.abort();
    let _ = crashed.await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await; // in-flight store calls settle
    let before: Vec<(u64, bool)> =
        store.playlist_items(1).unwrap().iter().map(|e| (e.id, e.file.is_some())).collect();
    assert!(before.iter().any(|(_, done)| !done), "the crash must leave work behind");
    // restart: a live heartbeat keeps the job from being reaped; once stale, a new engine
    // reaps the running job and finishes it
    let quick_reaper = Config { heartbeat_stale_ms: 300, ..rig.config() };
    assert_eq!(
        rig.engine_with(quick_reaper.clone()).run_queued().await.unwrap(),
        vec![],
        "heartbeat still fresh"
    );
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let ran = rig.engine_with(quick_reaper).run_queued().await.unwrap();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].1, JobStatus::Succeeded);
    let stats = server.stats();
    for (id, done_before) in before {
        let n = store.item(id).unwrap().enclosure.unwrap().url.rsplit('/').next().unwrap().to_string();
        let path = format!("/slow/{n}");
        if done_before {
            assert_eq!(
                stats.requests_for(&path),
                1,
                "{path} was complete before the crash and is not fetched again"
            );
        }
    }
    let files = rig.library_files();
    assert_eq!(files.len(), 6, "{files:?}");
    let served: HashSet<String> = server.manifest().values().map(|m| m.sha256_hex.clone()).collect();
    assert_eq!(files.values().cloned().collect::<HashSet<_>>(), served);
    let job = rig.store.job(1).unwrap();
    assert_eq!(job.runs, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_feed_fails_that_playlist_only_with_a_clear_error() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let good = rig.add(&server.serve_corpus("feeds/gnomepod__2024-03-13-ndr.xml").unwrap());
    let html = rig.add(&server.serve_corpus("feeds/rome__2.rss").unwrap());
    let truncated = rig.add(&server.serve_corpus("feeds/feedrs__rss_2.0_invalid_1.xml").unwrap());
    let empty = rig.add(&server.serve_corpus("feeds/feedparser__illformed_rss_empty_document.xml").unwrap());
    let missing = rig.add(&server.url("/nothing-here.xml"));
    let good2 = rig.add(&server.serve_corpus("playlists/totem__playlist.xspf").unwrap());
    let (job, status) = rig.run(JobKind::SyncOnly, vec![]).await;
    assert_eq!(status, JobStatus::Failed);
    let work: BTreeMap<u64, _> = rig.store.stage_items(job, 0).unwrap().into_iter().collect();
    for (id, needle) in
        [(html, "not a feed"), (truncated, "malformed"), (empty, "empty"), (missing, "HTTP 404")]
    {
        let w = &work[&id];
        assert_eq!(w.status, WorkStatus::Failed);
        let url = rig.store.playlist(id).unwrap().url;
        let err = w.last_error.as_deref().unwrap();
        assert!(err.starts_with(&format!("playlist {id} {url}: ")) && err.contains(needle), "{err}");
        assert!(rig.store.playlist(id).unwrap().last_error.is_some());
    }
    for id in [good, good2] {
        assert_eq!(work[&id].status, WorkStatus::Done);
        assert!(!rig.store.playlist_items(id).unwrap().is_empty());
    }
}

fn keys_of(bytes: &[u8], url: &url::Url, playlist: u64) -> HashSet<String> {
    let Document::Playlist(doc) = parse_document(bytes, url).unwrap() else { panic!("a feed") };
    doc.items.iter().map(|i| catalog_sync_core::store::items::scoped_key(playlist, i)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_saved_copies_of_a_show_sync_one_after_the_other_without_duplicates() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    for (old, new) in [
        ("gnomepod__2018-01-20-Intercepted.xml", "gnomepod__2018-02-03-Intercepted.xml"),
        ("gnomepod__2024-03-13-ndr.xml", "gnomepod__2024-03-14-ndr.xml"),
        ("gnomepod__2022-01-10-deprogram.xml", "gnomepod__2026-02-13-deprogram.xml"),
    ] {
        let rig = Rig::new();
        let path = format!("/{old}");
        let bytes_old = std::fs::read(corpus_dir().join("feeds").join(old)).unwrap();
        let bytes_new = std::fs::read(corpus_dir().join("feeds").join(new)).unwrap();
        let url = server.add_feed(&path, bytes_old.clone(), "application/rss+xml");
        let p = rig.add(&url);
        rig.run(JobKind::SyncOnly, vec![p]).await;
        server.add_feed(&path, bytes_new.clone(), "application/rss+xml");
        rig.run(JobKind::SyncOnly, vec![p]).await;
        let union: HashSet<String> =
            keys_of(&bytes_old, &url, p).union(&keys_of(&bytes_new, &url, p)).cloned().collect();
        let items = rig.store.playlist_items(p).unwrap();
        let stored: HashSet<String> = items.iter().map(|e| e.item.key.clone()).collect();
        assert_eq!(items.len(), stored.len(), "{old}: no item twice");
        assert_eq!(stored, union, "{old} then {new}");
        let synced: Vec<u32> = rig
            .events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::PlaylistSynced { new_items, .. } => Some(*new_items),
                _ => None,
            })
            .collect();
        let new_keys = keys_of(&bytes_new, &url, p).difference(&keys_of(&bytes_old, &url, p)).count() as u32;
        assert_eq!(synced[1], new_keys, "{new}: only items missing from {old} are new");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_titles_land_inside_the_library_with_safe_names() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let long = "x".repeat(300);
    let titles = [
        "../../etc/passwd",
        "CON",
        long.as_str(),
        "🎧 Émission spéciale 🚀",
        "a/b\\c:d",
        "..",
        "con.mp3",
        "   ",
    ];
    let mut xml =
        String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>../../evil/..</title>");
    for (n, title) in titles.iter().enumerate() {
        let media = server.add_media(&format!("/h/{n}.mp3"), 1_000 + n as u64);
        xml.push_str(&format!(
            "<item><title>{}</title><guid>g{n}</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate><enclosure url=\"{}\" length=\"1\" type=\"audio/mpeg\"/></item>",
            catalog_sync_testkit::xml_escape(title),
            media.url
        ));
    }
    xml.push_str("</channel></rss>");
    rig.add(&server.add_feed("/hostile.xml", xml.into_bytes(), "application/rss+xml"));
    let (_, status) = rig.run(JobKind::SyncDownload, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let files = rig.library_files();
    assert_eq!(files.len(), titles.len(), "{files:?}");
    let root = rig.library().canonicalize().unwrap();
    walk(&rig.library(), &mut |p| {
        let real = p.canonicalize().unwrap();
        assert!(real.starts_with(&root), "{} escapes the library", p.display());
        for c in p.strip_prefix(rig.library()).unwrap().components() {
            let name = c.as_os_str().to_str().expect("UTF-8 names");
            assert!(
                name.len() <= 200 && !name.contains(['/', '\\', ':']) && name != ".." && name != ".",
                "{name}"
            );
            let stem = name.split('.').next().unwrap().to_ascii_uppercase();
            assert!(!["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str()), "{name}");
        }
    });
    assert!(!rig.dir.path().join("etc").exists() && !rig.dir.path().join("evil").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_of_a_file_that_changed_on_the_server_is_not_resumed() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    rig.add(&server.add_podcast("chg", 1, 100_000));
    server.set_fault("/chg/1.mp3", Fault::Reset { after_bytes: 30_000 }, Some(1));
    let one_try = Config { max_attempts: 1, ..rig.config() };
    let job = rig.engine_with(one_try.clone()).enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    rig.engine_with(one_try).run_queued().await.unwrap();
    assert_eq!(rig.store.stage_counts(job, 1).unwrap().failed, 1, "the cut attempt failed, leaving a part");
    // the publisher replaces the file: new bytes, new ETag
    let replaced = server.add_media("/chg/1.mp3", 120_000);
    server.reset_stats();
    let (_, status) = rig.run(JobKind::DownloadOnly, vec![]).await;
    assert_eq!(status, JobStatus::Succeeded);
    let stats = server.stats();
    assert_eq!(stats.ranges_for("/chg/1.mp3").len(), 1, "a resume was attempted");
    assert_eq!(
        stats.body_bytes_for("/chg/1.mp3"),
        120_000,
        "If-Range made the server send the new file whole"
    );
    let files = rig.library_files();
    assert_eq!(files.values().collect::<Vec<_>>(), vec![&replaced.sha256_hex]);
}
