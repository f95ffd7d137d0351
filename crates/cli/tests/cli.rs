//! `catalog-sync` end to end: the real binary against the testkit server over loopback, on
//! corpus feeds, with a real redb file and library in a temp folder. One test binary for the
//! crate (ARCHITECTURE.md, convention 14); the SIGKILL crash test lives in `cli/crash.rs` (of a sync: `cli/crash_sync.rs`; of renaming: `cli/organize.rs`), the scenario
//! shared with the desktop in `cli/scenario.rs`, retention in `cli/retention.rs`, `ytdlp [--update]` in `cli/ytdlp.rs`.

#[path = "cli/crash.rs"]
mod crash;
#[path = "cli/crash_sync.rs"]
mod crash_sync;
#[path = "cli/organize.rs"]
mod organize;
#[path = "cli/retention.rs"]
mod retention;
#[path = "cli/scenario.rs"]
mod scenario;
#[path = "cli/ytdlp.rs"]
mod ytdlp;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use catalog_sync_core::catalog::fetch::fetch_document;
use catalog_sync_core::catalog::{parse_document, Document};
use catalog_sync_testkit::{ServerConfig, TestServer};
use sha2::{Digest, Sha256};

/// Config file lines every test starts from: no real index API is ever asked.
const OFFLINE: &str = "fyyd_enabled = false\n";

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        // tests never reach real index APIs (podcastindex has no key here)
        std::fs::write(dir.path().join("config.toml"), OFFLINE).unwrap();
        Cli { dir }
    }

    fn library(&self) -> PathBuf {
        self.dir.path().join("library")
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_catalog-sync"));
        cmd.args(args)
            .env("CATALOG_SYNC_DATABASE", self.dir.path().join("catalog.redb"))
            .env("CATALOG_SYNC_LIBRARY", self.library())
            .env("CATALOG_SYNC_CONFIG", self.dir.path().join("config.toml"))
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let Output { status, stdout, stderr } = self.command(args).output().await.unwrap();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// sha256 of every media file in the library, by relative path; `.part` files apart;
    /// exported `.m3u` playlists left out.
    fn files(&self) -> (BTreeMap<String, String>, Vec<PathBuf>) {
        let (mut complete, mut parts) = (BTreeMap::new(), Vec::new());
        walk(&self.library(), &mut |p| {
            if p.extension().is_some_and(|e| e == "part" || e == "validator") {
                parts.push(p.to_path_buf());
            } else if p.extension().is_some_and(|e| e == "m3u") {
                // exported playlists, checked on their own
            } else {
                let rel = p.strip_prefix(self.library()).unwrap().to_string_lossy().into_owned();
                complete.insert(rel, hex::encode(Sha256::digest(std::fs::read(p).unwrap())));
            }
        });
        (complete, parts)
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, f)
        } else {
            f(&path)
        }
    }
}

/// The server's sha256 of every enclosure a served playlist lists, by enclosure URL.
async fn expected_media(server: &TestServer, feeds: &[url::Url]) -> BTreeMap<String, String> {
    let client = catalog_sync_core::download::build_client("test");
    let manifest = server.manifest();
    let mut out = BTreeMap::new();
    for feed in feeds {
        let (bytes, url) = fetch_document(&client, feed).await.unwrap();
        let Document::Playlist(doc) = parse_document(&bytes, &url).unwrap() else {
            panic!("{feed} is a playlist")
        };
        for item in doc.items {
            let enclosure =
                item.enclosure.unwrap_or_else(|| panic!("{feed}: every item here has an enclosure"));
            let media = manifest.get(&enclosure.url).unwrap_or_else(|| panic!("{} is served", enclosure.url));
            out.insert(enclosure.url, media.sha256_hex.clone());
        }
    }
    out
}

const GOOD: [&str; 7] = [
    "feeds/gnomepod__2024-03-13-ndr.xml",
    "feeds/antennapod__feed-rss-testRss2Basic.xml",
    "feeds/castero__valid_complete.xml",
    "feeds/gnomepod__2018-01-20-Intercepted.xml",
    "feeds/pcns__example.xml",
    "playlists/totem__playlist.xspf",
    "playlists/totem__BassDrive.pls",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_an_opml_then_run_downloads_every_enclosure_with_the_servers_bytes() {
    let server =
        TestServer::start(ServerConfig { corpus_media_size: 8_192, ..Default::default() }).await.unwrap();
    let good: Vec<url::Url> = GOOD.iter().map(|f| server.serve_corpus(f).unwrap()).collect();
    let broken = server.serve_corpus("feeds/rome__2.rss").unwrap();
    let mut listed = good.clone();
    listed.push(broken.clone());
    let opml = server.add_opml("/subscriptions.opml", &listed);
    let expected = expected_media(&server, &good).await;
    assert!(expected.len() > 50, "a real workload: {} enclosures", expected.len());

    let cli = Cli::new();
    let (code, out, err) = cli.run(&["import", opml.as_str()]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("imported {} playlists", listed.len())), "{out}");

    let (code, out, err) = cli.run(&["run"]).await;
    assert_eq!(code, 1, "the HTML page fails its playlist, and only it: {out}{err}");
    assert!(out.contains(&format!("synced {} playlists", good.len())), "{out}");
    assert!(out.contains(&format!("downloaded {} files", expected.len())), "{out}");
    assert!(out.contains("1 failed:") && out.contains(&format!("{broken}: not a feed: HTML page")), "{out}");

    let (files, parts) = cli.files();
    assert!(parts.is_empty(), "{parts:?}");
    assert_eq!(files.len(), expected.len());
    let got: HashSet<&String> = files.values().collect();
    assert_eq!(got, expected.values().collect::<HashSet<_>>(), "every file has the server's sha256");

    // a second run fetches feeds again but no media
    let media_requests: u64 =
        expected.keys().map(|u| server.stats().requests_for(url::Url::parse(u).unwrap().path())).sum();
    let (_, out, _) = cli.run(&["run"]).await;
    assert!(out.contains("downloaded 0 files"), "{out}");
    let again: u64 =
        expected.keys().map(|u| server.stats().requests_for(url::Url::parse(u).unwrap().path())).sum();
    assert_eq!(again, media_requests, "an item already downloaded is never fetched again");

    let (code, out, _) = cli.run(&["status"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("sync_download") && out.contains(&format!("{} downloaded", expected.len())),
        "{out}"
    );
    let (_, out, _) = cli.run(&["export-opml"]).await;
    for url in &listed {
        assert!(out.contains(&format!("xmlUrl=\"{url}\"")), "{url} exported:\n{out}");
    }
    let (_, out, _) = cli.run(&["list", "items", "-p", "1"]).await;
    assert!(out.lines().filter(|l| l.contains("[downloaded ")).count() == 2, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_a_feed_url_adds_it_and_downloads() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("news", 3, 20_000);
    let cli = Cli::new();
    let (code, out, err) = cli.run(&["run", feed.as_str()]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("downloaded 3 files"), "{out}");
    assert_eq!(cli.files().0.len(), 3);
    let (code, _, err) = cli.run(&["sync", "no such playlist"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("playlist no such playlist not found"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_resumes_partial_files_with_range_requests() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(300_000), ..Default::default() }).await.unwrap();
    let feed = server.add_podcast("slow", 4, 400_000);
    let cli = Cli::new();
    cli.run(&["add", feed.as_str()]).await;
    let mut child = cli.command(&["-q", "run"]).spawn().unwrap();
    // SIGKILL once partial files hold bytes: a crash, not a graceful stop
    loop {
        let (_, parts) = cli.files();
        if parts.iter().any(|p| std::fs::metadata(p).map(|m| m.len() > 50_000).unwrap_or(false)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
    let (done_before, parts) = cli.files();
    assert!(!parts.is_empty());
    server.set_rate_limit(None);
    // the killed runner's heartbeat goes stale; a short window keeps the test quick
    std::fs::write(cli.dir.path().join("config.toml"), format!("{OFFLINE}heartbeat_stale_ms = 300\n"))
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (code, out, err) = cli.run(&["run"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let (files, parts) = cli.files();
    assert!(parts.is_empty(), "{parts:?}");
    assert_eq!(files.len(), 4);
    let served: HashSet<String> = server.manifest().values().map(|m| m.sha256_hex.clone()).collect();
    assert_eq!(files.values().cloned().collect::<HashSet<_>>(), served);
    let stats = server.stats();
    let resumed: Vec<String> =
        (1..=4).flat_map(|n| stats.ranges_for(&format!("/slow/{n}.mp3")).to_vec()).collect();
    assert!(
        !resumed.is_empty() && resumed.iter().all(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "{resumed:?}"
    );
    for path in done_before.keys() {
        assert!(files.contains_key(path));
    }
    let (_, out, _) = cli.run(&["status"]).await;
    assert!(out.contains("run 2 time(s)"), "the killed job was reaped and resumed: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_center_log_and_job_commands_from_the_command_line() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("tc", 2, 5_000);
    server.set_fault("/tc/2.mp3", catalog_sync_testkit::Fault::Status(404), None);
    let cli = Cli::new();
    let (code, _, _) = cli.run(&["run", feed.as_str()]).await;
    assert_eq!(code, 1, "one item fails");
    // the item lists every source the resolver cascade tried
    let (_, out, _) = cli.run(&["list", "items"]).await;
    let failed_line = out
        .lines()
        .position(|l| l.contains("tc episode 2") && l.ends_with("[failed]"))
        .unwrap_or_else(|| panic!("{out}"));
    let tried: Vec<&str> = out
        .lines()
        .skip(failed_line + 1)
        .take(7)
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(tried, ["enclosure", "alternate", "feed", "page", "index", "yt-dlp", "agent"], "{out}");
    assert!(
        out.lines()
            .nth(failed_line + 1)
            .is_some_and(|l| l.contains("rejected") && l.contains("/tc/2.mp3") && l.contains("404")),
        "{out}"
    );
    let (code, out, _) = cli.run(&["jobs", "--once"]).await;
    assert_eq!(code, 0);
    let row = out
        .lines()
        .skip(2)
        .find(|l| l.split_whitespace().next() == Some("1"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("Sync and download")
            && row.contains("failed")
            && row.contains("download")
            && row.contains("1 playlist")
            && row.contains("retry"),
        "{out}"
    );
    assert!(out.starts_with("1 jobs: 0 running, 0 queued (0 download), 0 paused, 1 failed"), "{out}");
    let (_, out, _) = cli.run(&["log", "1"]).await;
    assert!(
        out.contains("job-1-run-1  failed") && out.contains("[items_failed] 1 of 2 items failed"),
        "{out}"
    );
    let (code, out, _) = cli.run(&["pause", "1"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("does not apply to a failed job"), "{out}");
    // retry queues the failed item again; the next run fetches only it
    server.clear_faults();
    let (_, out, _) = cli.run(&["retry", "1"]).await;
    assert!(out.contains("job 1: failed -> queued"), "{out}");
    let (code, out, err) = cli.run(&["download"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("downloaded 1 files"), "{out}");
    let (_, out, _) = cli.run(&["log", "1"]).await;
    assert!(out.contains("job-1-run-2  succeeded"), "{out}");
    assert_eq!(cli.files().0.len(), 2);
    assert!(std::fs::read_to_string(cli.library().join("Podcast tc.m3u")).unwrap().contains("tc episode 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_invocation_watches_and_pauses_a_running_job_over_the_control_socket() {
    // One transfer at a time, 2 s each: the job runs for about 12 s, so the watcher below sees
    // it running and the pause reaches it however slow each CLI invocation is on a loaded box.
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(150_000), ..Default::default() }).await.unwrap();
    let feed = server.add_podcast("ctl", 6, 300_000);
    let cli = Cli::new();
    cli.run(&["add", feed.as_str()]).await;
    let child = cli.command(&["-q", "-j", "1", "run"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let socket = cli.dir.path().join("catalog.sock");
    let mut running = String::new();
    for _ in 0..500 {
        if socket.exists() {
            let (code, out, _) = cli.run(&["jobs", "--once"]).await;
            if code == 0 && out.contains(" running ") && out.contains("items |") {
                running = out;
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        running.contains("Sync and download") && running.contains("pause"),
        "the live task center: {running}"
    );
    let (code, out, err) = cli.run(&["pause", "1"]).await;
    assert_eq!(code, 0, "{out}{err}");
    // the reply names the transition when the engine applied it before the status was read
    // again, else that the running engine has it
    assert!(
        out.contains("job 1: Pause sent to the running engine") || out.contains("job 1: running -> pause"),
        "the running engine took the pause: {out}"
    );
    let output = child.wait_with_output().await.unwrap();
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("job 1 paused"), "{summary}");
    assert!(!socket.exists(), "the socket goes with the run");
    let (_, parts) = cli.files();
    assert!(parts.is_empty(), "a pause lets running transfers finish: {parts:?}");
    let (_, out, _) = cli.run(&["resume", "1"]).await;
    assert!(out.contains("job 1: paused -> queued"), "{out}");
    server.set_rate_limit(None);
    let (code, out, err) = cli.run(&["download"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(cli.files().0.len(), 6);
    for n in 1..=6 {
        assert_eq!(
            server.stats().body_bytes_for(&format!("/ctl/{n}.mp3")),
            300_000,
            "episode {n} fetched once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_items_names_the_failed_attempt_and_unwant_delete_removes_files() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let feed = server.add_podcast("lf", 2, 10_000);
    server.set_fault("/lf/2.mp3", catalog_sync_testkit::Fault::Status(503), None);
    let cli = Cli::new();
    std::fs::write(cli.dir.path().join("config.toml"), "max_attempts = 2\nretry_backoff_ms = 10\n").unwrap();
    let (code, _, stderr) = cli.run(&["add", feed.as_str()]).await;
    assert_eq!(code, 0, "{stderr}");
    let (code, _, _) = cli.run(&["want", "1"]).await;
    assert_eq!(code, 0);
    let (code, _, _) = cli.run(&["-q", "run"]).await;
    assert_eq!(code, 1, "an item failed");
    let (_, out, _) = cli.run(&["list", "items"]).await;
    let failed = out
        .lines()
        .position(|l| l.contains("lf episode 2") && l.ends_with("[failed]"))
        .unwrap_or_else(|| panic!("{out}"));
    let enclosure = out.lines().nth(failed + 1).unwrap_or_default();
    assert!(
        enclosure.trim_start().starts_with("enclosure")
            && enclosure.contains(&format!(
                "attempt 2/2, transient: HTTP 503 Service Unavailable from {}",
                server.url("/lf/2.mp3")
            )),
        "{out}"
    );
    assert!(out.lines().any(|l| l.contains("lf episode 1") && l.contains("[downloaded ")), "{out}");
    let (_, out, _) = cli.run(&["list"]).await;
    assert!(out.contains("[wanted]"), "{out}");
    let (_, out, _) = cli.run(&["jobs", "--once"]).await;
    assert!(
        out.lines().any(|l| l.contains("last error: ")
            && l.contains("attempt 2/2, transient: HTTP 503 Service Unavailable")),
        "the task center: {out}"
    );
    assert_eq!(cli.files().0.len(), 1);
    let (code, out, _) = cli.run(&["unwant", "--delete", "1"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("2 items no longer wanted, 1 files deleted"), "{out}");
    assert!(cli.files().0.is_empty(), "the unwanted file is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wanted_playlist_keeps_a_cancelled_jobs_download_until_unwanted_over_the_socket() {
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(200_000), ..Default::default() }).await.unwrap();
    let feed = server.add_podcast("keep", 1, 4_000_000);
    let cli = Cli::new();
    cli.run(&["add", feed.as_str()]).await;
    cli.run(&["sync"]).await;
    let (code, _, _) = cli.run(&["want", "1"]).await;
    assert_eq!(code, 0);
    let child = cli.command(&["-q", "download"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let part_len = || {
        let parts = cli.files().1;
        let part = parts.iter().find(|p| p.extension().is_some_and(|e| e == "part"));
        part.and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len())
    };
    for _ in 0..1000 {
        if part_len() > 100_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(part_len() > 100_000, "a transfer in flight");
    // the download job is job 2 (job 1 synced); cancelling it drops only its reference
    let (code, out, err) = cli.run(&["cancel", "2"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let before = part_len();
    for _ in 0..1000 {
        if part_len() > before + 100_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(part_len() > before + 100_000, "the wanted playlist keeps the download going");
    let (code, out, err) = cli.run(&["unwant", "--delete", "1"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("playlist 1 Podcast keep: unselected; 1 items no longer wanted"), "{out}");
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the run ends")
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("job 2 cancelled"), "{summary}");
    let (files, parts) = cli.files();
    assert!(files.is_empty() && parts.is_empty(), "{files:?} {parts:?}");
    assert!(server.stats().body_bytes_for("/keep/1.mp3") < 4_000_000);
}
