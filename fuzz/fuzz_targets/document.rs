//! Fuzz target: the whole entry point, `catalog::parse_document` (empty check, decoding,
//! detection by content, the detected parser, then merging duplicate items), which is what
//! every fetched playlist goes through. Any outcome but a panic is fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://example.com/podcast/feed.xml").expect("valid base");
    let _ = catalog_sync_core::catalog::parse_document(data, &base);
});
