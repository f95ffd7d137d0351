//! The parsed form every playlist format is turned into. These are plain data: the store keeps
//! its own row types and copies from these.

use serde::{Deserialize, Serialize};

/// Which format a playlist document was parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaylistFormat {
    /// RSS 0.90/0.91/0.92/2.0 (and iTunes / Podcasting 2.0 namespaces on top).
    Rss,
    /// RSS 1.0 / RDF Site Summary.
    Rdf,
    /// Atom 1.0 (RFC 4287).
    Atom,
    /// M3U / extended M3U / non-HLS M3U8.
    M3u,
    /// PLS (Winamp/SHOUTcast `[playlist]` INI form).
    Pls,
    /// XSPF 1.0 (<https://xspf.org/spec>).
    Xspf,
}

/// One playlist as read from its document: a feed's channel or a playlist file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParsedPlaylist {
    /// The format it was read as; `None` only for a default value.
    pub format: Option<PlaylistFormat>,
    /// Channel / playlist title, trimmed; `None` when absent or empty.
    pub title: Option<String>,
    /// Channel description (plain text or HTML as the feed gave it).
    pub description: Option<String>,
    /// Web page of the show (`<link>` / Atom `rel="alternate"`), absolute.
    pub link: Option<String>,
    /// Cover image URL, absolute (`itunes:image`, `<image><url>`, Atom logo/icon, XSPF
    /// `<image>`).
    pub image: Option<String>,
    /// `podcast:guid` of the channel (Podcasting 2.0), a UUIDv5 string.
    pub podcast_guid: Option<String>,
    /// `itunes:new-feed-url`: the publisher moved the feed here.
    pub new_feed_url: Option<String>,
    /// The channel's `itunes:author` (RSS `managingEditor` is an address, not a name: not used).
    #[serde(default)]
    pub author: Option<String>,
    /// Entries in document order, duplicates (same identity) already merged.
    pub items: Vec<ParsedItem>,
    /// What parsing had to overlook or fold, in words for the sync report, e.g.
    /// `2 entries share the id "x"; kept the newest`. Empty when nothing was.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// One entry of a playlist: an episode or a track.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParsedItem {
    /// `<guid>` / Atom `<id>`, trimmed; `None` when absent or empty (`<guid/>` counts as none).
    pub guid: Option<String>,
    /// Entry title, trimmed.
    pub title: Option<String>,
    /// Author / artist: feed entry author (`itunes:author`, `dc:creator`, Atom `author`),
    /// XSPF `<creator>`.
    #[serde(default)]
    pub author: Option<String>,
    /// Publication date as Unix seconds (UTC), from `pubDate` (RFC 822/2822),
    /// `dc:date` / Atom `published`/`updated` (RFC 3339).
    pub published: Option<i64>,
    /// Description / summary / content as given.
    pub description: Option<String>,
    /// Web page of the entry, absolute.
    pub link: Option<String>,
    /// Duration in seconds (`itunes:duration`, M3U `#EXTINF`, XSPF `<duration>` / 1000).
    pub duration_secs: Option<u64>,
    /// The media the entry points at; `None` for text-only entries.
    pub enclosure: Option<Enclosure>,
    /// `podcast:alternateEnclosure` elements, stored for the resolver cascade.
    pub alternate_enclosures: Vec<AlternateEnclosure>,
    /// The entry's own cover image URL, absolute (resolved like enclosures): `itunes:image
    /// href`, else Media RSS `media:thumbnail` / `media:content medium="image"` (or typed
    /// `image/*`), else an `image/*` enclosure or Atom `link rel="enclosure"`; XSPF `<image>`.
    /// `None` when the entry has none (the playlist's [`ParsedPlaylist::image`] may apply).
    #[serde(default)]
    pub image: Option<String>,
    /// `itunes:episode`: the episode number, positive.
    #[serde(default)]
    pub episode: Option<u32>,
    /// `itunes:season`: the season number, positive.
    #[serde(default)]
    pub season: Option<u32>,
}

/// The media URL of an item with what the feed declared about it (RSS 2.0 `<enclosure>`,
/// Atom `link rel="enclosure"`, Media RSS `media:content`, a playlist entry's location).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Absolute URL (relative ones are resolved against the feed URL / `xml:base`).
    pub url: String,
    /// Declared length in bytes; `None` when absent, zero or unparsable.
    pub length: Option<u64>,
    /// Declared MIME type, e.g. `audio/mpeg`.
    pub mime_type: Option<String>,
}

/// A `podcast:alternateEnclosure` (Podcasting 2.0,
/// <https://podcastindex.org/namespace/1.0#alternate-enclosure>).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlternateEnclosure {
    /// `type` attribute (MIME type).
    pub mime_type: Option<String>,
    /// `length` attribute in bytes.
    pub length: Option<u64>,
    /// `bitrate` attribute in bits/s.
    pub bitrate: Option<f64>,
    /// `title` attribute.
    pub title: Option<String>,
    /// `default="true"`.
    pub default: bool,
    /// `podcast:source uri=...` children, absolute, in document order.
    pub sources: Vec<String>,
    /// `podcast:integrity` as `"<type>:<value>"` (e.g. `sri:sha384-...`).
    pub integrity: Option<String>,
}

/// One subscription listed by an OPML document (OPML 1.0/2.0, <http://opml.org/spec2.opml>).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The playlist URL: `xmlUrl`, or `url` for `type="link"` outlines.
    pub url: String,
    /// `title`, else `text`.
    pub title: Option<String>,
    /// `htmlUrl`.
    pub html_url: Option<String>,
    /// Titles of the enclosing folder outlines, outermost first.
    pub folders: Vec<String>,
}

/// What a fetched document turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A playlist: its items are episodes or tracks.
    Playlist(ParsedPlaylist),
    /// An OPML subscription list: each entry is a playlist to add.
    Subscriptions(Vec<Subscription>),
}
