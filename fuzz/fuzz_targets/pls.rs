//! Fuzz target: PLS playlists (`parse_pls`) on the bytes decoded like a fetched document
//! (`decode_xml`), with a base URL for relative entries. Any outcome but a panic is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://example.com/lists/list.pls").expect("valid base");
    if let Ok(text) = catalog_sync_core::catalog::decode_xml(data) {
        let _ = catalog_sync_core::catalog::pls::parse_pls(&text, &base);
    }
});
