//! Playlists of kind yt-dlp (issue 13, parts 1 and 4): added by content or forced, listed by
//! the real yt-dlp on loopback (its generic extractor reads an RSS feed as a playlist, and a
//! page with two `<audio>` elements as one), the head pass that stops at the first known
//! entry, the checkpoint a sync cut short resumes from, and each failure class stored with
//! yt-dlp's message. A fake yt-dlp (a shell script given as `ytdlp_path`) stands in where the
//! real one cannot be steered: 120 entries with a failure in the middle, a private playlist,
//! a rate limit.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use catalog_sync_core::api::{AddKind, Api, ErrorCode, MediaChoice};
use catalog_sync_core::config::Config;
use catalog_sync_core::download::resolve::ytdlp;
use catalog_sync_core::download::subprocess::SubprocessLimits;
use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_core::subscriptions::add_ytdlp;
use catalog_sync_testkit::{Fault, ServerConfig, TestServer};

use crate::jobs_engine::Rig;

/// The real yt-dlp, or `None` (test skipped) unless CI requires it.
pub fn real_ytdlp() -> Option<PathBuf> {
    let found = ytdlp::find_binary(&Config { ytdlp_path: None, ..Config::default() });
    if found.is_none() {
        if std::env::var("CATALOG_SYNC_REQUIRE_YTDLP").as_deref() == Ok("1") {
            panic!("CATALOG_SYNC_REQUIRE_YTDLP=1 but yt-dlp is not on PATH");
        }
        eprintln!("skipped: yt-dlp is not on PATH (pipx install yt-dlp)");
    }
    found
}

pub fn limits() -> SubprocessLimits {
    SubprocessLimits {
        stall: std::time::Duration::from_secs(60),
        deadline: std::time::Duration::from_secs(120),
    }
}

/// An RSS feed of `eps` (slug, title, day of January 2024), newest first, each with a
/// loopback MP3 of `size` bytes.
pub fn feed(server: &TestServer, path: &str, title: &str, eps: &[(&str, &str, u32)], size: u64) -> url::Url {
    let mut items = String::new();
    for (slug, ep_title, day) in eps {
        let media = server.add_media(&format!("{path}/{slug}.mp3"), size);
        items.push_str(&format!(
            "<item><title>{ep_title}</title><guid>{slug}</guid><pubDate>{day:02} Jan 2024 10:00:00 GMT</pubDate>\
             <enclosure url=\"{}\" length=\"{size}\" type=\"audio/mpeg\"/></item>",
            media.url
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{title}</title>{items}</channel></rss>"
    );
    server.add_feed(&format!("{path}/feed.xml"), xml.into_bytes(), "application/rss+xml")
}

fn titles(rig: &Rig, id: u64) -> Vec<String> {
    rig.store.playlist_items(id).unwrap().into_iter().map(|e| e.item.title.unwrap_or_default()).collect()
}

fn config_with(rig: &Rig, binary: &Path) -> Config {
    Config { ytdlp_path: Some(binary.to_path_buf()), max_attempts: 1, ..rig.config() }
}

async fn sync(rig: &Rig, config: Config, id: u64) -> JobStatus {
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncOnly, vec![id]).await.unwrap();
    engine.run_queued().await.unwrap().into_iter().find(|(j, _)| *j == job).unwrap().1
}

#[tokio::test]
async fn a_feed_forced_to_the_ytdlp_kind_is_listed_by_ytdlp_and_a_resync_adds_only_the_new_head() {
    let Some(binary) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let url = feed(&server, "/yf", "My Show", &[("ep2", "Ep 2", 2), ("ep1", "Ep 1", 1)], 1_000);
    let rig = Rig::new();
    let added = add_ytdlp(&rig.store, Some(&binary), url.as_str(), MediaChoice::BestAudio, limits(), 1)
        .await
        .unwrap();
    let id = added.ids[0];
    assert_eq!(rig.store.playlist(id).unwrap().title.as_deref(), Some("My Show"), "the probe's title");
    assert_eq!(rig.store.ytdlp_source(id).unwrap().unwrap().extractor.as_deref(), Some("generic"));

    assert_eq!(sync(&rig, config_with(&rig, &binary), id).await, JobStatus::Succeeded);
    assert_eq!(titles(&rig, id), ["Ep 2", "Ep 1"]);
    let items = rig.store.playlist_items(id).unwrap();
    let ep2 = server.url("/yf/ep2.mp3").to_string();
    assert_eq!(
        items[0].item.key,
        format!("ytdlp:generic:{ep2}"),
        "extractor + id (the media URL for generic)"
    );
    assert_eq!(items[0].item.enclosure.as_ref().unwrap().url, ep2, "yt-dlp's smuggled data is dropped");
    assert_eq!(items[0].item.published, Some(1_704_189_600));
    let source = rig.store.ytdlp_source(id).unwrap().unwrap();
    assert_eq!((source.complete, source.newest_first, source.next_index), (true, Some(true), 3));

    // a new episode at the head: only it is new, and it goes first
    feed(&server, "/yf", "My Show", &[("ep3", "Ep 3", 3), ("ep2", "Ep 2", 2), ("ep1", "Ep 1", 1)], 1_000);
    assert_eq!(sync(&rig, config_with(&rig, &binary), id).await, JobStatus::Succeeded);
    assert_eq!(titles(&rig, id), ["Ep 3", "Ep 2", "Ep 1"]);
    assert_eq!(rig.store.playlist(id).unwrap().item_count, 3);
}

#[tokio::test]
async fn a_page_ytdlp_reads_as_a_playlist_is_added_by_content_and_other_pages_say_why_not() {
    let Some(binary) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.add_media("/yp/a.mp3", 1_000);
    server.add_media("/yp/b.mp3", 1_000);
    let page = server.add_page(
        "/yp/two.html",
        "<!DOCTYPE html><html><head><title>Two Episodes</title></head><body>\
         <audio controls src=\"/yp/a.mp3\"></audio><audio controls src=\"/yp/b.mp3\"></audio></body></html>",
    );
    let blank = server.add_page(
        "/yp/blank.html",
        "<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        fyyd_enabled: false,
        ytdlp_path: Some(binary),
        ..Config::default()
    };
    let api = Api::open_system(config, None).unwrap();
    let added = api.add_playlists_as(vec![page.to_string()], AddKind::Auto, None).await.unwrap();
    let view = api.playlist(added.ids[0]).await.unwrap();
    assert_eq!((view.format.as_deref(), view.title.as_str()), (Some("ytdlp"), "Two Episodes"));
    assert_eq!(view.media, Some(MediaChoice::default()));
    let view = api.set_playlist_media(added.ids[0], MediaChoice::AudioOpus).await.unwrap();
    assert_eq!(view.media, Some(MediaChoice::AudioOpus));
    api.enqueue(JobKind::SyncOnly, added.ids.clone()).await.unwrap();
    api.run_until_idle().await.unwrap();
    let items = api.list_items(added.ids[0], Default::default()).await.unwrap().items;
    assert_eq!(items.len(), 2, "{items:?}");

    let err = api.add_playlists_as(vec![blank.to_string()], AddKind::Auto, None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unparsable, "{err:?}");
    assert!(
        err.message.contains("HTML page") && err.message.contains("yt-dlp"),
        "both reasons: {}",
        err.message
    );
    let err = api.add_playlists_as(vec![page.to_string()], AddKind::Document, None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unparsable, "a forced document kind does not ask yt-dlp");
}

/// A fake yt-dlp: lists `total` YouTube-shaped entries (`v1`, `v2`... newest first) from the
/// `-I START:` it is given, one JSON line each, and logs its arguments to `<dir>/calls`. When
/// `<dir>/fail_at` holds N, it fails with `message` once it printed entry N; while `<dir>/hang`
/// exists it hangs silently after its first entry, as yt-dlp waiting for a slow next page.
fn fake_lister(dir: &Path, total: u32, message: &str) -> PathBuf {
    let script = dir.join("yt-dlp");
    let body = format!(
        r#"#!/bin/sh
echo "$@" >> "{dir}/calls"
start=1
prev=""
for a in "$@"; do
  if [ "$prev" = "-I" ]; then start="${{a%%:*}}"; fi
  prev="$a"
done
fail_at=$(cat "{dir}/fail_at" 2>/dev/null || echo 0)
i=$start
while [ $i -le {total} ]; do
  echo "{{\"_type\":\"url\",\"ie_key\":\"Youtube\",\"id\":\"v$i\",\"url\":\"https://www.youtube.com/watch?v=v$i\",\"title\":\"video $i\",\"timestamp\":$((2000000000 - i)),\"playlist_index\":$i,\"playlist_title\":\"Big Channel\"}}"
  if [ $i -eq $fail_at ]; then echo "{message}" >&2; exit 1; fi
  if [ -f "{dir}/hang" ]; then sleep 600; fi
  i=$((i + 1))
done
"#,
        dir = dir.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default().lines().map(str::to_string).collect()
}

#[tokio::test]
async fn a_listing_cut_short_resumes_from_its_checkpoint_and_a_known_head_stops_the_run() {
    let rig = Rig::new();
    let bin_dir = tempfile::tempdir().unwrap();
    let binary = fake_lister(
        bin_dir.path(),
        130,
        "ERROR: [youtube:tab] x: Unable to download webpage: HTTP Error 503: Service Unavailable",
    );
    std::fs::write(bin_dir.path().join("fail_at"), "120").unwrap();
    let id = rig
        .store
        .add_ytdlp_playlist("https://www.youtube.com/@big", None, MediaChoice::default(), 0)
        .unwrap()
        .id;
    let config = config_with(&rig, &binary);

    assert_eq!(sync(&rig, config.clone(), id).await, JobStatus::Failed);
    let pl = rig.store.playlist(id).unwrap();
    assert_eq!(pl.item_count, 120, "two batches of 50 committed, and the 20 before the failure");
    assert!(
        pl.last_error.as_deref().unwrap().starts_with("transient (server error): ERROR:"),
        "{:?}",
        pl.last_error
    );
    let source = rig.store.ytdlp_source(id).unwrap().unwrap();
    assert_eq!(
        (source.next_index, source.complete, source.last_error_kind.as_deref()),
        (121, false, Some("server error"))
    );

    std::fs::remove_file(bin_dir.path().join("fail_at")).unwrap();
    assert_eq!(sync(&rig, config.clone(), id).await, JobStatus::Succeeded);
    let runs = calls(bin_dir.path());
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs[1].contains("-I 1:"), "the head pass: {}", runs[1]);
    assert!(runs[2].contains(&format!("-I {}:", 121 - 10)), "from the checkpoint, 10 back: {}", runs[2]);
    let pl = rig.store.playlist(id).unwrap();
    assert_eq!(
        (pl.item_count, pl.title.as_deref(), pl.last_error.as_deref()),
        (130, Some("Big Channel"), None)
    );
    let t = titles(&rig, id);
    assert_eq!((t[0].as_str(), t[129].as_str()), ("video 1", "video 130"));
    let source = rig.store.ytdlp_source(id).unwrap().unwrap();
    assert_eq!((source.complete, source.newest_first), (true, Some(true)));

    // complete and newest first: a sync lists the head only, and stops yt-dlp at the first
    // member (here yt-dlp would hang after it: not stopped, the watchdog's stall would fail it)
    std::fs::write(bin_dir.path().join("hang"), "").unwrap();
    let config = Config { subprocess_stall_timeout_ms: 5_000, ..config };
    assert_eq!(sync(&rig, config, id).await, JobStatus::Succeeded);
    let runs = calls(bin_dir.path());
    assert_eq!(runs.len(), 4, "no listing pass once complete: {runs:?}");
    assert_eq!(rig.store.playlist(id).unwrap().item_count, 130);
}

#[tokio::test]
async fn each_failure_class_is_stored_with_ytdlps_message() {
    let rig = Rig::new();
    let bin_dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ERROR: [youtube:tab] PLx: This playlist is private", "final (private)", "private"),
        (
            "ERROR: [youtube] v1: Join this channel to get access to members-only content",
            "final (members-only)",
            "members-only",
        ),
        (
            "ERROR: [youtube] v1: Sign in to confirm you're not a bot",
            "final (sign-in required)",
            "sign-in required",
        ),
        (
            "ERROR: [youtube] v1: The uploader has not made this video available in your country",
            "final (geo-blocked)",
            "geo-blocked",
        ),
        (
            "ERROR: [youtube] v1: Video unavailable. This video has been removed by the uploader",
            "final (removed)",
            "removed",
        ),
        (
            "ERROR: [youtube:tab] x: Unable to download webpage: The read operation timed out",
            "transient (timeout)",
            "timeout",
        ),
    ];
    for (n, (message, prefix, kind)) in cases.into_iter().enumerate() {
        let sub = bin_dir.path().join(n.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        let binary = fake_lister(&sub, 3, message);
        std::fs::write(sub.join("fail_at"), "1").unwrap();
        let id = rig
            .store
            .add_ytdlp_playlist(&format!("https://y/@c{n}"), None, MediaChoice::default(), 0)
            .unwrap()
            .id;
        assert_eq!(sync(&rig, config_with(&rig, &binary), id).await, JobStatus::Failed);
        let error = rig.store.playlist(id).unwrap().last_error.unwrap();
        assert_eq!(error, format!("{prefix}: {message}"));
        assert_eq!(rig.store.ytdlp_source(id).unwrap().unwrap().last_error_kind.as_deref(), Some(kind));
    }
}

#[tokio::test]
async fn real_ytdlp_failures_are_classed_by_http_status() {
    let Some(binary) = real_ytdlp() else { return };
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let url = feed(&server, "/yc", "Show", &[("ep1", "Ep 1", 1)], 1_000);
    let rig = Rig::new();
    let id = add_ytdlp(&rig.store, Some(&binary), url.as_str(), MediaChoice::BestAudio, limits(), 1)
        .await
        .unwrap()
        .ids[0];
    let config = Config { max_attempts: 2, ..config_with(&rig, &binary) };
    for (fault, kind) in [
        (Fault::Status(503), "server error"),
        (Fault::Status(404), "removed"),
        (Fault::Status(429), "rate limited"),
    ] {
        server.set_fault("/yc/feed.xml", fault, None);
        assert_eq!(sync(&rig, config.clone(), id).await, JobStatus::Failed);
        let source = rig.store.ytdlp_source(id).unwrap().unwrap();
        assert_eq!(
            source.last_error_kind.as_deref(),
            Some(kind),
            "{:?}",
            rig.store.playlist(id).unwrap().last_error
        );
    }
    server.clear_fault("/yc/feed.xml");
    let err = add_ytdlp(
        &rig.store,
        Some(&binary),
        server.url("/nothing/here.xml").as_str(),
        MediaChoice::BestAudio,
        limits(),
        1,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("final (removed)"), "{err}");
}
