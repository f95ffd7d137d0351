//! The catalog's input side: parsing of feeds (RSS 0.9x/1.0/2.0, Atom, iTunes, Podcasting 2.0),
//! OPML subscription lists and M3U/PLS/XSPF playlists into one [`ParsedPlaylist`] shape, plus
//! item identity ([`identity`]). Bytes come in, decoded by [`encoding`]; which parser runs is
//! decided by content, never by file extension ([`detect`]). [`parse_document`] is the one entry
//! point: decode, detect, parse, then merge duplicate items ([`identity::merge_duplicates`]).

mod canonical_url;
pub mod detect;
pub mod encoding;
mod extras_thread;
pub mod feed;
pub mod fetch;
pub mod identity;
pub mod m3u;
pub mod model;
mod namespaces;
mod normalize;
pub mod opml;
mod plain_rss;
pub mod pls;
pub mod podcast_ns;
mod repair;
mod rss_fast;
pub(crate) mod task_thread;
mod timestamps;
pub(crate) mod util;
pub mod xspf;
pub mod ytdlp;

pub use detect::{detect, DetectedKind};
pub use encoding::decode_xml;
pub use identity::{item_key, merge_duplicates, merge_duplicates_reporting, ItemKey};
pub use model::*;
pub use opml::{export_opml, parse_opml};

/// Why a document could not be turned into a playlist or subscription list.
///
/// Every variant is an *expected* (final) error in the sense of ARCHITECTURE.md convention 2:
/// the same bytes give the same error, so retrying cannot help. See [`ParseError::is_expected`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The document is empty or whitespace only (or only XML comments/declaration).
    #[error("empty document")]
    Empty,
    /// The document is something else, e.g. an HTML page or XML with an unknown root element.
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// The document is of a known format but broken (truncated, mismatched tags); the
    /// message is `<format>: <parser message>`.
    #[error("malformed {0}")]
    Malformed(String),
    /// A known format this app does not download from, e.g. an HLS stream playlist.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The bytes cannot be decoded to text.
    #[error("encoding: {0}")]
    Encoding(String),
}

impl ParseError {
    /// Whether the error is expected/final (not transient, not a bug). All parse errors are:
    /// parsing is deterministic, so the same input fails the same way again.
    pub fn is_expected(&self) -> bool {
        true
    }

    /// Builds [`ParseError::Malformed`] with the `<format>: <message>` convention.
    pub(crate) fn malformed(format: &str, msg: impl std::fmt::Display) -> Self {
        ParseError::Malformed(format!("{format}: {msg}"))
    }
}

/// Parses a fetched document into a playlist or a subscription list.
///
/// `bytes` is the raw body (any encoding, see [`encoding::decode_xml`]); `source_url` is where
/// it came from and is the base for relative URLs. Playlist items come back with duplicates
/// (same [`ItemKey`]) merged, in document order, and items with nothing to identify them
/// dropped; both are said in [`ParsedPlaylist::warnings`].
///
/// # Errors
/// [`ParseError::Empty`] for an empty/whitespace-only body, [`ParseError::NotAFeed`] for HTML
/// and unknown XML, [`ParseError::Unsupported`] for HLS stream playlists,
/// [`ParseError::Malformed`] for broken documents, [`ParseError::Encoding`] for undecodable bytes.
pub fn parse_document(bytes: &[u8], source_url: &url::Url) -> Result<Document, ParseError> {
    parse_document_owned(bytes.to_vec(), source_url)
}

/// As [`parse_document`], taking the body: one that is UTF-8 as it stands (the usual case) is
/// parsed without a copy of it (the sync stage's parser). Errors: as [`parse_document`].
pub fn parse_document_owned(bytes: Vec<u8>, source_url: &url::Url) -> Result<Document, ParseError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let text = encoding::decode_xml_owned(bytes)?;
    let mut playlist = match detect(&text)? {
        DetectedKind::Feed => feed::parse_feed(text, source_url)?,
        DetectedKind::Opml => return opml::parse_opml(&text).map(Document::Subscriptions),
        DetectedKind::M3u => m3u::parse_m3u(&text, source_url)?,
        DetectedKind::Pls => pls::parse_pls(&text, source_url)?,
        DetectedKind::Xspf => xspf::parse_xspf(&text, source_url)?,
    };
    let (items, warnings) = merge_duplicates_reporting(std::mem::take(&mut playlist.items));
    playlist.items = items;
    playlist.warnings.extend(warnings);
    Ok(Document::Playlist(playlist))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("https://example.com/feeds/show.xml").unwrap()
    }

    #[test]
    fn empty_and_whitespace_are_empty() {
        assert_eq!(parse_document(b"", &base()), Err(ParseError::Empty));
        assert_eq!(parse_document(b" \r\n\t", &base()), Err(ParseError::Empty));
    }

    #[test]
    fn html_is_not_a_feed() {
        let err = parse_document(b"<!DOCTYPE html><html><body>x</body></html>", &base()).unwrap_err();
        assert!(matches!(err, ParseError::NotAFeed(_)));
        assert!(err.to_string().starts_with("not a feed: "));
        assert!(err.is_expected());
    }

    #[test]
    fn duplicate_items_are_merged() {
        let xml = br#"<rss version="2.0"><channel><title>t</title>
            <item><guid>a</guid><title>one</title></item>
            <item><guid>a</guid><enclosure url="x.mp3" type="audio/mpeg" length="5"/></item>
            </channel></rss>"#;
        let Document::Playlist(p) = parse_document(xml, &base()).unwrap() else { panic!() };
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].title.as_deref(), Some("one"));
        assert_eq!(p.items[0].enclosure.as_ref().unwrap().url, "https://example.com/feeds/x.mp3");
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].starts_with("2 entries share the id \"guid:a\""), "{:?}", p.warnings);
    }
}
