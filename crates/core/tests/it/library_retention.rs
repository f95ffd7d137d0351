//! Retention (issue 16, part 2) on a real store and library: files downloaded over loopback
//! from the testkit server, then a playlist's rule applied. Covers each never-delete rule (a
//! "keep" mark, another playlist's reference, a job's reference, a file changed on disk, a
//! file the catalog never recorded), the dry run, that a deleted item is not downloaded again
//! until marked "keep", the run after a download stage with the M3U refresh, and a crash
//! between recording the decision and deleting the files (the decision is recorded, the
//! process "dies", the next start finishes).

use std::path::Path;

use catalog_sync_core::config::{Config, Retention};
use catalog_sync_core::library::retention;
use catalog_sync_core::store::refs::Holder;
use catalog_sync_core::store::{JobKind, JobStatus, Store};
use catalog_sync_testkit::{ServerConfig, TestServer};

use crate::jobs_engine::Rig;

/// A feed at `path` whose item `n` (oldest first) has pubDate `n+1` Jan 2024 and media
/// `urls[n]`, without guids (items are known by enclosure URL, so two feeds can share one).
fn feed(server: &TestServer, path: &str, title: &str, urls: &[&url::Url]) -> url::Url {
    let mut xml = format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>");
    for (n, url) in urls.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{title} {n}</title><pubDate>Mon, {:02} Jan 2024 00:00:00 GMT</pubDate><enclosure url=\"{url}\" type=\"audio/mpeg\"/></item>",
            n + 1
        ));
    }
    xml.push_str("</channel></rss>");
    server.add_feed(path, xml.into_bytes(), "application/rss+xml")
}

/// Every item of the catalog with a file has it on disk (the invariant a crash must keep).
fn catalog_files_exist(store: &Store, library: &Path, playlist: u64) {
    for e in store.playlist_items(playlist).unwrap() {
        if let Some(f) = e.file {
            assert!(library.join(&f.path).is_file(), "the catalog claims {} but it is missing", f.path);
        }
    }
}

fn ids(files: &[retention::RemovedFile]) -> Vec<u64> {
    files.iter().map(|f| f.item).collect()
}

const NOW_MS: i64 = 1_800_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_newest_deletes_only_what_no_rule_protects_and_never_downloads_it_again() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media: Vec<_> =
        (0..6).map(|n| server.add_media(&format!("/m/{n}.mp3"), 10_000 + n * 1_000)).collect();
    let urls: Vec<&url::Url> = media.iter().map(|m| &m.url).collect();
    let a = rig.add(&feed(&server, "/a.xml", "A", &urls));
    let b = rig.add(&feed(&server, "/b.xml", "B", &urls[..1]));
    let engine = rig.engine();
    engine.set_playlist_wanted(a, true, false).await.unwrap();
    engine.set_playlist_wanted(b, true, false).await.unwrap();
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let items: Vec<u64> = rig.store.playlist_items(a).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(rig.store.playlist_items(b).unwrap()[0].id, items[0], "item 0 is in both playlists");
    let lib = rig.library();
    let path_of = |i: usize| rig.store.item_file(items[i]).unwrap().map(|f| lib.join(f.path));
    // item 0: B wants it; 1: marked keep; 2: changed on disk; 3: a job references it;
    // 4: nothing protects it; 5: the newest, kept by the rule
    rig.store.set_item_keep(items[1], true).unwrap();
    let changed = path_of(2).unwrap();
    std::fs::write(&changed, b"the user's own recording").unwrap();
    rig.store.add_reference(items[3], Holder::Job(77)).unwrap();
    let stranger = lib.join("A/not-ours.mp3");
    std::fs::create_dir_all(stranger.parent().unwrap()).unwrap();
    std::fs::write(&stranger, vec![7u8; 50_000]).unwrap();
    rig.store.set_playlist_retention(a, Some(Retention::KeepNewest { count: 1 })).unwrap();
    let victim = path_of(4).unwrap();

    let preview = retention::run(&rig.store, &lib, Retention::KeepAll, &[], NOW_MS, None, true).unwrap();
    assert_eq!(ids(&preview.removed), vec![items[4]]);
    assert_eq!(preview.bytes_freed, 14_000);
    assert!(
        victim.is_file() && rig.store.item_file(items[4]).unwrap().is_some(),
        "a dry run changes nothing"
    );
    let mut spared: Vec<(u64, String)> = preview.spared.iter().map(|s| (s.item, s.reason.clone())).collect();
    spared.sort();
    assert_eq!(
        spared,
        vec![
            (items[0], format!("playlist {b} wants it")),
            (items[1], "marked keep".to_string()),
            (items[2], "changed on disk (not ours)".to_string()),
            (items[3], "job 77 references it".to_string()),
        ]
    );

    let report = retention::run(&rig.store, &lib, Retention::KeepAll, &[], NOW_MS, None, false).unwrap();
    assert_eq!((ids(&report.removed), report.bytes_freed, report.dry_run), (vec![items[4]], 14_000, false));
    assert!(!victim.exists(), "the file is gone");
    assert!(rig.store.item_file(items[4]).unwrap().is_none());
    assert!(rig.store.removed_items().unwrap().contains(&items[4]));
    for i in [0, 1, 2, 3, 5] {
        assert!(path_of(i).unwrap().is_file(), "item {i} stays");
    }
    assert!(stranger.is_file(), "a file the catalog never recorded is never touched");
    catalog_files_exist(&rig.store, &lib, a);
    let again = retention::run(&rig.store, &lib, Retention::KeepAll, &[], NOW_MS, None, false).unwrap();
    assert!(again.removed.is_empty() && again.bytes_freed == 0, "{again:?}");

    // a sync and download does not fetch the deleted item again
    let fetched = server.stats().requests_for("/m/4.mp3");
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    assert_eq!(server.stats().requests_for("/m/4.mp3"), fetched, "not downloaded again");
    assert!(rig.store.item_file(items[4]).unwrap().is_none());
    // until the user asks for it: "keep" forgets the deletion, the next download fetches it
    assert!(rig.store.set_item_keep(items[4], true).unwrap(), "the deletion is forgotten");
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    assert!(path_of(4).is_some_and(|p| p.is_file()), "downloaded again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_rule_runs_after_each_download_stage_and_refreshes_the_m3u() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media: Vec<_> = (0..3).map(|n| server.add_media(&format!("/d/{n}.mp3"), 8_000)).collect();
    let urls: Vec<&url::Url> = media.iter().map(|m| &m.url).collect();
    let a = rig.add(&feed(&server, "/a.xml", "Show", &urls));
    let config = Config { retention: Retention::KeepNewest { count: 1 }, ..rig.config() };
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);
    let entries = rig.store.playlist_items(a).unwrap();
    let kept: Vec<usize> = (0..3).filter(|&i| entries[i].file.is_some()).collect();
    assert_eq!(kept, vec![2], "only the newest stays");
    let files = rig.library_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let m3u: Vec<_> = std::fs::read_dir(rig.library())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "m3u"))
        .collect();
    assert_eq!(m3u.len(), 1, "{m3u:?}");
    let m3u = std::fs::read_to_string(&m3u[0]).unwrap();
    let listed: Vec<&str> = m3u.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert_eq!(listed.len(), 1, "the M3U lists only what stays: {m3u}");
    assert!(entries[2].file.as_ref().unwrap().path.ends_with(listed[0]), "{m3u}");
    let log = rig.store.job_log(job).unwrap();
    assert!(
        log.iter().any(|(_, l)| l.text.contains("retention removed 2 files (16000 bytes freed)")),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_decision_and_deletion_leaves_no_missing_file_and_the_next_start_finishes() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media: Vec<_> = (0..3).map(|n| server.add_media(&format!("/c/{n}.mp3"), 9_000)).collect();
    let urls: Vec<&url::Url> = media.iter().map(|m| &m.url).collect();
    let a = rig.add(&feed(&server, "/a.xml", "C", &urls));
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let lib = rig.library();
    let rule = Retention::OlderThanDays { days: 1 };
    // the run's first two steps: decide, record; then the process dies before deleting
    let plan = retention::plan(&rig.store, &lib, rule, &[a], NOW_MS, None).unwrap();
    assert_eq!(plan.removals.len(), 3);
    let recorded = retention::record(&rig.store, &plan, NOW_MS).unwrap();
    assert_eq!(recorded.len(), 3);
    catalog_files_exist(&rig.store, &lib, a);
    assert_eq!(rig.library_files().len(), 3, "the files are still on disk");
    assert_eq!(rig.store.pending_removals().unwrap().len(), 3);
    // the next start (a fresh engine's first run) finishes the deletions
    let engine = rig.engine();
    engine.run_queued().await.unwrap();
    assert!(rig.library_files().is_empty(), "{:?}", rig.library_files());
    assert!(rig.store.pending_removals().unwrap().is_empty());
    assert_eq!(rig.store.removed_items().unwrap().len(), 3);
    // and a clean run after a crash reports what it finished
    let plan = retention::plan(&rig.store, &lib, rule, &[a], NOW_MS, None).unwrap();
    assert!(plan.removals.is_empty());
}
