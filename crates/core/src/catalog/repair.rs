//! Lenient pre-processing of feed XML for breakage whose meaning is unambiguous, so a feed a
//! real podcast app would still show does not fail on a technicality:
//!
//! * namespace prefixes used on elements but never declared (`itunes:`, `podcast:`, ...) get a
//!   declaration injected on the root element (known prefixes get their real namespace URI);
//! * an `<rss>` root without a `version` (or with one feed-rs does not know) is read as 2.0;
//! * namespace URIs on the root element that feed-rs does not recognise but that mean a known
//!   one are rewritten: RSS 0.90's Netscape URIs become RSS 1.0's, and the iTunes URI in the
//!   wrong letter case becomes the canonical one;
//! * an XML declaration (`<?xml ...?>`) anywhere but at the start of the document, outside
//!   CDATA/comments, is dropped (XML 1.0 §2.8 allows it only first; it carries no content, and
//!   quick-xml under feed-rs panics on one that names an encoding mid-document);
//! * a document that stops inside its last end tag (`...</rss`) gets the missing `>`;
//! * common HTML entities (`&nbsp;`, `&hellip;`, ...) outside CDATA/comments become numeric
//!   character references, unless the document declares entities of its own (`<!ENTITY`);
//!   other unknown references are left alone (feed-rs keeps them as written); `&#X41;` becomes
//!   `&#x41;`, and a `&` that starts no reference at all (`?a=1&b=2`) becomes `&amp;`.
//!
//! Everything else (truncation, mismatched tags) is left for the parser to reject.

use std::borrow::Cow;

use super::util::then;

/// Namespace URIs for prefixes commonly used without declaration.
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
    ("podcast", "https://podcastindex.org/namespace/1.0"),
    ("media", "http://search.yahoo.com/mrss/"),
    ("content", "http://purl.org/rss/1.0/modules/content/"),
    ("atom", "http://www.w3.org/2005/Atom"),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("googleplay", "http://www.google.com/schemas/play-podcasts/1.0"),
    ("psc", "http://podlove.org/simple-chapters"),
    ("sy", "http://purl.org/rss/1.0/modules/syndication/"),
];

/// Root-element namespace URIs rewritten to what feed-rs knows (compared case-insensitively).
const NS_REWRITES: &[(&str, &str)] = &[
    ("http://my.netscape.com/rdf/simple/0.9/", "http://purl.org/rss/1.0/"),
    ("http://channel.netscape.com/rdf/simple/0.9/", "http://purl.org/rss/1.0/"),
    ("http://www.itunes.com/dtds/podcast-1.0.dtd", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
];

/// Applies the repairs described in the module docs; returns the text itself (borrowed, no
/// copy) when none apply.
pub(crate) fn repair_feed_xml(text: &str) -> Cow<'_, str> {
    let text = then(close_final_end_tag(text), drop_misplaced_xml_declarations);
    let text = then(text, html_entities_to_numeric);
    let Some((start, end)) = root_start_tag(&text) else {
        return text;
    };
    let tag = &text[start..end];
    let mut additions = String::new();
    let declared = declared_prefixes(&text);
    for prefix in used_element_prefixes(&text) {
        if declared.contains(&prefix.as_str()) {
            continue;
        }
        let uri = KNOWN_PREFIXES
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or_else(|| format!("urn:catalog-sync:undeclared:{prefix}"), |(_, u)| (*u).to_string());
        additions.push_str(&format!(" xmlns:{prefix}=\"{uri}\""));
    }
    let is_rss = tag.starts_with("<rss") && (tag.len() == 4 || tag[4..].starts_with(char::is_whitespace));
    let mut new_tag = tag.to_string();
    for (from, to) in NS_REWRITES {
        let lower = new_tag.to_ascii_lowercase();
        if let Some(i) = lower.find(from) {
            if &new_tag[i..i + from.len()] != *to {
                new_tag.replace_range(i..i + from.len(), to);
            }
        }
    }
    if is_rss {
        match version_value(tag) {
            Some(v) if ["2.0", "0.91", "0.92", ""].contains(&v.as_str()) => {}
            Some(v) => new_tag = new_tag.replacen(&v, "2.0", 1),
            None => additions.push_str(" version=\"2.0\""),
        }
    }
    if additions.is_empty() && new_tag == tag {
        return text;
    }
    let name_end = new_tag.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(new_tag.len());
    new_tag.insert_str(name_end, &additions);
    Cow::Owned(format!("{}{}{}", &text[..start], new_tag, &text[end..]))
}

/// Adds the `>` of a last end tag that the document stops inside (`...</rss` at the end).
fn close_final_end_tag(text: &str) -> Cow<'_, str> {
    let t = text.trim_end();
    if let Some(i) = t.rfind("</") {
        let name = &t[i + 2..];
        let valid = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || ":_-.".contains(c));
        if valid {
            return Cow::Owned(format!("{t}>"));
        }
    }
    Cow::Borrowed(text)
}

/// Removes every `<?xml` declaration (followed by whitespace or `?`, up to its `?>`) except
/// one at the very start (after leading whitespace), skipping CDATA and comments.
fn drop_misplaced_xml_declarations(text: &str) -> Cow<'_, str> {
    let is_decl =
        |s: &str| s.starts_with("<?xml") && s[5..].starts_with(|c: char| c.is_whitespace() || c == '?');
    let leading = text.len() - text.trim_start().len();
    let declarations = text.matches("<?xml").count();
    if declarations == 0 || (declarations == 1 && text[leading..].starts_with("<?xml")) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let at_start = out.len() == leading;
        if let Some((open, close)) =
            [("<![CDATA[", "]]>"), ("<!--", "-->")].into_iter().find(|(open, _)| rest.starts_with(open))
        {
            let end = rest[open.len()..].find(close).map_or(rest.len(), |j| open.len() + j + close.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if is_decl(rest) && !at_start {
            match rest.find("?>") {
                Some(end) => rest = &rest[end + 2..],
                None => {
                    // unterminated: left for the parser to reject
                    out.push_str(rest);
                    rest = "";
                }
            }
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Rewrites known HTML entity references to numeric ones, skipping CDATA and comments;
/// borrowed when the text has none to rewrite. Only the rewritten spans are copied (the text
/// between them goes in once, at the first rewrite), and `&`/`<` are found with memchr.
fn html_entities_to_numeric(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    if memchr::memchr(b'&', bytes).is_none() || text.contains("<!ENTITY") {
        return Cow::Borrowed(text);
    }
    let mut edits = Edits::new(text);
    let mut at = 0;
    while let Some(found) = memchr::memchr2(b'&', b'<', &bytes[at..]) {
        let i = at + found;
        let rest = &text[i..];
        if let Some((_, close)) =
            [("<![CDATA[", "]]>"), ("<!--", "-->")].into_iter().find(|(open, _)| rest.starts_with(open))
        {
            at = i + rest.find(close).map_or(rest.len(), |j| j + close.len());
            continue;
        }
        at = i + 1;
        let Some(after) = rest.strip_prefix('&') else { continue };
        let name_len = after.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(after.len());
        let terminated = after[name_len..].starts_with(';');
        if let Some(c) = super::util::html_entity(&after[..name_len]).filter(|_| terminated) {
            edits.replace(i..i + 1 + name_len + 1, &format!("&#{};", c as u32));
            at = i + 1 + name_len + 1;
            continue;
        }
        if name_len > 0 && terminated {
            continue; // an XML entity (`&amp;`) or one the parser will name as unknown
        }
        // `&#X41;` (upper-case X) is `&#x41;`; a `&` that starts no reference at all
        // (`?a=1&b=2`) is a literal ampersand.
        let digits = |s: &str, radix: u32| {
            let n = s.find(|c: char| !c.is_digit(radix)).unwrap_or(s.len());
            n > 0 && s[n..].starts_with(';')
        };
        let numeric = |prefix: &str, radix| after.strip_prefix(prefix).is_some_and(|n| digits(n, radix));
        if numeric("#X", 16) {
            edits.replace(i..i + 3, "&#x");
        } else if !numeric("#x", 16) && !numeric("#", 10) {
            edits.replace(i..i + 1, "&amp;");
        }
    }
    edits.finish()
}

/// A text with some spans replaced, copied only once a span is (a [`Cow`] builder).
struct Edits<'a> {
    text: &'a str,
    /// The text up to `copied` with its replacements; `None` until the first one.
    out: Option<String>,
    /// Bytes of `text` accounted for in `out`.
    copied: usize,
}

impl<'a> Edits<'a> {
    fn new(text: &'a str) -> Edits<'a> {
        Edits { text, out: None, copied: 0 }
    }

    /// Replaces `range` of the text (after every range replaced so far) by `with`.
    fn replace(&mut self, range: std::ops::Range<usize>, with: &str) {
        let out = self.out.get_or_insert_with(|| String::with_capacity(self.text.len() + 64));
        out.push_str(&self.text[self.copied..range.start]);
        out.push_str(with);
        self.copied = range.end;
    }

    fn finish(self) -> Cow<'a, str> {
        match self.out {
            None => Cow::Borrowed(self.text),
            Some(mut out) => {
                out.push_str(&self.text[self.copied..]);
                Cow::Owned(out)
            }
        }
    }
}

/// Byte range of the root element's start tag (`<name ...>` without the closing `>`).
pub(crate) fn root_start_tag(text: &str) -> Option<(usize, usize)> {
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &text[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->")? + 3;
        } else if rest.starts_with("<?") {
            i += rest.find("?>")? + 2;
        } else if rest.starts_with("<!") {
            let mut depth = 0;
            let mut j = i;
            for (k, c) in rest.char_indices() {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    '>' if depth <= 0 => {
                        j = i + k + 1;
                        break;
                    }
                    _ => {}
                }
            }
            if j == i {
                return None;
            }
            i = j;
        } else {
            // Find the closing '>' outside quotes.
            let mut quote = None;
            for (k, c) in rest.char_indices().skip(1) {
                match (quote, c) {
                    (None, '"' | '\'') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (None, '>') => {
                        let tag_end = if rest[..k].ends_with('/') { k - 1 } else { k };
                        return Some((i, i + tag_end));
                    }
                    _ => {}
                }
            }
            return None;
        }
    }
    None
}

/// The `version` attribute value of a start tag, if present.
fn version_value(tag: &str) -> Option<String> {
    let pos = tag.find(" version")?;
    let rest = tag[pos + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let close = rest[1..].find(q)?;
    Some(rest[1..1 + close].to_string())
}

/// Distinct prefixes used in element names (`<p:name` / `</p:name`), sorted.
fn used_element_prefixes(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    for i in memchr::memchr_iter(b'<', bytes) {
        let name = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'/'));
        let Some(p) = prefix_at(bytes, name).filter(|p| bytes.get(name + p.len()) == Some(&b':')) else {
            continue;
        };
        // a local name follows the colon (the name does not end there)
        let local = text[name + p.len() + 1..].chars().next();
        if local.is_none_or(|c| c.is_whitespace() || c == '>' || c == '/') {
            continue;
        }
        if p != "xml" && p != "xmlns" && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    out.sort();
    out
}

/// The prefixes declared anywhere in `text` (`xmlns:p=`), found in one pass.
fn declared_prefixes(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"xmlns:")
        .filter_map(|i| prefix_at(bytes, i + 6).filter(|p| bytes.get(i + 6 + p.len()) == Some(&b'=')))
        .collect()
}

/// The longest run of name characters at `at` that makes a valid prefix: an ASCII letter or
/// `_`, then ASCII letters, digits, `_`, `-` or `.`; `None` when there is none.
fn prefix_at(bytes: &[u8], at: usize) -> Option<&str> {
    let rest = bytes.get(at..)?;
    if !rest.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_') {
        return None;
    }
    let len =
        rest.iter().position(|&b| !(b.is_ascii_alphanumeric() || b"_-.".contains(&b))).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injects_undeclared_prefixes_and_version() {
        let x = "<!-- c --><rss><channel><itunes:author>a</itunes:author><foo:bar/></channel></rss>";
        let r = repair_feed_xml(x);
        assert!(r.contains("<rss xmlns:foo=\"urn:catalog-sync:undeclared:foo\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" version=\"2.0\">"), "{r}");
    }

    #[test]
    fn drops_xml_declarations_but_the_first_outside_cdata_and_comments() {
        let x = " <?xml version=\"1.0\"?><rss><a><?xml version='1.0' encoding='latin1'?></a>\
                 <![CDATA[<?xml version=\"1.0\"?>]]><!-- <?xml ?> --><?xml-stylesheet href=\"s\"?><?xml x";
        assert_eq!(
            drop_misplaced_xml_declarations(x),
            " <?xml version=\"1.0\"?><rss><a></a><![CDATA[<?xml version=\"1.0\"?>]]><!-- <?xml ?> --><?xml-stylesheet href=\"s\"?><?xml x"
        );
        assert_eq!(drop_misplaced_xml_declarations("é<?xml ?>"), "é");
        let good = "<?xml version=\"1.0\"?><rss/>";
        assert_eq!(drop_misplaced_xml_declarations(good), good);
    }

    #[test]
    fn leaves_good_feeds_alone() {
        let x = "<rss version=\"2.0\" xmlns:itunes=\"u\"><channel><itunes:a/></channel></rss>";
        assert_eq!(repair_feed_xml(x), x);
    }

    #[test]
    fn namespace_rewrites() {
        let x = "<rdf:RDF xmlns:rdf=\"r\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\" xmlns:i=\"http://www.itunes.com/DTDs/Podcast-1.0.dtd\">";
        assert_eq!(
            repair_feed_xml(x),
            "<rdf:RDF xmlns:rdf=\"r\" xmlns=\"http://purl.org/rss/1.0/\" xmlns:i=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"
        );
    }

    #[test]
    fn html_entities_outside_cdata() {
        let x = "<rss version=\"2.0\"><t>a&nbsp;b &amp; &foo; <![CDATA[&nbsp;]]></t></rss>";
        assert_eq!(
            repair_feed_xml(x),
            "<rss version=\"2.0\"><t>a&#160;b &amp; &foo; <![CDATA[&nbsp;]]></t></rss>"
        );
    }

    #[test]
    fn bare_ampersands_and_upper_hex_references() {
        let x = "<rss version=\"2.0\"><l>?a=1&b=2 & &#X41; &#65; &x;</l></rss>";
        assert_eq!(
            repair_feed_xml(x),
            "<rss version=\"2.0\"><l>?a=1&amp;b=2 &amp; &#x41; &#65; &x;</l></rss>"
        );
    }

    #[test]
    fn back_to_back_cdata_sections_and_comments_keep_their_references() {
        // a `]]>` inside content is split over two sections: neither is rewritten
        let x = "<rss version=\"2.0\"><t><![CDATA[a]]]]><![CDATA[>&nbsp;]]><!--&eacute;-->&eacute;&#x41;</t></rss>";
        assert_eq!(
            repair_feed_xml(x),
            "<rss version=\"2.0\"><t><![CDATA[a]]]]><![CDATA[>&nbsp;]]><!--&eacute;-->&#233;&#x41;</t></rss>"
        );
        let unchanged = "<rss version=\"2.0\"><t>&amp; &#65; &#x41; &lt;<![CDATA[&]]></t></rss>";
        assert!(matches!(repair_feed_xml(unchanged), Cow::Borrowed(_)), "nothing to rewrite: no copy");
        assert_eq!(html_entities_to_numeric("&"), "&amp;");
        assert_eq!(html_entities_to_numeric("x&nbsp;"), "x&#160;");
        assert_eq!(html_entities_to_numeric("&#X;&#x;"), "&amp;#X;&amp;#x;");
    }

    #[test]
    fn prefixes_are_read_from_element_names_and_declarations() {
        let x = "<a xmlns:dc=\"u\" xmlns:bad =\"v\"><dc:t/></p:x><_q:y>\n<p: x/><9z:w/><r-s.t:u a='1'/><xml:lang/>\
                 <x:\u{2003}/><é:n/></a>";
        assert_eq!(used_element_prefixes(x), vec!["_q", "dc", "p", "r-s.t"]);
        assert_eq!(declared_prefixes(x), vec!["dc"], "`xmlns:bad =` is no declaration");
    }

    #[test]
    fn last_end_tag_is_closed() {
        assert_eq!(close_final_end_tag("<rss version=\"2.0\">\n</rss\n"), "<rss version=\"2.0\">\n</rss>");
        assert_eq!(close_final_end_tag("<a></a>"), "<a></a>");
        assert_eq!(close_final_end_tag("<a><b>x</"), "<a><b>x</");
    }

    #[test]
    fn unknown_version_becomes_two() {
        assert_eq!(repair_feed_xml("<rss version='0.94'/>"), "<rss version='2.0'/>");
    }
}
