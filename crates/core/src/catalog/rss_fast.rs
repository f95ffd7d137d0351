//! Plain RSS 2.0 documents ([`super::plain_rss`]) read with the `rss` crate instead of feed-rs:
//! the same [`ParsedPlaylist`] for 3-4x less CPU (a 315 KB feed of 1,000 items: 2.6 ms
//! against 9.6 ms), which is most of a first sync's work on a big catalog (issue 18).
//!
//! The fields map as [`super::feed`] maps feed-rs's, from the elements feed-rs reads them
//! from; what the extras pass read (enclosures, duration, images, numbers, `dc:title`,
//! `dc:description`) is taken as it is. Where feed-rs would fall back on something this reader
//! does not read (an item with no title but an `itunes:title`, no description but an
//! `itunes:summary`, an author written with an e-mail address, which feed-rs splits, two
//! image-typed enclosures and no other image, which feed-rs tells apart by its own type
//! parser), or when the `rss` crate rejects the document or counts other items than the extras
//! pass, the answer is `None` and feed-rs reads the document.

use super::model::{ParsedItem, ParsedPlaylist, PlaylistFormat};
use super::namespaces::{MEDIA_NS, WFW_NS};
use super::plain_rss::{HAS_ITUNES_SUMMARY, HAS_ITUNES_TITLE};
use super::podcast_ns::{FeedExtras, ItemExtras};
use super::util::{first_image, is_image, non_empty, pick_enclosure, resolve_url};

/// Namespaces whose elements make a document not plain (Media RSS, `wfw:`): a document that
/// declares one of them and uses its prefix is left to feed-rs without a first try here.
const NOT_PLAIN_NAMESPACES: [&str; 2] = [MEDIA_NS, WFW_NS];

/// Whether `text` may be plain RSS (a quick look before the `rss` crate is tried; the extras
/// pass decides).
pub(super) fn may_be_plain(text: &str) -> bool {
    let Some((start, end)) = super::repair::root_start_tag(text) else { return false };
    let root = &text[start..end];
    let rss_2 = root.starts_with("<rss")
        && root[4..].starts_with(char::is_whitespace)
        && (root.contains("version=\"2.0\"") || root.contains("version='2.0'"))
        && !root.contains("xmlns=");
    rss_2
        && memchr::memmem::find_iter(text.as_bytes(), b"<channel").nth(1).is_none()
        && memchr::memmem::find(text.as_bytes(), b"xml:base").is_none()
        && !NOT_PLAIN_NAMESPACES.iter().any(|ns| uses_namespace(text, ns))
}

/// Whether `text` declares namespace `uri` (`xmlns:p="uri"`) and has an element `<p:..`; an
/// undecidable declaration counts as used.
fn uses_namespace(text: &str, uri: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), uri.as_bytes()).any(|at| {
        let Some(name) = text[..at].strip_suffix(['"', '\'']).and_then(|t| t.trim_end().strip_suffix('='))
        else {
            return false; // not an attribute's value
        };
        let name = name.trim_end().rsplit(|c: char| c.is_whitespace() || c == '<').next().unwrap_or("");
        match name.strip_prefix("xmlns:") {
            Some(prefix) => memchr::memmem::find(text.as_bytes(), format!("<{prefix}:").as_bytes()).is_some(),
            None => true,
        }
    })
}

/// Reads `text` with the `rss` crate. `None` when it rejects the document (or panics).
pub(super) fn read(text: &str) -> Option<rss::Channel> {
    std::panic::catch_unwind(|| rss::Channel::read_from(text.as_bytes()).ok()).ok().flatten()
}

/// The playlist of `channel` (read by [`read`]) and the extras pass's view of the same text;
/// `None` unless the pass found the document plain and both read the same items (module docs).
pub(super) fn convert(
    channel: rss::Channel,
    extras: &mut FeedExtras,
    base: &url::Url,
) -> Option<ParsedPlaylist> {
    let notes = extras.plain_rss.take()?;
    if channel.items.len() != extras.items.len() || notes.len() != extras.items.len() {
        return None;
    }
    // decided before anything is taken from `extras`, which feed-rs's reading would then use
    if channel.items.iter().zip(&extras.items).zip(&notes).any(|((i, x), n)| feed_rs_reads_more(i, x, *n)) {
        return None;
    }
    let items = channel
        .items
        .into_iter()
        .zip(extras.items.iter_mut())
        .map(|(item, extra)| convert_item(item, extra, base))
        .collect();
    let logo = channel.image.as_ref().and_then(|i| resolve_url(Some(base), &i.url));
    Some(ParsedPlaylist {
        format: Some(PlaylistFormat::Rss),
        title: non_empty(&channel.title),
        description: non_empty(&channel.description),
        link: resolve_url(Some(base), &channel.link),
        image: extras.itunes_image.clone().or(logo),
        podcast_guid: extras.podcast_guid.take(),
        new_feed_url: extras.new_feed_url.take(),
        author: extras.author.take(),
        items,
        warnings: Vec::new(),
    })
}

fn text(t: &Option<String>) -> Option<String> {
    t.as_deref().and_then(non_empty)
}

/// Whether [`text`] would find nothing (without copying what it would find).
fn blank(t: &Option<String>) -> bool {
    t.as_deref().is_none_or(|s| s.trim().is_empty())
}

/// The `<author>`, else the first `dc:creator`.
fn author(item: &rss::Item) -> Option<&String> {
    item.author.as_ref().or_else(|| item.dublin_core_ext.as_ref().and_then(|d| d.creators.first()))
}

/// Whether feed-rs would read this item from something this reader does not (module docs).
fn feed_rs_reads_more(item: &rss::Item, extra: &ItemExtras, notes: u8) -> bool {
    let no_description = blank(&item.description) && blank(&item.content);
    let no_title = blank(&item.title) && extra.dc_title.is_none();
    // feed-rs's image of last resort is the first enclosure whose type its own parser reads
    // as image/*, which may skip one the extras pass counts (`image/`): taken only when alone
    let typed_image = |e: &&super::model::Enclosure| e.mime_type.as_deref().is_some_and(is_image);
    let images_in_doubt = extra.itunes_image.is_none()
        && extra.media_images.is_empty()
        && extra.enclosures.iter().filter(typed_image).nth(1).is_some();
    (no_description && notes & HAS_ITUNES_SUMMARY != 0)
        || (no_title && notes & HAS_ITUNES_TITLE != 0)
        || author(item).is_some_and(|a| a.contains('@'))
        || images_in_doubt
}

fn convert_item(item: rss::Item, extra: &mut ItemExtras, base: &url::Url) -> ParsedItem {
    let dc = item.dublin_core_ext.as_ref();
    let published = item.pub_date.as_ref().or_else(|| dc.and_then(|d| d.dates.first()));
    let enclosures = std::mem::take(&mut extra.enclosures);
    let image = extra
        .itunes_image
        .clone()
        .or_else(|| extra.media_images.first().cloned())
        .or_else(|| first_image(&enclosures));
    ParsedItem {
        guid: item.guid.as_ref().and_then(|g| non_empty(&g.value)).or_else(|| extra.about.clone()),
        title: text(&item.title).or_else(|| extra.dc_title.clone()).or_else(|| extra.media_title.clone()),
        author: author(&item).and_then(non_empty),
        published: published.and_then(|d| super::timestamps::parse_timestamp(d)).map(|d| d.timestamp()),
        description: text(&item.description)
            .or_else(|| text(&item.content))
            .or_else(|| extra.dc_description.clone()),
        link: item.link.as_deref().and_then(|l| resolve_url(Some(base), l)),
        duration_secs: extra.duration_secs,
        enclosure: Some(enclosures).filter(|v| !v.is_empty()).and_then(pick_enclosure),
        alternate_enclosures: std::mem::take(&mut extra.alternate_enclosures),
        image,
        episode: extra.episode,
        season: extra.season,
    }
}

#[cfg(test)]
mod tests {
    use super::super::feed::parse_feed_with;
    use super::super::podcast_ns;
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://example.com/pod/feed.xml").unwrap()
    }

    /// Whether [`parse_feed_with`] reads `text` on the fast path.
    fn reads_fast(text: &str, base: &url::Url) -> bool {
        let Some(channel) = may_be_plain(text).then(|| read(text)).flatten() else { return false };
        convert(channel, &mut podcast_ns::scan(text, Some(base)), base).is_some()
    }

    /// Both readings of `text` give the same playlist (or the same error).
    fn same(text: &str, base: &url::Url) -> bool {
        let (fast, slow) = (parse_feed_with(text, base, true), parse_feed_with(text, base, false));
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{text}");
        reads_fast(text, base)
    }

    const HEAD: &str = r#"<?xml version="1.0"?><rss version="2.0"
        xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
        xmlns:content="http://purl.org/rss/1.0/modules/content/"
        xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
        xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:media="http://search.yahoo.com/mrss/">"#;

    fn doc(channel: &str, item: &str) -> String {
        format!(
            "{HEAD}<channel><title> Show &amp; Tell </title><link>/show</link>\
             <description><![CDATA[<p>About</p>]]></description>\
             <atom:link href=\"https://example.com/feed\" rel=\"self\" type=\"application/rss+xml\"/>\
             <image><url>cover.png</url></image>{channel}\
             <item><title>One</title><guid isPermaLink=\"false\"> g1 </guid>\
             <pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate><link>https://example.com/1</link>\
             <enclosure url=\"1.mp3\" length=\"10\" type=\"audio/mpeg\"/>\
             <itunes:duration>1:02</itunes:duration><itunes:episode>4</itunes:episode>{item}</item>\
             <item><title>Two</title><description>d</description><content:encoded>c</content:encoded>\
             <dc:creator> Ann </dc:creator><dc:date>2026-12-02T10:00:00Z</dc:date>\
             <podcast:alternateEnclosure type=\"audio/ogg\"><podcast:source uri=\"2.ogg\"/></podcast:alternateEnclosure>\
             <enclosure url=\"2.jpg\" type=\"image/jpeg\"/><enclosure url=\"2.mp3\" type=\"audio/mpeg\"/></item>\
             <item/></channel></rss>"
        )
    }

    #[test]
    fn plain_feeds_read_fast_and_the_same() {
        let b = base();
        for (channel, item) in [
            ("", ""),
            ("<itunes:image href=\"art.jpg\"/><itunes:author>A</itunes:author>", "<author>Bob</author>"),
            ("<podcast:guid>x</podcast:guid>", "<itunes:image href=\"e.jpg\"/><description>d</description><itunes:summary>s</itunes:summary>"),
            ("", "<comments>https://example.com/c</comments><category>c</category>"),
            ("", "<description>has &lt;b&gt;markup&lt;/b&gt; &amp; &unknown;</description>"),
            ("", "<enclosure url=\"a.jpg\" type=\"image/\"/>"),
            ("", "<enclosure url=\"b.jpg\" type=\"IMAGE/JPEG\"/>"),
            ("", "<enclosure url=\"c.jpg\" type=\" image/png \"/>"),
            ("", "<enclosure url=\"d.jpg\" type=\"image/png; x=y\"/>"),
            ("", "<enclosure url=\"e.jpg\" type=\"image\"/>"),
        ] {
            assert!(same(&doc(channel, item), &b), "{channel} {item}: not read fast");
        }
        // a comment inside a title: both join the text around it
        assert!(same(&doc("", "").replace("<title>One</title>", "<title>a<!-- note -->b</title>"), &b));
        // dates with space around them, on the strict path and on feed-rs's lenient one
        for date in
            ["\n Tue, 01 Dec 2026 10:00:00 GMT \n", " 2026-12-01 10:00:00 ", "\t01 Dec 26 10:00 +0000 "]
        {
            let text = doc("", "").replace("Tue, 01 Dec 2026 10:00:00 GMT", date);
            assert!(same(&text, &b), "{date:?}");
        }
        let fast = parse_feed_with(doc("", ""), &b, true).unwrap();
        assert_eq!(fast.items.len(), 3);
        assert_eq!(fast.link.as_deref(), Some("https://example.com/show"));
        assert_eq!(fast.items[1].author.as_deref(), Some("Ann"));
        assert_eq!(fast.items[1].image.as_deref(), Some("https://example.com/pod/2.jpg"));
    }

    #[test]
    fn what_feed_rs_reads_otherwise_is_left_to_it() {
        let b = base();
        let cases = [
            ("", "<media:content url=\"m.mp4\" type=\"video/mp4\"/>"),
            ("", "<author>bob@example.com (Bob)</author>"),
            ("", "<enclosure url=\"a.jpg\" type=\"image/\"/><enclosure url=\"b.png\" type=\"image/png\"/>"),
            ("", "<itunes:title>Only</itunes:title><title> </title>"),
            ("", "<link> </link>"),
            ("", "<description>a <b>bold</b> word</description>"),
            ("", "<title>T2</title>"),
            ("", "<atom:link href=\"x\" rel=\"alternate\"/>"),
            ("<atom:link href=\"https://example.com/alt\"/>", ""),
            ("<link>/second</link>", ""),
            ("", "<updated>2026-12-01T00:00:00Z</updated>"),
            ("", "<source xml:base=\"https://other.example/\">s</source>"),
            ("", "<author>A</author><dc:creator>B</dc:creator>"),
            ("", "<itunes:image>no-href.jpg</itunes:image>"),
            ("", "<x:y xmlns:x=\"urn:x\">ok</x:y><undeclared:z>q</undeclared:z>"),
        ];
        for (channel, item) in cases {
            assert!(!same(&doc(channel, item), &b), "{channel} {item}: read fast");
        }
        // Media RSS declared and used, another version, two channels: not tried at all;
        // Media RSS declared only: tried
        assert!(!may_be_plain(&doc("", "<media:thumbnail url=\"t.jpg\"/>")));
        assert!(!may_be_plain(&doc("", "").replace("version=\"2.0\"", "version=\"0.91\"")));
        assert!(!may_be_plain(&doc("", "").replace("<item/>", "<item/></channel><channel>")));
        assert!(may_be_plain(&doc("", "")) && doc("", "").contains("search.yahoo.com/mrss"));
        // the order of <comments> and <link>: feed-rs takes the first as the page
        let comments_first = doc("", "").replace(
            "<link>https://example.com/1</link>",
            "<comments>https://example.com/c</comments><link>https://example.com/1</link>",
        );
        assert!(!same(&comments_first, &b));
        // items outside the channel, a default namespace, another version, broken XML
        for text in [
            doc("", "").replace("</channel></rss>", "</channel><item><title>out</title></item></rss>"),
            doc("", "").replace("<rss version=\"2.0\"", "<rss version=\"2.0\" xmlns=\"urn:default\""),
            doc("", "").replace("<rss version=\"2.0\"", "<rss version=\"0.92\""),
            doc("", "").replace("</item><item/>", "<item/>"),
            doc("", "").replace(
                "<itunes:duration>1:02</itunes:duration>",
                "<itunes:duration>soon</itunes:duration>",
            ),
            // content:encoded under another namespace, the content module under another prefix,
            // an element of the RSS 1.0 namespace
            doc("", "").replace("modules/content/", "modules/other/"),
            doc("", "").replace("xmlns:content=", "xmlns:c=").replace("content:encoded", "c:encoded"),
            doc("", "")
                .replace("<item/>", "<item><r:title xmlns:r=\"http://purl.org/rss/1.0/\">t</r:title></item>"),
            // a name broken into `itunes:im<itunes:image`: feed-rs reads an itunes:image
            doc("", "")
                .replace("<itunes:episode>", "<itunes:im<itunes:image href=\"x.jpg\"/><itunes:episode>"),
        ] {
            assert!(!same(&text, &b), "{text}");
        }
    }

    /// Broken copies of a plain feed (cut short, a byte range dropped or doubled, seeded) read
    /// the same both ways, whichever reader takes them.
    #[test]
    fn broken_plain_feeds_read_as_feed_rs_reads_them() {
        let b = base();
        let text = doc("<itunes:image href=\"art.jpg\"/>", "<description>x &amp; y</description>");
        assert!(same(&text, &b));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut fast = 0;
        for round in 0..400 {
            let bytes = text.as_bytes();
            let (at, len) = (next(bytes.len()), 1 + next(40));
            let end = (at + len).min(bytes.len());
            let broken = match round % 3 {
                0 => bytes[..at].to_vec(),
                1 => [&bytes[..at], &bytes[end..]].concat(),
                _ => [&bytes[..end], &bytes[at..]].concat(),
            };
            let broken = String::from_utf8_lossy(&broken);
            fast += usize::from(same(&broken, &b));
        }
        assert!(fast > 0, "some broken copies are still plain");
    }

    /// Every corpus feed the fast path takes reads as feed-rs reads it.
    #[test]
    fn every_plain_corpus_feed_reads_as_feed_rs_reads_it() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/feeds");
        let mut fast = 0;
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).expect("corpus").flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let Ok(text) = crate::catalog::decode_xml(&std::fs::read(&path).unwrap()) else { continue };
            let url = url::Url::parse(&format!("https://corpus.example/{}", path.display())).unwrap();
            if same(&text, &url) {
                fast += 1;
            }
        }
        assert!(fast >= 40, "only {fast} corpus feeds read fast (51 of its 110 RSS feeds did)");
    }
}
