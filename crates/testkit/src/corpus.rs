//! Serving real-world corpus files with their media URLs pointed at the loopback server.
//!
//! The corpus lives outside the repository (`<repo>/../shared/corpus`, see
//! [`corpus_dir`]). A served file keeps every byte except the media locations, which are
//! replaced by `/<file-stem>/<n>.<ext>` media registered on the server (`n` counts distinct
//! originals from 1; `ext` comes from the original URL, else from the declared MIME type, else
//! `mp3`). Rewriting works on bytes, not on a parsed document, so malformed files stay
//! malformed and entities such as `&amp;` are left as they are. What is rewritten:
//! - XML feeds: `url` of `<enclosure>` and `<media:content>`, `uri` of `<podcast:source>`,
//!   `href` of `<link rel="enclosure">` (Atom); comments and CDATA sections are skipped;
//! - XSPF: the text of `<location>`;
//! - M3U/M3U8: every line that is neither empty nor a `#` tag/comment;
//! - PLS: the value of every `FileN=` line.
//!
//! Files that are not ASCII-compatible (UTF-16/32: a BOM, or a NUL in the first 1 KiB) are
//! served byte for byte.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use url::Url;

use crate::content::guess_content_type;
use crate::error::TestkitError;
use crate::server::TestServer;

/// Environment variable that overrides [`corpus_dir`].
pub const CORPUS_ENV: &str = "CATALOG_SYNC_CORPUS";

/// One media location replaced while serving a corpus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRewrite {
    /// URL the rewritten corpus file is served at.
    pub feed_url: Url,
    /// The location as written in the file (entities such as `&amp;` not decoded).
    pub original: String,
    /// The loopback media URL that replaced it.
    pub loopback: Url,
}

/// Directory of the shared corpus: `$CATALOG_SYNC_CORPUS` if set, else
/// `<testkit manifest dir>/../../../shared/corpus` (i.e. `<repo>/../shared/corpus`).
pub fn corpus_dir() -> PathBuf {
    match std::env::var_os(CORPUS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
}

/// The text of every file under the corpus's `feeds/` (bytes read as UTF-8, invalid sequences
/// replaced), for tests that check a property over all of them. Panics when the corpus is
/// missing.
pub fn feed_texts() -> Vec<String> {
    let dir = corpus_dir().join("feeds");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("the corpus at {}: {e}", dir.display()));
    entries
        .map(|e| {
            String::from_utf8_lossy(&std::fs::read(e.expect("a corpus entry").path()).expect("a corpus file"))
                .into_owned()
        })
        .collect()
}

/// Kind of file, from its extension, deciding which locations are rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xml,
    Xspf,
    M3u,
    Pls,
}

impl TestServer {
    /// Serves `<corpus_dir()>/<rel>` at `/corpus/<rel>`, rewritten as the module describes.
    pub fn serve_corpus(&self, rel: &str) -> Result<Url, TestkitError> {
        self.serve_corpus_file(&corpus_dir(), rel)
    }

    /// Serves `<corpus_path>/<rel>` (e.g. `feeds/x.xml`) at `/corpus/<rel>` with media
    /// locations rewritten to loopback media of `corpus_media_size` bytes; returns its URL.
    ///
    /// Errors: [`TestkitError::Io`] if the file cannot be read.
    pub fn serve_corpus_file(&self, corpus_path: &Path, rel: &str) -> Result<Url, TestkitError> {
        let file = corpus_path.join(rel);
        let bytes = std::fs::read(&file).map_err(|source| TestkitError::Io {
            op: "read",
            path: file.clone(),
            source,
        })?;
        let rel = rel.trim_start_matches('/');
        let feed_url = self.url(&format!("/corpus/{rel}"));
        let content_type = corpus_content_type(rel, &bytes);
        let kind = kind_for(rel);
        let body = if ascii_compatible(&bytes) {
            let slug = slug_for(rel);
            let size = self.shared().corpus_media_size.load(Ordering::Relaxed);
            let mut seen: HashMap<Vec<u8>, Url> = HashMap::new();
            let mut rewrites = Vec::new();
            let out = rewrite(&bytes, kind, |original, mime| {
                if let Some(u) = seen.get(original) {
                    return u.to_string();
                }
                let original_str = String::from_utf8_lossy(original).into_owned();
                let ext = ext_for(&original_str, mime);
                let info = self.add_media(&format!("/{slug}/{}.{ext}", seen.len() + 1), size);
                seen.insert(original.to_vec(), info.url.clone());
                rewrites.push(UrlRewrite {
                    feed_url: feed_url.clone(),
                    original: original_str,
                    loopback: info.url.clone(),
                });
                info.url.to_string()
            });
            let mut all = self.shared().rewrites.lock().expect("rewrites lock");
            all.retain(|r| r.feed_url != feed_url);
            all.extend(rewrites);
            out
        } else {
            bytes
        };
        Ok(self.add_feed(feed_url.path(), body, content_type))
    }

    /// Every location replaced so far, over all served corpus files, in file order.
    pub fn rewrites(&self) -> Vec<UrlRewrite> {
        self.shared().rewrites.lock().expect("rewrites lock").clone()
    }

    /// Locations replaced in the corpus file served at `feed_url`, in file order.
    pub fn rewrites_for(&self, feed_url: &Url) -> Vec<UrlRewrite> {
        self.rewrites().into_iter().filter(|r| &r.feed_url == feed_url).collect()
    }
}

fn kind_for(rel: &str) -> Kind {
    let lower = rel.to_ascii_lowercase();
    if lower.ends_with(".xspf") {
        Kind::Xspf
    } else if lower.ends_with(".m3u") || lower.ends_with(".m3u8") {
        Kind::M3u
    } else if lower.ends_with(".pls") {
        Kind::Pls
    } else {
        Kind::Xml
    }
}

fn corpus_content_type(rel: &str, bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(2048)];
    if rel.ends_with(".xml") && head.windows(5).any(|w| w == b"<feed") {
        "application/atom+xml"
    } else {
        guess_content_type(rel)
    }
}

/// False for UTF-16/32 text: a UTF-16/32 BOM, or a NUL byte in the first 1 KiB.
pub(crate) fn ascii_compatible(bytes: &[u8]) -> bool {
    let boms: [&[u8]; 3] = [b"\xFE\xFF", b"\xFF\xFE", b"\x00\x00\xFE\xFF"];
    !boms.iter().any(|b| bytes.starts_with(b)) && !bytes[..bytes.len().min(1024)].contains(&0)
}

/// File stem of `rel` with every byte outside `[A-Za-z0-9_.-]` replaced by `-`.
fn slug_for(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    stem.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' }).collect()
}

/// Extension for the loopback copy of `original` (lower-case, no dot).
fn ext_for(original: &str, mime: Option<&str>) -> String {
    let path = match Url::parse(original.trim()) {
        Ok(u) if u.has_host() => u.path().to_owned(),
        _ => original.split(['?', '#']).next().unwrap_or("").to_owned(),
    };
    let last = path.rsplit('/').next().unwrap_or("");
    if let Some((_, ext)) = last.rsplit_once('.') {
        if (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return ext.to_ascii_lowercase();
        }
    }
    let ext = match mime.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        Some("audio/mp4" | "audio/x-m4a" | "audio/m4a" | "audio/aac") => "m4a",
        Some("video/mp4" | "video/x-m4v") => "mp4",
        Some("audio/ogg") => "ogg",
        Some("audio/opus") => "opus",
        Some("video/webm") => "webm",
        Some("application/x-mpegurl" | "application/vnd.apple.mpegurl") => "m3u8",
        _ => "mp3",
    };
    ext.to_owned()
}

/// Rewrites the media locations of `bytes` (of `kind`) to what `map(original, mime)` returns.
fn rewrite(bytes: &[u8], kind: Kind, mut map: impl FnMut(&[u8], Option<&str>) -> String) -> Vec<u8> {
    let spans = match kind {
        Kind::Xml | Kind::Xspf => xml_spans(bytes, kind == Kind::Xspf),
        Kind::M3u | Kind::Pls => line_spans(bytes, kind),
    };
    let mut out = Vec::with_capacity(bytes.len() + spans.len() * 32);
    let mut pos = 0;
    for (start, end, mime) in spans {
        out.extend_from_slice(&bytes[pos..start]);
        out.extend_from_slice(map(&bytes[start..end], mime.as_deref()).as_bytes());
        pos = end;
    }
    out.extend_from_slice(&bytes[pos..]);
    out
}

type Span = (usize, usize, Option<String>);

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Byte spans (start, end, declared MIME type) of the media locations in an XML document.
fn xml_spans(bytes: &[u8], xspf: bool) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(lt) = find(bytes, b"<", i) {
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            i = find(bytes, b"-->", lt).map_or(bytes.len(), |p| p + 3);
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            i = find(bytes, b"]]>", lt).map_or(bytes.len(), |p| p + 3);
            continue;
        }
        let Some(gt) = tag_end(bytes, lt) else { break };
        let tag = &bytes[lt + 1..gt];
        let name_len =
            tag.iter().position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>').unwrap_or(tag.len());
        let name = tag[..name_len].to_ascii_lowercase();
        let attr: Option<&[u8]> = match name.as_slice() {
            b"enclosure" | b"media:content" => Some(b"url"),
            b"podcast:source" => Some(b"uri"),
            b"link"
                if attr_value(tag, b"rel")
                    .is_some_and(|(s, e)| tag[s..e].eq_ignore_ascii_case(b"enclosure")) =>
            {
                Some(b"href")
            }
            _ => None,
        };
        if let Some((s, e)) = attr.and_then(|a| attr_value(tag, a)) {
            let mime =
                attr_value(tag, b"type").map(|(ts, te)| String::from_utf8_lossy(&tag[ts..te]).into_owned());
            spans.push((lt + 1 + s, lt + 1 + e, mime));
        } else if xspf && name == b"location" && !tag.ends_with(b"/") {
            let text_start = gt + 1;
            let text_end = find(bytes, b"<", text_start).unwrap_or(bytes.len());
            let text = &bytes[text_start..text_end];
            let lead = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let trail = text.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
            if lead + trail < text.len() {
                spans.push((text_start + lead, text_end - trail, None));
            }
        }
        i = gt + 1;
    }
    spans
}

/// Index of the `>` closing the tag opened at `lt`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], lt: usize) -> Option<usize> {
    let mut quote = None;
    for (k, &b) in bytes.iter().enumerate().skip(lt + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(k),
            None => {}
        }
    }
    None
}

/// Span (relative to `tag`) of the quoted value of attribute `name` (case-insensitive).
fn attr_value(tag: &[u8], name: &[u8]) -> Option<(usize, usize)> {
    let mut k = 0;
    while k + name.len() <= tag.len() {
        let boundary = k > 0 && tag[k - 1].is_ascii_whitespace();
        if boundary && tag[k..k + name.len()].eq_ignore_ascii_case(name) {
            let mut j = k + name.len();
            while j < tag.len() && tag[j].is_ascii_whitespace() {
                j += 1;
            }
            if tag.get(j) == Some(&b'=') {
                j += 1;
                while j < tag.len() && tag[j].is_ascii_whitespace() {
                    j += 1;
                }
                if let Some(&q @ (b'"' | b'\'')) = tag.get(j) {
                    let end = tag[j + 1..].iter().position(|b| *b == q)? + j + 1;
                    return Some((j + 1, end));
                }
            }
        }
        k += 1;
    }
    None
}

/// Spans of entry lines (M3U) or `FileN=` values (PLS), line endings excluded.
fn line_spans(bytes: &[u8], kind: Kind) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let nl = find(bytes, b"\n", start).unwrap_or(bytes.len());
        let mut end = nl;
        if end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &bytes[start..end];
        let lead = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let trail = line.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        let (s, e) = (start + lead, end - trail.min(line.len() - lead));
        let body = &bytes[s..e];
        match kind {
            Kind::M3u
                if !body.is_empty() && body[0] != b'#' && !(s == 0 && body.starts_with(b"\xEF\xBB\xBF#")) =>
            {
                spans.push((s, e, None));
            }
            Kind::Pls => {
                let is_file = body.len() > 4
                    && body[..4].eq_ignore_ascii_case(b"file")
                    && body[4..].iter().take_while(|b| b.is_ascii_digit()).count() > 0;
                if let Some(eq) = body.iter().position(|b| *b == b'=').filter(|_| is_file) {
                    if s + eq + 1 < e {
                        spans.push((s + eq + 1, e, None));
                    }
                }
            }
            _ => {}
        }
        start = nl + 1;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(bytes: &[u8], kind: Kind) -> String {
        String::from_utf8(rewrite(bytes, kind, |o, _| format!("[{}]", String::from_utf8_lossy(o)))).unwrap()
    }

    #[test]
    fn xml_locations() {
        let doc = br#"<item><enclosure length="1" url="http://a/x.mp3?a=1&amp;b=2" type="audio/mpeg"/>
<!-- <enclosure url="http://c/"/> --><media:content url='http://b/y.mp4'/><podcast:source uri="z"/>
<link rel="enclosure" href="h"/><link rel="alternate" href="no"/><enclosures url="no"/></item>"#;
        let out = mark(doc, Kind::Xml);
        assert!(out.contains(r#"url="[http://a/x.mp3?a=1&amp;b=2]""#), "{out}");
        assert!(out.contains(r#"<enclosure url="http://c/"/>"#));
        assert!(out.contains("url='[http://b/y.mp4]'"));
        assert!(out.contains(r#"uri="[z]""#) && out.contains(r#"href="[h]""#));
        assert!(out.contains(r#"href="no""#) && out.contains(r#"<enclosures url="no"/>"#));
    }

    #[test]
    fn playlists() {
        assert_eq!(
            mark(b"#EXTM3U\r\n#EXTINF:1,a\r\n a.mp3 \r\n\r\nb", Kind::M3u),
            "#EXTM3U\r\n#EXTINF:1,a\r\n [a.mp3] \r\n\r\n[b]"
        );
        assert_eq!(
            mark(b"[playlist]\nFile1=http://x\nTitle1=t\nfile2=y\n", Kind::Pls),
            "[playlist]\nFile1=[http://x]\nTitle1=t\nfile2=[y]\n"
        );
        assert_eq!(
            mark(b"<location> http://x y </location><location/>", Kind::Xspf),
            "<location> [http://x y] </location><location/>"
        );
    }

    #[test]
    fn extensions_and_encodings() {
        assert_eq!(ext_for("http://a/b/c.MP3?x=1", None), "mp3");
        assert_eq!(ext_for("http://ice.somafm.com/groovesalad", Some("audio/mp4")), "m4a");
        assert_eq!(ext_for("http://207.200.96.226:8000 extraparam=1", None), "mp3");
        assert!(!ascii_compatible(b"\xFF\xFE<\x00"));
        assert!(!ascii_compatible(b"\x00<\x00?"));
        assert!(ascii_compatible(b"\xEF\xBB\xBF<?xml"));
    }
}
