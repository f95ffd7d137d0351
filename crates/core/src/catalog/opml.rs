//! OPML subscription lists (OPML 1.0/2.0, <http://opml.org/spec2.opml>) as podcast apps write
//! them (gPodder, AntennaPod, Pocket Casts, Overcast, Podcast Addict, NetNewsWire).
//!
//! Every `<outline>` with a non-empty `xmlUrl` (or `url` on `type="link"` / `type="rss"`
//! outlines) is a subscription; an outline without a URL that has children is a folder, and
//! its `title`/`text` is recorded in the subscriptions' `folders`. `<head>` is optional.
//! Subscriptions are deduplicated by URL, first wins. Attribute names are matched
//! case-insensitively (`xmlurl` occurs in the wild).

use super::model::Subscription;
use super::util::{non_empty, unescape_lenient};
use super::ParseError;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashSet;

/// Parses decoded OPML text into subscriptions, in document order.
///
/// # Errors
/// [`ParseError::Malformed`] (`malformed opml: ...`) for XML errors (e.g. mismatched end tag)
/// or a document that ends with open elements; [`ParseError::NotAFeed`] when the root is not
/// `<opml>`.
pub fn parse_opml(text: &str) -> Result<Vec<Subscription>, ParseError> {
    let mut reader = Reader::from_str(text);
    // Folder titles of open outlines; `None` for open outlines that are not folders.
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut seen_urls = HashSet::new();
    let mut out = Vec::new();
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| ParseError::malformed("opml", format!("{e} at byte {}", reader.error_position())))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = e.local_name();
                let name: &str = name.as_ref();
                if !seen_root {
                    seen_root = true;
                    if !name.eq_ignore_ascii_case("opml") {
                        return Err(ParseError::NotAFeed(format!("root element <{name}> is not <opml>")));
                    }
                }
                if name.eq_ignore_ascii_case("outline") {
                    let sub = outline(e, &stack);
                    let title = sub.as_ref().map_or_else(|| label(e), |_| None);
                    if let Some(s) = sub {
                        if seen_urls.insert(s.url.clone()) {
                            out.push(s);
                        }
                    }
                    if !empty {
                        stack.push(title);
                    }
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref().eq_ignore_ascii_case("outline") {
                    stack.pop();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(ParseError::Empty);
    }
    if depth != 0 {
        return Err(ParseError::malformed("opml", "document ends inside an element"));
    }
    Ok(out)
}

/// Case-insensitive attribute lookup, unescaped (HTML entities tolerated).
fn attr_ci(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let a = e
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref().eq_ignore_ascii_case(name))?;
    Some(unescape_lenient(&a.value))
}

/// `title`, else `text`.
fn label(e: &BytesStart<'_>) -> Option<String> {
    attr_ci(e, "title").and_then(non_empty).or_else(|| attr_ci(e, "text").and_then(non_empty))
}

fn outline(e: &BytesStart<'_>, stack: &[Option<String>]) -> Option<Subscription> {
    let url = attr_ci(e, "xmlUrl").and_then(non_empty).or_else(|| {
        let ty = attr_ci(e, "type").unwrap_or_default().to_ascii_lowercase();
        matches!(ty.trim(), "link" | "rss" | "podcast")
            .then(|| attr_ci(e, "url").and_then(non_empty))
            .flatten()
    })?;
    Some(Subscription {
        url,
        title: label(e),
        html_url: attr_ci(e, "htmlUrl").and_then(non_empty),
        folders: stack.iter().flatten().cloned().collect(),
    })
}

/// Writes subscriptions as an OPML 2.0 document (`type="rss"`, `text`, `title`, `xmlUrl`,
/// `htmlUrl`), grouping subscriptions with folders into nested folder outlines. Every value
/// is XML-escaped; [`parse_opml`] reads the result back to equal subscriptions.
pub fn export_opml(title: &str, subs: &[Subscription]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    s.push_str(&format!("  <head>\n    <title>{}</title>\n  </head>\n  <body>\n", escape(title)));
    let mut open: Vec<String> = Vec::new();
    for sub in subs {
        let common = open.iter().zip(&sub.folders).take_while(|(a, b)| a == b).count();
        while open.len() > common {
            open.pop();
            s.push_str(&format!("{}</outline>\n", "  ".repeat(open.len() + 2)));
        }
        for f in &sub.folders[common..] {
            let e = escape(f.as_str());
            s.push_str(&format!("{}<outline text=\"{e}\" title=\"{e}\">\n", "  ".repeat(open.len() + 2)));
            open.push(f.clone());
        }
        let name = escape(sub.title.as_deref().unwrap_or(&sub.url)).into_owned();
        s.push_str(&format!(
            "{}<outline type=\"rss\" text=\"{name}\"{} xmlUrl=\"{}\"{}/>\n",
            "  ".repeat(open.len() + 2),
            sub.title.as_ref().map(|_| format!(" title=\"{name}\"")).unwrap_or_default(),
            escape(sub.url.as_str()),
            sub.html_url.as_ref().map(|h| format!(" htmlUrl=\"{}\"", escape(h.as_str()))).unwrap_or_default(),
        ));
    }
    while open.pop().is_some() {
        s.push_str(&format!("{}</outline>\n", "  ".repeat(open.len() + 2)));
    }
    s.push_str("  </body>\n</opml>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_folders_and_types() {
        let x = r#"<opml version="1.0"><body>
          <outline text="feeds"><outline text="A" xmlUrl="http://a/rss"/>
            <outline text="empty" xmlUrl=""/></outline>
          <outline type="link" text="L" url="http://l/"/>
          <outline text="dup" xmlurl="http://a/rss"/>
        </body></opml>"#;
        let subs = parse_opml(x).unwrap();
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].folders, vec!["feeds"]);
        assert_eq!(subs[1].url, "http://l/");
        assert!(subs[1].folders.is_empty());
    }

    #[test]
    fn round_trip_with_escaping() {
        let subs = vec![
            Subscription {
                url: "http://x/?a=1&b=\"2\"".into(),
                title: Some("Tom & Jerry <3>".into()),
                html_url: Some("http://x/'".into()),
                folders: vec!["News & Co".into()],
            },
            Subscription { url: "http://y/".into(), title: None, html_url: None, folders: vec![] },
        ];
        let back = parse_opml(&export_opml("Mine & yours", &subs)).unwrap();
        let mut want = subs.clone();
        want[1].title = Some("http://y/".into());
        assert_eq!(back, want);
    }

    #[test]
    fn broken_is_malformed() {
        let x = "<opml><body><outline xmlUrl=\"http://a\"/></body></bad>";
        assert!(matches!(parse_opml(x), Err(ParseError::Malformed(_))));
    }
}
