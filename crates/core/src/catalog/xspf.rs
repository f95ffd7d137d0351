//! XSPF playlists (XSPF 1.0, <https://xspf.org/spec>), with or without the
//! `http://xspf.org/ns/0/` namespace (old Last.fm output has none; elements are matched by
//! local name).
//!
//! Each `<track>` with a `<location>` becomes an item: first `<location>` (resolved against
//! nested `xml:base` and the playlist URL), `<title>`, `<creator>` (as the item author),
//! `<duration>` in milliseconds (stored as whole seconds), `<image>` (the track's cover; the
//! playlist's own `<image>` is the playlist's, both resolved like locations). A location that is not a URL as a
//! whole but starts with one (`http://host:8000 extraparam=1`, seen in Audacious output) is cut
//! at the first whitespace. `<extension>` blobs are skipped.

use super::model::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};
use super::util::{attr, non_empty, resolve_ref, resolve_url};
use super::ParseError;
use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Location,
    Title,
    Creator,
    Duration,
    Image,
    PlaylistTitle,
    PlaylistImage,
}

/// Parses decoded XSPF text; `base` is the playlist URL.
///
/// # Errors
/// [`ParseError::Malformed`] (`malformed xspf: ...`) on XML errors or truncation.
pub fn parse_xspf(text: &str, base: &url::Url) -> Result<ParsedPlaylist, ParseError> {
    let mut reader = Reader::from_str(text);
    let mut bases: Vec<Option<url::Url>> = vec![Some(base.clone())];
    let mut path: Vec<String> = Vec::new();
    let mut playlist = ParsedPlaylist { format: Some(PlaylistFormat::Xspf), ..Default::default() };
    let mut track: Option<(ParsedItem, Option<String>)> = None;
    let mut field: Option<(Field, String)> = None;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| ParseError::malformed("xspf", format!("{e} at byte {}", reader.error_position())))?;
        match ev {
            Event::Start(ref e) => {
                let parent = bases.last().cloned().flatten();
                let here = match attr(e, "xml:base") {
                    Some(b) => parent
                        .as_ref()
                        .and_then(|p| p.join(b.trim()).ok())
                        .or_else(|| url::Url::parse(b.trim()).ok()),
                    None => parent,
                };
                bases.push(here);
                let local = e.local_name().as_ref().to_string();
                let in_ext = path.iter().any(|p| p == "extension");
                let parent_name = path.last().map(String::as_str);
                match (local.as_str(), parent_name, in_ext) {
                    ("track", _, false) => track = Some((ParsedItem::default(), None)),
                    ("location", Some("track"), false) => field = Some((Field::Location, String::new())),
                    ("title", Some("track"), false) => field = Some((Field::Title, String::new())),
                    ("creator", Some("track"), false) => field = Some((Field::Creator, String::new())),
                    ("duration", Some("track"), false) => field = Some((Field::Duration, String::new())),
                    ("image", Some("track"), false) => field = Some((Field::Image, String::new())),
                    ("title", Some("playlist"), false) => field = Some((Field::PlaylistTitle, String::new())),
                    ("image", Some("playlist"), false) => field = Some((Field::PlaylistImage, String::new())),
                    _ => {}
                }
                path.push(local);
            }
            Event::End(_) => {
                let ended = path.pop().unwrap_or_default();
                let here = bases.pop().flatten();
                if let Some((f, s)) = field.take() {
                    store(&mut playlist, &mut track, f, &s, here.as_ref());
                }
                if ended == "track" && !path.iter().any(|p| p == "extension") {
                    if let Some((mut item, Some(url))) = track.take() {
                        item.enclosure = Some(Enclosure { url, length: None, mime_type: None });
                        playlist.items.push(item);
                    }
                    track = None;
                }
            }
            Event::Text(ref t) => {
                if let Some(f) = field.as_mut() {
                    f.1.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref t) => {
                if let Some(f) = field.as_mut() {
                    f.1.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some(f) = field.as_mut() {
                    f.1.push_str(&resolve_ref(r));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !path.is_empty() {
        return Err(ParseError::malformed("xspf", "document ends inside an element"));
    }
    Ok(playlist)
}

fn store(
    p: &mut ParsedPlaylist,
    track: &mut Option<(ParsedItem, Option<String>)>,
    f: Field,
    s: &str,
    base: Option<&url::Url>,
) {
    if f == Field::PlaylistTitle {
        p.title = non_empty(s);
        return;
    }
    if f == Field::PlaylistImage {
        p.image = resolve_url(base, s);
        return;
    }
    let Some((item, loc)) = track.as_mut() else { return };
    match f {
        Field::Location if loc.is_none() => {
            *loc = resolve_url(base, s)
                .filter(|_| !s.trim().contains(char::is_whitespace))
                .or_else(|| s.split_whitespace().next().and_then(|first| resolve_url(base, first)));
        }
        Field::Title => item.title = non_empty(s),
        Field::Creator => item.author = non_empty(s),
        Field::Duration => item.duration_secs = s.trim().parse::<u64>().ok().map(|ms| ms / 1000),
        Field::Image if item.image.is_none() => item.image = resolve_url(base, s),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_with_nested_base() {
        let x = r#"<playlist version="1" xmlns="http://xspf.org/ns/0/" xml:base="http://h/one/">
          <title>P &amp; Q</title><image>cover.png</image><trackList xml:base="two/"><track>
          <location>a b.mp3</location><title>T</title><creator>C</creator><duration>61500</duration>
          <image> art/t.jpg </image>
          <extension application="x"><track><location>no</location></track></extension>
          </track><track><title>no location</title></track></trackList></playlist>"#;
        let p = parse_xspf(x, &url::Url::parse("http://other/").unwrap()).unwrap();
        assert_eq!(p.title.as_deref(), Some("P & Q"));
        assert_eq!(p.items.len(), 1);
        let it = &p.items[0];
        assert_eq!(it.enclosure.as_ref().unwrap().url, "http://h/one/two/a");
        assert_eq!(it.duration_secs, Some(61));
        assert_eq!(it.author.as_deref(), Some("C"));
        assert_eq!(it.image.as_deref(), Some("http://h/one/two/art/t.jpg"));
        assert_eq!(p.image.as_deref(), Some("http://h/one/cover.png"));
    }
}
