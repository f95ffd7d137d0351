//! The sync stage against feeds that move or did not change (issue 12, behaviours 3 and 6),
//! on the testkit server: conditional refreshes answered `304`, permanent and temporary
//! redirects, `itunes:new-feed-url`, and loops.

use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{Behaviour, ServerConfig, TestServer};

use crate::jobs_engine::Rig;

fn feed(title: &str, guids: &[&str], new_feed_url: Option<&str>) -> Vec<u8> {
    let mut xml = format!(
        "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><channel><title>{title}</title>"
    );
    if let Some(u) = new_feed_url {
        xml.push_str(&format!("<itunes:new-feed-url>{u}</itunes:new-feed-url>"));
    }
    for g in guids {
        xml.push_str(&format!(
            "<item><title>{g}</title><guid>{g}</guid><enclosure url=\"http://127.0.0.1:9/{g}.mp3\" type=\"audio/mpeg\"/></item>"
        ));
    }
    xml.push_str("</channel></rss>");
    xml.into_bytes()
}

/// The line of the single work item of the sync stage (stage 0) of `job`.
fn work_line(rig: &Rig, job: u64) -> String {
    let (_, work) = rig.store.stage_items(job, 0).unwrap().pop().unwrap();
    work.note.or(work.last_error).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_of_an_unchanged_feed_is_a_304_with_no_parse_and_a_changed_one_is_read() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let url = server.add_feed("/show.rss", feed("Show", &["a", "b"], None), "application/rss+xml");
    let id = rig.add(&url);
    assert_eq!(rig.run(JobKind::SyncOnly, vec![id]).await.1, JobStatus::Succeeded);
    let sent_first = server.stats().body_bytes_for("/show.rss");
    let (job, status) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(server.stats().not_modified_for("/show.rss"), 1, "the refresh was conditional");
    assert_eq!(server.stats().body_bytes_for("/show.rss"), sent_first, "no body the second time");
    assert!(work_line(&rig, job).starts_with("unchanged"), "{}", work_line(&rig, job));
    assert_eq!(rig.store.playlist_items(id).unwrap().len(), 2);
    // a new episode: new validators, the full document again
    server.add_feed("/show.rss", feed("Show", &["a", "b", "c"], None), "application/rss+xml");
    let (job, _) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert!(work_line(&rig, job).starts_with("1 new of 3"), "{}", work_line(&rig, job));
    assert_eq!(rig.store.playlist_items(id).unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_redirects_move_the_stored_url_and_temporary_ones_do_not() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    for status in [301u16, 302, 307, 308] {
        let (old, new) = (format!("/old-{status}.rss"), format!("/new-{status}.rss"));
        server.add_feed(&new, feed("Moved", &["x"], None), "application/rss+xml");
        server.set_behaviour(&old, Behaviour::Redirect { status, location: new.clone() });
        let id = rig.add(&server.url(&old));
        let (job, result) = rig.run(JobKind::SyncOnly, vec![id]).await;
        assert_eq!(result, JobStatus::Succeeded, "{status}");
        assert_eq!(rig.store.playlist_items(id).unwrap().len(), 1, "{status}");
        let stored = rig.store.playlist(id).unwrap().url;
        let moves = rig.store.fetch_state(id).unwrap().moves;
        if matches!(status, 301 | 308) {
            assert_eq!(stored, server.url(&new).to_string(), "{status}");
            assert_eq!(moves.len(), 1);
            assert_eq!(moves[0].from, server.url(&old).to_string());
            assert!(work_line(&rig, job).contains("moved to"), "{}", work_line(&rig, job));
            assert_eq!(
                rig.store.find_playlist(server.url(&new).as_str()).unwrap(),
                id,
                "the URL index follows"
            );
        } else {
            assert_eq!(stored, server.url(&old).to_string(), "{status} keeps the URL");
            assert!(moves.is_empty(), "{status}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn itunes_new_feed_url_is_followed_once_and_a_move_back_is_refused() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let (a, b) = (server.url("/a.rss"), server.url("/b.rss"));
    server.add_feed("/a.rss", feed("A", &["old-1"], Some(b.as_str())), "application/rss+xml");
    server.add_feed("/b.rss", feed("B", &["new-1", "new-2"], None), "application/rss+xml");
    let id = rig.add(&a);
    let (job, status) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(rig.store.playlist(id).unwrap().url, b.to_string());
    assert_eq!(rig.store.playlist_items(id).unwrap().len(), 2, "the new feed's items were read");
    assert!(work_line(&rig, job).contains("itunes:new-feed-url"), "{}", work_line(&rig, job));
    // the new feed points back: a loop, refused, and the playlist stays where it is
    server.add_feed("/b.rss", feed("B", &["new-1", "new-2"], Some(a.as_str())), "application/rss+xml");
    let (job, status) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(rig.store.playlist(id).unwrap().url, b.to_string());
    assert!(work_line(&rig, job).contains("not moved"), "{}", work_line(&rig, job));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_loop_fails_that_playlist_with_its_reason() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    server.set_behaviour("/x.rss", Behaviour::Redirect { status: 301, location: "/y.rss".into() });
    server.set_behaviour("/y.rss", Behaviour::Redirect { status: 301, location: "/x.rss".into() });
    let id = rig.add(&server.url("/x.rss"));
    let (job, status) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert_eq!(status, JobStatus::Failed);
    assert!(work_line(&rig, job).contains("redirect loop"), "{}", work_line(&rig, job));
    assert_eq!(rig.store.playlist(id).unwrap().url, server.url("/x.rss").to_string(), "not moved");
}

/// A parser that crashes on documents whose title says so, like a third-party parser bug.
fn crashing_parser(
    bytes: Vec<u8>,
    url: &url::Url,
) -> Result<catalog_sync_core::catalog::Document, catalog_sync_core::catalog::ParseError> {
    if String::from_utf8_lossy(&bytes).contains("<title>Crash</title>") {
        panic!("index out of bounds in a parser");
    }
    catalog_sync_core::catalog::parse_document_owned(bytes, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parser_crash_fails_that_playlist_only() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let good = rig.add(&server.add_feed("/good.rss", feed("Good", &["g1"], None), "application/rss+xml"));
    let bad = rig.add(&server.add_feed("/bad.rss", feed("Crash", &["c1"], None), "application/rss+xml"));
    let engine = rig.engine().with_document_parser(crashing_parser);
    let job = engine.enqueue(JobKind::SyncOnly, vec![bad, good]).await.unwrap();
    assert_eq!(engine.run_queued().await.unwrap(), vec![(job, JobStatus::Failed)]);
    assert_eq!(rig.store.playlist_items(good).unwrap().len(), 1, "the other playlist synced");
    let error = rig.store.playlist(bad).unwrap().last_error.unwrap_or_default();
    assert!(error.contains("the feed parser crashed on this document: index out of bounds"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_episode_whose_guid_changed_is_not_downloaded_again() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let media = server.add_media("/m/ep1.mp3", 4_000);
    let other = server.add_media("/m/ep2.mp3", 4_000);
    let doc = |guid: &str, query: &str, extra: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>G</title>{extra}<item><title>Ep 1</title><guid>{guid}</guid>\
             <enclosure url=\"{}{query}\" length=\"4000\" type=\"audio/mpeg\"/></item></channel></rss>",
            media.url
        )
        .into_bytes()
    };
    let url = server.add_feed("/g.rss", doc("old-guid", "?utm_source=feed", ""), "application/rss+xml");
    let id = rig.add(&url);
    assert_eq!(rig.run(JobKind::SyncDownload, vec![id]).await.1, JobStatus::Succeeded);
    // the host migrates: a new guid, the tracking parameter gone; plus a really new episode
    let new_episode = format!(
        "<item><title>Ep 2</title><guid>ep2</guid><enclosure url=\"{}\" length=\"4000\" type=\"audio/mpeg\"/></item>",
        other.url
    );
    server.add_feed("/g.rss", doc("new-guid", "", &new_episode), "application/rss+xml");
    assert_eq!(rig.run(JobKind::SyncDownload, vec![id]).await.1, JobStatus::Succeeded);
    assert_eq!(server.stats().from_zero_for("/m/ep1.mp3"), 1, "episode 1 was fetched once");
    assert_eq!(rig.store.playlist_items(id).unwrap().len(), 2);
    assert_eq!(rig.library_files().len(), 2, "no 'Ep 1 (2).mp3': {:?}", rig.library_files());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_with_two_channels_is_read_fully() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let rig = Rig::new();
    let xml = "<rss version=\"2.0\"><channel><title>First</title><item><guid>a</guid><title>a</title></item></channel>\
               <channel><title>Second</title><item><guid>b</guid><title>b</title></item>\
               <item><guid>c</guid><title>c</title></item></channel></rss>";
    let id = rig.add(&server.add_feed("/two.rss", xml.as_bytes().to_vec(), "application/rss+xml"));
    let (job, status) = rig.run(JobKind::SyncOnly, vec![id]).await;
    assert_eq!(status, JobStatus::Succeeded);
    assert_eq!(rig.store.playlist_items(id).unwrap().len(), 3, "{}", work_line(&rig, job));
    assert_eq!(rig.store.playlist(id).unwrap().title.as_deref(), Some("First"));
}
