//! Cover art (issue 12, behaviour 12) against the testkit server: a sync caches the playlist's
//! cover and its items' images in the background, the API serves them as `data:` URLs, and
//! images that are no images (an HTML page served as `image/jpeg`, an SVG), too large (as
//! declared, or sent without a length) or missing (404) are refused, remembered and never fail
//! the sync; the cache's own rules (classes, how long a failure is remembered by the clock,
//! one fetch for concurrent requests, the exact cap) through `ArtCache`.

use std::sync::Arc;

use base64::Engine as _;
use catalog_sync_core::api::Api;
use catalog_sync_core::catalog::fetch::{build_document_client, FetchError};
use catalog_sync_core::clock::ManualClock;
use catalog_sync_core::config::Config;
use catalog_sync_core::library::art::{ART_MAX_BYTES, ART_RETRY_FINAL_MS, ART_RETRY_TRANSIENT_MS};
use catalog_sync_core::library::{ArtCache, ArtError, ImageKind};
use catalog_sync_core::store::{JobKind, JobStatus};
use catalog_sync_testkit::{Behaviour, Fault, ServerConfig, TestImage, TestServer};

const HTML: &[u8] = b"<!DOCTYPE html><html><body><h1>Image not available</h1></body></html>";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><rect/></svg>";

/// A PNG's bytes padded to `len` bytes (still a PNG by its signature).
fn png_of(len: usize) -> Vec<u8> {
    let mut b = TestImage::Png.bytes();
    b.resize(len, 0);
    b
}

/// The feed of the sync test: a PNG cover, and items whose images are each a case.
fn feed_xml(marker: &str) -> Vec<u8> {
    let item = |guid: &str, image: &str| {
        format!(
            "<item><title>{guid}</title><guid>{guid}</guid>{image}\
             <enclosure url=\"http://127.0.0.1:9/{guid}.mp3\" type=\"audio/mpeg\"/></item>"
        )
    };
    let items = [
        item("jpeg", "<itunes:image href=\"art/ep.jpg\"/>"), // relative: resolved against the feed
        item("html", "<itunes:image href=\"/art/page.jpg\"/>"),
        item("declared", "<media:thumbnail url=\"/art/declared-huge.png\"/>"),
        item("chunked", "<itunes:image href=\"/art/chunked-huge.png\"/>"),
        item("missing", "<itunes:image href=\"/art/missing.jpg\"/>"),
        item("gif", "<media:content url=\"/art/ep.gif\" medium=\"image\"/>"),
        item("webp", "<enclosure url=\"/art/ep.webp\" type=\"image/webp\"/>"),
        item("svg", "<itunes:image href=\"/art/logo.svg\"/>"),
        item("none", ""),
    ];
    format!(
        "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" \
         xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>Art {marker}</title>\
         <itunes:image href=\"/art/cover.png\"/>{}</channel></rss>",
        items.concat()
    )
    .into_bytes()
}

fn serve_art(server: &TestServer) {
    server.add_image("/art/cover.png", TestImage::Png);
    server.add_image("/show/art/ep.jpg", TestImage::Jpeg);
    server.add_image("/art/ep.gif", TestImage::Gif);
    server.add_image("/art/ep.webp", TestImage::Webp);
    server.add_feed("/art/page.jpg", HTML.to_vec(), "image/jpeg"); // a CDN's error page
    server.add_feed("/art/logo.svg", SVG.to_vec(), "image/svg+xml");
    let huge = png_of(ART_MAX_BYTES as usize + 1_000_000);
    server.add_feed("/art/declared-huge.png", huge.clone(), "image/png");
    server.add_feed("/art/chunked-huge.png", huge, "image/png");
    server.set_behaviour("/art/chunked-huge.png", Behaviour::NoContentLength);
}

const ART_PATHS: [&str; 9] = [
    "/art/cover.png",
    "/show/art/ep.jpg",
    "/art/page.jpg",
    "/art/declared-huge.png",
    "/art/chunked-huge.png",
    "/art/missing.jpg",
    "/art/ep.gif",
    "/art/ep.webp",
    "/art/logo.svg",
];

fn data_url(image: TestImage) -> String {
    format!(
        "data:{};base64,{}",
        image.mime(),
        base64::engine::general_purpose::STANDARD.encode(image.bytes())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_caches_good_art_and_refuses_bad_art_without_failing() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    serve_art(&server);
    let feed = server.add_feed("/show/feed.xml", feed_xml("1"), "application/rss+xml");
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        fyyd_enabled: false,
        ..Config::default()
    };
    let api = Api::open_system(config, None).unwrap();
    let id = api.add_playlists(vec![feed.to_string()]).await.unwrap().ids[0];

    api.enqueue(JobKind::SyncOnly, vec![id]).await.unwrap();
    let ran = api.run_until_idle().await.unwrap();
    assert_eq!(ran.iter().map(|r| r.1).collect::<Vec<_>>(), [JobStatus::Succeeded]);
    let playlist = api.playlist(id).await.unwrap();
    assert!(playlist.has_image && playlist.last_error.is_none(), "{playlist:?}");
    api.art_settled().await; // the sync handed the images over; they are fetched in the background

    // every image was asked for once, by the background fetch after the sync
    for path in ART_PATHS {
        assert_eq!(server.stats().requests_for(path), 1, "{path}");
    }
    let art_dir = dir.path().join("art");
    let mut files: Vec<String> = std::fs::read_dir(&art_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().rsplit('.').next().unwrap().to_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["failed", "failed", "failed", "failed", "failed", "gif", "jpg", "png", "webp"]);

    assert_eq!(api.playlist_art(id).await.unwrap(), Some(data_url(TestImage::Png)));
    let items = api.list_items(id, Default::default()).await.unwrap().items;
    let mut shown = Vec::new();
    for item in &items {
        let art = api.item_art(item.id).await.unwrap();
        shown.push((item.title.as_str(), item.has_image, art.map(|a| a[..a.find(';').unwrap()].to_owned())));
    }
    let url = |m: &str| Some(format!("data:{m}"));
    assert_eq!(
        shown,
        [
            ("jpeg", true, url("image/jpeg")),
            ("html", true, None),
            ("declared", true, None),
            ("chunked", true, None),
            ("missing", true, None),
            ("gif", true, url("image/gif")),
            ("webp", true, url("image/webp")),
            ("svg", true, None),
            ("none", false, None),
        ]
    );
    assert_eq!(api.item_art(items[0].id).await.unwrap(), Some(data_url(TestImage::Jpeg)));

    // a changed feed syncs again: the cached images are not fetched again, the refused and
    // missing ones are remembered, and the sync still succeeds
    server.add_feed("/show/feed.xml", feed_xml("2"), "application/rss+xml");
    api.enqueue(JobKind::SyncOnly, vec![id]).await.unwrap();
    let ran = api.run_until_idle().await.unwrap();
    assert_eq!(ran.iter().map(|r| r.1).collect::<Vec<_>>(), [JobStatus::Succeeded]);
    api.art_settled().await;
    for path in ART_PATHS {
        assert_eq!(server.stats().requests_for(path), 1, "{path} asked again");
    }
    assert_eq!(api.playlist(id).await.unwrap().title, "Art 2");
    api.shutdown(std::time::Duration::from_secs(5)).await;
}

fn cache(dir: &tempfile::TempDir, clock: &ManualClock) -> ArtCache {
    ArtCache::new(dir.path().join("art"), build_document_client("test"), Arc::new(clock.clone()))
}

#[tokio::test]
async fn checks_classes_and_remembered_failures() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000_000);
    let art = cache(&dir, &clock).with_max_bytes(10_000);

    for (n, image) in TestImage::ALL.into_iter().enumerate() {
        let url = server.add_image(&format!("/{n}"), image);
        let got = art.get_or_fetch(url.as_str()).await.unwrap();
        assert_eq!((got.mime, got.bytes.clone()), (image.mime(), image.bytes()));
        assert_eq!(got.data_url(), data_url(image));
        assert_eq!(art.cached(url.as_str()).await.unwrap(), Some(got));
    }
    // size: the cap itself is fine; a byte more is refused, declared or counted
    let at_cap = server.add_feed("/cap.png", png_of(10_000), "image/png");
    assert_eq!(art.get_or_fetch(at_cap.as_str()).await.unwrap().kind, ImageKind::Png);
    for (path, behaviour) in [("/over.png", None), ("/over-chunked.png", Some(Behaviour::NoContentLength))] {
        let url = server.add_feed(path, png_of(10_001), "image/png");
        if let Some(b) = behaviour {
            server.set_behaviour(path, b);
        }
        let e = art.get_or_fetch(url.as_str()).await.unwrap_err();
        assert!(matches!(e, ArtError::TooLarge { limit: 10_000 }) && !e.is_transient(), "{path}: {e:?}");
        assert_eq!(e.to_string(), "image larger than 10000 bytes");
    }
    // type: by the bytes, whatever the Content-Type says
    for (path, body, found) in [("/p.jpg", HTML, "an HTML page"), ("/l.svg", SVG, "an SVG document")] {
        let url = server.add_feed(path, body.to_vec(), "image/jpeg");
        let e = art.get_or_fetch(url.as_str()).await.unwrap_err();
        assert!(matches!(e, ArtError::NotAnImage { found: f } if f == found), "{e:?}");
        assert!(!e.is_transient());
    }
    let e = art.get_or_fetch("file:///etc/hostname").await.unwrap_err();
    assert!(matches!(e, ArtError::BadUrl(_)), "a feed never makes the app read local files: {e:?}");

    // a 404 is final and remembered for ART_RETRY_FINAL_MS: no request until then
    let gone = server.url("/gone.png");
    let e = art.get_or_fetch(gone.as_str()).await.unwrap_err();
    assert!(matches!(e, ArtError::Fetch(FetchError::Status { status: 404 })) && !e.is_transient(), "{e:?}");
    server.add_image("/gone.png", TestImage::Png); // it comes back, but is not asked for yet
    clock.advance(ART_RETRY_FINAL_MS - 1);
    let e = art.get_or_fetch(gone.as_str()).await.unwrap_err();
    assert!(matches!(&e, ArtError::Remembered { transient: false, .. }), "{e:?}");
    assert!(e.to_string().starts_with("image not fetched: HTTP 404"), "{e}");
    assert_eq!(server.stats().requests_for("/gone.png"), 1);
    clock.advance(1);
    assert_eq!(art.get_or_fetch(gone.as_str()).await.unwrap().kind, ImageKind::Png);
    assert_eq!(server.stats().requests_for("/gone.png"), 2);

    // a 503 is transient and remembered for ART_RETRY_TRANSIENT_MS only
    let busy = server.add_image("/busy.gif", TestImage::Gif);
    server.set_fault("/busy.gif", Fault::Status(503), Some(1));
    assert!(art.get_or_fetch(busy.as_str()).await.unwrap_err().is_transient());
    let e = art.get_or_fetch(busy.as_str()).await.unwrap_err();
    assert!(matches!(e, ArtError::Remembered { transient: true, .. }), "{e:?}");
    clock.advance(ART_RETRY_TRANSIENT_MS);
    assert_eq!(art.get_or_fetch(busy.as_str()).await.unwrap().kind, ImageKind::Gif);
    assert_eq!(server.stats().requests_for("/busy.gif"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_fetch_and_a_damaged_file_is_fetched_again() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    server.set_latency_ms(50); // both requests are in flight together
    let dir = tempfile::tempdir().unwrap();
    let art = cache(&dir, &ManualClock::new(0));
    let url = server.add_image("/cover.jpg", TestImage::Jpeg);
    let (a, b) = tokio::join!(art.get_or_fetch(url.as_str()), art.get_or_fetch(url.as_str()));
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(server.stats().requests_for("/cover.jpg"), 1);

    let path = art.cached(url.as_str()).await.unwrap().unwrap().path;
    std::fs::write(&path, HTML).unwrap(); // a damaged cache file is not served
    assert_eq!(art.cached(url.as_str()).await.unwrap(), None);
    assert_eq!(art.get_or_fetch(url.as_str()).await.unwrap().bytes, TestImage::Jpeg.bytes());
    assert_eq!(server.stats().requests_for("/cover.jpg"), 2);
}
