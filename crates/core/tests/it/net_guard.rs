//! The private-address guard (`net_guard`, `block_private_addresses`) in the real HTTP clients
//! against the loopback server: a document and a media fetch to a loopback address are refused
//! as final errors naming the rule, before any request reaches the server; an allow-listed
//! range is fetched; and a redirect from an allowed address to one that is not is refused at
//! the hop (the target, 127.0.0.2, only accepts connections and never answers).

use std::sync::Arc;

use catalog_sync_core::catalog::fetch::{build_document_client_guarded, fetch_document_with, DocumentLimits};
use catalog_sync_core::download::transfer::build_client_guarded;
use catalog_sync_core::download::{fetch_to_file, TransferOptions};
use catalog_sync_core::net_guard::AddressGuard;
use catalog_sync_testkit::{Behaviour, ServerConfig, TestServer};
use tokio_util::sync::CancellationToken;

fn guard(allowed: &[&str]) -> Arc<AddressGuard> {
    Arc::new(AddressGuard::new(&allowed.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap())
}

#[tokio::test]
async fn loopback_is_refused_as_a_final_error_and_an_allowed_range_is_fetched() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let media = server.add_media("/m/1.mp3", 10_000);
    let feed = server.add_podcast("g", 1, 1_000);
    let dir = tempfile::tempdir().unwrap();
    let blocked = guard(&[]);

    let docs = build_document_client_guarded("t", Some(&blocked));
    let err = fetch_document_with(&docs, &feed, &DocumentLimits::default()).await.unwrap_err();
    assert!(!err.is_transient(), "a refusal is final: {err}");
    assert!(err.to_string().contains("block_private_addresses"), "{err}");

    let client = build_client_guarded("t", Some(&blocked));
    let opts = TransferOptions { max_attempts: 1, ..TransferOptions::default() };
    let dest = dir.path().join("1.mp3");
    let err = fetch_to_file(&client, &media.url, &dest, &opts, &|_| {}, &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.class(), "final", "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(server.stats().requests_for("/m/1.mp3"), 0, "nothing reached the server");

    let allowed = guard(&["127.0.0.0/8"]);
    let client = build_client_guarded("t", Some(&allowed));
    let got =
        fetch_to_file(&client, &media.url, &dest, &opts, &|_| {}, &CancellationToken::new()).await.unwrap();
    assert_eq!(got.sha256_hex, media.sha256_hex);
    let docs = build_document_client_guarded("t", Some(&allowed));
    assert!(fetch_document_with(&docs, &feed, &DocumentLimits::default()).await.is_ok());
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused_at_the_hop() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    // a peer on 127.0.0.2 that accepts and never answers: only the guard ends the fetch quickly
    let other = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let port = other.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = other.accept().await {
            held.push(s);
        }
    });
    let target = format!("http://127.0.0.2:{port}/lan.mp3");
    server.add_media("/hop.mp3", 1_000);
    server.set_behaviour("/hop.mp3", Behaviour::Redirect { status: 302, location: target.clone() });
    server.add_feed("/hop.xml", b"<rss/>".to_vec(), "application/rss+xml");
    server.set_behaviour("/hop.xml", Behaviour::Redirect { status: 302, location: target });
    let only_first = guard(&["127.0.0.1/32"]);

    let client = build_client_guarded("t", Some(&only_first));
    let dir = tempfile::tempdir().unwrap();
    let opts = TransferOptions { max_attempts: 1, ..TransferOptions::default() };
    let err = fetch_to_file(
        &client,
        &server.url("/hop.mp3"),
        &dir.path().join("h.mp3"),
        &opts,
        &|_| {},
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("127.0.0.2") && err.class() == "final", "{err}");

    let docs = build_document_client_guarded("t", Some(&only_first));
    let err =
        fetch_document_with(&docs, &server.url("/hop.xml"), &DocumentLimits::default()).await.unwrap_err();
    assert!(err.to_string().contains("127.0.0.2") && !err.is_transient(), "{err}");
}
