//! The embedded UI: served with its type, never escapable, headers on every response.

use crate::rig::{Rig, TOKEN};

/// Sends `path` verbatim (reqwest would normalise `..` away).
async fn raw_get(rig: &Rig, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(rig.addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn the_ui_is_served_with_csp_and_nosniff() {
    let rig = Rig::start().await;
    let resp = rig.client().get(rig.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    let html = resp.text().await.unwrap();
    let js = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a script in index.html");
    let resp = rig.client().get(rig.url(js)).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{js}");
    assert!(resp.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let api = rig.client().get(rig.url("/api/health")).send().await.unwrap();
    assert_eq!(api.headers()["x-content-type-options"], "nosniff", "API responses too");
    rig.stop().await;
}

#[tokio::test]
async fn static_paths_cannot_escape() {
    let rig = Rig::start().await;
    for path in [
        "/../Cargo.toml",
        "/assets/../../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/assets/%2e%2e%2f%2e%2e%2fcrates/server/Cargo.toml",
        "/..%5c..%5cCargo.toml",
        "/.%2e/.%2e/etc/passwd",
    ] {
        let resp = raw_get(&rig, path).await;
        let status = resp.split(' ').nth(1).unwrap_or_default().to_string();
        assert!(status == "404" || status == "400", "{path}: {}", resp.lines().next().unwrap_or_default());
        assert!(!resp.contains("[package]") && !resp.contains("root:"), "{path} leaked a file");
    }
    rig.stop().await;
}
