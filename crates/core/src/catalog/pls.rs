//! PLS playlists (the Winamp/SHOUTcast `[playlist]` INI form:
//! <https://en.wikipedia.org/wiki/PLS_(file_format)>).
//!
//! Keys `FileN`, `TitleN`, `LengthN` (seconds, `-1` = stream) are matched case-insensitively;
//! entries are ordered by N, gaps are fine, `NumberOfEntries`/`Version` are not needed, `#`
//! and `;` lines are comments. An N without `FileN` is dropped. Locations are resolved like
//! M3U lines ([`super::m3u`]).

use super::m3u::location_url;
use super::model::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};
use super::util::non_empty;
use super::ParseError;
use std::collections::BTreeMap;

/// Parses decoded PLS text; `base` is the playlist URL. Never fails on content: unknown
/// lines are ignored (the `Result` keeps the parser signatures uniform).
pub fn parse_pls(text: &str, base: &url::Url) -> Result<ParsedPlaylist, ParseError> {
    #[derive(Default)]
    struct Entry {
        file: Option<String>,
        title: Option<String>,
        length: Option<u64>,
    }
    let mut entries: BTreeMap<u32, Entry> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.starts_with('[') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim().to_ascii_lowercase();
        let split = key.find(|c: char| c.is_ascii_digit()).unwrap_or(key.len());
        let (name, num) = key.split_at(split);
        let Ok(n) = num.parse::<u32>() else { continue };
        let e = entries.entry(n).or_default();
        match name {
            "file" => e.file = location_url(value, base),
            "title" => e.title = non_empty(value),
            "length" => e.length = value.trim().parse::<i64>().ok().filter(|l| *l > 0).map(|l| l as u64),
            _ => {}
        }
    }
    let items = entries
        .into_values()
        .filter_map(|e| {
            Some(ParsedItem {
                title: e.title,
                duration_secs: e.length,
                enclosure: Some(Enclosure { url: e.file?, length: None, mime_type: None }),
                ..Default::default()
            })
        })
        .collect();
    Ok(ParsedPlaylist { format: Some(PlaylistFormat::Pls), items, ..Default::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_case_and_lengths() {
        let t = "[playlist]\nnumberofentries=3\nFile2=http://b/\nTITLE2=B\nLength2=-1\n; c\nfile1=a.mp3\nlength1=30\nTitle7=orphan\n";
        let base = url::Url::parse("http://h/x.pls").unwrap();
        let p = parse_pls(t, &base).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].enclosure.as_ref().unwrap().url, "http://h/a.mp3");
        assert_eq!(p.items[0].duration_secs, Some(30));
        assert_eq!(p.items[1].title.as_deref(), Some("B"));
        assert_eq!(p.items[1].duration_secs, None);
    }
}
