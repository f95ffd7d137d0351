//! The whole cascade through the engine: an item no source can serve ends with a stored
//! `DownloadFailed` naming every source in registry order with its outcome (the known
//! enclosure's error, a rejected alternate, the refreshed feed, the page, both indexes, a
//! failing yt-dlp, the agent's last message); an item an index knows is downloaded from the
//! index's URL, which then replaces the stale enclosure.

use std::os::unix::fs::PermissionsExt;

use catalog_sync_core::config::{Config, Secret};
use catalog_sync_core::download::resolve::{Cascade, Outcome};
use catalog_sync_core::store::{JobKind, JobStatus, WorkStatus};
use catalog_sync_testkit::{
    ChatStep, FakeEpisode, FakeFyyd, FakePodcastIndex, Fault, FeedAlternate, FeedItem, ScriptedChat,
    ServerConfig, TestServer,
};

use crate::jobs_engine::Rig;
use crate::resolve_common::offline_config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_source_is_tried_in_order_and_the_failure_is_stored_with_the_item() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let found_media = server.add_media("/cdn/found.mp3", 12_000);
    server.add_media("/alt/ep1.opus", 5_000);
    server.set_fault("/alt/ep1.opus", Fault::Status(410), None);
    let empty_page =
        server.add_page("/show/ep1/", "<html><body><p>Episode 1 notes, no player.</p></body></html>");
    let feed_url = server.url("/show/feed.xml");
    let items = vec![
        FeedItem {
            guid: "ep-1".into(),
            title: "Episode 1".into(),
            link: Some(empty_page.to_string()),
            enclosure: Some((server.url("/gone/ep1.mp3").to_string(), 5_000, "audio/mpeg".into())),
            alternates: vec![FeedAlternate {
                mime_type: "audio/opus".into(),
                length: Some(5_000),
                sources: vec![server.url("/alt/ep1.opus").to_string()],
                ..Default::default()
            }],
        },
        FeedItem {
            guid: "ep-2".into(),
            title: "Episode 2".into(),
            enclosure: Some((server.url("/gone/ep2.mp3").to_string(), 12_000, "audio/mpeg".into())),
            ..Default::default()
        },
    ];
    server.add_feed(
        feed_url.path(),
        catalog_sync_testkit::feed_xml("The Show", &items).into_bytes(),
        "application/rss+xml",
    );
    let known = FakeEpisode {
        guid: "ep-2".into(),
        title: "Episode 2".into(),
        feed_url: feed_url.to_string(),
        feed_id: 7,
        feed_title: "The Show".into(),
        enclosure_url: found_media.url.to_string(),
        enclosure_type: "audio/mpeg".into(),
        previous_urls: vec![],
    };
    let pi = FakePodcastIndex::mount(&server, "/pi", "key", "secret", vec![]);
    let fyyd = FakeFyyd::mount(&server, "/fyyd", vec![known]);
    let chat = ScriptedChat::mount(
        &server,
        "/v1",
        vec![ChatStep::Say("NONE: no copy of this episode is left online".into())],
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let ytdlp = dir.path().join("yt-dlp");
    std::fs::write(
        &ytdlp,
        "#!/bin/sh\necho \"[generic] Extracting URL: $*\"\necho \"ERROR: Unsupported URL: $*\" >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&ytdlp, std::fs::Permissions::from_mode(0o755)).unwrap();

    let rig = Rig::new();
    let config = Config {
        database: rig.dir.path().join("catalog.redb"),
        library: rig.library(),
        max_attempts: 1,
        retry_backoff_ms: 10,
        podcastindex_key: Some(Secret::new("key")),
        podcastindex_secret: Some(Secret::new("secret")),
        podcastindex_base_url: pi.base_url.to_string(),
        fyyd_enabled: true,
        fyyd_base_url: fyyd.base_url.to_string(),
        ytdlp_path: Some(ytdlp),
        agent_base_url: Some(chat.base_url.to_string()),
        agent_model: Some("qwen2.5:7b".into()),
        ..offline_config()
    };
    rig.add(&feed_url);
    let engine = rig.engine_with(config);
    let job = engine.enqueue(JobKind::SyncDownload, vec![]).await.unwrap();
    let ran = engine.run_queued().await.unwrap();
    assert_eq!(ran, vec![(job, JobStatus::Failed)]);

    let (pl, _) = rig.store.playlists().unwrap()[0].clone();
    let entries = rig.store.playlist_items(pl).unwrap();
    let (ep1, ep2) = (entries[0].id, entries[1].id);
    // ep-2: fyyd knew it; the index URL replaced the stale enclosure
    assert_eq!(entries[1].file.as_ref().map(|f| f.sha256.as_str()), Some(found_media.sha256_hex.as_str()));
    assert_eq!(rig.store.item(ep2).unwrap().enclosure.unwrap().url, found_media.url.as_str());
    assert_eq!(rig.store.enclosure_replaced(ep2).unwrap().unwrap().source, "index");

    // ep-1: every source, in registry order
    let failed = rig.store.download_failure(ep1).unwrap().expect("the failure is stored with the item");
    let names: Vec<&str> = failed.sources_tried.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(names, Cascade::standard().names());
    assert_eq!(names, ["enclosure", "alternate", "feed", "page", "index", "yt-dlp", "agent"]);
    let outcome =
        |name: &str| failed.sources_tried.iter().find(|s| s.source == name).unwrap().outcome.clone();
    let gone = server.url("/gone/ep1.mp3").to_string();
    assert!(
        matches!(outcome("enclosure"), Outcome::Rejected(r) if r.len() == 1 && r[0].0 == gone && r[0].1.contains("404"))
    );
    assert_eq!(
        outcome("alternate"),
        Outcome::Rejected(vec![(server.url("/alt/ep1.opus").to_string(), "HTTP 410".into())])
    );
    assert_eq!(
        outcome("feed"),
        Outcome::Nothing(None),
        "the refreshed feed still names the URLs already tried"
    );
    assert_eq!(outcome("page"), Outcome::Nothing(None));
    assert_eq!(outcome("index"), Outcome::Nothing(Some("podcastindex: 0 results; fyyd: 0 results".into())));
    assert!(
        matches!(outcome("yt-dlp"), Outcome::Error(e) if e.starts_with("ERROR: Unsupported URL: ")),
        "{failed}"
    );
    assert_eq!(
        outcome("agent"),
        Outcome::Nothing(Some("NONE: no copy of this episode is left online".into()))
    );
    assert!(failed.direct_error.as_deref().is_some_and(|e| e.contains("404")), "{failed:?}");
    assert_eq!(failed.agent_message.as_deref(), Some("NONE: no copy of this episode is left online"));
    assert_eq!(pi.rejected(), 0);

    let work = rig.store.stage_items(job, 1).unwrap();
    let (_, row) = work.iter().find(|(id, _)| *id == ep1).unwrap();
    assert_eq!(
        (row.status, row.last_error.as_deref()),
        (WorkStatus::Failed, Some(failed.to_string().as_str()))
    );
    let text = failed.to_string();
    assert!(
        text.starts_with(&format!("no source worked for item {ep1}: enclosure: rejected {gone} (")),
        "{text}"
    );
    assert_eq!(
        rig.store.item(ep1).unwrap().enclosure.unwrap().url,
        gone,
        "nothing replaced a URL no source could serve"
    );
    assert!(rig.library_files().len() == 1, "{:?}", rig.library_files());
}
