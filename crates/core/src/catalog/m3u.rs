//! M3U and extended M3U playlists (and non-HLS M3U8, which is M3U in UTF-8).
//!
//! Format: one location per line; `#` lines are comments except `#EXTINF:<secs>[ attrs],<title>`
//! (Winamp extended M3U; attributes such as `tvg-name="..."` may sit between the duration and
//! the comma) which describes the next location, and `#PLAYLIST:<title>`. Blank lines are
//! skipped. Locations are resolved against the playlist's own URL (RFC 3986 §5): in a remote
//! playlist (`http(s)://`) a root-relative `/dir/x.mp3` or relative `x.mp3` entry is a URL on
//! that host, and an entry is never turned into a local path (`file:` URLs and Windows drive
//! paths such as `C:\..` are dropped). In a local playlist (`file://`), absolute paths
//! (`/home/..`, `C:\..`) are local files and relative ones sit beside the playlist.
//!
//! HLS playlists (RFC 8216) are stream descriptions, not lists of downloadable media: any
//! `#EXT-X-` tag (`TARGETDURATION`, `STREAM-INF`, `MEDIA-SEQUENCE`, ...) makes the document
//! [`ParseError::Unsupported`].

use super::model::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};
use super::util::non_empty;
use super::ParseError;

/// Parses decoded M3U text; `base` is the playlist URL.
///
/// # Errors
/// [`ParseError::Unsupported`] for HLS stream playlists.
pub fn parse_m3u(text: &str, base: &url::Url) -> Result<ParsedPlaylist, ParseError> {
    let mut items = Vec::new();
    let mut pending: Option<(Option<u64>, Option<String>)> = None;
    let mut title = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        if let Some(tag) = line.strip_prefix("#EXT-X-") {
            let name = tag.split(':').next().unwrap_or(tag);
            return Err(ParseError::Unsupported(format!(
                "HLS stream playlist (#EXT-X-{name}), not a list of downloadable media"
            )));
        }
        if let Some(info) = line.strip_prefix("#EXTINF:") {
            pending = Some(parse_extinf(info));
        } else if let Some(t) = line.strip_prefix("#PLAYLIST:") {
            title = non_empty(t);
        } else if line.starts_with('#') {
            continue;
        } else if let Some(url) = location_url(line, base) {
            let (duration_secs, item_title) = pending.take().unwrap_or_default();
            items.push(ParsedItem {
                title: item_title,
                duration_secs,
                enclosure: Some(Enclosure { url, length: None, mime_type: None }),
                ..Default::default()
            });
        }
    }
    Ok(ParsedPlaylist { format: Some(PlaylistFormat::M3u), title, items, ..Default::default() })
}

/// `<secs>[ key="value" ...],<title>` -> (duration, title). Negative durations (`-1`, live
/// streams) are `None`.
fn parse_extinf(info: &str) -> (Option<u64>, Option<String>) {
    let mut in_quote = false;
    let comma = info.char_indices().find(|&(_, c)| {
        if c == '"' {
            in_quote = !in_quote;
        }
        c == ',' && !in_quote
    });
    let (head, title) = match comma {
        Some((i, _)) => (&info[..i], non_empty(&info[i + 1..])),
        None => (info, None),
    };
    let dur = head.split_whitespace().next().and_then(|d| d.parse::<f64>().ok());
    (dur.filter(|d| d.is_finite() && *d > 0.0).map(|d| d as u64), title)
}

/// Turns a playlist line into an absolute URL (see module docs); `None` for a line that is
/// no usable location.
pub(crate) fn location_url(line: &str, base: &url::Url) -> Option<String> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let local = base.scheme() == "file";
    let b = line.as_bytes();
    let windows_drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/');
    if windows_drive {
        let file = || url::Url::parse(&format!("file:///{}", line.replace('\\', "/"))).ok();
        return if local { file().map(|u| u.to_string()) } else { None };
    }
    if local && line.starts_with('/') && !line.starts_with("//") {
        let mut u = url::Url::parse("file:///").ok()?;
        u.set_path(line);
        return Some(u.to_string());
    }
    let url = url::Url::parse(line).or_else(|_| base.join(line)).ok()?;
    if !local && url.scheme() == "file" {
        return None;
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> url::Url {
        url::Url::parse("http://host.example/lists/a.m3u").unwrap()
    }

    #[test]
    fn extended_m3u() {
        let t = "#EXTM3U\r\n#PLAYLIST:Mix\n\t#EXTINF:-1,A, B\nhttp://x/1.mp3\n\n# c\n#EXTINF:12 tvg-name=\"a,b\",Song\nsub/2.ogg\n/home/u/3 x.mp3\nC:\\Music\\4.mp3\n";
        let p = parse_m3u(t, &url::Url::parse("file:///home/u/lists/a.m3u").unwrap()).unwrap();
        assert_eq!(p.title.as_deref(), Some("Mix"));
        let urls: Vec<_> = p.items.iter().map(|i| i.enclosure.as_ref().unwrap().url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://x/1.mp3",
                "file:///home/u/lists/sub/2.ogg",
                "file:///home/u/3%20x.mp3",
                "file:///C:/Music/4.mp3"
            ]
        );
        assert_eq!(p.items[0].title.as_deref(), Some("A, B"));
        assert_eq!(p.items[0].duration_secs, None);
        assert_eq!(p.items[1].duration_secs, Some(12));
        assert_eq!(p.items[1].title.as_deref(), Some("Song"));
        assert_eq!(p.items[2].title, None);
    }

    #[test]
    fn entries_of_a_remote_playlist_resolve_against_its_url_and_never_become_local_paths() {
        let t = "/media/1.mp3\n2.mp3\n../up/3.mp3\n//cdn.example/4.mp3\nhttps://other.example/5.mp3\n\
                 C:\\Music\\6.mp3\nfile:///etc/passwd\n?id=7\n";
        let p = parse_m3u(t, &base()).unwrap();
        let urls: Vec<_> = p.items.iter().map(|i| i.enclosure.as_ref().unwrap().url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://host.example/media/1.mp3",
                "http://host.example/lists/2.mp3",
                "http://host.example/up/3.mp3",
                "http://cdn.example/4.mp3",
                "https://other.example/5.mp3",
                "http://host.example/lists/a.m3u?id=7"
            ]
        );
    }

    #[test]
    fn hls_is_unsupported() {
        let t = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nseg1.ts\n";
        let err = parse_m3u(t, &base()).unwrap_err();
        assert!(matches!(err, ParseError::Unsupported(ref m) if m.starts_with("HLS stream playlist")));
    }

    #[test]
    fn empty_m3u_has_no_items() {
        assert!(parse_m3u("#EXTM3U\n", &base()).unwrap().items.is_empty());
    }
}
