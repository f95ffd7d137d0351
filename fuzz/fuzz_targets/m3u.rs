//! Fuzz target: M3U/M3U8 playlists (`parse_m3u`) on the bytes decoded like a fetched document
//! (`decode_xml`, which every format goes through in `parse_document`), with a base URL for
//! relative lines. Any outcome but a panic is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://example.com/lists/list.m3u").expect("valid base");
    if let Ok(text) = catalog_sync_core::catalog::decode_xml(data) {
        let _ = catalog_sync_core::catalog::m3u::parse_m3u(&text, &base);
    }
});
