//! The podcast indexes source against fake APIs on loopback: podcastindex.org checks the auth
//! headers on every request (and rejects wrong ones), fyyd needs none; providers without
//! credentials are skipped, one provider's error never stops the other, hits are merged
//! without repeats, and the key and secret never reach logs or error strings.

use std::io::Write;
use std::sync::{Arc, Mutex};

use catalog_sync_core::config::{Config, Secret};
use catalog_sync_core::download::resolve::index::Indexes;
use catalog_sync_core::download::resolve::Source;
use catalog_sync_core::store::ItemRow;
use catalog_sync_testkit::{FakeEpisode, FakeFyyd, FakePodcastIndex, Fault, ServerConfig, TestServer};
use url::Url;

use crate::resolve_common::{ctx, offline_config, run_source, urls};

const KEY: &str = "PIKEY7QWERTY";
const SECRET: &str = "pisecret^with$chars9";

fn episode(server: &TestServer, n: u32) -> FakeEpisode {
    FakeEpisode {
        guid: format!("guid-{n}"),
        title: format!("Episode {n}: the answer"),
        feed_url: server.url("/show/feed.xml").to_string(),
        feed_id: 920666,
        feed_title: "The Show".into(),
        enclosure_url: server.url(&format!("/cdn/ep{n}.mp3")).to_string(),
        enclosure_type: "audio/mpeg".into(),
        previous_urls: vec![server.url(&format!("/old/ep{n}.mp3")).to_string()],
    }
}

fn item(n: u32, guid: bool) -> ItemRow {
    ItemRow {
        guid: guid.then(|| format!("guid-{n}")),
        title: Some(format!("Episode {n}: The Answer")),
        enclosure: Some(catalog_sync_core::catalog::Enclosure {
            url: format!("http://127.0.0.1:9/old/ep{n}.mp3"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn config(pi: Option<&FakePodcastIndex>, key: &str, secret: &str, fyyd: Option<&FakeFyyd>) -> Config {
    let mut c = offline_config();
    if let Some(pi) = pi {
        c.podcastindex_base_url = pi.base_url.to_string();
        c.podcastindex_key = Some(Secret::new(key));
        c.podcastindex_secret = Some(Secret::new(secret));
    }
    if let Some(f) = fyyd {
        c.fyyd_enabled = true;
        c.fyyd_base_url = f.base_url.to_string();
    }
    c
}

fn feed(server: &TestServer) -> Option<Url> {
    Some(server.url("/show/feed.xml"))
}

#[tokio::test]
async fn podcastindex_signs_every_request_and_finds_by_guid_then_by_search() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let pi =
        FakePodcastIndex::mount(&server, "/pi", KEY, SECRET, vec![episode(&server, 1), episode(&server, 2)]);
    let cx = ctx(config(Some(&pi), KEY, SECRET, None), feed(&server), Some("The Show"));
    let found = run_source(&Indexes::standard(), &item(1, true), &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep1.mp3").to_string()]);
    assert_eq!(
        found.note.as_deref(),
        Some("podcastindex: 1 result; fyyd: skipped (disabled (fyyd_enabled = false))")
    );
    // an item without guid: search the show, read its episodes, match the title
    let found = run_source(&Indexes::standard(), &item(2, false), &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep2.mp3").to_string()]);
    let requests = pi.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/pi/episodes/byguid", "/pi/search/byterm", "/pi/episodes/byfeedid"]);
    assert_eq!(requests[0].param("feedurl"), Some(server.url("/show/feed.xml").as_str()));
    assert_eq!(requests[1].param("q"), Some("The Show"));
    for r in &requests {
        assert_eq!(r.header("x-auth-date"), Some("1700000000"), "the date comes from the injected clock");
        assert_eq!(r.header("x-auth-key"), Some(KEY));
        assert!(r.header("user-agent").is_some_and(|ua| ua.starts_with("CatalogSync/")));
    }
    assert_eq!(pi.rejected(), 0);
}

#[tokio::test]
async fn wrong_credentials_are_rejected_while_fyyd_still_answers() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let pi = FakePodcastIndex::mount(&server, "/pi", KEY, SECRET, vec![episode(&server, 1)]);
    let fyyd = FakeFyyd::mount(&server, "/fyyd", vec![episode(&server, 1)]);
    let cx = ctx(config(Some(&pi), KEY, "not-the-secret", Some(&fyyd)), feed(&server), Some("The Show"));
    let found = run_source(&Indexes::standard(), &item(1, true), &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep1.mp3").to_string()]);
    let note = found.note.unwrap();
    assert!(
        note.starts_with("podcastindex: error: HTTP 401 from ") && note.ends_with("; fyyd: 1 result"),
        "{note}"
    );
    assert_eq!(pi.rejected(), 1);
    assert_eq!(fyyd.requests()[0].param("guid"), Some("guid-1"));
}

#[tokio::test]
async fn a_provider_without_credentials_is_skipped_and_an_erroring_one_does_not_stop_the_other() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let pi = FakePodcastIndex::mount(&server, "/pi", KEY, SECRET, vec![episode(&server, 1)]);
    let fyyd = FakeFyyd::mount(&server, "/fyyd", vec![episode(&server, 1)]);
    // no key: podcastindex is never asked; fyyd finds the episode by its old URL
    let mut c = config(None, "", "", Some(&fyyd));
    c.podcastindex_base_url = pi.base_url.to_string();
    let cx = ctx(c, feed(&server), Some("The Show"));
    let mut no_guid = item(1, false);
    no_guid.enclosure.as_mut().unwrap().url = server.url("/old/ep1.mp3").to_string();
    let found = run_source(&Indexes::standard(), &no_guid, &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep1.mp3").to_string()]);
    assert_eq!(found.note.as_deref(), Some("podcastindex: skipped (no API key and secret); fyyd: 1 result"));
    assert_eq!(pi.requests().len(), 0);
    assert_eq!(fyyd.requests()[0].param("url"), Some(server.url("/old/ep1.mp3").as_str()));

    // fyyd fails with 500; podcastindex answers
    server.set_fault("/fyyd/0.2/search/episode", Fault::Status(500), None);
    let cx = ctx(config(Some(&pi), KEY, SECRET, Some(&fyyd)), feed(&server), Some("The Show"));
    let found = run_source(&Indexes::standard(), &item(1, true), &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep1.mp3").to_string()]);
    let note = found.note.unwrap();
    assert!(note.starts_with("podcastindex: 1 result; fyyd: error: HTTP 500"), "{note}");

    // both answer the same URL: one candidate
    server.clear_faults();
    let found = run_source(&Indexes::standard(), &item(1, true), &cx).await.unwrap();
    assert_eq!(urls(&found), vec![server.url("/cdn/ep1.mp3").to_string()]);
    assert_eq!(found.note.as_deref(), Some("podcastindex: 1 result; fyyd: 1 result"));

    // nothing configured: the source is not suitable, with every reason
    let cx = ctx(offline_config(), feed(&server), None);
    let why = Indexes::standard().suitable(&item(1, true), &cx).unwrap_err();
    assert_eq!(why, "podcastindex: no API key and secret; fyyd: disabled (fyyd_enabled = false)");
}

/// A `MakeWriter` collecting everything tracing prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_and_secret_never_reach_logs_or_errors() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let pi = FakePodcastIndex::mount(&server, "/pi", KEY, SECRET, vec![episode(&server, 1)]);
    let mut errors = Vec::new();
    for (key, secret) in [(KEY, SECRET), (KEY, "wrong-secret-value"), ("wrong-key-value", SECRET)] {
        let cx = ctx(config(Some(&pi), key, secret, None), feed(&server), Some("The Show"));
        errors.push(format!("{cx:?}"));
        let found = run_source(&Indexes::standard(), &item(1, true), &cx).await.unwrap();
        errors.push(found.note.unwrap_or_default());
        errors.push(format!("{:?}", cx.config));
        // the whole cascade's failure text too
        let cascade = catalog_sync_core::download::resolve::Cascade::new(vec![Box::new(Indexes::standard())]);
        if let catalog_sync_core::download::resolve::Resolution::Failed(f) =
            cascade.resolve(1, &item(9, true), &cx).await
        {
            errors.push(f.to_string());
            errors.push(format!("{f:?}"));
        }
    }
    assert_eq!(pi.rejected(), 4, "wrong credentials were really sent and refused");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("provider=\"podcastindex\"") && logs.contains("HTTP 401"),
        "tracing captured the provider calls:\n{logs}"
    );
    let all = format!("{logs}\n{}", errors.join("\n"));
    for secret in [KEY, SECRET, "wrong-secret-value", "wrong-key-value"] {
        assert!(!all.contains(secret), "{secret} leaked into:\n{all}");
    }
    // the Authorization hash is derived from the secret: it is not logged either
    let hash =
        catalog_sync_core::download::resolve::index::podcastindex::auth_hash(KEY, SECRET, "1700000000");
    assert!(!all.contains(&hash));
}
