//! Issue 17 (parity with feedparser): one test per cause, on small inline documents through
//! `parse_document`. `bench/feedparser_parity.sh` measures the same causes over feedparser's
//! own test documents and the corpus.

use catalog_sync_core::catalog::{item_key, parse_document, Document, ParseError, ParsedPlaylist};

fn base() -> url::Url {
    url::Url::parse("https://example.com/pod/feed.xml").unwrap()
}

fn doc(xml: &str) -> ParsedPlaylist {
    match parse_document(xml.as_bytes(), &base()) {
        Ok(Document::Playlist(p)) => p,
        other => panic!("expected a playlist, got {other:?}"),
    }
}

/// Cause 1: Atom 0.3 is read (modified/issued, content mode, link rel=enclosure).
#[test]
fn atom_03_is_read() {
    let p = doc(r#"<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
        <title>Old Atom</title><tagline>sub</tagline><modified>2004-01-02T00:00:00Z</modified>
        <entry><title>One</title><id>tag:x,2004:1</id><issued>2004-01-01T10:00:00Z</issued>
          <modified>2004-01-01T12:00:00Z</modified>
          <link rel="enclosure" type="audio/mpeg" href="one.mp3"/>
          <content type="text/html" mode="escaped">&lt;p&gt;Hi&lt;/p&gt;</content></entry>
        <entry><title mode="xml" type="application/xhtml+xml">Two</title><id>tag:x,2004:2</id></entry>
        </feed>"#);
    assert_eq!(p.title.as_deref(), Some("Old Atom"));
    assert_eq!(p.description.as_deref(), Some("sub"));
    assert_eq!(p.items.len(), 2);
    let one = &p.items[0];
    assert_eq!(one.title.as_deref(), Some("One"));
    assert_eq!(one.guid.as_deref(), Some("tag:x,2004:1"));
    assert_eq!(one.published, Some(1_072_951_200));
    assert_eq!(one.enclosure.as_ref().unwrap().url, "https://example.com/pod/one.mp3");
    assert_eq!(one.description.as_deref(), Some("<p>Hi</p>"));
    assert_eq!(p.items[1].title.as_deref(), Some("Two"));
}

/// Cause 1, second half: entries that cannot be read fail the document with a reason.
#[test]
fn unreadable_entries_are_an_error_not_an_empty_feed() {
    let err = parse_document(
        br#"<feed xmlns="http://www.w3.org/2005/Atom"><x:entry xmlns:x="urn:other"><x:title>t</x:title></x:entry></feed>"#,
        &base(),
    )
    .unwrap_err();
    assert!(matches!(err, ParseError::Malformed(_)), "{err:?}");
    assert!(err.to_string().contains("1 entries in the document, none could be read"), "{err}");
}

/// Cause 2: an odd `type` only affects its own text construct.
#[test]
fn odd_content_types_stay_local() {
    let p = doc(r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="">Feed</title>
        <entry><id>a</id><title type="application/octet-stream" mode="base64">USZBIGVwaXNvZGU=</title>
          <summary type="application/xhtml+xml">plain words</summary></entry>
        <entry><id>b</id><title type="text/plain">B</title><rights type="image/png">x</rights></entry>
        </feed>"#);
    assert_eq!(p.title.as_deref(), Some("Feed"));
    assert_eq!(p.items.len(), 2);
    assert_eq!(p.items[0].title.as_deref(), Some("Q&A episode"));
    assert_eq!(p.items[0].description.as_deref(), Some("plain words"));
    assert_eq!(p.items[1].title.as_deref(), Some("B"));
}

/// Cause 3: RSS 1.0 and 0.90 items without a date (or link) are kept; `rdf:about` is the id.
#[test]
fn rss1_and_rss090_items_without_date_are_kept() {
    let p = doc(
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
        <channel rdf:about="http://example.com/"><title>C</title></channel>
        <item rdf:about="http://example.com/1"><title>About only</title></item>
        <item><title>Link only</title><link>http://example.com/2</link></item></rdf:RDF>"#,
    );
    assert_eq!(p.items.len(), 2);
    assert_eq!(item_key(&p.items[0]).as_string(), "guid:http://example.com/1");
    assert_eq!(p.items[0].link.as_deref(), Some("http://example.com/1"));
    assert_eq!(p.items[1].link.as_deref(), Some("http://example.com/2"));
    let p = doc(
        r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
        <channel><title>Old</title></channel><item><title>Item title</title></item></rdf:RDF>"#,
    );
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].title.as_deref(), Some("Item title"));
    assert_eq!(p.items[0].link, None);
    assert!(item_key(&p.items[0]).as_string().starts_with("hash:"));
}

/// Cause 4: RSS 2.0 inside a default (or prefixed) namespace.
#[test]
fn rss2_in_a_namespace() {
    let p = doc(r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>NS</title>
        <item><title>Test Item</title><guid>g1</guid></item></channel></rss>"#);
    assert_eq!(p.title.as_deref(), Some("NS"));
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].title.as_deref(), Some("Test Item"));
    let p = doc(r#"<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel>
        <r:item><r:title>P</r:title><r:guid>g</r:guid></r:item></r:channel></r:rss>"#);
    assert_eq!(p.items.len(), 1);
}

/// Cause 5: `<source>` links are not the entry's enclosure; a text-URL enclosure link is.
#[test]
fn enclosure_choice() {
    let p = doc(r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><id>a</id><title>A</title>
          <source><id>s</id><link rel="enclosure" href="http://other.example/src.mp3"/></source></entry>
        <entry><id>b</id><title>B</title><link rel="enclosure">http://example.com/b.mp3</link></entry>
        </feed>"#);
    assert_eq!(p.items[0].enclosure, None);
    assert_eq!(p.items[1].enclosure.as_ref().unwrap().url, "http://example.com/b.mp3");
    // Out-of-line Atom content that is media is the entry's media.
    let p = doc(r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><content type="video/mp4" src="http://example.com/movie.mp4"/></entry></feed>"#);
    assert_eq!(p.items[0].enclosure.as_ref().unwrap().url, "http://example.com/movie.mp4");
}

/// Cause 6: title fallbacks and entities decoded exactly once.
#[test]
fn title_fallbacks_and_entities() {
    let p = doc(
        r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"><channel>
        <item><guid>1</guid><dc:title>From DC</dc:title></item>
        <item><guid>2</guid><media:title>From Media</media:title></item>
        <item><guid>3</guid><title>Q&amp;A</title></item></channel></rss>"#,
    );
    let titles: Vec<_> = p.items.iter().map(|i| i.title.as_deref()).collect();
    assert_eq!(titles, [Some("From DC"), Some("From Media"), Some("Q&A")]);
    let p = doc(r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>a</id>
        <title type="html">Q&amp;amp;A &lt;b&gt;live&lt;/b&gt;</title></entry></feed>"#);
    assert_eq!(p.items[0].title.as_deref(), Some("Q&A live"));
    let p = doc(r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
        <item><dc:description>Only DC</dc:description></item></channel></rss>"#);
    assert_eq!(p.items[0].description.as_deref(), Some("Only DC"));
}

/// Cause 7: duplicate ids still fold into one item, but the parse says so.
#[test]
fn duplicate_ids_are_reported() {
    let p = doc(r#"<rss version="2.0"><channel>
        <item><guid>same</guid><title>newest</title></item>
        <item><guid>same</guid><title>older</title></item></channel></rss>"#);
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].title.as_deref(), Some("newest"));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].starts_with("2 entries share the id \"guid:same\"; kept the first"),
        "{:?}",
        p.warnings
    );
}

/// Cause 8: the identity rule as documented in `catalog::identity`; an item with nothing to
/// identify or download is skipped with a warning instead of becoming an unreachable row.
#[test]
fn identity_rule_and_empty_items() {
    let p = doc(r#"<rss version="2.0"><channel><title>t</title>
        <item></item>
        <item><category>only a category</category></item>
        <item><description>text only</description></item>
        <item><title>titled</title></item>
        <item><enclosure url="e.mp3" type="audio/mpeg"/></item></channel></rss>"#);
    let keys: Vec<_> = p.items.iter().map(|i| item_key(i).as_string()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys[0].starts_with("hash:") && keys[1].starts_with("hash:") && keys[0] != keys[1]);
    assert_eq!(keys[2], "url:https://example.com/pod/e.mp3");
    assert!(p.warnings.iter().any(|w| w.starts_with("2 entries have no guid")), "{:?}", p.warnings);
}
