//! Deciding what a decoded document is, by content only (never by file extension or
//! Content-Type, both of which lie in the wild: `rsparser__DaringFireball.rss` is Atom).
//!
//! XML documents are told apart by their root element after skipping comments, processing
//! instructions and a DOCTYPE: `rss` / `RDF` / `feed` are feeds, `opml` is OPML, `playlist` is
//! XSPF, `html` (or an HTML DOCTYPE) is a web page. Text documents are PLS when the first
//! meaningful line is `[playlist]`, M3U when they carry `#EXTM3U`/`#EXTINF`/`#EXT-X-` lines or
//! consist only of URL/path lines. Whether an M3U is an HLS stream is decided in [`super::m3u`].

use super::ParseError;

/// What [`detect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedKind {
    /// RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom.
    Feed,
    /// OPML subscription list.
    Opml,
    /// M3U / M3U8 (possibly HLS; checked by the M3U parser).
    M3u,
    /// PLS `[playlist]`.
    Pls,
    /// XSPF `<playlist>`.
    Xspf,
}

/// Classifies decoded text (as returned by [`super::encoding::decode_xml`]).
///
/// # Errors
/// [`ParseError::Empty`] for blank text or XML with nothing but comments/declarations;
/// [`ParseError::NotAFeed`] for HTML, unknown XML roots and unrecognised text.
pub fn detect(text: &str) -> Result<DetectedKind, ParseError> {
    let t = text.trim_start_matches('\u{FEFF}').trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    if t.starts_with('<') {
        return detect_xml(t);
    }
    let mut lines = t.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().find(|l| !l.starts_with('#') && !l.starts_with(';'));
    if first.is_some_and(|l| l.eq_ignore_ascii_case("[playlist]")) {
        return Ok(DetectedKind::Pls);
    }
    if lines.clone().any(|l| l.starts_with("#EXTM3U") || l.starts_with("#EXTINF") || l.starts_with("#EXT-X-"))
    {
        return Ok(DetectedKind::M3u);
    }
    if lines.all(|l| l.starts_with('#') || looks_like_location(l)) {
        return Ok(DetectedKind::M3u);
    }
    Err(ParseError::NotAFeed("unrecognised content (not XML, M3U or PLS)".into()))
}

/// A line that can stand alone as a playlist entry: a URL with a scheme or a file path.
fn looks_like_location(line: &str) -> bool {
    if line.contains('<') || line.contains('{') {
        return false;
    }
    let scheme_ok = line.split_once("://").is_some_and(|(s, _)| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    scheme_ok
        || line.starts_with('/')
        || line.starts_with("./")
        || line.starts_with("../")
        || line.as_bytes().get(1..3) == Some(b":\\")
        || (!line.contains(' ') && line.contains('.'))
}

fn detect_xml(t: &str) -> Result<DetectedKind, ParseError> {
    let mut rest = t;
    let mut html_doctype = false;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<!--") {
            rest = r.find("-->").map_or("", |i| &r[i + 3..]);
        } else if let Some(r) = rest.strip_prefix("<?") {
            rest = r.find("?>").map_or("", |i| &r[i + 2..]);
        } else if rest.get(..9).is_some_and(|p| p.eq_ignore_ascii_case("<!doctype")) {
            let r = &rest[9..];
            let end = doctype_end(r);
            html_doctype = r[..end].trim_start().to_ascii_lowercase().starts_with("html");
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return Err(ParseError::Empty);
    }
    let Some(after) = rest.strip_prefix('<') else {
        return Err(ParseError::NotAFeed("text before the root element".into()));
    };
    let name: String = after.chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/').collect();
    let local = name.rsplit(':').next().unwrap_or("").to_ascii_lowercase();
    match local.as_str() {
        "rss" | "rdf" | "feed" => Ok(DetectedKind::Feed),
        "opml" => Ok(DetectedKind::Opml),
        "playlist" => Ok(DetectedKind::Xspf),
        "html" => Err(ParseError::NotAFeed("HTML page".into())),
        _ if html_doctype => Err(ParseError::NotAFeed("HTML page".into())),
        _ => Err(ParseError::NotAFeed(format!("unknown root element <{name}>"))),
    }
}

/// Index of the `>` closing a DOCTYPE body, skipping an internal subset in `[...]`.
fn doctype_end(r: &str) -> usize {
    let mut depth = 0i32;
    for (i, c) in r.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '>' if depth <= 0 => return i,
            _ => {}
        }
    }
    r.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content() {
        assert_eq!(detect("<rss version=\"2.0\"/>"), Ok(DetectedKind::Feed));
        assert_eq!(detect("<!-- c --><rdf:RDF/>"), Ok(DetectedKind::Feed));
        assert_eq!(detect("<feed xmlns='http://www.w3.org/2005/Atom'/>"), Ok(DetectedKind::Feed));
        assert_eq!(detect("<opml/>"), Ok(DetectedKind::Opml));
        assert_eq!(detect("<playlist version='1'/>"), Ok(DetectedKind::Xspf));
        assert_eq!(detect("[playlist]\nFile1=a.mp3"), Ok(DetectedKind::Pls));
        assert_eq!(detect("#EXTM3U\n#EXTINF:1,a\na.mp3"), Ok(DetectedKind::M3u));
        assert_eq!(detect("http://x/a.mp3\n/home/a.ogg\n"), Ok(DetectedKind::M3u));
    }

    #[test]
    fn doctype_with_internal_subset() {
        let x = "<!DOCTYPE rdf:RDF [ <!ENTITY a \"b\"> ]>\n<rdf:RDF/>";
        assert_eq!(detect(x), Ok(DetectedKind::Feed));
    }

    #[test]
    fn not_feeds() {
        assert!(matches!(detect("<!DOCTYPE HTML PUBLIC \"x\"><HTML>"), Err(ParseError::NotAFeed(_))));
        assert!(matches!(detect("<faketag/>"), Err(ParseError::NotAFeed(_))));
        assert!(matches!(detect("hello world, this is prose"), Err(ParseError::NotAFeed(_))));
        assert_eq!(detect("<!-- only a comment -->"), Err(ParseError::Empty));
        assert_eq!(detect("  "), Err(ParseError::Empty));
    }
}
