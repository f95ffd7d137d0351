//! Whether an RSS 2.0 document stays within what the `rss` crate and feed-rs read the same way,
//! so [`super::rss_fast`] may read it instead of feed-rs (3-4x less CPU per document). Decided
//! during the extras pass ([`super::podcast_ns::scan`]), which already walks every element with
//! its namespace resolved; any doubt answers "no" and feed-rs reads the document as before.
//!
//! A document is plain when:
//! - its root is `<rss version="2.0">` (feed-rs's RSS 2.0 reader) with no default namespace,
//!   no element anywhere carries `xml:base`, and the pass read it to its end with every element
//!   closed;
//! - `<item>`s sit only in the `<channel>` (feed-rs reads no others; the `rss` crate does);
//! - the channel has at most one `<title>`, `<description>`, `<link>` and `<image>`, and its
//!   Atom links are all typed by a `rel` other than `alternate` (feed-rs takes the first
//!   `alternate` link as the page);
//! - an item has at most one of each `<title>`, `<link>`, `<description>`, `<guid>`,
//!   `<pubDate>`, `<author>`, `content:encoded`, `dc:creator`, `dc:date`; not both
//!   `<author>` and `dc:creator`, nor `<pubDate>` and `dc:date` (feed-rs keeps document order or
//!   the last); no `<comments>` before its `<link>` (feed-rs would take the comments page as
//!   the item's page); no `<link rel=..>`, `<updated>`, Atom, Media RSS or `wfw:` element;
//!   no element inside its children but inside Podcasting 2.0 ones (feed-rs reads a text
//!   element's leading text, the `rss` crate all of it);
//! - a `<link>` is never blank but not empty (feed-rs resolves blank text to the base URL);
//! - no element name has two colons (feed-rs and the namespace-aware reader split it apart
//!   differently), `content:encoded` is written so and bound to the content module (the `rss`
//!   crate goes by the name, feed-rs by the namespace), and no element is in the RSS 1.0
//!   namespace (feed-rs reads those as RSS elements);
//! - what feed-rs reads from `itunes:image`, `itunes:duration` and `<enclosure>` is what the
//!   extras pass read (its values win); `itunes:summary` and `itunes:title` are noted per
//!   item ([`ItemNotes`]), for the reader to fall back to feed-rs when they would be used.

use quick_xml::events::BytesStart;

use super::namespaces::Ns;
use super::util::attr;

/// What an item has that the fast reader must not meet unprepared (bits).
pub(crate) type ItemNotes = u8;
/// The item has an `itunes:summary` (feed-rs's description after `content:encoded`).
pub(crate) const HAS_ITUNES_SUMMARY: ItemNotes = 1;
/// The item has an `itunes:title` (feed-rs's title after `dc:title`).
pub(crate) const HAS_ITUNES_TITLE: ItemNotes = 2;

// single-valued children seen in the open channel or item (bits)
const TITLE: u32 = 1;
const DESCRIPTION: u32 = 1 << 1;
const LINK: u32 = 1 << 2;
const IMAGE: u32 = 1 << 3;
const GUID: u32 = 1 << 4;
const PUB_DATE: u32 = 1 << 5;
const AUTHOR: u32 = 1 << 6;
const ENCODED: u32 = 1 << 7;
const DC_CREATOR: u32 = 1 << 8;
const DC_DATE: u32 = 1 << 9;
const ENCLOSURE: u32 = 1 << 10;
const ITUNES_IMAGE: u32 = 1 << 11;
const ITUNES_DURATION: u32 = 1 << 12;
const ITUNES_SUMMARY: u32 = 1 << 13;
const ITUNES_TITLE: u32 = 1 << 14;

/// What the extras pass read of an item: an enclosure, an `itunes:duration` in seconds, an
/// `itunes:image` URL.
#[derive(Clone, Copy, Debug)]
pub(super) struct ItemRead {
    pub(super) enclosure: bool,
    pub(super) duration: bool,
    pub(super) itunes_image: bool,
}

/// The check's state through one pass (module docs). Depths are the pass's: the root at 0.
#[derive(Debug)]
pub(crate) struct PlainRss {
    ok: bool,
    channels: u32,
    in_item: bool,
    /// Single-valued children seen in the open channel (outside items) and item.
    channel_seen: u32,
    item_seen: u32,
    /// The open child of the channel or item (depth 2 or 3): whether elements inside it are
    /// allowed.
    child: Option<bool>,
    /// Inside a `<link>` child: whether it had text, and text that is not blank.
    link_text: Option<(bool, bool)>,
    /// Per item, in document order.
    pub(crate) notes: Vec<ItemNotes>,
}

impl Default for PlainRss {
    fn default() -> Self {
        PlainRss {
            ok: true,
            channels: 0,
            in_item: false,
            channel_seen: 0,
            item_seen: 0,
            child: None,
            link_text: None,
            notes: Vec::new(),
        }
    }
}

impl PlainRss {
    /// An element opens at `depth` (the root at 0); `empty`: it closes at once (`<x/>`).
    pub(super) fn start(&mut self, depth: usize, space: Ns, local: &str, e: &BytesStart<'_>, empty: bool) {
        if !self.ok {
            return;
        }
        self.open(depth, space, local, e);
        if empty && (depth == 2 || (depth == 3 && self.in_item)) {
            // no end event follows
            self.link_text = None;
            self.child = None;
            if depth == 2 && self.in_item {
                self.in_item = false;
                self.notes.push(0);
            }
        }
    }

    fn open(&mut self, depth: usize, space: Ns, local: &str, e: &BytesStart<'_>) {
        // a second colon in a name (`a:b:c`, broken markup): feed-rs names the element by its
        // last part, the namespace-aware reader by all after the first
        // feed-rs reads elements of the RSS 1.0 namespace as RSS ones, the `rss` crate not
        if matches!(space, Ns::Doubtful | Ns::Rss1)
            || local.contains(':')
            || e.attributes_raw().contains("xml:base")
        {
            return self.fail();
        }
        match depth {
            0 => {
                let default_ns = e.attributes().flatten().any(|a| a.key.as_ref() == "xmlns");
                if space != Ns::None
                    || local != "rss"
                    || attr(e, "version").as_deref() != Some("2.0")
                    || default_ns
                {
                    self.fail();
                }
            }
            1 => match (space, local) {
                (Ns::None, "channel") => {
                    self.channels += 1;
                    if self.channels > 1 {
                        self.fail();
                    }
                }
                (Ns::None, "item") => self.fail(),
                _ => {}
            },
            2 => self.channel_child(space, local, e),
            3 if self.in_item => self.item_child(space, local, e),
            _ => {
                // inside a child of the channel or of an item
                if self.child == Some(false) {
                    self.fail();
                }
            }
        }
    }

    fn channel_child(&mut self, space: Ns, local: &str, e: &BytesStart<'_>) {
        let once = match (space, local) {
            (Ns::None, "item") => {
                self.in_item = true;
                self.item_seen = 0;
                self.child = None;
                return;
            }
            (Ns::None, "title") => TITLE,
            (Ns::None, "description") => DESCRIPTION,
            (Ns::None, "link") => {
                self.link_text = Some((false, false));
                LINK
            }
            (Ns::None, "image") => IMAGE,
            (Ns::Atom, "link") => {
                if attr(e, "rel").is_none_or(|r| r == "alternate") {
                    self.fail();
                }
                0
            }
            (Ns::Itunes, "image") => ITUNES_IMAGE,
            _ => 0,
        };
        // a channel text element holds text only
        self.child = Some(once & (TITLE | DESCRIPTION | LINK) == 0);
        if self.channel_seen & once != 0 {
            return self.fail();
        }
        self.channel_seen |= once;
    }

    fn item_child(&mut self, space: Ns, local: &str, e: &BytesStart<'_>) {
        let once = match (space, local) {
            (Ns::None, "title") => TITLE,
            (Ns::None, "description") => DESCRIPTION,
            (Ns::None, "link") => {
                if attr(e, "rel").is_some() {
                    return self.fail();
                }
                self.link_text = Some((false, false));
                LINK
            }
            (Ns::None, "guid") => GUID,
            (Ns::None, "pubDate") => PUB_DATE,
            (Ns::None, "author") => AUTHOR,
            (Ns::None, "comments") if self.item_seen & LINK == 0 => return self.fail(),
            (Ns::None, "updated") | (Ns::Atom | Ns::Media | Ns::Wfw, _) => return self.fail(),
            (Ns::None, "enclosure") => {
                self.item_seen |= ENCLOSURE;
                0
            }
            // the `rss` crate reads `content:encoded` by that name, feed-rs by namespace
            (Ns::Content, "encoded") if e.name().as_ref() == "content:encoded" => ENCODED,
            (Ns::Content, "encoded") => return self.fail(),
            (_, "encoded") if e.name().as_ref() == "content:encoded" => return self.fail(),
            (Ns::Dc, "creator") => DC_CREATOR,
            (Ns::Dc, "date") => DC_DATE,
            (Ns::Itunes, "image") => {
                self.item_seen |= ITUNES_IMAGE;
                0
            }
            (Ns::Itunes, "duration") => {
                self.item_seen |= ITUNES_DURATION;
                0
            }
            (Ns::Itunes, "summary") => ITUNES_SUMMARY,
            (Ns::Itunes, "title") => ITUNES_TITLE,
            _ => 0,
        };
        self.child = Some(space == Ns::Podcast);
        if self.item_seen & once != 0 {
            return self.fail();
        }
        self.item_seen |= once;
    }

    /// Whether [`PlainRss::text`] needs the text of the element now open.
    pub(super) fn wants_text(&self) -> bool {
        self.ok && self.link_text.is_some()
    }

    /// Text (or CDATA, or an entity's replacement) with `depth` elements open.
    pub(super) fn text(&mut self, depth: usize, text: &str) {
        if let Some((any, nonblank)) = self.link_text.as_mut() {
            if depth == if self.in_item { 4 } else { 3 } {
                *any |= !text.is_empty();
                *nonblank |= !text.trim().is_empty();
            }
        }
    }

    /// The element that opened at `depth` closes; `item`: what the extras pass read of the
    /// last item.
    pub(super) fn end(&mut self, depth: usize, item: Option<ItemRead>) {
        if !self.ok {
            return;
        }
        let child_depth = if self.in_item { 3 } else { 2 };
        if depth == child_depth {
            if let Some((any, nonblank)) = self.link_text.take() {
                if any && !nonblank {
                    self.fail();
                }
            }
            self.child = None;
        }
        if depth == 2 && self.in_item {
            self.in_item = false;
            self.end_item(item);
        }
    }

    fn end_item(&mut self, item: Option<ItemRead>) {
        let seen = self.item_seen;
        let Some(item) = item else { return self.fail() };
        let both = |a: u32, b: u32| seen & a != 0 && seen & b != 0;
        if both(AUTHOR, DC_CREATOR)
            || both(PUB_DATE, DC_DATE)
            || (seen & ENCLOSURE != 0 && !item.enclosure)
            || (seen & ITUNES_DURATION != 0 && !item.duration)
            || (seen & ITUNES_IMAGE != 0 && !item.itunes_image)
        {
            return self.fail();
        }
        let mut notes = 0;
        if seen & ITUNES_SUMMARY != 0 {
            notes |= HAS_ITUNES_SUMMARY;
        }
        if seen & ITUNES_TITLE != 0 {
            notes |= HAS_ITUNES_TITLE;
        }
        self.notes.push(notes);
    }

    /// Whether the document may still be plain (the pass stops feeding a check that failed).
    pub(super) fn wanted(&self) -> bool {
        self.ok
    }

    /// The verdict once the pass read the document to its end without an XML error: `depth`
    /// elements left open; `channel_itunes_image`: the pass read the channel's `itunes:image`.
    pub(super) fn finish(&self, depth: usize, channel_itunes_image: bool) -> bool {
        self.ok
            && depth == 0
            && self.channels == 1
            && (self.channel_seen & ITUNES_IMAGE == 0 || channel_itunes_image)
    }

    fn fail(&mut self) {
        self.ok = false;
    }
}
