//! Names that collide after sanitizing (issue 12, behaviour 10), on the testkit server: each
//! playlist gets its own folder and `.m3u`, and files whose names differ only in case (one file
//! on FAT32, exFAT and macOS volumes) get distinct names.

use std::collections::BTreeSet;

use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

use crate::jobs_engine::{walk, Rig};

fn feed(title: &str, episodes: &[(&str, &str, &url::Url)]) -> Vec<u8> {
    let mut xml = format!("<rss version=\"2.0\"><channel><title>{title}</title>");
    for (guid, ep_title, url) in episodes {
        xml.push_str(&format!(
            "<item><title>{ep_title}</title><guid>{guid}</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>\
             <enclosure url=\"{url}\" type=\"audio/mpeg\"/></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

/// Relative paths under the library, case-folded, must all differ.
fn assert_distinct_folded(paths: &[String]) {
    let folded: BTreeSet<String> = paths.iter().map(|p| p.to_lowercase()).collect();
    assert_eq!(folded.len(), paths.len(), "names collide when case is ignored: {paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_whose_titles_sanitize_alike_get_their_own_folder_and_m3u() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let mut ids = Vec::new();
    for (n, title) in ["News: Daily", "News/ Daily", "news_ daily"].iter().enumerate() {
        let media = server.add_media(&format!("/n{n}/ep.mp3"), 1_000 + n as u64);
        let url = server.add_feed(
            &format!("/n{n}.rss"),
            feed(title, &[("e1", "Ep 1", &media.url)]),
            "application/rss+xml",
        );
        ids.push(rig.add(&url));
    }
    assert_eq!(rig.run(JobKind::SyncDownload, vec![]).await.1, JobStatus::Succeeded);
    let mut media = Vec::new();
    let mut m3us = Vec::new();
    walk(&rig.library(), &mut |p| {
        let rel = p.strip_prefix(rig.library()).unwrap().to_string_lossy().into_owned();
        if rel.ends_with(".m3u") {
            m3us.push(rel);
        } else if rel.ends_with(".mp3") {
            media.push(rel);
        }
    });
    assert_eq!(media.len(), 3, "{media:?}");
    assert_eq!(m3us.len(), 3, "one playlist file each: {m3us:?}");
    assert_distinct_folded(&media);
    assert_distinct_folded(&m3us);
    // the oldest keeps the plain name; the others carry their id
    assert!(m3us.contains(&"News_ Daily.m3u".to_string()), "{m3us:?}");
    for id in &ids[1..] {
        assert!(m3us.iter().any(|m| m.ends_with(&format!("({id}).m3u"))), "{id}: {m3us:?}");
    }
    // each M3U lists its own playlist's file
    for m3u in &m3us {
        let text = std::fs::read_to_string(rig.library().join(m3u)).unwrap();
        let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(entries.len(), 1, "{m3u}: {text}");
        let folder = m3u.trim_end_matches(".m3u");
        assert!(entries[0].starts_with(&format!("{folder}/")), "{m3u} lists {}", entries[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn episodes_whose_names_differ_only_in_case_get_distinct_files() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let a = server.add_media("/c/a.mp3", 1_000);
    let b = server.add_media("/c/b.mp3", 2_000);
    let url = server.add_feed(
        "/c.rss",
        feed("Case", &[("a", "Episode", &a.url), ("b", "EPISODE", &b.url)]),
        "application/rss+xml",
    );
    let id = rig.add(&url);
    assert_eq!(rig.run(JobKind::SyncDownload, vec![id]).await.1, JobStatus::Succeeded);
    let paths: Vec<String> = rig.library_files().into_keys().collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert_distinct_folded(&paths);
}
