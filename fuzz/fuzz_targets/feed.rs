//! Fuzz target: feeds (RSS 0.9x/1.0/2.0, Atom). The raw bytes go through the same decoding as
//! a fetched document (`decode_xml`: BOM, XML declaration, fallbacks), then `parse_feed`. Any
//! outcome but a panic is fine: malformed input must give a `ParseError`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://example.com/podcast/feed.xml").expect("valid base");
    if let Ok(text) = catalog_sync_core::catalog::decode_xml(data) {
        let _ = catalog_sync_core::catalog::feed::parse_feed(&text, &base);
    }
});
