//! Prints one JSON object per input file with what `catalog::parse_document` made of it:
//! `{"path", "ok", "entries", "title", "error", "warnings"}`. Used by
//! `bench/feedparser_parity.sh` to compare entry counts with Python's feedparser.
//!
//! Usage: `cargo run -p catalog-sync-core --example feed_counts -- FILE...` (or file paths on
//! stdin, one a line, when no argument is given).

use catalog_sync_core::catalog::{parse_document, Document};
use std::io::BufRead;

fn main() {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        paths = std::io::stdin().lock().lines().map_while(Result::ok).filter(|l| !l.is_empty()).collect();
    }
    for path in paths {
        let url = url::Url::parse(&format!("http://bench.example/{}", path.trim_start_matches('/')))
            .unwrap_or_else(|_| url::Url::parse("http://bench.example/feed.xml").unwrap());
        let row = match std::fs::read(&path) {
            Err(e) => serde_json::json!({"path": path, "ok": false, "entries": 0, "error": e.to_string()}),
            Ok(bytes) => match parse_document(&bytes, &url) {
                Ok(Document::Playlist(p)) => serde_json::json!({
                    "path": path, "ok": true, "entries": p.items.len(), "title": p.title,
                    "warnings": p.warnings,
                }),
                Ok(Document::Subscriptions(s)) => {
                    serde_json::json!({"path": path, "ok": true, "entries": s.len(), "opml": true})
                }
                Err(e) => {
                    serde_json::json!({"path": path, "ok": false, "entries": 0, "error": e.to_string()})
                }
            },
        };
        println!("{row}");
    }
}
