//! Integration tests of per-path behaviours (redirects, content codings), conditional GETs and
//! the drip fault, over real HTTP with reqwest, its decoders off (the workspace turns them on
//! for reqwest elsewhere), so the bytes seen are the bytes sent.

use std::io::Read;

use catalog_sync_testkit::{Behaviour, Coding, Fault, ServerConfig, TestImage, TestServer};
use reqwest::header;

async fn server() -> TestServer {
    TestServer::start(ServerConfig::default()).await.expect("server starts")
}

/// A client that neither asks for nor decodes content codings.
fn raw() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn decode(coding: Coding, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        Coding::Gzip => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
        Coding::Deflate => flate2::read::ZlibDecoder::new(bytes).read_to_end(&mut out),
        Coding::Brotli => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
    }
    .expect("valid encoded body");
    out
}

#[tokio::test]
async fn redirects_answer_their_status_and_location() {
    let s = server().await;
    s.add_feed("/new.rss", b"<rss/>".to_vec(), "application/rss+xml");
    for status in [301u16, 302, 307, 308] {
        let path = format!("/old-{status}.rss");
        s.set_behaviour(&path, Behaviour::Redirect { status, location: "/new.rss".into() });
        let resp = no_redirects().get(s.url(&path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(resp.headers()[header::LOCATION], "/new.rss");
    }
    // a client that follows lands on the new body; clearing the behaviour restores a 404
    let followed = raw().get(s.url("/old-301.rss")).send().await.unwrap();
    assert_eq!(followed.url().path(), "/new.rss");
    assert_eq!(followed.bytes().await.unwrap().as_ref(), b"<rss/>");
    s.clear_behaviour("/old-301.rss");
    assert_eq!(raw().get(s.url("/old-301.rss")).send().await.unwrap().status(), 404);
    // a redirect loop is just two redirects pointing at each other
    s.set_behaviour("/a", Behaviour::Redirect { status: 301, location: "/b".into() });
    s.set_behaviour("/b", Behaviour::Redirect { status: 301, location: "/a".into() });
    assert!(raw().get(s.url("/a")).send().await.is_err(), "a loop ends in a redirect error");
}

#[tokio::test]
async fn forced_codings_encode_even_when_identity_was_asked() {
    let s = server().await;
    let media = s.add_media("/show/1.mp3", 100_000);
    for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli] {
        s.set_behaviour("/show/1.mp3", Behaviour::Encode { coding, forced: true });
        let resp =
            raw().get(media.url.clone()).header(header::ACCEPT_ENCODING, "identity").send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], coding.token());
        let len: usize = resp.headers()[header::CONTENT_LENGTH].to_str().unwrap().parse().unwrap();
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), len, "Content-Length counts encoded bytes");
        let decoded = decode(coding, &body);
        assert_eq!(sha2_hex(&decoded), media.sha256_hex, "{coding:?} decodes to the media");
    }
}

fn sha2_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn negotiated_coding_applies_only_when_accepted_and_ranges_count_encoded_bytes() {
    let s = server().await;
    let body = b"<rss><channel><title>x</title></channel></rss>".repeat(100);
    let url = s.add_feed("/feed.xml", body.clone(), "application/rss+xml");
    s.set_behaviour("/feed.xml", Behaviour::Encode { coding: Coding::Gzip, forced: false });
    let plain = raw().get(url.clone()).send().await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let plain_etag = plain.headers()[header::ETAG].clone();
    assert_eq!(plain.bytes().await.unwrap().as_ref(), &body[..]);

    let client = raw();
    let gz = client.get(url.clone()).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gz.headers()[header::CONTENT_ENCODING], "gzip");
    assert_ne!(gz.headers()[header::ETAG], plain_etag, "the encoded representation has its own ETag");
    let encoded = gz.bytes().await.unwrap();
    assert_eq!(decode(Coding::Gzip, &encoded), body);

    let part = client
        .get(url)
        .header(header::ACCEPT_ENCODING, "gzip")
        .header(header::RANGE, "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    let range = part.headers()[header::CONTENT_RANGE].to_str().unwrap().to_owned();
    assert_eq!(range, format!("bytes 10-{}/{}", encoded.len() - 1, encoded.len()));
    assert_eq!(part.bytes().await.unwrap().as_ref(), &encoded[10..]);
}

#[tokio::test]
async fn conditional_gets_get_304_until_the_body_changes() {
    let s = server().await;
    let url = s.add_feed("/feed.xml", b"<rss>v1</rss>".to_vec(), "application/rss+xml");
    let first = raw().get(url.clone()).send().await.unwrap();
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let last_modified = first.headers()[header::LAST_MODIFIED].to_str().unwrap().to_owned();
    let client = raw();
    let by_etag = client.get(url.clone()).header(header::IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(by_etag.status(), 304);
    assert!(by_etag.bytes().await.unwrap().is_empty());
    let by_date =
        client.get(url.clone()).header(header::IF_MODIFIED_SINCE, &last_modified).send().await.unwrap();
    assert_eq!(by_date.status(), 304);
    assert_eq!(s.stats().not_modified_for("/feed.xml"), 2);

    // the host publishes a new episode: new ETag, later Last-Modified, full body again
    s.add_feed("/feed.xml", b"<rss>v2</rss>".to_vec(), "application/rss+xml");
    let changed = client
        .get(url.clone())
        .header(header::IF_NONE_MATCH, &etag)
        .header(header::IF_MODIFIED_SINCE, &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let newer =
        httpdate::parse_http_date(changed.headers()[header::LAST_MODIFIED].to_str().unwrap()).unwrap();
    assert!(newer > httpdate::parse_http_date(&last_modified).unwrap());
    assert_eq!(changed.bytes().await.unwrap().as_ref(), b"<rss>v2</rss>");
    let stale_date = client.get(url).header(header::IF_MODIFIED_SINCE, &last_modified).send().await.unwrap();
    assert_eq!(stale_date.status(), 200, "If-Modified-Since older than the new Last-Modified");
    assert_eq!(s.stats().not_modified_for("/feed.xml"), 2);
}

#[tokio::test]
async fn drip_sends_the_body_one_byte_per_interval() {
    let s = server().await;
    let body = b"<rss>abc</rss>";
    let url = s.add_feed("/slow.rss", body.to_vec(), "application/rss+xml");
    s.set_fault("/slow.rss", Fault::Drip { interval_ms: 20 }, Some(1));
    let started = std::time::Instant::now();
    let resp = raw().get(url.clone()).send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "14");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), body);
    // a lower bound only (sleeps never end early): one pause before each of the 14 bytes
    assert!(started.elapsed() >= std::time::Duration::from_millis(14 * 20), "{:?}", started.elapsed());
    // the fault was for one request only
    assert_eq!(raw().get(url).send().await.unwrap().bytes().await.unwrap().as_ref(), body);
    assert_eq!(s.stats().requests_for("/slow.rss"), 2);
}

#[tokio::test]
async fn no_content_length_sends_the_body_chunked() {
    let s = server().await;
    let media = s.add_media("/big.bin", 100_000);
    s.set_behaviour("/big.bin", Behaviour::NoContentLength);
    let resp = raw().get(media.url.clone()).send().await.unwrap();
    assert!(resp.headers().get(header::CONTENT_LENGTH).is_none(), "{:?}", resp.headers());
    assert_eq!(resp.headers()[header::TRANSFER_ENCODING], "chunked");
    assert_eq!(resp.bytes().await.unwrap().len(), 100_000);
    s.clear_behaviour("/big.bin");
    let resp = raw().get(media.url).send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "100000");
}

#[tokio::test]
async fn images_are_served_with_their_type() {
    let s = server().await;
    for (n, image) in TestImage::ALL.into_iter().enumerate() {
        let url = s.add_image(&format!("/art/{n}"), image);
        let resp = raw().get(url).send().await.unwrap();
        assert_eq!(resp.headers()[header::CONTENT_TYPE], image.mime());
        assert_eq!(resp.bytes().await.unwrap().as_ref(), &image.bytes()[..]);
    }
}
