//! Rendering of extended M3U playlists for the export stage: a pure function from a playlist
//! title and its entries to the text of a `.m3u` file, so the on-disk writer
//! ([`super::export_playlist`]) and its tests share one source of truth.
//!
//! Format source: there is no formal standard for local M3U playlists; this writes the de-facto
//! extended M3U (Winamp's `#EXTM3U` header, described in Wikipedia's "M3U" article) as the
//! project's own reader, [`crate::catalog::m3u::parse_m3u`], and common players (VLC, mpv,
//! foobar2000, Winamp, Rockbox) accept it. The `#EXTINF:<duration>,<title>` syntax follows
//! RFC 8216 §4.3.2.1 (integer seconds here), `-1` meaning "unknown" as in Winamp's files;
//! `#PLAYLIST:<title>` is the playlist-title directive listed by Wikipedia's "M3U" article.
//! Text is UTF-8 (what the `.m3u8` name promises and what modern players assume for `.m3u`
//! too) with `\n` line ends and a final `\n`, no byte-order mark.

/// One entry of an exported playlist: a downloaded file and what the player should show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct M3uEntry {
    /// Title shown by players. CR and LF are replaced by spaces when rendered (one line each).
    pub title: String,
    /// Duration in whole seconds; `None` is written as `-1` (unknown).
    pub duration_secs: Option<u64>,
    /// Location of the file relative to the folder of the `.m3u` file, with `/` separators
    /// (players on Linux, macOS and Windows all accept `/`). Written as is, not URL-encoded:
    /// local players read such lines as file paths, so `%20` would be taken literally. Readers
    /// that resolve lines as URL references instead (RFC 3986, e.g. this project's
    /// [`crate::catalog::m3u::parse_m3u`]) misread a `#` or `?` inside a name as a fragment or
    /// query; [`crate::download::sanitize_component`] already keeps `?` out of library names.
    pub path: String,
}

/// Renders an extended M3U document (format in the module docs):
///
/// ```text
/// #EXTM3U
/// #PLAYLIST:<playlist title>
/// #EXTINF:<seconds or -1>,<entry title>
/// <entry path>
/// ```
///
/// one `#EXTINF` + path pair per entry, in the order given. Titles have CR/LF replaced by a
/// space and are trimmed. Paths have CR/LF removed (a path cannot span lines); a path that
/// starts with `#` or whitespace gets a `./` prefix so readers do not take it for a comment
/// or trim it. Output is UTF-8 with `\n` line ends, ending with `\n`.
pub fn render_m3u(playlist_title: &str, entries: &[M3uEntry]) -> String {
    let mut out = String::with_capacity(32 + entries.len() * 96);
    out.push_str("#EXTM3U\n#PLAYLIST:");
    out.push_str(&one_line(playlist_title));
    out.push('\n');
    for entry in entries {
        let duration = entry.duration_secs.map_or_else(|| "-1".to_owned(), |d| d.to_string());
        out.push_str("#EXTINF:");
        out.push_str(&duration);
        out.push(',');
        out.push_str(&one_line(&entry.title));
        out.push('\n');
        out.push_str(&path_line(&entry.path));
        out.push('\n');
    }
    out
}

/// The `#PLAYLIST:` line [`render_m3u`] writes for `playlist_title`, without its `\n`. Used to
/// recognise a file this module wrote before removing it.
pub(crate) fn playlist_line(playlist_title: &str) -> String {
    format!("#PLAYLIST:{}", one_line(playlist_title))
}

/// A title on one line: CR and LF become spaces, then the ends are trimmed.
fn one_line(title: &str) -> String {
    title.replace(['\r', '\n'], " ").trim().to_owned()
}

/// A path on one line that no reader mistakes for a comment or trims.
fn path_line(path: &str) -> String {
    let path: String = path.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    if path.starts_with('#') || path.starts_with(char::is_whitespace) {
        format!("./{path}")
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, duration_secs: Option<u64>, path: &str) -> M3uEntry {
        M3uEntry { title: title.into(), duration_secs, path: path.into() }
    }

    #[test]
    fn renders_extended_m3u_exactly() {
        let text = render_m3u(
            "My Show",
            &[
                entry("Episode 1: Start, again", Some(3_725), "My Show/2024-01-01 Episode 1_ Start.mp3"),
                entry("Épisode 2 🎧", None, "My Show/Épisode 2 🎧.m4a"),
            ],
        );
        assert_eq!(
            text,
            "#EXTM3U\n\
             #PLAYLIST:My Show\n\
             #EXTINF:3725,Episode 1: Start, again\n\
             My Show/2024-01-01 Episode 1_ Start.mp3\n\
             #EXTINF:-1,Épisode 2 🎧\n\
             My Show/Épisode 2 🎧.m4a\n"
        );
    }

    #[test]
    fn empty_playlist_is_header_only() {
        assert_eq!(render_m3u("", &[]), "#EXTM3U\n#PLAYLIST:\n");
    }

    #[test]
    fn line_breaks_cannot_inject_lines() {
        let text = render_m3u(
            "Evil\r\n#EXTINF:1,x\nhttp://attacker/",
            &[entry("a\nhttp://attacker/x.mp3\r\nb", Some(0), "dir/f\n#x.mp3")],
        );
        assert_eq!(
            text,
            "#EXTM3U\n\
             #PLAYLIST:Evil  #EXTINF:1,x http://attacker/\n\
             #EXTINF:0,a http://attacker/x.mp3  b\n\
             dir/f#x.mp3\n"
        );
        assert_eq!(text.lines().count(), 4);
        assert!(!text.contains('\r'));
    }

    #[test]
    fn paths_that_look_like_comments_get_a_dot_slash() {
        let text = render_m3u("t", &[entry("t", None, "#1 Show/ep.mp3"), entry("t", None, " lead.mp3")]);
        let paths: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(paths, ["./#1 Show/ep.mp3", "./ lead.mp3"]);
    }

    #[test]
    fn playlist_line_matches_rendered_header() {
        let text = render_m3u("A\nB", &[]);
        assert_eq!(text.lines().nth(1), Some(playlist_line("A\nB").as_str()));
    }
}
