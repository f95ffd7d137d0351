//! Items of yt-dlp playlists downloaded by the real yt-dlp (issue 13, parts 2 and 3), on
//! loopback: its generic extractor lists an RSS feed forced to the yt-dlp kind, then
//! downloads each entry itself, with the playlist's format, into our naming; its progress
//! lines feed the live worker samples; a yt-dlp killed mid-download resumes its `.part`;
//! failures keep yt-dlp's class; a cancel of one job keeps a download two playlists want.
//! A wrapper script given as `ytdlp_path` records each command line and runs the real yt-dlp.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use catalog_sync_core::api::MediaChoice;
use catalog_sync_core::config::Config;
use catalog_sync_core::download::resolve::{Candidate, Fetch};
use catalog_sync_core::download::ytdlp_fetch::{self, work_dir, YtDlpError};
use catalog_sync_core::jobs::{Event, WorkerState};
use catalog_sync_core::store::commands::JobCommand;
use catalog_sync_core::store::refs::Holder;
use catalog_sync_core::store::{JobKind, JobStatus, WorkStatus};
use catalog_sync_core::subscriptions::add_ytdlp;
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
use tokio_util::sync::CancellationToken;

use crate::jobs_engine::{walk, Rig};
use crate::jobs_ytdlp_sync::{feed, limits, real_ytdlp};

/// A `yt-dlp` in `dir` that appends its arguments to `dir/calls` and runs `real`.
pub fn recording_wrapper(dir: &Path, real: &Path) -> PathBuf {
    let script = dir.join("yt-dlp");
    let body = format!("#!/bin/sh\necho \"$*\" >> {}/calls\nexec {} \"$@\"\n", dir.display(), real.display());
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The command lines a [`recording_wrapper`] in `dir` recorded, one per run.
pub fn calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default().lines().map(str::to_string).collect()
}

/// The rig's config with `binary` as yt-dlp and a 60 s stall window.
pub fn config_with(rig: &Rig, binary: &Path) -> Config {
    Config { ytdlp_path: Some(binary.to_path_buf()), subprocess_stall_timeout_ms: 60_000, ..rig.config() }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Bytes of the `.part` files under `dir` (yt-dlp's, in a work folder).
fn part_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    walk(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == "part") {
            total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        }
    });
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_of_a_ytdlp_playlist_are_downloaded_by_ytdlp_with_its_format_into_our_naming() {
    let Some(real) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let ep1 = server.add_media("/yd/ep1.mp3", 150_000);
    // an entry whose URL names no format: yt-dlp learns it is MP3 from the Content-Type
    let body: Vec<u8> = (0..120_000u32).map(|i| (i % 251) as u8).collect();
    let bare = server.add_feed("/yd/bare", body.clone(), "audio/mpeg");
    let item = |title: &str, day: u32, url: &url::Url| {
        format!(
            "<item><title>{title}</title><guid>{title}</guid><pubDate>0{day} Jan 2024 10:00:00 GMT</pubDate>\
             <enclosure url=\"{url}\" type=\"audio/mpeg\"/></item>"
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Video Show</title>{}{}</channel></rss>",
        item("Bare", 2, &bare),
        item("Ep 1", 1, &ep1.url)
    );
    let url = server.add_feed("/yd/feed.xml", xml.into_bytes(), "application/rss+xml");
    let bin_dir = tempfile::tempdir().unwrap();
    let wrapper = recording_wrapper(bin_dir.path(), &real);
    let rig = Rig::new();
    let id = add_ytdlp(&rig.store, Some(&real), url.as_str(), MediaChoice::BestAudio, limits(), 1)
        .await
        .unwrap()
        .ids[0];
    let engine = rig.engine_with(config_with(&rig, &wrapper));
    let job = engine.enqueue(JobKind::SyncDownload, vec![id]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Succeeded)]);

    let items = rig.store.playlist_items(id).unwrap();
    assert_eq!(items.len(), 2);
    let mut names = Vec::new();
    for entry in &items {
        let file = rig.store.item_file(entry.id).unwrap().expect("downloaded");
        let bytes = std::fs::read(rig.library().join(&file.path)).unwrap();
        let want = if entry.item.title.as_deref() == Some("Bare") { body.len() } else { 150_000 };
        assert_eq!(bytes.len(), want, "{}", file.path);
        names.push(file.path);
    }
    names.sort();
    assert_eq!(
        names,
        ["Video Show/2024-01-01 Ep 1.mp3", "Video Show/2024-01-02 Bare.mp3"],
        "our naming template, with the extension of the file yt-dlp made (not .bin)"
    );
    let runs = calls(bin_dir.path());
    let downloads: Vec<&String> = runs.iter().filter(|c| c.contains("--progress-template")).collect();
    assert_eq!(downloads.len(), 2, "yt-dlp downloaded both items itself: {runs:?}");
    for c in &downloads {
        assert!(c.contains("--continue") && c.contains("-f bestaudio/best"), "{c}");
        assert!(!c.contains("--download-archive"), "{c}");
    }
    assert!(!runs.iter().any(|c| c.contains("-J --no-playlist")), "the resolver cascade never ran: {runs:?}");
    let mut leftovers = Vec::new();
    walk(&rig.library(), &mut |p| {
        if p.to_string_lossy().contains(".part") {
            leftovers.push(p.to_path_buf());
        }
    });
    assert!(leftovers.is_empty(), "no work folder left: {leftovers:?}");
    let progress = rig
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::DownloadProgress { total: Some(150_000), .. }))
        .count();
    assert!(progress >= 1, "yt-dlp's progress lines became progress events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_failures_keep_ytdlps_class_and_never_fall_back_to_the_cascade() {
    let Some(real) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let eps = [("gone", "Gone", 3), ("busy", "Busy", 2), ("fine", "Fine", 1)];
    let url = feed(&server, "/yf2", "Show", &eps, 20_000);
    let rig = Rig::new();
    let id = add_ytdlp(&rig.store, Some(&real), url.as_str(), MediaChoice::BestAudio, limits(), 1)
        .await
        .unwrap()
        .ids[0];
    let engine = rig.engine_with(Config { max_attempts: 1, ..config_with(&rig, &real) });
    let sync = engine.enqueue(JobKind::SyncOnly, vec![id]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(sync, JobStatus::Succeeded)]);
    server.set_fault("/yf2/gone.mp3", Fault::Status(404), None);
    server.set_fault("/yf2/busy.mp3", Fault::Status(503), None);
    let job = engine.enqueue(JobKind::DownloadOnly, vec![id]).await.unwrap();
    engine.run_queued().await.unwrap();
    let by_title = |t: &str| {
        let item =
            rig.store.playlist_items(id).unwrap().into_iter().find(|e| e.item.title.as_deref() == Some(t));
        let item = item.unwrap().id;
        let work = rig.store.stage_items(job, 0).unwrap().into_iter().find(|(i, _)| *i == item).unwrap().1;
        (work.status, work.last_error.unwrap_or_default())
    };
    let (status, error) = by_title("Gone");
    assert_eq!(status, WorkStatus::Failed);
    assert!(error.contains("final (removed)") && error.contains("HTTP Error 404"), "{error}");
    assert!(
        error.contains("yt-dlp: rejected") && !error.contains("enclosure:"),
        "only yt-dlp was asked: {error}"
    );
    let (_, error) = by_title("Busy");
    assert!(error.contains("transient (server error)") && error.contains("503"), "{error}");
    assert_eq!(by_title("Fine").0, WorkStatus::Done);
    assert_eq!(rig.library_files().len(), 1, "{:?}", rig.library_files());

    // a yt-dlp that hangs without a word is killed by the watchdog, and the item waits for
    // a later attempt (transient)
    let hang_dir = tempfile::tempdir().unwrap();
    let hanging = hang_dir.path().join("yt-dlp");
    std::fs::write(&hanging, "#!/bin/sh\nsleep 600\n").unwrap();
    std::fs::set_permissions(&hanging, std::fs::Permissions::from_mode(0o755)).unwrap();
    let silent = Config { subprocess_stall_timeout_ms: 300, max_attempts: 1, ..config_with(&rig, &hanging) };
    let engine = rig.engine_with(silent);
    let retry = engine.enqueue(JobKind::DownloadOnly, vec![id]).await.unwrap();
    engine.run_queued().await.unwrap();
    let stalled: Vec<String> =
        rig.store.stage_items(retry, 0).unwrap().into_iter().filter_map(|(_, w)| w.last_error).collect();
    assert_eq!(stalled.len(), 2, "Gone and Busy again: {stalled:?}");
    assert!(stalled.iter().all(|e| e.contains("printed nothing for 300ms; killed")), "{stalled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ytdlp_killed_mid_download_resumes_its_part_on_the_next_run() {
    let Some(real) = real_ytdlp() else { return };
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(150_000), ..Default::default() }).await.unwrap();
    let media = server.add_media("/yk/long.mp3", 600_000);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("Show").join("2024-01-01 Long.mp3");
    let candidate = Candidate {
        source: "yt-dlp",
        url: media.url.clone(),
        mime_type: None,
        length: None,
        integrity: None,
        fetch: Fetch::YtDlp { binary: real, format: None, media: Some(MediaChoice::BestAudio) },
    };
    let config = Config { subprocess_stall_timeout_ms: 60_000, ..Config::default() };
    let work = work_dir(&dest).unwrap();
    let run = tokio::spawn({
        let (candidate, dest, config) = (candidate.clone(), dest.clone(), config.clone());
        async move { ytdlp_fetch::fetch(&candidate, &dest, &config, &CancellationToken::new(), &|_| {}).await }
    });
    wait_for("a part past 200 kB", || part_bytes(&work) > 200_000).await;
    // the crash: yt-dlp's whole process group dies from a signal we did not send through the watchdog
    let pid = find_pid_with_arg(&work.to_string_lossy()).expect("yt-dlp runs");
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let err = run.await.unwrap().unwrap_err();
    assert!(matches!(err, YtDlpError::Killed(9)) && err.is_transient(), "{err}");
    let kept = part_bytes(&work);
    assert!(kept > 200_000, "the part stays for --continue: {kept}");
    let sent_before = server.stats().body_bytes_for("/yk/long.mp3");

    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: catalog_sync_core::download::TransferProgress| seen.lock().unwrap().push(p);
    let file =
        ytdlp_fetch::fetch(&candidate, &dest, &config, &CancellationToken::new(), &progress).await.unwrap();
    assert_eq!(
        (file.path.as_path(), file.size, file.sha256_hex.as_str()),
        (dest.as_path(), 600_000, media.sha256_hex.as_str())
    );
    assert_eq!(file.resumed_from, kept);
    let resent = server.stats().body_bytes_for("/yk/long.mp3") - sent_before;
    eprintln!("resume after SIGKILL: kept {kept} bytes, fetched {resent} of 600000 again");
    assert!(
        resent < 600_000 - kept + 100_000,
        "only the rest was fetched again: {resent} bytes after keeping {kept}"
    );
    assert!(
        server.stats().ranges_for("/yk/long.mp3").iter().any(|r| r == &format!("bytes={kept}-")),
        "{:?}",
        server.stats().ranges_for("/yk/long.mp3")
    );
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().all(|p| p.resumed_from == kept && p.downloaded >= kept), "{seen:?}");
    assert!(!work.exists(), "the work folder goes once the file is in place");
}

/// The pid of a process whose command line has an argument containing `needle`.
fn find_pid_with_arg(needle: &str) -> Option<i32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|arg| String::from_utf8_lossy(arg).contains(needle)) {
            return Some(pid);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_playlists_want_one_video_and_a_jobs_cancel_keeps_the_download_going() {
    let Some(real) = real_ytdlp() else { return };
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(150_000), ..Default::default() }).await.unwrap();
    let media = server.add_media("/y2/shared.mp3", 3_000_000);
    let channel = |path: &str, title: &str| {
        let xml = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title><item><title>Shared</title>\
             <guid>{title}-1</guid><pubDate>01 Jan 2024 10:00:00 GMT</pubDate><enclosure url=\"{}\" type=\"audio/mpeg\"/></item></channel></rss>",
            media.url
        );
        server.add_feed(path, xml.into_bytes(), "application/rss+xml")
    };
    let (a_url, b_url) = (channel("/y2/a.xml", "A"), channel("/y2/b.xml", "B"));
    let rig = Rig::new();
    let mut ids = Vec::new();
    for url in [&a_url, &b_url] {
        ids.push(
            add_ytdlp(&rig.store, Some(&real), url.as_str(), MediaChoice::BestAudio, limits(), 1)
                .await
                .unwrap()
                .ids[0],
        );
    }
    let (a, b) = (ids[0], ids[1]);
    let engine = rig.engine_with(config_with(&rig, &real));
    let sync = engine.enqueue(JobKind::SyncOnly, vec![a, b]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(sync, JobStatus::Succeeded)]);
    let item = rig.store.playlist_items(a).unwrap()[0].id;
    assert_eq!(rig.store.playlist_items(b).unwrap()[0].id, item, "one video in two playlists");
    engine.set_playlist_wanted(a, true, false).await.unwrap();
    engine.set_playlist_wanted(b, true, false).await.unwrap();
    let job = engine.enqueue(JobKind::DownloadOnly, vec![]).await.unwrap();
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_queued().await }
    });
    let lib = rig.library();
    wait_for("yt-dlp's part in flight", || part_bytes(&lib) > 100_000).await;
    // the live sample of the downloader shows yt-dlp's bytes and total, like an HTTP transfer
    wait_for("a worker sample of the yt-dlp download", || {
        rig.workers.samples(Some(job)).iter().any(|w| {
            w.state == WorkerState::Working
                && w.item == Some(item)
                && w.downloaded > 0
                && w.total == Some(3_000_000)
                && w.name.starts_with("download-")
        })
    })
    .await;
    assert_eq!(
        rig.store.references(item).unwrap(),
        vec![Holder::Playlist(a), Holder::Playlist(b), Holder::Job(job)]
    );
    engine.command(job, JobCommand::Cancel).await.unwrap();
    let flowing = |what: &'static str| {
        let now = part_bytes(&lib);
        let lib = lib.clone();
        async move { wait_for(what, || part_bytes(&lib) > now + 30_000).await }
    };
    flowing("the download to go on after the job's cancel").await;
    engine.set_playlist_wanted(a, false, true).await.unwrap();
    flowing("the download to go on while playlist B wants it").await;
    engine.set_playlist_wanted(b, false, true).await.unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("ends once nothing wants it")
        .unwrap()
        .unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Cancelled)]);
    assert!(server.stats().body_bytes_for("/y2/shared.mp3") < 3_000_000, "stopped before the end");
    assert!(rig.library_files().is_empty(), "no file, no work folder: {:?}", rig.library_files());
}
