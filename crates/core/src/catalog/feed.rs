//! Feeds (RSS 0.9x/1.0/2.0, Atom) into [`ParsedPlaylist`], with feed-rs doing the parsing,
//! except for plain RSS 2.0, which the `rss` crate reads for a third of the CPU with the same
//! outcome ([`super::rss_fast`]).
//!
//! The decoded text is first repaired where the meaning is unambiguous ([`super::repair`]),
//! then parsed by feed-rs with the feed URL as base URI, and scanned once more by
//! [`super::podcast_ns::scan`] for what feed-rs does not expose. Item guids come from feed-rs's
//! entry id; feed-rs invents an id when a feed has none, so the parser is given an id generator
//! that returns a sentinel, which is mapped back to `None` (an empty `<guid/>` is also `None`).
//!
//! Enclosure choice, per item: the RSS `<enclosure>` elements, then Atom `link rel="enclosure"`,
//! then Media RSS `media:content` (untyped or audio/video only), then an Atom `<content src=..>`
//! (typed audio/video only); within the first source that has any, the first with an
//! `audio/*` or `video/*` type wins, else the first. Declared length 0 is "unknown" (`None`).
//!
//! Item image, per item: `itunes:image href`, then Media RSS images (`media:thumbnail`,
//! `media:content` with `medium="image"` or an `image/*` type; from the extra pass, else from
//! feed-rs's media objects), then the first RSS enclosure or Atom `link rel="enclosure"` typed
//! `image/*`. Relative URLs resolve like enclosures (feed URL, `xml:base`).

use super::model::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};
use super::normalize::{normalize_feed_xml, NO_LINK};
use super::podcast_ns::{self, FeedExtras};
use super::repair::repair_feed_xml;
use super::util::{first_image, is_audio_video, is_image, non_empty, pick_enclosure, resolve_url, then};
use super::ParseError;
use feed_rs::model::{Entry, Feed, FeedType};
use std::borrow::Cow;
use std::sync::Arc;

/// What feed-rs's id generator returns here, so invented ids can be told from real ones.
const NO_ID: &str = "\u{0}catalog-sync:no-id";

/// Documents from this size (bytes) run the extras pass on the extras thread beside feed-rs
/// ([`super::extras_thread`]); below it the hand-off costs more than it saves.
const PARALLEL_SCAN_BYTES: usize = 64 * 1024;

/// Parses decoded feed text; `source_url` is the base for relative URLs.
///
/// # Errors
/// [`ParseError::Malformed`] (`malformed rss: ...`) when feed-rs rejects the document, e.g.
/// truncated XML or mismatched tags; [`ParseError::NotAFeed`] when no feed root is found.
pub fn parse_feed(text: impl Into<String>, source_url: &url::Url) -> Result<ParsedPlaylist, ParseError> {
    parse_feed_with(text, source_url, true)
}

/// [`parse_feed`]; `fast`: plain RSS 2.0 may be read by [`super::rss_fast`] (tests compare
/// both readings).
pub(super) fn parse_feed_with(
    text: impl Into<String>,
    source_url: &url::Url,
    fast: bool,
) -> Result<ParsedPlaylist, ParseError> {
    let repaired = then(then(Cow::Owned(text.into()), repair_feed_xml), normalize_feed_xml);
    let repaired = Arc::new(repaired.into_owned()); // owned all along: no copy

    // The extras pass reads the same text: on a big document it runs on the extras thread
    // while this one parses (both only read `repaired`).
    let mut beside = (repaired.len() >= PARALLEL_SCAN_BYTES)
        .then(|| super::extras_thread::scan(repaired.clone(), source_url.clone()))
        .flatten();
    // plain RSS 2.0 is read by the `rss` crate, once the extras pass agrees it is plain
    // (super::rss_fast); feed-rs reads the rest, and what the fast reading turns down
    let mut extras = None;
    let channel =
        (fast && super::rss_fast::may_be_plain(&repaired)).then(|| super::rss_fast::read(&repaired));
    if let Some(channel) = channel.flatten() {
        let scanned = beside.take().and_then(|result| result.recv().ok());
        let extras = extras.insert(scanned.unwrap_or_else(|| podcast_ns::scan(&repaired, Some(source_url))));
        if let Some(playlist) = super::rss_fast::convert(channel, extras, source_url) {
            return Ok(playlist);
        }
    }
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(source_url.as_str()))
        .id_generator(|_, _, _| NO_ID.to_string())
        .timestamp_parser(super::timestamps::parse_timestamp)
        .build();
    let parsed = parser.parse(repaired.as_bytes());
    let extras = extras.or_else(|| beside.and_then(|result| result.recv().ok()));
    let repaired = repaired.as_str();
    let feed = match parsed {
        Ok(feed) => feed,
        // The root is `<rss>`/`<rdf:RDF>`/`<feed>` (detect checked), but feed-rs found no
        // `<channel>` in it: a well-formed feed with nothing in it, if the XML itself is sound.
        Err(feed_rs::parser::ParseFeedError::ParseError(feed_rs::parser::ParseErrorKind::NoFeedRoot)) => {
            check_well_formed(repaired)?;
            let format =
                if format_name(repaired) == "rdf" { PlaylistFormat::Rdf } else { PlaylistFormat::Rss };
            return Ok(ParsedPlaylist { format: Some(format), ..Default::default() });
        }
        Err(other) => return Err(ParseError::malformed(format_name(repaired), other)),
    };
    let extras = extras.unwrap_or_else(|| podcast_ns::scan(repaired, Some(source_url)));
    // Never report a feed synced with nothing when it has entries we could not read.
    if feed.entries.is_empty() && !extras.items.is_empty() {
        return Err(ParseError::malformed(
            format_name(repaired),
            format!("{} entries in the document, none could be read", extras.items.len()),
        ));
    }
    let (read, written) = (feed.entries.len(), extras.items.len());
    let mut playlist = convert(feed, extras, source_url);
    if written > read {
        playlist.warnings.push(format!("{} of {written} entries could not be read", written - read));
    }
    Ok(playlist)
}

/// Reads the whole document with quick-xml to tell "empty feed" from "broken XML".
fn check_well_formed(text: &str) -> Result<(), ParseError> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(ParseError::malformed(format_name(text), e)),
        }
    }
}

/// Lower-case format name for error messages, from the root element.
fn format_name(text: &str) -> &'static str {
    let root = super::repair::root_start_tag(text).map_or("", |(s, e)| &text[s..e]);
    let name = root.split(|c: char| c.is_whitespace()).next().unwrap_or("");
    if name == "<feed" || name.ends_with(":feed") {
        "atom"
    } else if name.ends_with("RDF") {
        "rdf"
    } else {
        "rss"
    }
}

fn convert(feed: Feed, mut extras: FeedExtras, base: &url::Url) -> ParsedPlaylist {
    let format = match feed.feed_type {
        FeedType::Atom => PlaylistFormat::Atom,
        FeedType::RSS1 => PlaylistFormat::Rdf,
        _ => PlaylistFormat::Rss,
    };
    let aligned = extras.items.len() == feed.entries.len();
    let items = feed
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| convert_entry(e, if aligned { extras.items.get_mut(i) } else { None }, base))
        .collect();
    ParsedPlaylist {
        format: Some(format),
        title: feed.title.as_ref().and_then(|t| non_empty(&t.content)),
        description: feed.description.as_ref().and_then(|t| non_empty(&t.content)),
        link: page_link(&feed.links, base),
        image: extras
            .itunes_image
            .clone()
            .or_else(|| feed.logo.as_ref().and_then(|i| resolve_url(Some(base), &i.uri)))
            .or_else(|| feed.icon.as_ref().and_then(|i| resolve_url(Some(base), &i.uri))),
        podcast_guid: extras.podcast_guid,
        new_feed_url: extras.new_feed_url,
        author: extras.author,
        items,
        warnings: Vec::new(),
    }
}

/// The first link that is a web page (no `rel`, or `rel="alternate"`).
fn page_link(links: &[feed_rs::model::Link], base: &url::Url) -> Option<String> {
    links
        .iter()
        .filter(|l| l.href.trim() != NO_LINK)
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| resolve_url(Some(base), &l.href))
}

/// `extra` is the extra pass's view of this entry; its enclosure lists are moved out, not copied.
fn convert_entry(e: &Entry, mut extra: Option<&mut podcast_ns::ItemExtras>, base: &url::Url) -> ParsedItem {
    let rss_enclosures = extra.as_mut().map(|x| std::mem::take(&mut x.enclosures)).unwrap_or_default();
    let alternate_enclosures =
        extra.as_mut().map(|x| std::mem::take(&mut x.alternate_enclosures)).unwrap_or_default();
    let extra = extra.map(|x| &*x);
    let guid =
        (e.id != NO_ID).then(|| non_empty(&e.id)).flatten().or_else(|| extra.and_then(|x| x.about.clone()));
    let description = e
        .summary
        .as_ref()
        .and_then(|s| non_empty(&s.content))
        .or_else(|| e.content.as_ref().and_then(|c| c.body.as_deref().and_then(non_empty)))
        .or_else(|| e.media.iter().find_map(|m| m.description.as_ref().and_then(|d| non_empty(&d.content))))
        .or_else(|| extra.and_then(|x| x.dc_description.clone()));
    let media_duration = e
        .media
        .iter()
        .find_map(|m| m.duration.or_else(|| m.content.iter().find_map(|c| c.duration)).map(|d| d.as_secs()));
    let atom_enclosures: Vec<Enclosure> = e
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .filter_map(|l| {
            Some(Enclosure {
                url: resolve_url(Some(base), &l.href)?,
                length: l.length.filter(|n| *n > 0),
                mime_type: l.media_type.as_deref().and_then(non_empty),
            })
        })
        .collect();
    let image = entry_image(e, extra, base, rss_enclosures.iter().chain(&atom_enclosures));
    // the later sources are read only when the earlier ones have nothing (feed-rs also lists
    // every RSS enclosure among its media objects)
    let enclosure = [rss_enclosures, atom_enclosures]
        .into_iter()
        .find(|v| !v.is_empty())
        .or_else(|| Some(media_enclosures(e, base)).filter(|v| !v.is_empty()))
        .or_else(|| Some(content_src(e, base)).filter(|v| !v.is_empty()))
        .and_then(pick_enclosure);
    ParsedItem {
        guid,
        title: entry_title(e, extra),
        author: e.authors.iter().find_map(|a| a.name.as_deref().and_then(non_empty)),
        published: e.published.or(e.updated).map(|d| d.timestamp()),
        description,
        link: page_link(&e.links, base),
        duration_secs: extra.and_then(|x| x.duration_secs).or(media_duration),
        enclosure,
        alternate_enclosures,
        image,
        episode: extra.and_then(|x| x.episode),
        season: extra.and_then(|x| x.season),
    }
}

/// Media RSS `media:content` of the entry as enclosures, untyped or audio/video only.
fn media_enclosures(e: &Entry, base: &url::Url) -> Vec<Enclosure> {
    e.media
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|c| {
            Some(Enclosure {
                url: resolve_url(Some(base), c.url.as_ref()?.as_str())?,
                length: c.size.filter(|n| *n > 0),
                mime_type: c.content_type.as_ref().map(|t| t.to_string()),
            })
        })
        // Media RSS also carries thumbnails and images: drop typed non-audio/video content.
        .filter(|e| e.mime_type.is_none() || is_audio_video(e))
        .collect()
}

/// Atom `<content src=".." type="video/mp4"/>`: the entry's content is that media.
fn content_src(e: &Entry, base: &url::Url) -> Vec<Enclosure> {
    e.content
        .as_ref()
        .and_then(|c| c.src.as_ref())
        .and_then(|l| {
            Some(Enclosure {
                url: resolve_url(Some(base), &l.href)?,
                length: None,
                mime_type: l.media_type.as_deref().and_then(non_empty),
            })
        })
        // Typed audio/video only: feed-rs also puts an RSS `content:encoded`'s xml:base here.
        .filter(is_audio_video)
        .into_iter()
        .collect()
}

/// The entry's image (module docs): `itunes:image`, Media RSS images, an `image/*` enclosure.
fn entry_image<'a>(
    e: &Entry,
    extra: Option<&podcast_ns::ItemExtras>,
    base: &url::Url,
    enclosures: impl Iterator<Item = &'a Enclosure>,
) -> Option<String> {
    extra
        .and_then(|x| x.itunes_image.clone().or_else(|| x.media_images.first().cloned()))
        .or_else(|| {
            // without the extra pass's view of this entry: feed-rs's media objects (its
            // thumbnails include `itunes:image`)
            let thumbnails = e.media.iter().flat_map(|m| &m.thumbnails).map(|t| t.image.uri.as_str());
            let typed = e
                .media
                .iter()
                .flat_map(|m| &m.content)
                .filter(|c| c.content_type.as_ref().is_some_and(|t| is_image(t.as_ref())))
                .filter_map(|c| c.url.as_ref().map(|u| u.as_str()));
            thumbnails.chain(typed).find_map(|u| resolve_url(Some(base), u))
        })
        .or_else(|| first_image(enclosures))
}

/// `<title>` (HTML titles as plain text: tags dropped, entities decoded once), else
/// `dc:title`, else Media RSS `media:title`.
fn entry_title(e: &Entry, extra: Option<&podcast_ns::ItemExtras>) -> Option<String> {
    e.title
        .as_ref()
        .and_then(|t| {
            if t.content_type.subty() == "html" {
                let frag = scraper::Html::parse_fragment(&t.content);
                // Markup with no text at all (`<img ...>`) stays as written rather than vanish.
                non_empty(frag.root_element().text().collect::<String>()).or_else(|| non_empty(&t.content))
            } else {
                non_empty(&t.content)
            }
        })
        .or_else(|| extra.and_then(|x| x.dc_title.clone()))
        .or_else(|| e.media.iter().find_map(|m| m.title.as_ref().and_then(|t| non_empty(&t.content))))
        .or_else(|| extra.and_then(|x| x.media_title.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://example.com/pod/feed.xml").unwrap()
    }

    #[test]
    fn missing_and_empty_guid_are_none() {
        let x = r#"<rss version="2.0"><channel><title> T </title>
            <item><title>a</title><guid/></item><item><title>b</title></item>
            <item><title>c</title><guid isPermaLink="false"> g </guid></item></channel></rss>"#;
        let p = parse_feed(x, &base()).unwrap();
        assert_eq!(p.title.as_deref(), Some("T"));
        let guids: Vec<_> = p.items.iter().map(|i| i.guid.clone()).collect();
        assert_eq!(guids, vec![None, None, Some("g".to_string())]);
    }

    #[test]
    fn enclosure_preference_and_duration() {
        let x = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
            <item><media:content url="m.mp4" type="video/mp4"/>
              <enclosure url=" pic.jpg " type="image/jpeg" length="3"/>
              <enclosure url="ep.mp3" type="audio/mpeg" length="0"/>
              <itunes:duration>01:01:01</itunes:duration></item></channel></rss>"#;
        let p = parse_feed(x, &base()).unwrap();
        let e = p.items[0].enclosure.clone().unwrap();
        assert_eq!(e.url, "https://example.com/pod/ep.mp3");
        assert_eq!(e.length, None);
        assert_eq!(p.items[0].duration_secs, Some(3661));
    }

    #[test]
    fn item_images_in_order_of_preference() {
        let x = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
              xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <itunes:image href="/show.jpg"/>
            <item><guid>a</guid><media:thumbnail url="thumb.jpg"/><itunes:image href="ep.png"/>
              <enclosure url="a.mp3" type="audio/mpeg"/></item>
            <item><guid>b</guid><media:content url="still.gif" medium="image"/>
              <media:content url="b.mp3" type="audio/mpeg"/></item>
            <item><guid>c</guid><enclosure url="c.mp3" type="audio/mpeg"/>
              <enclosure url="cover.webp" type="image/webp"/></item>
            <item><guid>d</guid><enclosure url="d.mp3" type="audio/mpeg"/></item></channel></rss>"#;
        let p = parse_feed(x, &base()).unwrap();
        assert_eq!(p.image.as_deref(), Some("https://example.com/show.jpg"));
        let images: Vec<_> = p.items.iter().map(|i| i.image.as_deref()).collect();
        assert_eq!(
            images,
            [
                Some("https://example.com/pod/ep.png"),
                Some("https://example.com/pod/still.gif"),
                Some("https://example.com/pod/cover.webp"),
                None
            ]
        );
        assert_eq!(p.items[1].enclosure.as_ref().unwrap().url, "https://example.com/pod/b.mp3");
        assert_eq!(p.items[2].enclosure.as_ref().unwrap().url, "https://example.com/pod/c.mp3");
    }

    #[test]
    fn atom_entry_images() {
        let x = r#"<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"
              xml:base="https://cdn.example/a/"><title>t</title><logo>logo.png</logo>
            <entry><id>1</id><title>x</title><media:thumbnail url="t1.jpg"/>
              <link rel="enclosure" href="1.mp3" type="audio/mpeg"/></entry>
            <entry><id>2</id><title>y</title><link rel="enclosure" href="2.mp3" type="audio/mpeg"/>
              <link rel="enclosure" href="2.png" type="image/png"/></entry></feed>"#;
        let p = parse_feed(x, &base()).unwrap();
        assert_eq!(p.image.as_deref(), Some("https://cdn.example/a/logo.png"));
        assert_eq!(p.items[0].image.as_deref(), Some("https://cdn.example/a/t1.jpg"));
        assert_eq!(p.items[1].image.as_deref(), Some("https://cdn.example/a/2.png"));
        assert_eq!(p.items[1].enclosure.as_ref().unwrap().url, "https://cdn.example/a/2.mp3");
    }

    #[test]
    fn rss_without_channel_is_empty() {
        let p = parse_feed("<rss><x/></rss>", &base()).unwrap();
        assert!(p.items.is_empty());
        assert!(parse_feed("<rss><x></rss>", &base()).is_err());
    }

    /// Found by `cargo fuzz run feed` (fuzz/): a second XML declaration inside an item made
    /// quick-xml (under feed-rs) panic with "set_encoding() called after prefix buffer was
    /// drained". A declaration anywhere but at the start is dropped by the repair step.
    #[test]
    fn a_misplaced_xml_declaration_does_not_panic() {
        let x = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>\
                 <?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?><guid>g</guid></item></channel></rss>";
        let p = parse_feed(x, &base()).unwrap();
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].guid.as_deref(), Some("g"));
        let at_start = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{x}");
        assert_eq!(parse_feed(&at_start, &base()).unwrap().items.len(), 1);
    }

    #[test]
    fn a_second_channel_is_read_too() {
        // issue 12: a document with several channels is read fully (normalize merges them)
        let x = "<rss version=\"2.0\"><channel><title>One</title><item><guid>a</guid></item></channel>\
                 <channel><title>Two</title><item><guid>b</guid></item></channel></rss>";
        let p = parse_feed(x, &base()).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.title.as_deref(), Some("One"), "the first channel describes the playlist");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn broken_xml_is_malformed() {
        let err = parse_feed("<rss version=\"2.0\"><channel><item><title>x</channel></rss>", &base());
        assert!(matches!(err, Err(ParseError::Malformed(_))), "{err:?}");
    }
}
