//! Small helpers shared by the parsers: URL resolution, duration parsing, chaining text
//! repairs ([`then`]), and reading attribute values and text out of `quick-xml` events (with
//! HTML entity leniency).

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart};

use super::model::Enclosure;

/// Trims `s`, returning `None` when nothing is left.
pub(crate) fn non_empty(s: impl AsRef<str>) -> Option<String> {
    let t = s.as_ref().trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Resolves a possibly relative URL reference against `base`, after trimming whitespace.
/// Returns `None` for empty input or when it cannot be made absolute.
pub(crate) fn resolve_url(base: Option<&url::Url>, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if super::canonical_url::is_canonical_http_url(raw) {
        return Some(raw.to_string()); // what parsing would write (most enclosure URLs)
    }
    match url::Url::parse(raw) {
        Ok(u) => Some(u.into()), // the serialization itself, not a copy
        Err(_) => base.and_then(|b| b.join(raw).ok()).map(String::from),
    }
}

/// Whether a declared media type is `image/*`.
pub(crate) fn is_image(t: &str) -> bool {
    t.trim().to_ascii_lowercase().starts_with("image/")
}

/// The URL of the first enclosure typed `image/*`.
pub(crate) fn first_image<'a>(enclosures: impl IntoIterator<Item = &'a Enclosure>) -> Option<String> {
    enclosures
        .into_iter()
        .find(|enc| enc.mime_type.as_deref().is_some_and(is_image))
        .map(|enc| enc.url.clone())
}

/// Whether the declared type is `audio/*` or `video/*`.
pub(crate) fn is_audio_video(e: &Enclosure) -> bool {
    e.mime_type.as_deref().is_some_and(|t| t.starts_with("audio/") || t.starts_with("video/"))
}

/// First audio/video enclosure, else the first one.
pub(crate) fn pick_enclosure(mut v: Vec<Enclosure>) -> Option<Enclosure> {
    match v.iter().position(is_audio_video) {
        Some(i) => Some(v.swap_remove(i)),
        None => v.into_iter().next(),
    }
}

/// Applies `repair` (a text pass that returns its input borrowed when it changes nothing) to
/// the outcome of the previous one; the text is copied only by a repair that changes it, and
/// owned text stays owned without a copy.
pub(crate) fn then<'a>(text: Cow<'a, str>, repair: impl for<'b> Fn(&'b str) -> Cow<'b, str>) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(t) => repair(t),
        Cow::Owned(t) => match repair(&t) {
            Cow::Owned(changed) => Cow::Owned(changed),
            Cow::Borrowed(_) => Cow::Owned(t),
        },
    }
}

/// Parses `itunes:duration`-style text into seconds: `HH:MM:SS`, `MM:SS`, plain seconds
/// (fractions dropped). Returns `None` for anything else, including negative values.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let parts: Vec<&str> = t.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut secs = 0f64;
    for p in &parts {
        let v: f64 = p.trim().parse().ok()?;
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        secs = secs * 60.0 + v;
    }
    Some(secs as u64)
}

/// The value of attribute `name` (qualified name as written), unescaped; unknown entities
/// are kept as written rather than failing.
pub(crate) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| unescape_lenient(&a.value))
}

/// Unescapes attribute text, keeping unknown entity references as written.
pub(crate) fn unescape_lenient(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match tail.find(';').filter(|&j| j > 1 && j < 12) {
            Some(j) => {
                let r = BytesRef::new(&tail[1..j]);
                out.push_str(&resolve_ref(&r));
                rest = &tail[j + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text for a general reference (`&amp;`, `&#233;`, `&nbsp;`): predefined XML entities, char
/// refs and a few common HTML entities; anything else is kept as written.
pub(crate) fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name = r.xml10_content();
    if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
        return s.to_string();
    }
    if let Some(c) = html_entity(&name) {
        return c.to_string();
    }
    format!("&{name};")
}

/// The handful of HTML entities that show up in real feeds.
pub(crate) fn html_entity(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" => '\u{a0}',
        "copy" => '\u{a9}',
        "reg" => '\u{ae}',
        "trade" => '\u{2122}',
        "hellip" => '\u{2026}',
        "mdash" => '\u{2014}',
        "ndash" => '\u{2013}',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "ldquo" => '\u{201c}',
        "rdquo" => '\u{201d}',
        "laquo" => '\u{ab}',
        "raquo" => '\u{bb}',
        "bull" => '\u{2022}',
        "middot" => '\u{b7}',
        "eacute" => '\u{e9}',
        "egrave" => '\u{e8}',
        "aacute" => '\u{e1}',
        "agrave" => '\u{e0}',
        "oacute" => '\u{f3}',
        "uacute" => '\u{fa}',
        "iacute" => '\u{ed}',
        "ntilde" => '\u{f1}',
        "ccedil" => '\u{e7}',
        "auml" => '\u{e4}',
        "ouml" => '\u{f6}',
        "uuml" => '\u{fc}',
        "Auml" => '\u{c4}',
        "Ouml" => '\u{d6}',
        "Uuml" => '\u{dc}',
        "szlig" => '\u{df}',
        "euro" => '\u{20ac}',
        "pound" => '\u{a3}',
        "deg" => '\u{b0}',
        "times" => '\u{d7}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("01:02:03"), Some(3723));
        assert_eq!(parse_duration("2:03"), Some(123));
        assert_eq!(parse_duration(" 3600 "), Some(3600));
        assert_eq!(parse_duration("12.7"), Some(12));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn urls() {
        let b = url::Url::parse("https://h.example/a/feed.xml").unwrap();
        assert_eq!(resolve_url(Some(&b), " ep.mp3 ").as_deref(), Some("https://h.example/a/ep.mp3"));
        assert_eq!(resolve_url(Some(&b), "http://x.example/y").as_deref(), Some("http://x.example/y"));
        assert_eq!(resolve_url(None, "rel.mp3"), None);
        assert_eq!(resolve_url(Some(&b), "  "), None);
    }
}
