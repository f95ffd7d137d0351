//! yt-dlp as a source and as a downloader, on a loopback page with an `<audio>` element, and
//! a fake yt-dlp that hangs silently (with a grandchild) ended by the subprocess watchdog.
//!
//! Tests needing the real yt-dlp (`pip install yt-dlp`) skip with a message when it is not on
//! `PATH`, and fail instead when `CATALOG_SYNC_REQUIRE_YTDLP=1` (CI sets it after installing).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use catalog_sync_core::config::Config;
use catalog_sync_core::download::resolve::ytdlp::{self, YtDlp};
use catalog_sync_core::download::resolve::{Candidate, Fetch, SourceError};
use catalog_sync_core::download::subprocess::SubprocessError;
use catalog_sync_core::download::ytdlp_fetch;
use catalog_sync_core::store::ItemRow;
use catalog_sync_testkit::{ServerConfig, TestServer};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::resolve_common::{ctx, offline_config, run_source, urls};

/// The real yt-dlp, or `None` (test skipped) unless CI requires it.
fn real_ytdlp() -> Option<PathBuf> {
    let found = ytdlp::find_binary(&Config { ytdlp_path: None, ..Config::default() });
    if found.is_none() {
        if std::env::var("CATALOG_SYNC_REQUIRE_YTDLP").as_deref() == Ok("1") {
            panic!("CATALOG_SYNC_REQUIRE_YTDLP=1 but yt-dlp is not on PATH: install it with `pip install yt-dlp`");
        }
        eprintln!("skipped: yt-dlp is not on PATH (pip install yt-dlp; CI sets CATALOG_SYNC_REQUIRE_YTDLP=1 to require it)");
    }
    found
}

fn page_html(media_path: &str) -> String {
    format!("<!DOCTYPE html><html><head><title>Episode 1</title></head><body><h1>Episode 1</h1>\n<audio controls preload=\"none\" src=\"{media_path}\"></audio></body></html>")
}

#[tokio::test]
async fn ytdlp_resolves_a_page_with_an_audio_element_to_a_direct_url() {
    let Some(binary) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/yt/media/ep1.mp3", 20_000);
    let page = server.add_page("/yt/episode-1.html", &page_html("/yt/media/ep1.mp3"));
    let item = ItemRow { link: Some(page.to_string()), ..Default::default() };
    let cx = ctx(
        Config { ytdlp_path: Some(binary), subprocess_stall_timeout_ms: 60_000, ..offline_config() },
        None,
        None,
    );
    let found = run_source(&YtDlp, &item, &cx).await.unwrap();
    assert_eq!(urls(&found), vec![media.url.to_string()]);
    assert_eq!(found.candidates[0].fetch, Fetch::Http, "a direct http URL goes through our downloader");
}

#[tokio::test]
async fn ytdlp_downloads_into_a_work_folder_and_the_file_is_renamed_into_place() {
    let Some(binary) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/yt2/media/ep2.mp3", 30_000);
    let page = server.add_page("/yt2/episode-2.html", &page_html("/yt2/media/ep2.mp3"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("Show").join("2024-05-01 Episode 2 100%.mp3");
    let candidate = Candidate {
        source: "yt-dlp",
        url: page,
        mime_type: None,
        length: None,
        integrity: None,
        fetch: Fetch::YtDlp { binary, format: None, media: None },
    };
    let config = Config { subprocess_stall_timeout_ms: 60_000, ..offline_config() };
    let seen = std::sync::Mutex::new(Vec::new());
    let progress =
        |p: catalog_sync_core::download::TransferProgress| seen.lock().unwrap().push((p.downloaded, p.total));
    let file =
        ytdlp_fetch::fetch(&candidate, &dest, &config, &CancellationToken::new(), &progress).await.unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.len() >= 2 && seen.last() == Some(&(30_000, Some(30_000))),
        "yt-dlp's progress is reported, then the exact size: {seen:?}"
    );
    assert_eq!(
        (file.path.as_path(), file.size, file.sha256_hex.as_str()),
        (dest.as_path(), 30_000, media.sha256_hex.as_str())
    );
    assert_eq!(hex::encode(Sha256::digest(std::fs::read(&dest).unwrap())), media.sha256_hex);
    let names: Vec<String> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["2024-05-01 Episode 2 100%.mp3".to_string()], "no work folder left behind");
}

/// A fake yt-dlp that starts a grandchild, records its pid, and hangs without a word.
fn hanging_ytdlp(dir: &Path) -> (PathBuf, PathBuf) {
    let script = dir.join("yt-dlp");
    let pids = dir.join("pids");
    std::fs::write(&script, format!("#!/bin/sh\nsleep 600 &\necho $! > {}\nsleep 600\n", pids.display()))
        .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, pids)
}

fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| !r.trim_start().starts_with('Z')))
}

#[tokio::test]
async fn a_stalled_ytdlp_is_killed_with_its_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let (script, pids) = hanging_ytdlp(dir.path());
    let config =
        Config { ytdlp_path: Some(script.clone()), subprocess_stall_timeout_ms: 300, ..offline_config() };
    let item = ItemRow { link: Some("http://127.0.0.1:9/episode".into()), ..Default::default() };
    let cx = ctx(config.clone(), None, None);
    let err = run_source(&YtDlp, &item, &cx).await.unwrap_err();
    assert!(matches!(err, SourceError::Subprocess(SubprocessError::Stalled { .. })), "{err}");
    assert!(err.to_string().contains("printed nothing for 300ms; killed"), "{err}");
    let grandchild = std::fs::read_to_string(&pids).unwrap();
    for _ in 0..100 {
        if !running(&grandchild) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!running(&grandchild), "the grandchild {grandchild} outlived the watchdog");

    // the same when yt-dlp downloads itself
    std::fs::remove_file(&pids).unwrap();
    let dest = dir.path().join("lib").join("ep.mp3");
    let candidate = Candidate {
        source: "yt-dlp",
        url: url::Url::parse("http://127.0.0.1:9/episode").unwrap(),
        mime_type: None,
        length: None,
        integrity: None,
        fetch: Fetch::YtDlp { binary: script, format: None, media: None },
    };
    let err =
        ytdlp_fetch::fetch(&candidate, &dest, &config, &CancellationToken::new(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("printed nothing"), "{err}");
    assert!(err.is_transient(), "a stalled yt-dlp is transient: {err}");
    assert!(!dest.exists());
}
