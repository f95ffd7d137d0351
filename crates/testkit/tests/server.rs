//! Integration tests of the loopback server over real HTTP: reqwest for well-behaved exchanges,
//! raw HTTP/1.1 over `TcpStream` where a fault must be observed byte by byte.

use std::time::{Duration, Instant};

use catalog_sync_testkit::{corpus_dir, Fault, ServerConfig, TestServer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server() -> TestServer {
    TestServer::start(ServerConfig::default()).await.expect("server starts")
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Head of a raw response: status, Content-Length, and body bytes read past the head.
struct RawResponse {
    status: u16,
    content_length: u64,
    stream: TcpStream,
    already: Vec<u8>,
}

async fn raw_get(server: &TestServer, path: &str, extra: &str) -> RawResponse {
    let mut stream = TcpStream::connect(server.local_addr()).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await.unwrap().unwrap();
        assert!(n > 0, "EOF before the response head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status = head[9..12].parse().unwrap();
    let content_length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    RawResponse { status, content_length, stream, already: buf[head_end..].to_vec() }
}

/// Reads until EOF, error, or `window` without bytes. Returns (bytes, how it ended).
async fn drain(resp: &mut RawResponse, window: Duration) -> (Vec<u8>, &'static str) {
    let mut body = std::mem::take(&mut resp.already);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(window, resp.stream.read(&mut chunk)).await {
            Err(_) => return (body, "timeout"),
            Ok(Ok(0)) => return (body, "eof"),
            Ok(Ok(n)) => body.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => return (body, "error"),
        }
    }
}

#[tokio::test]
async fn media_is_deterministic_and_matches_manifest() {
    let (a, b) = (server().await, server().await);
    let ia = a.add_media("/show/ep1.mp3", 300_000);
    let ib = b.add_media("/show/ep1.mp3", 300_000);
    assert_eq!(ia.sha256_hex, ib.sha256_hex);
    assert_ne!(ia.sha256_hex, a.add_media("/show/ep2.mp3", 300_000).sha256_hex);
    let body = reqwest::get(ia.url.clone()).await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 300_000);
    let manifest = a.manifest();
    assert_eq!(manifest.len(), 2);
    assert_eq!(manifest[ia.url.as_str()].sha256_hex, sha_hex(&body));
    assert_eq!(sha_hex(&reqwest::get(ib.url).await.unwrap().bytes().await.unwrap()), sha_hex(&body));
}

#[tokio::test]
async fn head_and_headers() {
    let s = server().await;
    let info = s.add_media("/a/track.mp3", 12_345);
    let client = reqwest::Client::new();
    let resp = client.head(info.url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-length"], "12345");
    assert_eq!(h["content-type"], "audio/mpeg");
    assert_eq!(h["accept-ranges"], "bytes");
    assert!(h.contains_key("etag") && h.contains_key("last-modified"));
    assert!(resp.bytes().await.unwrap().is_empty());
    assert_eq!(s.stats().body_bytes_for("/a/track.mp3"), 0);
    let get = client.get(info.url).send().await.unwrap();
    assert_eq!(get.headers()["etag"], h["etag"]);
    assert_eq!(client.get(s.url("/missing")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn ranges_206_and_416() {
    let s = server().await;
    let info = s.add_media("/r/file.m4a", 1000);
    let client = reqwest::Client::new();
    let full = client.get(info.url.clone()).send().await.unwrap().bytes().await.unwrap();
    for (range, start, end) in [
        ("bytes=10-19", 10, 19),
        ("bytes=990-", 990, 999),
        ("bytes=-10", 990, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let resp = client.get(info.url.clone()).header("Range", range).send().await.unwrap();
        assert_eq!(resp.status(), 206, "{range}");
        assert_eq!(resp.headers()["content-range"], format!("bytes {start}-{end}/1000"));
        assert_eq!(resp.bytes().await.unwrap(), full.slice(start..end + 1));
    }
    let resp = client.get(info.url.clone()).header("Range", "bytes=1000-").send().await.unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */1000");
    let stats = s.stats();
    assert_eq!(stats.requests_for("/r/file.m4a"), 6);
    assert_eq!(stats.ranges_for("/r/file.m4a")[0], "bytes=10-19");
    assert_eq!(stats.ranges_for("/r/file.m4a").len(), 5);
}

#[tokio::test]
async fn ignore_range_serves_full_body() {
    let s = TestServer::start(ServerConfig { ignore_range: true, ..ServerConfig::default() }).await.unwrap();
    let info = s.add_media("/ir/x.mp3", 5000);
    let resp =
        reqwest::Client::new().get(info.url.clone()).header("Range", "bytes=100-").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sha_hex(&resp.bytes().await.unwrap()), info.sha256_hex);
    assert_eq!(s.stats().ranges_for("/ir/x.mp3"), ["bytes=100-"]);
    s.set_ignore_range(false);
    let resp = reqwest::Client::new().get(info.url).header("Range", "bytes=100-").send().await.unwrap();
    assert_eq!(resp.status(), 206);
}

#[tokio::test]
async fn status_fault_limited_by_times() {
    let s = server().await;
    let info = s.add_media("/f/x.mp3", 100);
    s.set_fault("/f/x.mp3", Fault::Status(500), Some(2));
    let client = reqwest::Client::new();
    assert_eq!(client.get(info.url.clone()).send().await.unwrap().status(), 500);
    assert_eq!(client.get(info.url.clone()).send().await.unwrap().status(), 500);
    assert_eq!(client.get(info.url.clone()).send().await.unwrap().status(), 200);
    s.set_fault("/f/x.mp3", Fault::Status(404), None);
    for _ in 0..3 {
        assert_eq!(client.get(info.url.clone()).send().await.unwrap().status(), 404);
    }
    s.clear_fault("/f/x.mp3");
    assert_eq!(client.get(info.url).send().await.unwrap().status(), 200);
    assert_eq!(s.stats().requests_for("/f/x.mp3"), 7);
}

#[tokio::test]
async fn stall_sends_prefix_then_nothing() {
    let s = server().await;
    s.add_media("/f/stall.mp3", 100_000);
    s.set_fault("/f/stall.mp3", Fault::Stall { after_bytes: 1000 }, None);
    let mut resp = raw_get(&s, "/f/stall.mp3", "").await;
    assert_eq!((resp.status, resp.content_length), (200, 100_000));
    let (body, end) = drain(&mut resp, Duration::from_millis(300)).await;
    assert_eq!((body.len(), end), (1000, "timeout"));
    // Shutdown ends stalled connections.
    s.shutdown().await;
    let (_, end) = drain(&mut resp, Duration::from_secs(5)).await;
    assert_ne!(end, "timeout");
    assert!(TcpStream::connect(s.local_addr()).await.is_err());
}

#[tokio::test]
async fn reset_cuts_connection_before_content_length() {
    let s = server().await;
    s.add_media("/f/reset.mp3", 100_000);
    s.set_fault("/f/reset.mp3", Fault::Reset { after_bytes: 20_000 }, None);
    let mut resp = raw_get(&s, "/f/reset.mp3", "").await;
    assert_eq!(resp.content_length, 100_000);
    let (body, end) = drain(&mut resp, Duration::from_secs(5)).await;
    assert_eq!(end, "error", "a RST, not a FIN");
    assert!(body.len() <= 20_000, "{}", body.len());
    assert_eq!(s.stats().body_bytes_for("/f/reset.mp3"), 20_000);
    // reqwest sees an error too.
    let url = s.url("/f/reset.mp3");
    let result = async { reqwest::get(url).await?.bytes().await }.await;
    assert!(result.is_err());
}

#[tokio::test]
async fn short_body_closes_cleanly_early() {
    let s = server().await;
    s.add_media("/f/short.mp3", 100_000);
    s.set_fault("/f/short.mp3", Fault::ShortBody { after_bytes: 30_000 }, Some(1));
    let mut resp = raw_get(&s, "/f/short.mp3", "").await;
    assert_eq!(resp.content_length, 100_000);
    let (body, end) = drain(&mut resp, Duration::from_secs(5)).await;
    assert_eq!((body.len(), end), (30_000, "eof"));
    let mut resp = raw_get(&s, "/f/short.mp3", "").await;
    let (body, end) = drain(&mut resp, Duration::from_secs(5)).await;
    assert_eq!((body.len(), end), (100_000, "eof"));
}

#[tokio::test]
async fn resume_after_one_reset_records_range() {
    let s = server().await;
    let info = s.add_media("/show/resume.mp3", 200_000);
    s.set_fault("/show/resume.mp3", Fault::Reset { after_bytes: 64_000 }, Some(1));
    let mut first = raw_get(&s, "/show/resume.mp3", "").await;
    let (mut got, _) = drain(&mut first, Duration::from_secs(5)).await;
    assert!(got.len() < 200_000);
    let resp = reqwest::Client::new()
        .get(info.url.clone())
        .header("Range", format!("bytes={}-", got.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    let first_len = got.len();
    got.extend_from_slice(&resp.bytes().await.unwrap());
    assert_eq!(sha_hex(&got), info.sha256_hex);
    let stats = s.stats();
    assert_eq!(stats.requests_for("/show/resume.mp3"), 2);
    assert_eq!(stats.ranges_for("/show/resume.mp3"), [format!("bytes={first_len}-")]);
    assert_eq!(stats.body_bytes_for("/show/resume.mp3"), 64_000 + (200_000 - first_len as u64));
    s.reset_stats();
    assert_eq!(s.stats().total_requests, 0);
}

#[tokio::test]
async fn rate_limit_and_latency_lower_bounds() {
    let s = TestServer::start(ServerConfig { rate_limit: Some(100_000), ..ServerConfig::default() })
        .await
        .unwrap();
    let info = s.add_media("/slow/x.mp3", 200_000);
    let t = Instant::now();
    let body = reqwest::get(info.url.clone()).await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 200_000);
    assert!(t.elapsed() >= Duration::from_millis(1500), "{:?}", t.elapsed());
    s.set_rate_limit(None);
    s.set_latency_ms(300);
    let t = Instant::now();
    reqwest::get(info.url).await.unwrap().bytes().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
}

/// Values of `attr="..."` in the tags named `tag` of an XML byte string.
fn attr_values(xml: &[u8], tag: &str, attr: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(xml);
    let mut out = Vec::new();
    for piece in text.split(&format!("<{tag}")).skip(1) {
        let tag_text = &piece[..piece.find('>').unwrap()];
        if let Some(p) = tag_text.find(&format!("{attr}=\"")) {
            let v = &tag_text[p + attr.len() + 2..];
            out.push(v[..v.find('"').unwrap()].to_owned());
        }
    }
    out
}

/// Asserts `served` is `original` with each rewrite's original replaced by its loopback URL.
///
/// One pass: every occurrence of the base URL starts a token of URL-path bytes that must be a
/// loopback URL of this feed, and is put back as its original.
fn assert_only_locations_changed(s: &TestServer, feed: &url::Url, original: &[u8], served: &[u8]) {
    let back_map: std::collections::HashMap<Vec<u8>, Vec<u8>> = s
        .rewrites_for(feed)
        .into_iter()
        .map(|r| (r.loopback.as_str().as_bytes().to_vec(), r.original.into_bytes()))
        .collect();
    let base = s.base_url().to_string().into_bytes();
    let mut back = Vec::with_capacity(served.len());
    let mut i = 0;
    while i < served.len() {
        if served[i..].starts_with(&base) {
            let tail = &served[i + base.len()..];
            let len = tail.iter().take_while(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(b)).count();
            let token = &served[i..i + base.len() + len];
            let orig = back_map
                .get(token)
                .unwrap_or_else(|| panic!("{feed}: unknown loopback URL {}", String::from_utf8_lossy(token)));
            back.extend_from_slice(orig);
            i += token.len();
        } else {
            back.push(served[i]);
            i += 1;
        }
    }
    assert!(back == original, "{feed}: bytes other than locations changed");
}

#[tokio::test]
async fn every_corpus_file_round_trips() {
    let s = server().await;
    s.set_corpus_media_size(16);
    let mut served_files = 0;
    for dir in ["feeds", "playlists", "opml"] {
        let Ok(entries) = std::fs::read_dir(corpus_dir().join(dir)) else { continue };
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let rel = format!("{dir}/{name}");
            let feed = s.serve_corpus(&rel).unwrap();
            let original = std::fs::read(corpus_dir().join(&rel)).unwrap();
            let served = reqwest::get(feed.clone()).await.unwrap().bytes().await.unwrap();
            // Originals that are not valid UTF-8 cannot be put back through `String`.
            if s.rewrites_for(&feed).iter().all(|r| !r.original.contains('\u{FFFD}')) {
                assert_only_locations_changed(&s, &feed, &original, &served);
            }
            served_files += 1;
        }
    }
    assert!(served_files > 100, "{served_files}");
}

#[tokio::test]
async fn corpus_feed_enclosures_point_at_server() {
    let s = server().await;
    let rel = "feeds/gnomepod__2024-03-13-ndr.xml";
    let feed = s.serve_corpus(rel).unwrap();
    let original = std::fs::read(corpus_dir().join(rel)).unwrap();
    let served = reqwest::get(feed.clone()).await.unwrap().bytes().await.unwrap();
    let urls = attr_values(&served, "enclosure", "url");
    assert!(urls.len() >= 2, "{urls:?}");
    for u in &urls {
        assert!(u.starts_with(s.base_url().as_str()), "{u}");
        let resp = reqwest::get(u.as_str()).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "audio/mpeg");
        assert_eq!(resp.bytes().await.unwrap().len(), 64 * 1024);
    }
    assert_eq!(s.rewrites_for(&feed).len(), urls.len());
    assert!(s.rewrites_for(&feed)[0].original.starts_with("https://mediandr-a.akamaihd.net/"));
    assert_only_locations_changed(&s, &feed, &original, &served);
}

#[tokio::test]
async fn corpus_xspf_locations_point_at_server() {
    let s = server().await;
    s.set_corpus_media_size(1000);
    let rel = "playlists/totem__playlist.xspf";
    let feed = s.serve_corpus(rel).unwrap();
    let original = std::fs::read(corpus_dir().join(rel)).unwrap();
    let served =
        String::from_utf8(reqwest::get(feed.clone()).await.unwrap().bytes().await.unwrap().to_vec()).unwrap();
    let locations: Vec<&str> =
        served.split("<location>").skip(1).map(|p| &p[..p.find("</location>").unwrap()]).collect();
    assert!(!locations.is_empty());
    for loc in locations {
        assert!(loc.starts_with(s.base_url().as_str()), "{loc}");
        assert_eq!(reqwest::get(loc).await.unwrap().bytes().await.unwrap().len(), 1000);
    }
    assert_eq!(s.rewrites_for(&feed)[0].original, "http://207.200.96.226:8000 extraparam=1");
    assert_only_locations_changed(&s, &feed, &original, served.as_bytes());
}

#[tokio::test]
async fn corpus_other_playlists_rewrite() {
    let s = server().await;
    for (rel, expected) in
        [("playlists/clementine__pls_somafm.pls", 4), ("playlists/clementine__test.m3u", 10)]
    {
        let feed = s.serve_corpus(rel).unwrap();
        let original = std::fs::read(corpus_dir().join(rel)).unwrap();
        let served = reqwest::get(feed.clone()).await.unwrap().bytes().await.unwrap();
        assert!(s.rewrites_for(&feed).len() >= expected, "{rel}");
        assert_only_locations_changed(&s, &feed, &original, &served);
    }
}

#[tokio::test]
async fn corpus_utf16_is_served_unchanged() {
    let s = server().await;
    for rel in ["feeds/feedparser__encoding_utf-16be.xml", "feeds/feedparser__encoding_utf-16le-bom.xml"] {
        let feed = s.serve_corpus(rel).unwrap();
        let original = std::fs::read(corpus_dir().join(rel)).unwrap();
        let served = reqwest::get(feed.clone()).await.unwrap().bytes().await.unwrap();
        assert_eq!(served.as_ref(), original.as_slice(), "{rel}");
        assert!(s.rewrites_for(&feed).is_empty());
    }
    assert!(s.serve_corpus("feeds/does-not-exist.xml").is_err());
}

#[tokio::test]
async fn podcast_and_opml_are_well_formed() {
    use quick_xml::events::Event;
    let s = server().await;
    let feeds: Vec<_> = (0..3).map(|i| s.add_podcast(&format!("pod-{i}"), 4, 2048)).collect();
    let opml = s.add_opml("/subs.opml", &feeds);
    assert_eq!(s.manifest().len(), 12);

    let body = reqwest::get(feeds[1].clone()).await.unwrap().text().await.unwrap();
    let mut reader = quick_xml::Reader::from_str(&body);
    let (mut items, mut guids, mut enclosures) = (0, 0, Vec::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == "item" => items += 1,
            Event::Start(e) if e.name().as_ref() == "guid" => guids += 1,
            Event::Empty(e) if e.name().as_ref() == "enclosure" => {
                let attr = |n: &str| e.try_get_attribute(n).unwrap().unwrap().value.into_owned();
                assert_eq!(attr("length"), "2048");
                assert_eq!(attr("type"), "audio/mpeg");
                enclosures.push(attr("url"));
            }
            _ => {}
        }
    }
    assert_eq!((items, guids, enclosures.len()), (4, 4, 4));
    assert!(
        body.contains("xmlns:itunes=") && body.contains("<pubDate>Sat, 01 Jun 2024 12:00:00 GMT</pubDate>")
    );
    let media = reqwest::get(enclosures[0].as_str()).await.unwrap().bytes().await.unwrap();
    assert_eq!(s.manifest()[&enclosures[0]].sha256_hex, sha_hex(&media));

    let body = reqwest::get(opml).await.unwrap().text().await.unwrap();
    let mut reader = quick_xml::Reader::from_str(&body);
    let mut urls = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Eof => break,
            Event::Empty(e) if e.name().as_ref() == "outline" => {
                let v = e.try_get_attribute("xmlUrl").unwrap().unwrap().value.into_owned();
                assert_eq!(e.try_get_attribute("type").unwrap().unwrap().value.as_ref(), "rss");
                urls.push(v);
            }
            _ => {}
        }
    }
    assert_eq!(urls, feeds.iter().map(|u| u.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn dropping_last_handle_stops_server() {
    let s = server().await;
    let addr = s.local_addr();
    let clone = s.clone();
    drop(s);
    assert!(TcpStream::connect(addr).await.is_ok());
    drop(clone);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn retry_after_and_408_faults_answer_their_status() {
    let s = server().await;
    let info = s.add_media("/f/busy.mp3", 1_000);
    s.set_fault("/f/busy.mp3", Fault::RetryAfter { status: 429, retry_after_s: 7 }, Some(1));
    let client = reqwest::Client::new();
    let resp = client.get(info.url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    s.set_fault("/f/busy.mp3", Fault::Status(408), Some(1));
    assert_eq!(client.get(info.url.clone()).send().await.unwrap().status(), 408);
    let resp = client.get(info.url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(sha_hex(&resp.bytes().await.unwrap()), info.sha256_hex);
}

#[tokio::test]
async fn wrong_content_range_serves_a_shifted_range() {
    let s = server().await;
    let info = s.add_media("/f/shift.mp3", 10_000);
    let whole = reqwest::get(info.url.clone()).await.unwrap().bytes().await.unwrap();
    s.set_fault("/f/shift.mp3", Fault::WrongContentRange { shift: 100 }, Some(2));
    let client = reqwest::Client::new();
    // without Range: a 206 from byte 100
    let resp = client.get(info.url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-range"], "bytes 100-9999/10000");
    assert_eq!(resp.bytes().await.unwrap(), whole.slice(100..));
    // with Range: bytes=4000- answered from 4100
    let resp = client.get(info.url.clone()).header("range", "bytes=4000-").send().await.unwrap();
    assert_eq!(resp.headers()["content-range"], "bytes 4100-9999/10000");
    assert_eq!(resp.bytes().await.unwrap(), whole.slice(4100..));
    // the fault was used up
    let resp = client.get(info.url).header("range", "bytes=4000-").send().await.unwrap();
    assert_eq!(resp.headers()["content-range"], "bytes 4000-9999/10000");
}

#[tokio::test]
async fn counters_of_gets_from_byte_zero_and_the_stats_page() {
    let s = server().await;
    let info = s.add_media("/f/z.mp3", 5_000);
    let client = reqwest::Client::new();
    for range in [None, Some("bytes=0-"), Some("bytes=0-99"), Some("bytes=100-"), Some("bytes=-10")] {
        let mut req = client.get(info.url.clone());
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send().await.unwrap().bytes().await.unwrap();
    }
    client.head(info.url.clone()).send().await.unwrap();
    let stats = s.stats();
    assert_eq!(stats.from_zero_for("/f/z.mp3"), 3, "no Range, bytes=0- and bytes=0-99; not HEAD");
    assert_eq!(stats.total_body_bytes(), 5_000 + 5_000 + 100 + 4_900 + 10);
    let page = reqwest::get(s.url("/_testkit/stats")).await.unwrap().text().await.unwrap();
    assert_eq!(
        page,
        format!(
            "requests 7\nbody_bytes {}\nfrom_zero_requests 4\nnot_modified 0\nmedia_bytes 5000\n",
            stats.total_body_bytes()
        )
    );
}

/// Runs `testkit-server` with `args` and an output folder under the system temp dir; returns
/// its stdout lines up to `MANIFEST`, the folder and the child.
async fn start_server_binary(
    args: &[&str],
    tag: &str,
) -> (Vec<String>, std::path::PathBuf, tokio::process::Child) {
    use tokio::io::AsyncBufReadExt;
    let out = std::env::temp_dir().join(format!("testkit-server-test-{}-{tag}", std::process::id()));
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_testkit-server"))
        .args(args)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut head = Vec::new();
    while let Some(line) =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap()
    {
        let last = line.starts_with("MANIFEST");
        head.push(line);
        if last {
            break;
        }
    }
    child.stdout = Some(lines.into_inner().into_inner());
    (head, out, child)
}

#[tokio::test]
async fn the_server_binary_injects_a_deterministic_fault_mix_and_reports_its_counters() {
    let args =
        ["--feeds", "4", "--episodes", "5", "--size", "20000", "--fault-percent", "20", "--fault-seed", "7"];
    let (head, out, child) = start_server_binary(&args, "a").await;
    assert!(head.contains(&"FAULTS 4".to_string()), "20 % of 20 files: {head:?}");
    let faults = std::fs::read_to_string(out.join("faults.txt")).unwrap();
    let kinds: Vec<&str> = faults.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(kinds, ["stall", "reset", "http-500", "short-body"], "{faults}");
    let base = head.iter().find_map(|l| l.strip_prefix("BASE ")).unwrap().to_owned();
    let client = reqwest::Client::new();
    // the HTTP 500 file fails once, then serves its bytes
    let failing =
        faults.lines().find(|l| l.starts_with("http-500")).unwrap().split_whitespace().nth(1).unwrap();
    let url = format!("{}{}", base.trim_end_matches('/'), failing);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 500);
    let body = client.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 20_000);
    let stats = client.get(format!("{base}_testkit/stats")).send().await.unwrap().text().await.unwrap();
    assert!(stats.contains("body_bytes 20000\n") && stats.contains("media_bytes 400000\n"), "{stats}");
    // the same seed picks the same files
    let (_, out_b, mut child_b) = start_server_binary(&args, "b").await;
    assert_eq!(std::fs::read_to_string(out_b.join("faults.txt")).unwrap(), faults);
    child_b.kill().await.unwrap();
    // SIGTERM: the counters are printed at exit
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let output =
        tokio::time::timeout(Duration::from_secs(10), child.wait_with_output()).await.unwrap().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("STATS requests=3 body_bytes=20000 from_zero_requests=3 media_bytes=400000"),
        "{printed}"
    );
    for dir in [out, out_b] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn a_podcast_can_name_its_media_on_another_loopback_host() {
    let s = server().await;
    let other = s.also_listen_on(std::net::Ipv4Addr::new(127, 0, 0, 7)).await.unwrap();
    assert_eq!(other.as_str(), format!("http://127.0.0.7:{}/", s.local_addr().port()));
    let feed = s.add_podcast_with_media_on("spread", 2, 1_000, &other);
    let xml = reqwest::get(feed).await.unwrap().text().await.unwrap();
    let url = format!("{other}spread/1.mp3");
    assert!(xml.contains(&format!("url=\"{url}\"")), "{xml}");
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(
        sha_hex(&body),
        s.manifest().values().find(|m| m.url.path() == "/spread/1.mp3").unwrap().sha256_hex
    );
    s.shutdown().await;
    assert!(reqwest::get(&url).await.is_err(), "the extra listener stops with the server");
}
