//! Fuzz target: XSPF playlists (`parse_xspf`) on the bytes decoded like a fetched document,
//! with a base URL for relative locations. Any outcome but a panic is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://example.com/lists/list.xspf").expect("valid base");
    if let Ok(text) = catalog_sync_core::catalog::decode_xml(data) {
        let _ = catalog_sync_core::catalog::xspf::parse_xspf(&text, &base);
    }
});
