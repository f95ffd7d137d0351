//! The whole shared corpus through `parse_document`: no panics, the error policy per manifest
//! kind, item counts against the manifest, `podcast:alternateEnclosure` counts, and insta
//! snapshots of the malformed-file outcomes and of a few parsed documents.

use crate::catalog_common::{manifest, parse, playlist, Row};
use catalog_sync_core::catalog::{Document, ParseError};

/// Files whose parsed item count differs from the manifest's raw `items=N`, and why.
/// Every other well-formed feed must match the manifest exactly.
const COUNT_EXCEPTIONS: &[(&str, usize, &str)] = &[
    ("rsparser__macworld.rss", 29, "two articles share one image enclosure URL (no guids): merged"),
    ("rsparser__scriptingNews.rss", 48, "2 duplicate guids: merged"),
    ("rsscrate__rss092.xml", 21, "two items share one enclosure URL (no guids): merged"),
    ("rome__CDATATestFeed.xml", 1, "duplicate guid: merged"),
    ("rome__issue137-rss.xml", 1, "3 duplicate guids: merged"),
];

/// Manifest rows whose kind the policy test does not apply as written, and why.
const KIND_EXCEPTIONS: &[(&str, &str)] = &[(
    "openm3u8__negativeDurationMediaPlaylist.m3u8",
    "labelled m3u8-hls-media, but by content a plain radio M3U (#EXTINF:-1 + stream URLs, no #EXT-X- tags)",
)];

fn outcome(path: &str) -> String {
    match parse(path) {
        Ok(Document::Playlist(p)) => format!("Ok({} items)", p.items.len()),
        Ok(Document::Subscriptions(s)) => format!("Ok({} subscriptions)", s.len()),
        Err(e) => format!("Err({e})"),
    }
}

fn is_wellformed_feed(row: &Row) -> bool {
    ["feed-rss", "feed-atom", "feed-rdf"].iter().any(|k| row.kind.starts_with(k))
        && !row.kind.contains("(malformed)")
}

#[test]
fn every_file_parses_without_panic_and_follows_the_error_policy() {
    let rows = manifest();
    assert!(rows.len() > 150, "corpus manifest looks truncated: {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let result = match std::panic::catch_unwind(|| parse(&row.path)) {
            Ok(r) => r,
            Err(_) => {
                failures.push(format!("{}: PANIC", row.path));
                continue;
            }
        };
        if KIND_EXCEPTIONS.iter().any(|(n, _)| *n == row.name()) {
            continue;
        }
        let k = row.kind.as_str();
        let ok = if k.starts_with("not-a-feed") || k.starts_with("empty-file") {
            result.is_err()
        } else if k.starts_with("m3u8-hls-") {
            matches!(result, Err(ParseError::Unsupported(_)))
        } else if is_wellformed_feed(row) {
            matches!(result, Ok(Document::Playlist(_)))
        } else if k == "opml" {
            matches!(result, Ok(Document::Subscriptions(_)))
        } else if k == "opml(malformed)" {
            matches!(result, Err(ParseError::Malformed(_)))
        } else if k == "pls" && row.name() == "totem__emptyplaylist.pls" {
            result == Err(ParseError::Empty) // a 1-byte file: literally empty
        } else if k.starts_with("pls") || k.starts_with("xspf") || k.starts_with("m3u-extended") {
            matches!(result, Ok(Document::Playlist(_)))
        } else {
            true // remaining kinds (malformed feeds, feed-other, m3u(hls tags)) are in the snapshot
        };
        if !ok {
            failures.push(format!("{} [{}]: {:?}", row.path, row.kind, result.map(|_| "Ok")));
        }
    }
    assert!(failures.is_empty(), "policy violations:\n{}", failures.join("\n"));
}

#[test]
fn item_counts_match_the_manifest() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in manifest().iter().filter(|r| is_wellformed_feed(r)) {
        let Some(manifest_n) = row.items() else { continue };
        let want = COUNT_EXCEPTIONS.iter().find(|(n, _, _)| *n == row.name()).map_or(manifest_n, |e| e.1);
        let got = playlist(&row.path).items.len();
        if got != want {
            failures
                .push(format!("{}: manifest items={manifest_n}, expected {want}, parsed {got}", row.path));
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} feeds checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_and_odd_files_outcome_table() {
    let mut table = String::from("file | kind | outcome\n");
    for row in manifest() {
        let interesting = row.kind.contains("malformed")
            || row.kind.starts_with("not-a-feed")
            || row.kind.starts_with("feed-other")
            || row.kind.starts_with("m3u(");
        if interesting {
            table.push_str(&format!("{} | {} | {}\n", row.name(), row.kind, outcome(&row.path)));
        }
    }
    insta::assert_snapshot!("malformed_outcomes", table);
}

fn alternate_count(path: &str) -> usize {
    playlist(path).items.iter().map(|i| i.alternate_enclosures.len()).sum()
}

/// `podcast:alternateEnclosure` elements inside `<podcast:liveItem>` blocks (raw text scan).
fn alternates_in_live_items(path: &str) -> usize {
    let text = std::fs::read_to_string(crate::catalog_common::corpus_dir().join(path)).unwrap();
    text.split("<podcast:liveItem")
        .skip(1)
        .map(|chunk| {
            chunk
                .split("</podcast:liveItem>")
                .next()
                .unwrap_or("")
                .matches("<podcast:alternateEnclosure")
                .count()
        })
        .sum()
}

#[test]
fn alternate_enclosure_counts() {
    // The manifest counts every alternateEnclosure in the document; those inside a liveItem
    // are not on any item (liveItems are not items), so items carry the rest.
    for (path, on_items) in [
        ("feeds/pcns__example.xml", 13),
        ("feeds/partytime__podverse-test-feed.xml", 8),
        ("feeds/partytime__animated-no-agenda.xml", 140),
        ("feeds/partytime__themnshow.xml", 126),
    ] {
        let row = manifest().into_iter().find(|r| r.path == path).unwrap();
        let in_manifest = crate::catalog_common::number_after(&row.notes, "alternateEnclosure=").unwrap();
        assert_eq!(alternate_count(path), on_items, "{path}");
        assert_eq!(on_items + alternates_in_live_items(path), in_manifest, "{path}");
    }
    let p = playlist("feeds/pcns__example.xml");
    let first = &p.items[0].alternate_enclosures[0];
    assert_eq!(first.sources, ["https://example.com/file-03.mp3", "ipfs://someRandomMpegFile03"]);
    assert!(first.default);
    assert_eq!(first.bitrate, Some(128000.0));
    assert!(p.items.iter().flat_map(|i| &i.alternate_enclosures).any(|a| a.integrity.is_some()));
    assert!(p.podcast_guid.is_some());
}

#[test]
fn snapshot_parsed_documents() {
    for (name, path) in [
        ("pcns_example", "feeds/pcns__example.xml"),
        ("atom_antennapod", "feeds/antennapod__feed-atom-testAtomBasic.xml"),
        ("opml_pocketcasts", "opml/janw__opml_pocketcasts_valid.xml"),
        ("xspf_xml_base", "playlists/totem__xml-base.xspf"),
        ("pls_missing_items", "playlists/totem__missing-items.pls"),
    ] {
        insta::assert_debug_snapshot!(name, parse(path).expect(path));
    }
}

#[test]
fn channel_fields() {
    let p = playlist("feeds/jbierfeldt__bc-sample-new-feed-url.xml");
    assert!(p.new_feed_url.as_deref().is_some_and(|u| u.starts_with("http")), "{:?}", p.new_feed_url);
    let p = playlist("feeds/gnomepod__2026-02-13-deprogram.xml");
    assert!(p.podcast_guid.is_some());
    assert!(p.image.as_deref().is_some_and(|u| u.starts_with("http")));
    assert!(p.title.is_some() && p.link.is_some());
    assert_eq!(playlist("feeds/totem__empty-feed.xml").title, None);
    // Legacy GitHub namespace URI for podcast:*.
    assert!(playlist("feeds/partytime__pc20rss.xml").podcast_guid.is_some());
    // Undefined HTML entity (&nbsp;) in an otherwise sound feed becomes U+00A0.
    let p = playlist("feeds/feedrs__rss_2.0_dbengines.xml");
    let text = format!("{:?}{:?}", p.items[0].title, p.items[0].description);
    assert!(!text.contains("&nbsp;"), "{text}");
    // Durations from itunes:duration MM:SS.
    assert_eq!(playlist("feeds/nodepp__apple-example.xml").items[0].duration_secs, Some(7 * 60 + 4));
}

/// Item images on real feeds: per-item `itunes:image` (400 items, each its own picture) and
/// a YouTube Atom entry's `media:thumbnail`; the channel image stays the channel's.
#[test]
fn item_images() {
    let p = playlist("feeds/totem__podcast-different-item-images.rss");
    let images: Vec<&str> = p.items.iter().filter_map(|i| i.image.as_deref()).collect();
    assert_eq!(images.len(), 400);
    assert!(images.iter().all(|u| u.starts_with("https://images.theabcdn.com/i/")), "{images:?}");
    let distinct: std::collections::HashSet<_> = images.iter().collect();
    assert!(distinct.len() > 300, "{} distinct", distinct.len());
    assert!(p.image.is_some() && !distinct.contains(&p.image.as_deref().unwrap()));
    let p = playlist("feeds/feedrs__atom_mediarss_youtube_1.xml");
    assert_eq!(p.items[0].image.as_deref(), Some("https://i1.ytimg.com/vi/0A1ouV7iD8o/hqdefault.jpg"));
    let p = playlist("feeds/pcns__example.xml");
    assert!(p.items.iter().all(|i| i.image.as_deref().is_some_and(|u| u.ends_with("/artMd.jpg"))));
}

/// Feeds whose count of items-with-enclosure differs from the manifest's raw `enclosures=M`.
const ENCLOSURE_EXCEPTIONS: &[(&str, usize, &str)] = &[
    ("pcns__example.xml", 3, "1 enclosure is inside a liveItem"),
    ("partytime__podverse-test-feed.xml", 5, "4 liveItem enclosures"),
    ("partytime__natube-test.xml", 15, "1 liveItem enclosure"),
    ("partytime__themnshow.xml", 54, "1 liveItem enclosure"),
    ("partytime__homegrown-hits.xml", 4, "1 liveItem enclosure"),
    ("rsparser__macworld.rss", 29, "two items share an enclosure URL: merged"),
    ("rsparser__4fsodonline.atom", 25, "one entry has two enclosure links; one is kept"),
    ("rsparser__expertopinionent.atom", 41, "43 entries, 2 without enclosure; some have two"),
    ("rsscrate__rss092.xml", 14, "two items share an enclosure URL: merged"),
    ("podcastparser__no_title_multi_enclosure.rss", 1, "one item, two enclosures; one is kept"),
    ("feedrs__rss_2.0_vimeo_media.xml", 1, "media:content video used as the enclosure"),
];

#[test]
fn enclosure_counts_match_the_manifest() {
    let mut failures = Vec::new();
    for row in manifest().iter().filter(|r| is_wellformed_feed(r)) {
        let Some(m) = crate::catalog_common::number_after(&row.notes, "enclosures=") else { continue };
        let want = ENCLOSURE_EXCEPTIONS.iter().find(|(n, _, _)| *n == row.name()).map_or(m, |e| e.1);
        let got = playlist(&row.path).items.iter().filter(|i| i.enclosure.is_some()).count();
        if got != want {
            failures.push(format!("{}: manifest enclosures={m}, expected {want}, got {got}", row.name()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Damaged copies of real files (truncated at many offsets, bytes overwritten) must give
/// `Ok` or `Err`, never a panic.
#[test]
fn damaged_inputs_never_panic() {
    let files = [
        "feeds/pcns__example.xml",
        "feeds/feedparser__encoding_utf-32le-bom.xml",
        "feeds/feedparser__encoding_utf-16le-bom.xml",
        "feeds/rsparser__kc0011.rss",
        "feeds/antennapod__feed-atom-testAtomBasic.xml",
        "opml/gnomepod__export_test.opml",
        "playlists/totem__xml-base.xspf",
        "playlists/totem__missing-items.pls",
        "playlists/clementine__test.m3u",
    ];
    let base = crate::catalog_common::url_for("x");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let junk: &[&[u8]] =
        &[b"<", b"&", b"]]>", b"<![CDATA[", b"\xff", b"\x00", b"\xe2\x80", b"<!--", b"\"", b"<?xml"];
    for path in files {
        let bytes = std::fs::read(crate::catalog_common::corpus_dir().join(path)).unwrap();
        let step = (bytes.len() / 60).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let r =
                std::panic::catch_unwind(|| catalog_sync_core::catalog::parse_document(&bytes[..cut], &base));
            assert!(r.is_ok(), "{path} truncated at {cut} panicked");
        }
        for _ in 0..60 {
            let mut b = bytes.clone();
            let at = (next() as usize) % b.len();
            let j = junk[(next() as usize) % junk.len()];
            b.splice(at..at, j.iter().copied());
            let r = std::panic::catch_unwind(|| catalog_sync_core::catalog::parse_document(&b, &base));
            assert!(r.is_ok(), "{path} with {j:?} inserted at {at} panicked");
        }
    }
}
