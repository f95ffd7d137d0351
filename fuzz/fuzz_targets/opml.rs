//! Fuzz target: OPML subscription lists (`parse_opml`) on the bytes decoded like a fetched
//! document. Any outcome but a panic is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = catalog_sync_core::catalog::decode_xml(data) {
        let _ = catalog_sync_core::catalog::opml::parse_opml(&text);
    }
});
