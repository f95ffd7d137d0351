//! The file extension of an enclosure: taken from the URL path when it looks like a media
//! extension, else mapped from the MIME type (IANA media types as podcast feeds declare them
//! in `<enclosure type=...>`), else `bin`. Used by the `{ext}` naming placeholder.

/// The file extension (lowercase, no dot) for an enclosure: from the last segment of the URL
/// path when it looks like a media extension (1-5 ASCII alphanumerics, not a script suffix
/// such as `php`), else from the MIME type (parameters ignored), else `bin`.
pub fn extension_for(url: Option<&str>, mime: Option<&str>) -> String {
    url.and_then(ext_from_url).or_else(|| mime.and_then(ext_from_mime)).unwrap_or("bin".into())
}

/// Longest extension [`split_ext`] keeps, in bytes.
const MAX_EXT_BYTES: usize = 16;

/// Splits a file name or `/`-separated relative path into stem and extension (with its dot)
/// when the last component's extension is short ASCII alphanumeric (at most 16 bytes);
/// otherwise the extension is empty. Folders never give an extension, nor does a dotfile:
/// `Show.fm/Ep` and `a/.hidden` have none. The one extension splitter of the crate.
pub fn split_ext(name: &str) -> (&str, &str) {
    let start = name.rfind('/').map_or(0, |i| i + 1);
    match name[start..].rfind('.').map(|i| start + i) {
        Some(i)
            if i > start
                && name.len() - i - 1 <= MAX_EXT_BYTES
                && name.len() - i > 1
                && name[i + 1..].bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            name.split_at(i)
        }
        _ => (name, ""),
    }
}

fn ext_from_url(raw: &str) -> Option<String> {
    let path = match url::Url::parse(raw) {
        Ok(u) => u.path().to_owned(),
        Err(_) => raw.split(['?', '#']).next().unwrap_or("").to_owned(),
    };
    let ext = split_ext(&path).1.strip_prefix('.')?.to_ascii_lowercase();
    let media_like = (1..=5).contains(&ext.len());
    const NOT_MEDIA: &[&str] = &["php", "asp", "aspx", "cgi", "jsp", "html", "htm", "pl", "py"];
    (media_like && !NOT_MEDIA.contains(&ext.as_str())).then_some(ext)
}

fn ext_from_mime(mime: &str) -> Option<String> {
    let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
    let ext = match essence.as_str() {
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg" => "mp3",
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
        "audio/x-m4b" => "m4b",
        "video/mp4" => "mp4",
        "video/x-m4v" => "m4v",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "audio/webm" => "weba",
        "audio/ogg" | "audio/vorbis" => "ogg",
        "audio/opus" => "opus",
        "audio/aac" | "audio/x-aac" | "audio/aacp" => "aac",
        "audio/flac" | "audio/x-flac" => "flac",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "video/ogg" => "ogv",
        "application/pdf" => "pdf",
        _ => return None,
    };
    Some(ext.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_derivation_table() {
        let cases: &[(Option<&str>, Option<&str>, &str)] = &[
            (Some("https://a.example/x/ep.mp3"), None, "mp3"),
            (Some("https://a.example/x/EP.M4A?token=1#t"), Some("audio/mpeg"), "m4a"),
            (Some("https://a.example/x/ep"), Some("audio/mpeg"), "mp3"),
            (Some("https://a.example/dl.php?id=3"), Some("audio/mp4"), "m4a"),
            (Some("https://a.example/x/ep"), Some("audio/x-m4a"), "m4a"),
            (Some("https://a.example/"), Some("video/mp4"), "mp4"),
            (None, Some("audio/ogg; codecs=vorbis"), "ogg"),
            (None, Some("audio/opus"), "opus"),
            (None, Some("AUDIO/AAC"), "aac"),
            (None, Some("application/octet-stream"), "bin"),
            (Some("https://a.example/.hidden"), None, "bin"),
            (Some("https://a.example/x.verylongext"), None, "bin"),
            (Some("not a url/ep.ogg?x"), None, "ogg"),
            (None, None, "bin"),
        ];
        for (url, mime, want) in cases {
            assert_eq!(extension_for(*url, *mime), *want, "{url:?} {mime:?}");
        }
    }

    #[test]
    fn split_ext_keeps_folders_and_dotfiles() {
        assert_eq!(split_ext("Show/2024-01-01 Ep.mp3"), ("Show/2024-01-01 Ep", ".mp3"));
        assert_eq!(split_ext("Show.fm/Ep"), ("Show.fm/Ep", ""));
        assert_eq!(split_ext("a/.hidden"), ("a/.hidden", ""));
    }
}
