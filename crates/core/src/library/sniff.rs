//! What an image really is, by its first bytes, never by the `Content-Type` a server sends
//! or the URL's extension: the image type pattern matching algorithm of the WHATWG MIME
//! Sniffing Standard (<https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern>),
//! narrowed to the raster formats every WebView and tag format shows: JPEG, PNG, GIF and WebP.
//! Everything else is refused, SVG included: an SVG document can carry script. [`describe`]
//! names what refused bytes look like, for the error text.

/// A raster image format the art cache accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageKind {
    /// JPEG (JFIF/Exif): starts `FF D8 FF`.
    Jpeg,
    /// PNG: starts `89 50 4E 47 0D 0A 1A 0A` (RFC 2083 §3.1).
    Png,
    /// GIF: starts `GIF87a` or `GIF89a`.
    Gif,
    /// WebP: `RIFF`, 4 length bytes, then `WEBPVP` (the RIFF header of RFC 9649).
    Webp,
}

impl ImageKind {
    /// Every accepted kind.
    pub const ALL: [ImageKind; 4] = [ImageKind::Jpeg, ImageKind::Png, ImageKind::Gif, ImageKind::Webp];

    /// The MIME type, e.g. `image/jpeg`.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Gif => "image/gif",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The file extension the cache stores it under, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Gif => "gif",
            ImageKind::Webp => "webp",
        }
    }
}

/// The kind of image `bytes` holds, from its signature; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if bytes.len() >= 14 && bytes.starts_with(b"RIFF") && &bytes[8..14] == b"WEBPVP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// What bytes that are no accepted image look like, in words: `an empty body`, `an HTML
/// page`, `an SVG document`, `an XML document`, `a BMP image`, `an ICO image`, `text` or
/// `unknown bytes`.
pub fn describe(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).trim_start_matches('\u{feff}').trim_start().to_ascii_lowercase();
    if bytes.is_empty() {
        "an empty body"
    } else if text.contains("<svg") {
        "an SVG document"
    } else if text.starts_with("<!doctype html") || text.starts_with("<html") || text.contains("<body") {
        "an HTML page"
    } else if text.starts_with("<?xml") || text.starts_with('<') {
        "an XML document"
    } else if bytes.starts_with(b"BM") {
        "a BMP image"
    } else if bytes.starts_with(b"\x00\x00\x01\x00") {
        "an ICO image"
    } else if std::str::from_utf8(head).is_ok() {
        "text"
    } else {
        "unknown bytes"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let cases: [(&[u8], Option<ImageKind>); 9] = [
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some(ImageKind::Jpeg)),
            (b"\x89PNG\r\n\x1a\n\x00\x00", Some(ImageKind::Png)),
            (b"GIF89a\x01\x00", Some(ImageKind::Gif)),
            (b"GIF87a", Some(ImageKind::Gif)),
            (b"RIFF\x1a\x00\x00\x00WEBPVP8 ", Some(ImageKind::Webp)),
            (b"RIFF\x1a\x00\x00\x00WAVEfmt ", None),
            (b"\x89PNG\r\n", None),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", None),
            (b"", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff(bytes), want, "{bytes:?}");
        }
    }

    #[test]
    fn refused_bytes_are_named() {
        assert_eq!(describe(b"<!DOCTYPE html><html><body>404</body></html>"), "an HTML page");
        assert_eq!(describe(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><svg/>"), "an SVG document");
        assert_eq!(describe(b"  <svg onload=\"alert(1)\"/>"), "an SVG document");
        assert_eq!(describe(b"<?xml version=\"1.0\"?><rss/>"), "an XML document");
        assert_eq!(describe(b"BM\x00\x01"), "a BMP image");
        assert_eq!(describe(b""), "an empty body");
        assert_eq!(describe(b"Not Found"), "text");
        assert_eq!(describe(b"\x00\xFF\xFE\x01"), "unknown bytes");
    }
}
