//! Encodings, item identity and dedup, URL resolution and cross-copy stability, on real
//! corpus files.

use crate::catalog_common::{parse, playlist};
use catalog_sync_core::catalog::{item_key, ItemKey};
use std::collections::HashSet;

fn title(path: &str) -> Option<String> {
    playlist(path).title
}

fn first_item_title(path: &str) -> Option<String> {
    playlist(path).items.first().and_then(|i| i.title.clone())
}

#[test]
fn legacy_and_unicode_encodings_decode() {
    // EUC-KR, declared: feedparser expects feed title U+B144.
    assert_eq!(title("feeds/feedparser__encoding_euc-kr.xml").as_deref(), Some("\u{b144}"));
    // KOI8-R without any declaration: chardetng must find it.
    assert_eq!(
        first_item_title("feeds/feedparser__illformed_chardet_koi8r.xml").as_deref(),
        Some("Как пережить новогоднюю ночь")
    );
    // GB2312 declared.
    assert_eq!(
        title("feeds/rsparser__kc0011.rss").as_deref(),
        Some("投资资讯网交易在线--流通纪念币最新20篇论坛主题-全文")
    );
    assert_eq!(
        first_item_title("feeds/rsparser__kc0011.rss").as_deref(),
        Some("建国35周年纪念，华表，和平鸽")
    );
    // ISO-8859-1 declared (Catalan).
    let cinema = playlist("feeds/gnomepod__2022-series-i-cinema.xml");
    assert!(cinema.items.iter().any(|i| i.title.as_deref().is_some_and(|t| t.contains("S'estrena, per fi"))));
    assert!(cinema
        .items
        .iter()
        .filter_map(|i| i.description.as_deref())
        .any(|d| d.contains('à') || d.contains('é')));
    // Greek UTF-8.
    assert_eq!(title("feeds/gnomepod__2018-03-28-Ellinofreneia.xml").as_deref(), Some("Ελληνοφρένεια"));
    // windows-1252 smart quotes without declaration.
    let demo = first_item_title("feeds/feedparser__encoding_demoronize-1.xml").unwrap_or_default()
        + &playlist("feeds/feedparser__encoding_demoronize-1.xml").items[0]
            .description
            .clone()
            .unwrap_or_default();
    assert!(demo.contains(['\u{201c}', '\u{201d}', '\u{2019}', '\u{2014}']), "{demo}");
    // Latin-1 bytes in an M3U.
    let m3u = playlist("playlists/mopidy__encoding-ext.m3u");
    assert!(
        m3u.items[0].title.as_deref().is_some_and(|t| !t.is_ascii() && !t.contains('\u{fffd}')),
        "{:?}",
        m3u.items[0].title
    );
}

#[test]
fn bom_and_utf16_32_feeds_parse() {
    // These feedparser samples have no non-ASCII text (their only content is `<rss></rss>`
    // after a comment); decoding must still find the root element in each byte layout.
    for path in [
        "feeds/feedparser__encoding_utf-16be.xml",
        "feeds/feedparser__encoding_utf-16le-bom.xml",
        "feeds/feedparser__encoding_utf-32le-bom.xml",
        "feeds/feedparser__encoding_utf-8-bom.xml",
        "feeds/feedparser__encoding_big5.xml",
    ] {
        assert!(playlist(path).items.is_empty(), "{path}");
    }
    // A real UTF-8 BOM feed with content.
    let p = playlist("feeds/rsparser__donthitsave.xml");
    assert_eq!(p.items.len(), 10);
    assert!(p.title.as_deref().is_some_and(|t| !t.starts_with('\u{feff}')));
}

#[test]
fn empty_guid_is_none() {
    let p = playlist("feeds/nodepp__se-radio.xml");
    assert_eq!(p.items.len(), 249);
    assert_eq!(p.items.iter().filter(|i| i.guid.is_none()).count(), 166);
    // No synthetic ids leak through: every guid that exists is one written in the feed.
    let text =
        std::fs::read_to_string(crate::catalog_common::corpus_dir().join("feeds/nodepp__se-radio.xml"))
            .unwrap();
    for g in p.items.iter().filter_map(|i| i.guid.as_deref()) {
        assert!(text.contains(g), "{g}");
    }
    // Those items fall back to their enclosure URL and stay distinct.
    let keys: HashSet<ItemKey> = p.items.iter().map(item_key).collect();
    assert_eq!(keys.len(), 249);
}

#[test]
fn duplicates_are_merged() {
    assert_eq!(playlist("feeds/rsparser__scriptingNews.rss").items.len(), 48);
    assert_eq!(playlist("feeds/rome__issue137-rss.xml").items.len(), 1);
    let p = playlist("feeds/podcastparser__no_title_multi_enclosure.rss");
    assert_eq!(p.items.len(), 1);
    assert!(p.items[0].enclosure.is_some());
}

#[test]
fn relative_and_padded_urls_resolve() {
    let p = playlist("feeds/podcastparser__relative.rss");
    assert_eq!(p.items[0].enclosure.as_ref().unwrap().url, "https://corpus.example/feeds/example.mp3");
    let p = playlist("feeds/feedrs__rss_2.0_relurl_2.xml");
    assert_eq!(
        p.items[0].enclosure.as_ref().unwrap().url,
        "https://corpus.example/images/me/hackergotchi-simpler.png"
    );
    let p = playlist("feeds/feedrs__rss_2.0_relurl_1.xml");
    assert_eq!(
        p.items[0].link.as_deref(),
        Some("https://insanity.industries/post/pareto-optimal-compression/")
    );
    let p = playlist("feeds/podcastparser__leading_space_url.rss");
    assert_eq!(p.items[0].enclosure.as_ref().unwrap().url, "http://example.com/example.mp3");
}

#[test]
fn items_without_guid_get_url_keys() {
    let p = playlist("feeds/podcastparser__no_guid.rss");
    assert_eq!(item_key(&p.items[0]).as_string(), "url:http://example.com/test.ogg");
    let p = playlist("feeds/gnomepod__de-grote-no-guid.xml");
    assert_eq!(p.items.len(), 12);
    assert!(p.items.iter().all(|i| i.guid.is_none() && matches!(item_key(i), ItemKey::EnclosureUrl(_))));
}

#[test]
fn hash_keys_are_stable_across_parses() {
    let keys = |path: &str| playlist(path).items.iter().map(item_key).collect::<Vec<_>>();
    let a = keys("feeds/castero__valid_mixed_enclosures.xml");
    let hashed: Vec<_> = a.iter().filter(|k| matches!(k, ItemKey::TitleDate(_))).collect();
    assert_eq!(hashed.len(), 1, "{a:?}");
    assert_eq!(a, keys("feeds/castero__valid_mixed_enclosures.xml"));
    let bio = keys("feeds/rsparser__bio.rdf");
    assert!(bio.iter().all(|k| k.as_string().starts_with("hash:") || k.as_string().starts_with("guid:")));
    assert_eq!(bio, keys("feeds/rsparser__bio.rdf"));
}

/// Keys of the older copy still present in the newer one must be equal (same strings).
fn overlap(older: &str, newer: &str) -> (usize, usize) {
    let old = playlist(older);
    let new = playlist(newer);
    let new_keys: HashSet<String> = new.items.iter().map(|i| item_key(i).as_string()).collect();
    let mut shared = 0;
    for item in &old.items {
        // An item "still in the newer copy" is one with the same title and enclosure file.
        let same =
            new.items.iter().find(|n| n.title == item.title && n.title.is_some() && n.guid == item.guid);
        if let Some(n) = same {
            assert_eq!(item_key(item), item_key(n), "{older}: {:?}", item.title);
            assert!(new_keys.contains(&item_key(item).as_string()));
            shared += 1;
        }
    }
    (shared, old.items.len())
}

#[test]
fn identity_is_stable_across_saved_copies() {
    let pairs = [
        ("feeds/gnomepod__2018-01-20-Intercepted.xml", "feeds/gnomepod__2018-02-03-Intercepted.xml"),
        ("feeds/gnomepod__2024-03-13-ndr.xml", "feeds/gnomepod__2024-03-14-ndr.xml"),
        ("feeds/gnomepod__2022-01-10-deprogram.xml", "feeds/gnomepod__2026-02-13-deprogram.xml"),
    ];
    for (older, newer) in pairs {
        let old_keys: HashSet<String> =
            playlist(older).items.iter().map(|i| item_key(i).as_string()).collect();
        let new_keys: HashSet<String> =
            playlist(newer).items.iter().map(|i| item_key(i).as_string()).collect();
        let by_key = old_keys.intersection(&new_keys).count();
        let (by_title, total) = overlap(older, newer);
        println!("{older} -> {newer}: {by_key}/{total} keys shared; {by_title} same-title items, keys equal");
        assert!(by_key > 0, "{older}: no overlap");
        assert!(by_key >= by_title, "{older}: same-title items with different keys");
    }
    assert!(parse("feeds/gnomepod__2024-03-14-ndr.xml").is_ok());
}
