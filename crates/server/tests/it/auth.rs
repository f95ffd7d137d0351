//! Auth and abuse: tokens, sessions, the Host check, the login limiter, body limits, malformed
//! JSON, local paths and private addresses.

use catalog_sync_server::auth::{LOGIN_ATTEMPTS, LOGIN_WINDOW_MS, SESSION_COOKIE};
use reqwest::header;

use crate::rig::{wire, Rig, TOKEN};

/// Every API route but health and login.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/info"),
    ("GET", "/api/playlists"),
    ("POST", "/api/playlists"),
    ("GET", "/api/playlists/1/items"),
    ("PUT", "/api/playlists/1/media"),
    ("GET", "/api/playlists/1/art"),
    ("GET", "/api/items/1/art"),
    ("GET", "/api/ytdlp"),
    ("POST", "/api/ytdlp/update"),
    ("POST", "/api/import"),
    ("GET", "/api/opml"),
    ("PUT", "/api/wanted"),
    ("POST", "/api/jobs"),
    ("POST", "/api/jobs/pause-all"),
    ("POST", "/api/jobs/resume-all"),
    ("GET", "/api/jobs/1"),
    ("POST", "/api/jobs/1/command"),
    ("GET", "/api/task-center"),
    ("GET", "/api/throughput"),
    ("GET", "/api/settings"),
    ("PUT", "/api/settings"),
    ("GET", "/api/events"),
    ("POST", "/api/logout"),
    ("GET", "/api/no-such-route"),
];

#[tokio::test]
async fn no_token_or_a_wrong_one_is_401_on_every_api_route() {
    let rig = Rig::start().await;
    let c = rig.client();
    for (method, path) in ROUTES {
        let m: reqwest::Method = method.parse().unwrap();
        let none = c.request(m.clone(), rig.url(path)).send().await.unwrap();
        assert_eq!(wire(none).await.0, 401, "{method} {path} without a token");
        let wrong = c.request(m.clone(), rig.url(path)).bearer_auth("x".repeat(64)).send().await.unwrap();
        assert_eq!(wire(wrong).await.0, 401, "{method} {path} with a wrong token");
        let cookie = c
            .request(m, rig.url(path))
            .header(header::COOKIE, format!("{SESSION_COOKIE}=forged"))
            .send()
            .await
            .unwrap();
        assert_eq!(wire(cookie).await.0, 401, "{method} {path} with a forged session");
    }
    let ok = rig.get("/api/playlists").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let health = c.get(rig.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "health needs no token");
    rig.stop().await;
}

#[tokio::test]
async fn login_trades_the_token_for_a_strict_http_only_session() {
    let rig = Rig::start().await;
    let c = rig.client();
    let resp =
        c.post(rig.url("/api/login")).json(&serde_json::json!({ "token": TOKEN })).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let set = resp.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    let session = set.split(';').next().unwrap().to_string();
    let with = |path: &str| c.get(rig.url(path)).header(header::COOKIE, session.clone());
    assert_eq!(with("/api/task-center").send().await.unwrap().status(), 200);
    let out = c.post(rig.url("/api/logout")).header(header::COOKIE, session.clone()).send().await.unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(with("/api/task-center").send().await.unwrap().status(), 401, "the session ended");
    rig.stop().await;
}

#[tokio::test]
async fn a_host_that_is_not_this_server_is_refused() {
    let rig = Rig::start().await;
    let c = rig.client();
    for host in ["evil.example", "evil.example:8750", "nas.example.evil.example"] {
        let resp = c.get(rig.url("/api/health")).header(header::HOST, host).send().await.unwrap();
        let (status, code, _) = wire(resp).await;
        assert_eq!((status, code.as_str()), (421, "forbidden"), "{host}");
        let resp = c.get(rig.url("/")).header(header::HOST, host).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 421, "static files too: {host}");
    }
    for host in ["localhost:8750", "127.0.0.1", "NAS.example:80"] {
        let resp = c.get(rig.url("/api/health")).header(header::HOST, host).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{host}");
    }
    rig.stop().await;
}

#[tokio::test]
async fn bad_logins_are_rate_limited_and_the_window_ends() {
    let rig = Rig::start().await;
    let c = rig.client();
    let login =
        |token: &str| c.post(rig.url("/api/login")).json(&serde_json::json!({ "token": token })).send();
    let mut statuses = Vec::new();
    for i in 0..100 {
        statuses.push(login(&format!("guess-{i}")).await.unwrap().status().as_u16());
    }
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((unauthorized, limited), (LOGIN_ATTEMPTS as usize, 100 - LOGIN_ATTEMPTS as usize));
    let resp = login(TOKEN).await.unwrap();
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
    let (status, code, _) = wire(resp).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"), "even the right token waits");
    rig.clock.advance(LOGIN_WINDOW_MS);
    assert_eq!(login(TOKEN).await.unwrap().status(), 204, "a new window");
    rig.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_413_and_malformed_json_is_400() {
    let rig = Rig::start().await;
    let big = vec![b' '; catalog_sync_server::routes::JSON_LIMIT + 1];
    let resp = rig
        .post("/api/playlists")
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, code, _) = wire(resp).await;
    assert_eq!((status, code.as_str()), (413, "too_large"));
    let upload = vec![b'x'; catalog_sync_core::api::MAX_UPLOAD_BYTES + 1];
    let resp = rig.post("/api/import?name=big.opml").body(upload).send().await.unwrap();
    assert_eq!(wire(resp).await.0, 413);
    for body in ["{\"urls\": [", "not json", "{\"urls\": 5}"] {
        let resp = rig
            .post("/api/playlists")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, code, message) = wire(resp).await;
        assert_eq!((status, code.as_str()), (400, "invalid_input"), "{body}");
        assert!(!message.is_empty());
    }
    rig.stop().await;
}

#[tokio::test]
async fn the_api_never_reads_a_local_path() {
    let rig = Rig::start().await;
    let secret = rig.dir.path().join("secret.opml");
    std::fs::write(
        &secret,
        "<opml version=\"2.0\"><body><outline xmlUrl=\"https://a.example/f\"/></body></opml>",
    )
    .unwrap();
    for input in [secret.display().to_string(), format!("file://{}", secret.display())] {
        let resp =
            rig.post("/api/playlists").json(&serde_json::json!({ "urls": [input] })).send().await.unwrap();
        let (status, code, _) = wire(resp).await;
        assert_eq!((status, code.as_str()), (400, "invalid_input"), "{input}");
    }
    assert!(rig
        .api
        .list_playlists(catalog_sync_core::api::Page::default())
        .await
        .unwrap()
        .playlists
        .is_empty());
    // an uploaded list is read; its file: subscriptions are skipped
    let opml = "<opml version=\"2.0\"><body><outline xmlUrl=\"https://a.example/f.xml\"/>\
                <outline xmlUrl=\"file:///etc/passwd\"/></body></opml>";
    let resp = rig.post("/api/import?name=subs.opml").body(opml).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((v["created"].as_u64(), v["subscription_list"].as_bool()), (Some(1), Some(true)));
    rig.stop().await;
}

#[tokio::test]
async fn private_address_feeds_are_refused_when_blocked_with_the_reason_on_the_playlist() {
    let server = catalog_sync_testkit::TestServer::start(Default::default()).await.unwrap();
    let feed = server.add_podcast("lan", 2, 1_000);
    let rig = Rig::with(|c| c.block_private_addresses = Some(true)).await;
    // adding by URL fetches it: refused, as a final error naming the rule
    let resp = rig
        .post("/api/playlists")
        .json(&serde_json::json!({ "urls": [feed.as_str()] }))
        .send()
        .await
        .unwrap();
    let (status, _, message) = wire(resp).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("block_private_addresses"), "{message}");
    // a name that resolves to loopback too
    let by_name = feed.as_str().replace("127.0.0.1", "localhost");
    let resp =
        rig.post("/api/playlists").json(&serde_json::json!({ "urls": [by_name] })).send().await.unwrap();
    let (status, _, message) = wire(resp).await;
    assert!(status == 400 && message.contains("refused"), "{status} {message}");
    // a list naming it adds it; the sync refuses it and stores why on the playlist
    let opml = format!("<opml version=\"2.0\"><body><outline xmlUrl=\"{feed}\"/></body></opml>");
    let resp = rig.post("/api/import?name=lan.opml").body(opml).send().await.unwrap();
    let id = resp.json::<serde_json::Value>().await.unwrap()["ids"][0].as_u64().unwrap();
    let job = rig.api.enqueue(catalog_sync_core::api::JobKind::SyncOnly, vec![id]).await.unwrap();
    wait_until_ended(&rig, job).await;
    let p = rig.api.playlist(id).await.unwrap();
    let error = p.last_error.expect("the reason is stored");
    assert!(error.contains("refused") && error.contains("127.0.0.1"), "{error}");
    assert_eq!(server.stats().requests_for(feed.path()), 0, "no request reached the server");
    rig.stop().await;

    // allow-listed: fetched
    let rig = Rig::with(|c| {
        c.block_private_addresses = Some(true);
        c.allowed_private_hosts = vec!["127.0.0.0/8".into()];
    })
    .await;
    let resp = rig
        .post("/api/playlists")
        .json(&serde_json::json!({ "urls": [feed.as_str()] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    rig.stop().await;
}

/// Polls (a bounded wait, not an assertion) until `job` is no longer queued/running.
pub async fn wait_until_ended(rig: &Rig, job: u64) {
    for _ in 0..600 {
        let d = rig.api.job_detail(job).await.unwrap();
        use catalog_sync_core::api::JobStatus::{PauseRequested, Queued, Running};
        if !matches!(d.job.status, Queued | Running | PauseRequested) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {job} did not end");
}
