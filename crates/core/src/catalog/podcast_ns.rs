//! A second, light `quick-xml` pass over a feed for what feed-rs does not expose: the RSS
//! `<enclosure>` elements (and `<link rel="enclosure">`) as written (so they win over Media RSS), `itunes:duration` text,
//! channel `itunes:image` / `itunes:new-feed-url` / `itunes:author`, item `itunes:episode` /
//! `itunes:season` (numbers the tags write as track and disc), item images (`itunes:image href`, Media RSS
//! `media:thumbnail url` and `media:content` with `medium="image"` or an `image/*` type, which
//! feed-rs keeps without its `medium`), and the Podcasting 2.0 namespace
//! (<https://podcastindex.org/namespace/1.0>): `podcast:guid` and `podcast:alternateEnclosure`
//! with its `podcast:source` / `podcast:integrity` children.
//!
//! Results are per `<item>` (or Atom `<entry>`) in document order, so the caller pairs them with
//! feed-rs entries by index. `<podcast:liveItem>` elements are skipped entirely: they are not
//! items. Both the current and the legacy GitHub namespace URI are accepted, and a bare
//! `podcast:` prefix counts when it is undeclared. `xml:base` is tracked on a stack so relative
//! URLs resolve like feed-rs resolves them. A parse error stops the pass; what was read so far
//! is returned (the caller only uses it when the item counts agree).

use super::model::{AlternateEnclosure, Enclosure};
use super::namespaces::Ns;
use super::plain_rss::{ItemRead, PlainRss};
use super::util::{attr, non_empty, parse_duration, resolve_ref, resolve_url};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::rc::Rc;

pub use super::namespaces::{ITUNES_NS, PODCAST_NS};

/// What the extra pass found for one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemExtras {
    /// RSS `<enclosure>` elements in order, URLs resolved, length 0 as `None`.
    pub enclosures: Vec<Enclosure>,
    /// `itunes:duration` in seconds.
    pub duration_secs: Option<u64>,
    /// `podcast:alternateEnclosure` elements in order.
    pub alternate_enclosures: Vec<AlternateEnclosure>,
    /// RSS 1.0 `rdf:about` of the `<item>` (its URI, used as identity).
    pub about: Option<String>,
    /// `dc:title` (Dublin Core), a fallback title.
    pub dc_title: Option<String>,
    /// `media:title` (Media RSS), the fallback after `dc:title`.
    pub media_title: Option<String>,
    /// `dc:description` (Dublin Core), a fallback description.
    pub dc_description: Option<String>,
    /// The item's `itunes:image href`, resolved.
    pub itunes_image: Option<String>,
    /// Media RSS images of the item in document order, resolved: `media:thumbnail url`, and
    /// `media:content url` whose `medium` is `image` or whose `type` is `image/*`
    /// (<https://www.rssboard.org/media-rss>).
    pub media_images: Vec<String>,
    /// `itunes:episode`: the episode number (a positive integer per Apple's spec).
    pub episode: Option<u32>,
    /// `itunes:season`: the season number.
    pub season: Option<u32>,
}

/// What the extra pass found for the channel and its items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedExtras {
    /// Channel `podcast:guid`.
    pub podcast_guid: Option<String>,
    /// Channel `itunes:new-feed-url`, resolved.
    pub new_feed_url: Option<String>,
    /// Channel `itunes:image href`, resolved.
    pub itunes_image: Option<String>,
    /// Channel `itunes:author`.
    pub author: Option<String>,
    /// One entry per `<item>` / `<entry>`, document order.
    pub items: Vec<ItemExtras>,
    /// Whether the pass read the whole document without an XML error.
    pub complete: bool,
    /// When the document is plain RSS 2.0 ([`super::plain_rss`]): notes per item
    /// (`plain_rss::HAS_ITUNES_SUMMARY`, ...) in document order; `None` otherwise.
    pub plain_rss: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Capture {
    PodcastGuid,
    NewFeedUrl,
    Duration,
    DcTitle,
    DcDescription,
    MediaTitle,
    /// `<link rel="enclosure">URL</link>`: the URL as element text (feedparser accepts it).
    LinkEnclosure,
    ChannelAuthor,
    Episode,
    Season,
}

/// Runs the pass over repaired, decoded feed text; `base` is the feed URL.
pub fn scan(text: &str, base: Option<&url::Url>) -> FeedExtras {
    let mut out = FeedExtras::default();
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = false;
    // the base URL of each open element (shared, not copied: most elements inherit it)
    let mut bases: Vec<Option<Rc<url::Url>>> = vec![base.cloned().map(Rc::new)];
    let mut item_depth: Option<usize> = None;
    let mut live_depth: Option<usize> = None;
    let mut alt_depth: Option<usize> = None;
    // An Atom entry's `<source>`: metadata of the feed the entry came from, not of the entry.
    let mut source_depth: Option<usize> = None;
    let mut capture: Option<(Capture, usize, String)> = None;
    let mut plain = PlainRss::default();
    let mut depth = 0usize;
    loop {
        let (res, ev) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(_) => return out,
        };
        // the namespace (an undeclared `itunes:` counts as iTunes), and whether it was declared
        let (ns, declared) = match res {
            ResolveResult::Bound(n) => (Ns::of_uri(n.as_ref()), true),
            ResolveResult::Unknown(p) => (Ns::of_prefix(p.as_str()), false),
            ResolveResult::Unbound => (Ns::None, true),
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let here = current_base(&bases, e);
                let local = e.local_name();
                let local: &str = local.as_ref();
                if item_depth.is_some()
                    && source_depth.is_none()
                    && !ns.is_extension()
                    && local == "source"
                    && !empty
                {
                    source_depth = Some(depth);
                }
                if live_depth.is_none() && source_depth.is_none() {
                    handle_start(
                        &mut out,
                        ns,
                        local,
                        e,
                        here.as_deref(),
                        item_depth.is_some(),
                        &mut alt_depth,
                        depth,
                    );
                    if ns == Ns::Podcast && local == "liveItem" && !empty {
                        live_depth = Some(depth);
                    } else if (local == "item" || local == "entry")
                        && !ns.is_extension()
                        && item_depth.is_none()
                    {
                        out.items.push(ItemExtras {
                            about: attr(e, "rdf:about").and_then(non_empty),
                            ..Default::default()
                        });
                        if !empty {
                            item_depth = Some(depth);
                        }
                    }
                    if !empty {
                        let kind = match (ns, local, item_depth.is_some()) {
                            (Ns::Podcast, "guid", false) => Some(Capture::PodcastGuid),
                            (Ns::Itunes, "new-feed-url", false) => Some(Capture::NewFeedUrl),
                            (Ns::Itunes, "duration", true) => Some(Capture::Duration),
                            (Ns::Itunes, "author", false) => Some(Capture::ChannelAuthor),
                            (Ns::Itunes, "episode", true) => Some(Capture::Episode),
                            (Ns::Itunes, "season", true) => Some(Capture::Season),
                            (Ns::Dc, "title", true) => Some(Capture::DcTitle),
                            (Ns::Dc, "description", true) => Some(Capture::DcDescription),
                            (Ns::Media, "title", true) => Some(Capture::MediaTitle),
                            (n, "link", true)
                                if !n.is_extension()
                                    && attr(e, "rel").is_some_and(|r| r.trim() == "enclosure")
                                    && attr(e, "href").is_none() =>
                            {
                                Some(Capture::LinkEnclosure)
                            }
                            _ => None,
                        };
                        if let Some(k) = kind {
                            capture = Some((k, depth, String::new()));
                        }
                    }
                }
                if plain.wanted() {
                    // a prefix bound to a namespace, or none and no namespace
                    let space = match (declared, e.name().prefix().is_some(), ns) {
                        (true, false, Ns::None) => Ns::None,
                        (true, true, s) if s != Ns::None => s,
                        _ => Ns::Doubtful,
                    };
                    plain.start(depth, space, local, e, empty);
                }
                if !empty {
                    bases.push(here);
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if plain.wanted() {
                    plain.end(
                        depth,
                        out.items.last().map(|i| ItemRead {
                            enclosure: !i.enclosures.is_empty(),
                            duration: i.duration_secs.is_some(),
                            itunes_image: i.itunes_image.is_some(),
                        }),
                    );
                }
                if bases.len() > 1 {
                    bases.pop();
                }
                if capture.as_ref().is_some_and(|c| c.1 == depth) {
                    let (k, _, s) = capture.take().unwrap_or((Capture::Duration, 0, String::new()));
                    store_capture(&mut out, k, &s, bases.last().and_then(|b| b.as_deref()));
                }
                if live_depth == Some(depth) {
                    live_depth = None;
                }
                if source_depth == Some(depth) {
                    source_depth = None;
                }
                if item_depth == Some(depth) {
                    item_depth = None;
                }
                if alt_depth == Some(depth) {
                    alt_depth = None;
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)
                if capture.is_some() || plain.wants_text() =>
            {
                let text = character_data(&ev);
                plain.text(depth, &text);
                if let Some(c) = capture.as_mut() {
                    c.2.push_str(&text);
                }
            }
            Event::Eof => {
                out.complete = true;
                if plain.finish(depth, out.itunes_image.is_some()) {
                    out.plain_rss = Some(plain.notes);
                }
                return out;
            }
            _ => {}
        }
    }
}

/// The base URL in effect for element `e` (its own `xml:base` applied to the parent's).
/// Most elements have no `xml:base`: they share the parent's URL (a reference count, no copy).
fn current_base(bases: &[Option<Rc<url::Url>>], e: &BytesStart<'_>) -> Option<Rc<url::Url>> {
    let parent = bases.last().cloned().flatten();
    if !e.attributes_raw().contains("xml:base") {
        return parent;
    }
    match attr(e, "xml:base") {
        Some(b) => match url::Url::parse(b.trim()) {
            Ok(u) => Some(Rc::new(u)),
            Err(_) => parent.as_ref().and_then(|p| p.join(b.trim()).ok()).map(Rc::new).or(parent),
        },
        None => parent,
    }
}

/// The text an event carries: a text node, a CDATA section or an entity's replacement; empty
/// for any other event.
fn character_data<'a>(ev: &Event<'a>) -> std::borrow::Cow<'a, str> {
    match ev {
        Event::Text(t) => t.xml10_content(),
        Event::CData(t) => t.xml10_content(),
        Event::GeneralRef(r) => resolve_ref(r).into(),
        _ => "".into(),
    }
}

#[allow(clippy::too_many_arguments)]
fn handle_start(
    out: &mut FeedExtras,
    ns: Ns,
    local: &str,
    e: &BytesStart<'_>,
    base: Option<&url::Url>,
    in_item: bool,
    alt_depth: &mut Option<usize>,
    depth: usize,
) {
    if !in_item {
        if ns == Ns::Itunes && local == "image" && out.itunes_image.is_none() {
            out.itunes_image = attr(e, "href").and_then(|h| resolve_url(base, &h));
        }
        return;
    }
    let Some(item) = out.items.last_mut() else { return };
    match (ns, local) {
        (n, "enclosure") if !n.is_extension() => {
            if let Some(url) = attr(e, "url").and_then(|u| resolve_url(base, &u)) {
                item.enclosures.push(Enclosure {
                    url,
                    length: attr(e, "length").and_then(|l| l.trim().parse().ok()).filter(|l| *l > 0),
                    mime_type: attr(e, "type").and_then(non_empty),
                });
            }
        }
        // RSS 2.0 items written with Atom-style `<link rel="enclosure" href=..>` (Podlove).
        (n, "link") if !n.is_extension() && attr(e, "rel").is_some_and(|r| r.trim() == "enclosure") => {
            if let Some(url) = attr(e, "href").and_then(|u| resolve_url(base, &u)) {
                item.enclosures.push(Enclosure {
                    url,
                    length: attr(e, "length").and_then(|l| l.trim().parse().ok()).filter(|l| *l > 0),
                    mime_type: attr(e, "type").and_then(non_empty),
                });
            }
        }
        (Ns::Itunes, "image") if item.itunes_image.is_none() => {
            item.itunes_image = attr(e, "href").and_then(|h| resolve_url(base, &h));
        }
        (Ns::Media, "thumbnail") => {
            item.media_images.extend(attr(e, "url").and_then(|u| resolve_url(base, &u)))
        }
        (Ns::Media, "content")
            if attr(e, "medium").is_some_and(|m| m.trim().eq_ignore_ascii_case("image"))
                || attr(e, "type").is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("image/")) =>
        {
            item.media_images.extend(attr(e, "url").and_then(|u| resolve_url(base, &u)));
        }
        (Ns::Podcast, "alternateEnclosure") => {
            item.alternate_enclosures.push(AlternateEnclosure {
                mime_type: attr(e, "type").and_then(non_empty),
                length: attr(e, "length").and_then(|l| l.trim().parse().ok()).filter(|l| *l > 0),
                bitrate: attr(e, "bitrate").and_then(|b| b.trim().parse().ok()),
                title: attr(e, "title").and_then(non_empty),
                default: attr(e, "default").is_some_and(|d| d.trim() == "true"),
                sources: Vec::new(),
                integrity: None,
            });
            *alt_depth = Some(depth);
        }
        (Ns::Podcast, "source") if alt_depth.is_some() => {
            if let (Some(alt), Some(uri)) =
                (item.alternate_enclosures.last_mut(), attr(e, "uri").and_then(|u| resolve_url(base, &u)))
            {
                alt.sources.push(uri);
            }
        }
        (Ns::Podcast, "integrity") if alt_depth.is_some() => {
            if let (Some(alt), Some(t), Some(v)) =
                (item.alternate_enclosures.last_mut(), attr(e, "type"), attr(e, "value"))
            {
                alt.integrity = Some(format!("{}:{}", t.trim(), v.trim()));
            }
        }
        _ => {}
    }
}

fn store_capture(out: &mut FeedExtras, kind: Capture, text: &str, base: Option<&url::Url>) {
    match kind {
        Capture::PodcastGuid => out.podcast_guid = out.podcast_guid.take().or_else(|| non_empty(text)),
        Capture::NewFeedUrl => out.new_feed_url = out.new_feed_url.take().or_else(|| resolve_url(base, text)),
        Capture::Duration => {
            if let Some(item) = out.items.last_mut() {
                item.duration_secs = item.duration_secs.or_else(|| parse_duration(text));
            }
        }
        Capture::DcTitle => {
            if let Some(item) = out.items.last_mut() {
                item.dc_title = item.dc_title.take().or_else(|| non_empty(text));
            }
        }
        Capture::DcDescription => {
            if let Some(item) = out.items.last_mut() {
                item.dc_description = item.dc_description.take().or_else(|| non_empty(text));
            }
        }
        Capture::MediaTitle => {
            if let Some(item) = out.items.last_mut() {
                item.media_title = item.media_title.take().or_else(|| non_empty(text));
            }
        }
        Capture::ChannelAuthor => out.author = out.author.take().or_else(|| non_empty(text)),
        Capture::Episode | Capture::Season => {
            let n = text.trim().parse::<u32>().ok().filter(|n| *n > 0);
            if let Some(item) = out.items.last_mut() {
                match kind {
                    Capture::Episode => item.episode = item.episode.or(n),
                    _ => item.season = item.season.or(n),
                }
            }
        }
        Capture::LinkEnclosure => {
            if let (Some(item), Some(url)) = (out.items.last_mut(), resolve_url(base, text)) {
                item.enclosures.push(Enclosure { url, length: None, mime_type: None });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_enclosures_and_live_items() {
        let x = r#"<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"
              xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <podcast:guid> abc </podcast:guid>
            <podcast:liveItem><enclosure url="live.mp3"/></podcast:liveItem>
            <item><enclosure url="a.mp3" length="0" type="audio/mpeg"/>
              <itunes:duration>1:00</itunes:duration>
              <podcast:alternateEnclosure type="audio/opus" length="10" bitrate="64000" default="true">
                <podcast:source uri="alt.opus"/><podcast:integrity type="sri" value="sha384-x"/>
              </podcast:alternateEnclosure></item>
            </channel></rss>"#;
        let base = url::Url::parse("https://h.example/f/").unwrap();
        let ex = scan(x, Some(&base));
        assert!(ex.complete);
        assert_eq!(ex.podcast_guid.as_deref(), Some("abc"));
        assert_eq!(ex.items.len(), 1);
        let it = &ex.items[0];
        assert_eq!(it.enclosures[0].url, "https://h.example/f/a.mp3");
        assert_eq!(it.enclosures[0].length, None);
        assert_eq!(it.duration_secs, Some(60));
        assert_eq!(it.alternate_enclosures[0].sources, vec!["https://h.example/f/alt.opus"]);
        assert_eq!(it.alternate_enclosures[0].integrity.as_deref(), Some("sri:sha384-x"));
        assert!(it.alternate_enclosures[0].default);
    }

    #[test]
    fn channel_author_and_episode_numbers() {
        let x = r#"<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <itunes:author> The Hosts </itunes:author>
            <item><itunes:author>Guest</itunes:author><itunes:episode> 12 </itunes:episode>
              <itunes:season>3</itunes:season></item>
            <item><itunes:episode>bonus</itunes:episode><itunes:season>0</itunes:season></item>
            </channel></rss>"#;
        let ex = scan(x, None);
        assert_eq!(ex.author.as_deref(), Some("The Hosts"), "an item's author is not the channel's");
        assert_eq!((ex.items[0].episode, ex.items[0].season), (Some(12), Some(3)));
        assert_eq!((ex.items[1].episode, ex.items[1].season), (None, None));
    }

    #[test]
    fn item_images_itunes_and_media_rss() {
        let x = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
              xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <itunes:image href="show.jpg"/>
            <item><itunes:image href=" ep1.png "/><itunes:image href="second.png"/></item>
            <item xml:base="sub/"><media:group><media:content url="v.mp4" type="video/mp4"/>
              <media:content url="still.jpg" medium="image"/></media:group>
              <media:thumbnail url="thumb.jpg"/></item>
            <item><media:content url="pic.webp" type="image/webp"/></item>
            <item><enclosure url="a.mp3" type="audio/mpeg"/></item>
            </channel></rss>"#;
        let base = url::Url::parse("https://h.example/f/feed.xml").unwrap();
        let ex = scan(x, Some(&base));
        assert_eq!(ex.itunes_image.as_deref(), Some("https://h.example/f/show.jpg"));
        assert_eq!(ex.items[0].itunes_image.as_deref(), Some("https://h.example/f/ep1.png"));
        assert_eq!(
            ex.items[1].media_images,
            ["https://h.example/f/sub/still.jpg", "https://h.example/f/sub/thumb.jpg"]
        );
        assert_eq!(ex.items[2].media_images, ["https://h.example/f/pic.webp"]);
        assert_eq!((ex.items[3].itunes_image.as_deref(), ex.items[3].media_images.len()), (None, 0));
    }
}
