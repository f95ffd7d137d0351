//! Rewrites older or looser feed dialects into the forms feed-rs reads, as one quick-xml event
//! pass (reader -> writer; events that need no change are written back byte for byte). It runs
//! after [`super::repair`] and before feed-rs; when the document is not well-formed enough for
//! the pass to finish, the input is returned unchanged and feed-rs decides.
//!
//! * Atom 0.3 (<https://web.archive.org/web/2004/http://www.mnot.net/drafts/draft-nottingham-atom-format-02.html>,
//!   namespace `http://purl.org/atom/ns#`): the namespace becomes Atom 1.0's (RFC 4287);
//!   `modified` -> `updated`, `issued` -> `published`, `tagline` -> `subtitle`,
//!   `copyright` -> `rights`; an `<item>` inside an Atom feed is read as an `<entry>` (as
//!   feedparser does).
//! * Atom text constructs (`title`, `subtitle`, `summary`, `content`, `rights`): `mode="base64"`
//!   is decoded (RFC 4648 standard alphabet); `mode="escaped"` becomes `type="html"` (or `text`);
//!   MIME-style types (`text/plain`, `text/html`, `application/xhtml+xml`) become RFC 4287's
//!   `text` / `html` / `xhtml`; an empty or unknown type on anything but `content` becomes
//!   `text` (feed-rs rejects the whole feed on one it does not know). A text construct with no
//!   text at all is dropped (feed-rs rejects the feed on those too).
//! * RSS 2.0 with a default namespace on `<rss>` (`http://backend.userland.com/rss2`): the
//!   declaration is dropped, so the elements are plain RSS 2.0 again; with a prefixed root
//!   (`<r:rss xmlns:r=...>`) that prefix is taken off every element.
//! * RSS item full text in the old extensions XHTML `<body>` / `xhtml:body` / `<fullitem>`
//!   becomes `content:encoded` (markup as escaped text).
//! * `<rss>` without `<channel>` (items straight under the root): a `<channel>` is wrapped around
//!   the content.
//! * RSS with several `<channel>`s: the later channels' items join the first channel
//!   ([`merge_rss_channels`], a pass of its own before the others).
//! * RSS 1.0 / 0.90 `<item>` without `<link>` (feed-rs drops those): a `<link>` with the item's
//!   `rdf:about`, else [`NO_LINK`], is added; [`super::feed`] maps `NO_LINK` back to no link.

use std::borrow::Cow;

use base64::Engine as _;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use super::util::{attr, non_empty};

/// The link given to an RSS 1.0 item that has neither `<link>` nor `rdf:about`.
pub(crate) const NO_LINK: &str = "urn:catalog-sync:no-link";

const ATOM03_NS: &str = "http://purl.org/atom/ns#";
const ATOM10_NS: &str = "http://www.w3.org/2005/Atom";
const TEXT_CONSTRUCTS: &[&str] =
    &["title", "subtitle", "tagline", "summary", "content", "rights", "copyright"];

#[derive(Clone, Copy, PartialEq)]
enum Root {
    Atom,
    Rss,
    Rdf,
    Other,
}

/// Applies the rewrites in the module docs; returns `text` unchanged when none apply or the
/// document cannot be read through.
pub(crate) fn normalize_feed_xml(text: &str) -> Cow<'_, str> {
    let merged = merge_rss_channels(text);
    let source = merged.as_deref().unwrap_or(text);
    let rewritten = if plain_rss(source) { None } else { rewrite(source) };
    match (rewritten, merged) {
        (Some(rewritten), _) => Cow::Owned(rewritten),
        (None, Some(merged)) => Cow::Owned(merged),
        (None, None) => Cow::Borrowed(text),
    }
}

/// Whether `text` is an RSS 2.0 document that [`rewrite`] would return unchanged, told by a
/// substring scan instead of a pass through the XML (most feeds; on a 1 MB feed the pass costs
/// about as much as a tenth of feed-rs's parse). True only when no rule of the module docs can
/// apply: the root is an unprefixed `<rss>` declaring no default namespace, a `<channel>` is
/// there, and the text names neither the Atom 0.3 namespace nor a body extension element
/// (`<body`, `<xhtml:body`, `<fullitem`). Conservative: a false answer only costs the pass.
fn plain_rss(text: &str) -> bool {
    let Some((start, end)) = super::repair::root_start_tag(text) else { return false };
    let tag = &text[start..end];
    let Some(attrs) = tag.strip_prefix("<rss") else { return false };
    if !(attrs.is_empty() || attrs.starts_with(|c: char| c.is_ascii_whitespace())) {
        return false;
    }
    // `xmlns` not followed by `:` is a default namespace declaration
    let default_ns = attrs.match_indices("xmlns").any(|(i, _)| !attrs[i + 5..].starts_with(':'));
    !default_ns
        && text.contains("<channel")
        && !text.contains(ATOM03_NS)
        && !["<body", "<xhtml:body", "<fullitem"].iter().any(|name| text.contains(name))
}

/// An RSS document with several `<channel>`s (RSS 2.0 allows one; some generators write more):
/// the items of every later channel are moved into the first, whose own elements (title,
/// image...) describe the playlist; the later channels' other elements are dropped. `None`
/// when there is at most one channel, or the document cannot be read through.
fn merge_rss_channels(text: &str) -> Option<String> {
    if text.matches("<channel").count() < 2 {
        return None;
    }
    let mut reader = Reader::from_str(text);
    let mut w = Writer::new(Vec::with_capacity(text.len()));
    let (mut depth, mut channels, mut rss) = (0usize, 0usize, false);
    let mut in_later = false;
    loop {
        let ev = reader.read_event().ok()?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.name().into_inner().to_string();
                if depth == 0 {
                    rss = name == "rss";
                } else if depth == 1 && rss && name == "channel" {
                    channels += 1;
                    if channels > 1 {
                        in_later = !empty;
                        if !empty {
                            depth += 1;
                        }
                        continue;
                    }
                } else if depth == 2 && in_later && name != "item" {
                    if !empty {
                        reader.read_to_end(e.name()).ok()?;
                    }
                    continue;
                }
                w.write_event(ev.borrow()).ok()?;
                if !empty {
                    depth += 1;
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let name = e.name().into_inner().to_string();
                if depth == 1 && rss && name == "channel" {
                    in_later = false;
                    continue; // the first channel closes just before the root does
                }
                if depth == 0 && rss && channels > 0 {
                    w.write_event(Event::End(BytesEnd::new("channel"))).ok()?;
                }
                w.write_event(ev.borrow()).ok()?;
            }
            other => {
                if !(in_later && depth == 2) {
                    w.write_event(other).ok()?;
                }
            }
        }
    }
    if channels < 2 {
        return None;
    }
    String::from_utf8(w.into_inner()).ok()
}

fn rewrite(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_unmatched_ends = true;
    let mut w = Writer::new(Vec::with_capacity(text.len() + 256));
    let mut root = None::<Root>;
    let mut depth = 0usize;
    let wrap_channel = !text.contains("<channel") && !text.contains(":channel");
    // RDF: (depth of the open <item>, its rdf:about, whether a <link> child was seen).
    let mut rdf_item: Option<(usize, Option<String>, bool)> = None;
    let mut changed = false;
    // `<r:rss xmlns:r="http://backend.userland.com/rss2">`: RSS 2.0 elements under a prefix.
    let mut rss_prefix: Option<String> = None;
    loop {
        let ev = reader.read_event().ok()?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.name().as_ref().to_string();
                if root.is_none() {
                    let local = name.rsplit(':').next().unwrap_or("");
                    root = Some(match local {
                        "feed" => Root::Atom,
                        "rss" => Root::Rss,
                        "RDF" => Root::Rdf,
                        _ => Root::Other,
                    });
                    if root == Some(Root::Rss) {
                        rss_prefix = name.split_once(':').map(|(p, _)| format!("{p}:"));
                    }
                    let (mut start, c) = root_start(e, root == Some(Root::Rss));
                    changed |= c;
                    if let Some(p) = rss_prefix.as_deref() {
                        start = unprefix(&start, p);
                        changed = true;
                    }
                    w.write_event(if empty { Event::Empty(start) } else { Event::Start(start) }).ok()?;
                    if !empty {
                        depth += 1;
                        if root == Some(Root::Rss) && wrap_channel {
                            w.write_event(Event::Start(BytesStart::new("channel"))).ok()?;
                            changed = true;
                        }
                    }
                    continue;
                }
                let r = root.unwrap_or(Root::Other);
                if let Some(p) = rss_prefix.as_deref().filter(|p| name.starts_with(p)) {
                    let start = unprefix(e, p);
                    w.write_event(if empty { Event::Empty(start) } else { Event::Start(start) }).ok()?;
                    if !empty {
                        depth += 1;
                    }
                    continue;
                }
                if r == Root::Rss && !empty && is_body_extension(e, &name) {
                    body_as_content_encoded(&mut reader, &mut w)?;
                    changed = true;
                    continue;
                }
                if r == Root::Atom && TEXT_CONSTRUCTS.contains(&name.as_str()) {
                    changed = true;
                    if !empty {
                        text_construct(&mut reader, &mut w, e, &name)?;
                    } else if attr(e, "src").is_some() {
                        w.write_event(Event::Empty(fix_namespaces(e).unwrap_or_else(|| e.borrow()))).ok()?;
                    }
                    continue;
                }
                let renamed = if r == Root::Atom { atom03_rename(&name) } else { None };
                // `<item>` inside an Atom feed is read as an entry (as feedparser does).
                let renamed = renamed.or_else(|| (r == Root::Atom && name == "item").then_some("entry"));
                let fixed = fix_namespaces(e);
                changed |= fixed.is_some();
                let mut start = fixed.unwrap_or_else(|| e.borrow());
                if let Some(new) = renamed {
                    start = rename(&start, new);
                    changed = true;
                }
                if r == Root::Rdf {
                    if name == "item" && rdf_item.is_none() {
                        let about = attr(e, "rdf:about").and_then(non_empty);
                        if empty {
                            w.write_event(Event::Start(start)).ok()?;
                            write_link(&mut w, about.as_deref())?;
                            w.write_event(Event::End(BytesEnd::new("item"))).ok()?;
                            changed = true;
                            continue;
                        }
                        rdf_item = Some((depth, about, false));
                    } else if name == "link" {
                        if let Some(it) = rdf_item.as_mut().filter(|it| it.0 + 1 == depth) {
                            it.2 = true;
                        }
                    }
                }
                w.write_event(if empty { Event::Empty(start) } else { Event::Start(start) }).ok()?;
                if !empty {
                    depth += 1;
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let name = e.name().as_ref().to_string();
                if let Some((d, about, seen)) = rdf_item.take() {
                    if d == depth {
                        if !seen {
                            write_link(&mut w, about.as_deref())?;
                            changed = true;
                        }
                    } else {
                        rdf_item = Some((d, about, seen));
                    }
                }
                if depth == 0 && root == Some(Root::Rss) && wrap_channel {
                    w.write_event(Event::End(BytesEnd::new("channel"))).ok()?;
                }
                if let Some(local) = rss_prefix.as_deref().and_then(|p| name.strip_prefix(p)) {
                    w.write_event(Event::End(BytesEnd::new(local.to_string()))).ok()?;
                    continue;
                }
                let atom_rename = |n: &str| atom03_rename(n).or_else(|| (n == "item").then_some("entry"));
                match (root == Some(Root::Atom)).then(|| atom_rename(&name)).flatten() {
                    Some(new) => w.write_event(Event::End(BytesEnd::new(new))).ok()?,
                    None => w.write_event(ev.borrow()).ok()?,
                }
            }
            other => w.write_event(other).ok()?,
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(w.into_inner()).ok()
}

fn write_link(w: &mut Writer<Vec<u8>>, about: Option<&str>) -> Option<()> {
    w.write_event(Event::Start(BytesStart::new("link"))).ok()?;
    w.write_event(Event::Text(BytesText::new(about.unwrap_or(NO_LINK)))).ok()?;
    w.write_event(Event::End(BytesEnd::new("link"))).ok()
}

fn atom03_rename(name: &str) -> Option<&'static str> {
    Some(match name {
        "modified" => "updated",
        "issued" => "published",
        "tagline" => "subtitle",
        "copyright" => "rights",
        _ => return None,
    })
}

/// `e` with the same attributes under a new name.
fn rename(e: &BytesStart<'_>, new: &str) -> BytesStart<'static> {
    let mut out = BytesStart::new(new.to_string());
    for a in e.attributes().with_checks(false).flatten() {
        out.push_attribute(Attribute { key: a.key, value: a.value.into_owned().into() });
    }
    out
}

/// `e` renamed without the `prefix` (`"r:"`), and without that prefix's `xmlns:` declaration.
fn unprefix(e: &BytesStart<'_>, prefix: &str) -> BytesStart<'static> {
    let name = e.name().as_ref().to_string();
    let decl = format!("xmlns:{}", prefix.trim_end_matches(':'));
    let mut out = BytesStart::new(name.strip_prefix(prefix).unwrap_or(&name).to_string());
    for a in e.attributes().with_checks(false).flatten().filter(|a| a.key.as_ref() != decl) {
        out.push_attribute(Attribute { key: a.key, value: a.value.into_owned().into() });
    }
    out
}

/// The root start tag: Atom 0.3 namespace rewritten; on `<rss>` the default namespace dropped.
fn root_start(e: &BytesStart<'_>, is_rss: bool) -> (BytesStart<'static>, bool) {
    if is_rss && e.try_get_attribute("xmlns").ok().flatten().is_some() {
        let mut out = BytesStart::new(e.name().as_ref().to_string());
        for a in e.attributes().with_checks(false).flatten().filter(|a| a.key.as_ref() != "xmlns") {
            out.push_attribute(Attribute { key: a.key, value: a.value.into_owned().into() });
        }
        return (fix_namespaces(&out).unwrap_or(out), true);
    }
    match fix_namespaces(e) {
        Some(fixed) => (fixed, true),
        None => (e.clone().into_owned(), false),
    }
}

/// `e` with any `xmlns` / `xmlns:*` value equal to the Atom 0.3 URI replaced by Atom 1.0's;
/// `None` when it declares no such namespace (the element stays as written).
fn fix_namespaces(e: &BytesStart<'_>) -> Option<BytesStart<'static>> {
    let has = e.attributes_raw().contains(ATOM03_NS)
        && e.attributes()
            .with_checks(false)
            .flatten()
            .any(|a| a.key.as_ref().starts_with("xmlns") && a.value.as_ref() == ATOM03_NS);
    if !has {
        return None;
    }
    let mut out = BytesStart::new(e.name().as_ref().to_string());
    for a in e.attributes().with_checks(false).flatten() {
        let v: String = if a.key.as_ref().starts_with("xmlns") && a.value.as_ref() == ATOM03_NS {
            ATOM10_NS.to_string()
        } else {
            a.value.into_owned()
        };
        out.push_attribute(Attribute { key: a.key, value: v.into() });
    }
    Some(out)
}

/// An RSS item's full-text extension: XHTML `<body>` (with or without
/// `xmlns="http://www.w3.org/1999/xhtml"`, or as `xhtml:body`) or `<fullitem>` (escaped HTML).
/// A `<body>` in another namespace is left alone.
fn is_body_extension(e: &BytesStart<'_>, name: &str) -> bool {
    name == "fullitem"
        || name == "xhtml:body"
        || (name == "body" && attr(e, "xmlns").is_none_or(|v| v.trim() == "http://www.w3.org/1999/xhtml"))
}

/// Reads the body extension up to its end tag and writes it as `content:encoded` (markup kept
/// as escaped text), which feed-rs reads as the item's content.
fn body_as_content_encoded(reader: &mut Reader<&[u8]>, w: &mut Writer<Vec<u8>>) -> Option<()> {
    let mut inner: Vec<Event<'static>> = Vec::new();
    let mut depth = 0usize;
    let mut has_elements = false;
    loop {
        match reader.read_event().ok()? {
            Event::Eof => return None,
            Event::End(_) if depth == 0 => break,
            ev => {
                match &ev {
                    Event::Start(_) => {
                        depth += 1;
                        has_elements = true;
                    }
                    Event::Empty(_) => has_elements = true,
                    Event::End(_) => depth -= 1,
                    _ => {}
                }
                inner.push(ev.into_owned());
            }
        }
    }
    let mut start = BytesStart::new("encoded");
    start.push_attribute(("xmlns", "http://purl.org/rss/1.0/modules/content/"));
    w.write_event(Event::Start(start)).ok()?;
    if has_elements {
        let mut inner_w = Writer::new(Vec::new());
        for ev in &inner {
            inner_w.write_event(ev.borrow()).ok()?;
        }
        let raw = String::from_utf8(inner_w.into_inner()).ok()?;
        w.write_event(Event::Text(BytesText::new(&raw))).ok()?;
    } else {
        for ev in inner {
            w.write_event(ev).ok()?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("encoded"))).ok()
}

/// Reads an Atom text construct up to its end tag and writes it back in RFC 4287 form.
fn text_construct(
    reader: &mut Reader<&[u8]>,
    w: &mut Writer<Vec<u8>>,
    e: &BytesStart<'_>,
    name: &str,
) -> Option<()> {
    let mut inner: Vec<Event<'static>> = Vec::new();
    let mut depth = 0usize;
    let mut has_elements = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Eof => return None,
            Event::End(x) if depth == 0 => {
                let _ = x;
                break;
            }
            ev => {
                match &ev {
                    Event::Start(_) => {
                        depth += 1;
                        has_elements = true;
                    }
                    Event::Empty(_) => has_elements = true,
                    Event::End(_) => depth -= 1,
                    Event::Text(t) => text.push_str(&t.xml10_content()),
                    Event::CData(t) => text.push_str(&t.xml10_content()),
                    Event::GeneralRef(_) => text.push('&'),
                    _ => {}
                }
                inner.push(ev.into_owned());
            }
        }
    }
    let get = |k: &str| attr(e, k).map(|v| v.trim().to_ascii_lowercase());
    let (ty, mode, src) = (get("type"), get("mode"), get("src"));
    let is_content = name == "content";
    if !has_elements && text.trim().is_empty() && src.is_none() {
        return Some(()); // empty: dropped (module docs)
    }
    let html_like = |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains("html"));
    let mut decoded: Option<String> = None;
    let new_type: Option<String> = match mode.as_deref() {
        Some("base64") => {
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => {
                    decoded = Some(String::from_utf8_lossy(&bytes).into_owned());
                    Some(if html_like(&ty) { "html" } else { "text" }.into())
                }
                Err(_) => Some("text".into()),
            }
        }
        Some("escaped") => Some(if ty.as_deref() == Some("text/plain") || ty.as_deref() == Some("text") {
            "text".into()
        } else {
            "html".into()
        }),
        _ => match ty.as_deref() {
            None => None,
            Some("text" | "html" | "xhtml") => ty.clone(),
            Some("text/plain") => Some("text".into()),
            Some("text/html") => Some("html".into()),
            Some(t) if t.contains("xhtml") || t.ends_with("/xml") || t.ends_with("+xml") => {
                Some(if has_elements { "xhtml" } else { "text" }.into())
            }
            Some(t) if is_content && src.is_some() && t.contains('/') => ty.clone(),
            Some(t) if is_content && t.contains('/') && !t.contains(' ') => Some(t.to_string()),
            Some(_) => Some("text".into()),
        },
    };
    // Inline XML that is not XHTML: keep the markup, as text.
    let xhtml_div = new_type.as_deref() == Some("xhtml") && !starts_with_div(&inner);
    let new_type = if xhtml_div { Some("html".to_string()) } else { new_type };
    let new_name = atom03_rename(name).unwrap_or(name);
    let mut start = BytesStart::new(new_name.to_string());
    for a in e.attributes().with_checks(false).flatten() {
        if !matches!(a.key.as_ref(), "type" | "mode") {
            start.push_attribute(Attribute { key: a.key, value: a.value.into_owned().into() });
        }
    }
    if let Some(t) = new_type.as_deref() {
        start.push_attribute(("type", t));
    }
    w.write_event(Event::Start(start)).ok()?;
    match decoded {
        Some(d) => w.write_event(Event::Text(BytesText::new(&d))).ok()?,
        None if has_elements && new_type.as_deref() != Some("xhtml") && !is_content_xml(&new_type) => {
            // Markup inside a text/html construct: keep it as escaped markup text.
            let mut inner_w = Writer::new(Vec::new());
            for ev in &inner {
                inner_w.write_event(ev.borrow()).ok()?;
            }
            let raw = String::from_utf8(inner_w.into_inner()).ok()?;
            w.write_event(Event::Text(BytesText::new(&raw))).ok()?;
        }
        None => {
            for ev in inner {
                w.write_event(ev).ok()?;
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new(new_name.to_string()))).ok()
}

fn is_content_xml(t: &Option<String>) -> bool {
    t.as_deref().is_some_and(|t| t.ends_with("/xml") || t.ends_with("+xml"))
}

/// Whether the first element among `inner` is a `div` (RFC 4287 §3.1.1.3 XHTML wrapper).
fn starts_with_div(inner: &[Event<'_>]) -> bool {
    inner.iter().find_map(|ev| match ev {
        Event::Start(s) | Event::Empty(s) => Some(s.local_name().as_ref() == "div"),
        _ => None,
    }) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom03_namespace_elements_and_modes() {
        let x = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><modified>2004-01-01T00:00:00Z</modified><title type="application/octet-stream" mode="base64">USZB</title><summary type="text/html" mode="escaped">a &amp;lt;b&amp;gt;</summary><content type=""></content></entry></feed>"#;
        let y = normalize_feed_xml(x);
        assert_eq!(
            y,
            r#"<feed version="0.3" xmlns="http://www.w3.org/2005/Atom"><entry><updated>2004-01-01T00:00:00Z</updated><title type="text">Q&amp;A</title><summary type="html">a &amp;lt;b&amp;gt;</summary></entry></feed>"#
        );
    }

    #[test]
    fn later_channels_give_their_items_to_the_first() {
        let x = "<rss version=\"2.0\"><channel><title>One</title><item><title>a</title></item></channel>\
                 <channel><title>Two</title><item><title>b</title></item><item><title>c</title></item></channel></rss>";
        let y = normalize_feed_xml(x);
        assert_eq!(
            y,
            "<rss version=\"2.0\"><channel><title>One</title><item><title>a</title></item>\
             <item><title>b</title></item><item><title>c</title></item></channel></rss>"
        );
        let one = "<rss><channel><title>t</title></channel></rss>";
        assert_eq!(merge_rss_channels(one), None);
    }

    #[test]
    fn rss_default_namespace_and_missing_channel() {
        let y = normalize_feed_xml(
            r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><item/></rss>"#,
        );
        assert_eq!(y, r#"<rss version="2.0"><channel><item/></channel></rss>"#);
    }

    #[test]
    fn body_extensions_become_content_encoded() {
        let y = normalize_feed_xml(
            r#"<rss version="2.0"><channel><item><body xmlns="http://www.w3.org/1999/xhtml"><p>Hi</p></body><fullitem>a &amp; b</fullitem><body xmlns="urn:x">x</body></item></channel></rss>"#,
        );
        let enc = r#"<encoded xmlns="http://purl.org/rss/1.0/modules/content/">"#;
        assert_eq!(
            y,
            format!(
                r#"<rss version="2.0"><channel><item>{enc}&lt;p&gt;Hi&lt;/p&gt;</encoded>{enc}a &amp; b</encoded><body xmlns="urn:x">x</body></item></channel></rss>"#
            )
        );
    }

    #[test]
    fn prefixed_rss_root() {
        let y = normalize_feed_xml(
            r#"<r:rss version="2.0" xmlns:r="http://backend.userland.com/rss2"><r:channel><r:item><r:title>t</r:title></r:item></r:channel></r:rss>"#,
        );
        assert_eq!(y, r#"<rss version="2.0"><channel><item><title>t</title></item></channel></rss>"#);
    }

    #[test]
    fn rdf_items_get_a_link() {
        let y = normalize_feed_xml(
            r#"<rdf:RDF xmlns:rdf="r"><item rdf:about="http://e/1"><title>t</title></item><item/></rdf:RDF>"#,
        );
        assert_eq!(
            y,
            format!(
                r#"<rdf:RDF xmlns:rdf="r"><item rdf:about="http://e/1"><title>t</title><link>http://e/1</link></item><item><link>{NO_LINK}</link></item></rdf:RDF>"#
            )
        );
    }

    /// The quick check never skips a document the pass would change: over every feed of the
    /// shared corpus and the rewrite cases above, `plain_rss` implies `rewrite` returns `None`.
    #[test]
    fn plain_rss_is_only_said_of_documents_the_pass_leaves_alone() {
        let mut docs = catalog_sync_testkit::feed_texts();
        docs.extend(
            [
                r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel/></rss>"#,
                r#"<rss version="2.0"><item/></rss>"#,
                r#"<r:rss xmlns:r="http://backend.userland.com/rss2"><r:channel/></r:rss>"#,
                r#"<rss><channel><item><body><p>x</p></body></item></channel></rss>"#,
                r#"<rss><channel><item><fullitem>x</fullitem></item></channel></rss>"#,
                r#"<rss xmlns:a="http://purl.org/atom/ns#"><channel><a:modified>x</a:modified></channel></rss>"#,
            ]
            .map(String::from),
        );
        let mut plain = 0;
        for doc in &docs {
            if plain_rss(doc) {
                plain += 1;
                assert_eq!(rewrite(doc), None, "plain_rss skipped a document the pass changes:\n{doc}");
            }
        }
        assert!(plain >= 10, "the check should recognise most RSS feeds of the corpus, got {plain}");
        assert!(plain_rss(r#"<?xml version="1.0"?><rss version="2.0" xmlns:itunes="i"><channel/></rss>"#));
    }

    #[test]
    fn sound_documents_are_untouched_and_broken_ones_returned_as_is() {
        let x = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>a</id></entry></feed>"#;
        assert_eq!(normalize_feed_xml(x), x);
        let broken = "<rss><channel><item><title>x</channel>";
        assert_eq!(normalize_feed_xml(broken), broken);
    }
}
