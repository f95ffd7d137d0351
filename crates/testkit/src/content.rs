//! What the server can serve: deterministic media and fixed byte bodies.
//!
//! Media bytes are a pure function of the URL path: the path is hashed (SHA-256, first 8
//! bytes as a little-endian `u64` seed) and byte `o` of the file is byte `o % 8` of
//! `splitmix64(seed + (o / 8 + 1) * GAMMA)`. Because splitmix64 is counter based, any offset
//! can be produced without generating what precedes it, so ranges and streaming are cheap and
//! nothing is buffered whole. Fixed bodies (feeds, playlists, OPML) are kept as [`Bytes`].

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use url::Url;

/// Size of the chunks a response body is generated and sent in, in bytes.
pub(crate) const CHUNK: usize = 16 * 1024;

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One registered media file as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    /// Absolute loopback URL of the file.
    pub url: Url,
    /// Length of the body, in bytes.
    pub size: u64,
    /// SHA-256 of the full body, lower-case hex (64 characters).
    pub sha256_hex: String,
}

/// The body behind one path.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Deterministic bytes from a splitmix64 stream seeded by `seed`; `size` bytes long.
    Generated { seed: u64, size: u64 },
    /// Fixed bytes served as-is.
    Fixed(Bytes),
}

/// A registered path: its body plus the validators and type sent with it.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub source: Source,
    pub content_type: String,
    pub sha256_hex: String,
    /// `Last-Modified`, an HTTP-date (RFC 9110 §8.8.2); set when the path is registered.
    pub last_modified: String,
}

impl Resource {
    /// Builds a generated media resource for `path` of `size` bytes (hashes it once).
    pub fn media(path: &str, size: u64) -> Self {
        let source = Source::Generated { seed: seed_for(path), size };
        let sha256_hex = source.sha256_hex();
        Resource {
            source,
            content_type: guess_content_type(path).to_owned(),
            sha256_hex,
            last_modified: http_date(0),
        }
    }

    /// Builds a fixed resource from bytes and a content type.
    pub fn fixed(body: Bytes, content_type: &str) -> Self {
        let sha256_hex = hex::encode(Sha256::digest(&body));
        Resource {
            source: Source::Fixed(body),
            content_type: content_type.to_owned(),
            sha256_hex,
            last_modified: http_date(0),
        }
    }

    /// Whether a conditional GET's validators (RFC 9110 §13.1.2, §13.1.3) say the client's copy
    /// is current: `If-None-Match` lists this `ETag` (weak comparison) or `*`; without it,
    /// `If-Modified-Since` is not older than `Last-Modified`.
    pub fn not_modified(&self, if_none_match: Option<&str>, if_modified_since: Option<&str>) -> bool {
        if let Some(inm) = if_none_match {
            let etag = self.etag();
            return inm.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag);
        }
        let (Some(ims), Ok(lm)) = (if_modified_since, httpdate::parse_http_date(&self.last_modified)) else {
            return false;
        };
        httpdate::parse_http_date(ims).is_ok_and(|ims| lm <= ims)
    }

    /// Length of the full body, in bytes.
    pub fn len(&self) -> u64 {
        self.source.len()
    }

    /// Strong entity tag (quoted) built from the body hash and length.
    pub fn etag(&self) -> String {
        format!("\"{}-{:x}\"", &self.sha256_hex[..16], self.len())
    }
}

impl Source {
    /// Length of the full body, in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Source::Generated { size, .. } => *size,
            Source::Fixed(b) => b.len() as u64,
        }
    }

    /// Bytes `[start, end)` of the body; `end` is clamped to the length.
    pub fn slice(&self, start: u64, end: u64) -> Bytes {
        let end = end.min(self.len());
        if start >= end {
            return Bytes::new();
        }
        match self {
            Source::Fixed(b) => b.slice(start as usize..end as usize),
            Source::Generated { seed, .. } => generate(*seed, start, end),
        }
    }

    /// SHA-256 of the full body, lower-case hex; generated bodies are hashed chunk by chunk.
    pub fn sha256_hex(&self) -> String {
        let mut hasher = Sha256::new();
        let mut pos = 0;
        let step = 256 * 1024;
        while pos < self.len() {
            let end = (pos + step).min(self.len());
            hasher.update(self.slice(pos, end));
            pos = end;
        }
        hex::encode(hasher.finalize())
    }
}

/// The `Last-Modified` of the `n`-th registration of a server: 2024-01-01T00:00:00Z plus `n`
/// seconds, so a replaced body always looks newer and runs are reproducible.
pub(crate) fn http_date(n: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_067_200 + n);
    httpdate::fmt_http_date(t)
}

/// Seed of the deterministic stream for a URL path: first 8 bytes of SHA-256(path), LE.
pub(crate) fn seed_for(path: &str) -> u64 {
    let d = Sha256::digest(path.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Generates bytes `[start, end)` of the stream seeded by `seed`.
fn generate(seed: u64, start: u64, end: u64) -> Bytes {
    let len = (end - start) as usize;
    let mut out = BytesMut::with_capacity(len + 16);
    let first_block = start / 8;
    let last_block = (end - 1) / 8;
    for k in first_block..=last_block {
        let word = splitmix64(seed.wrapping_add((k + 1).wrapping_mul(GAMMA)));
        out.extend_from_slice(&word.to_le_bytes());
    }
    let skip = (start % 8) as usize;
    out.split_off(skip).split_to(len).freeze()
}

/// `Content-Type` for a path, guessed from its extension; `application/octet-stream` otherwise.
pub fn guess_content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "mp3" => "audio/mpeg",
        "m4a" | "m4b" => "audio/mp4",
        "aac" => "audio/aac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "ts" => "video/mp2t",
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "xml" | "rss" => "application/rss+xml",
        "atom" => "application/atom+xml",
        "opml" => "text/x-opml",
        "m3u" => "audio/x-mpegurl",
        "m3u8" => "application/vnd.apple.mpegurl",
        "pls" => "audio/x-scpls",
        "xspf" => "application/xspf+xml",
        "json" => "application/json",
        "txt" | "vtt" | "srt" => "text/plain",
        "html" | "htm" => "text/html",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_agree_with_whole() {
        let s = Source::Generated { seed: seed_for("/a/1.mp3"), size: 1000 };
        let whole = s.slice(0, 1000);
        assert_eq!(whole.len(), 1000);
        for (a, b) in [(0, 1), (3, 17), (8, 16), (999, 1000), (5, 2000)] {
            assert_eq!(s.slice(a, b), whole.slice(a as usize..(b.min(1000)) as usize));
        }
    }

    #[test]
    fn hash_matches_digest_of_whole() {
        let s = Source::Generated { seed: 7, size: 700_000 };
        assert_eq!(s.sha256_hex(), hex::encode(Sha256::digest(s.slice(0, 700_000))));
    }

    #[test]
    fn content_types() {
        assert_eq!(guess_content_type("/x/1.MP3"), "audio/mpeg");
        assert_eq!(guess_content_type("/x/noext"), "application/octet-stream");
    }
}
