//! Checks of candidates before and after their bytes move.
//!
//! Before: [`probe`] asks the server with `HEAD`, and when that is refused or fails with a
//! `GET` carrying `Range: bytes=0-0` (RFC 9110 §14.1.2; many CDNs and signed URLs refuse
//! HEAD). The answer must be 2xx, with a media `Content-Type` ([`is_media_type`]; a missing or
//! generic type passes when the URL has a media file extension), not empty, and of the
//! candidate's exact length when it has one (from `Content-Length`, or the total of a 206's
//! `Content-Range`).
//!
//! After: [`Integrity`] holds a `podcast:integrity` value of type `sri` (Subresource
//! Integrity, <https://www.w3.org/TR/SRI/>: space-separated `sha256-`/`sha384-`/`sha512-`
//! base64 digests; the strongest algorithm present decides) and checks a downloaded file.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use sha2::Digest;

use super::{Candidate, Fetch};

/// Bound on one probe request (connect + headers).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether a `Content-Type` names media. `url_path` decides for missing or generic types
/// (`application/octet-stream`, `binary/octet-stream`): it must end in a media extension.
pub fn is_media_type(content_type: Option<&str>, url_path: &str) -> bool {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if essence.starts_with("audio/") || essence.starts_with("video/") {
        return !essence.contains("mpegurl"); // an HLS playlist is not a file
    }
    match essence.as_str() {
        "application/ogg" | "application/mp4" | "application/x-matroska" => true,
        ""
        | "application/octet-stream"
        | "binary/octet-stream"
        | "application/x-download"
        | "application/force-download" => has_media_extension(url_path),
        _ => false,
    }
}

/// Whether a `Content-Type` names a document rather than media: `text/*`, JSON, XML (feeds,
/// XHTML). Used on the bytes a transfer received, where a missing type is not held against
/// the file.
pub fn is_document_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("/json")
        || essence.ends_with("+json")
        || essence.ends_with("/xml")
        || essence.ends_with("+xml")
}

/// Whether the last path segment ends in a common audio or video extension.
pub fn has_media_extension(url_path: &str) -> bool {
    const EXT: &[&str] = &[
        "mp3", "m4a", "m4b", "mp4", "m4v", "aac", "ogg", "oga", "opus", "flac", "wav", "webm", "mkv", "mov",
        "wma", "spx",
    ];
    let (_, ext) = crate::download::media_ext::split_ext(url_path);
    ext.strip_prefix('.').is_some_and(|ext| EXT.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Checks that `candidate` answers with media (module docs). yt-dlp candidates pass: yt-dlp
/// already resolved them. Errors: the reason it is rejected, e.g. `HTTP 404`,
/// `not media: text/html`, `length 10 bytes, expected 2000`.
pub async fn probe(client: &reqwest::Client, candidate: &Candidate) -> Result<(), String> {
    if candidate.fetch != Fetch::Http {
        return Ok(());
    }
    let url = &candidate.url;
    let head = tokio::time::timeout(PROBE_TIMEOUT, client.head(url.clone()).send()).await;
    let resp = match head {
        Ok(Ok(r)) if r.status().is_success() => r,
        Ok(Ok(r)) if matches!(r.status().as_u16(), 404 | 410) => {
            return Err(format!("HTTP {}", r.status().as_u16()))
        }
        _ => {
            let get = client
                .get(url.clone())
                .header(RANGE, "bytes=0-0")
                .header(reqwest::header::ACCEPT_ENCODING, "identity")
                .send();
            match tokio::time::timeout(PROBE_TIMEOUT, get).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return Err(format!("request failed: {e}")),
                Err(_) => return Err(format!("no answer within {PROBE_TIMEOUT:?}")),
            }
        }
    };
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("HTTP {}", status.as_u16()));
    }
    let headers = resp.headers();
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !is_media_type(content_type, resp.url().path()) {
        return Err(format!("not media: {}", content_type.unwrap_or("no Content-Type")));
    }
    let total = if status.as_u16() == 206 {
        headers
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|t| t.trim().parse::<u64>().ok())
    } else {
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok())
    };
    match (total, candidate.length) {
        (Some(0), _) => Err("empty body".into()),
        (Some(got), Some(expected)) if got != expected => {
            Err(format!("length {got} bytes, expected {expected}"))
        }
        _ => Ok(()),
    }
}

/// SRI hash algorithms, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// A `podcast:integrity` SRI value: the digests of the strongest algorithm present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrity {
    /// The algorithm.
    pub alg: HashAlg,
    /// Accepted digests (raw bytes); one must match.
    pub digests: Vec<Vec<u8>>,
}

impl Integrity {
    /// Parses the catalog's `"<type>:<value>"` form (`sri:sha384-...`); `None` for other
    /// types (`pgp-signature`) or when no digest can be read.
    pub fn parse(stored: &str) -> Option<Integrity> {
        let value = stored.strip_prefix("sri:")?;
        let mut all: Vec<(HashAlg, Vec<u8>)> = Vec::new();
        for token in value.split_whitespace() {
            let (alg, b64) = token.split_once('-')?;
            let alg = match alg.to_ascii_lowercase().as_str() {
                "sha256" => HashAlg::Sha256,
                "sha384" => HashAlg::Sha384,
                "sha512" => HashAlg::Sha512,
                _ => continue,
            };
            let b64 = b64.split('?').next().unwrap_or(""); // SRI options follow a `?`
            if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b64) {
                all.push((alg, d));
            }
        }
        let alg = all.iter().map(|(a, _)| *a).max()?;
        Some(Integrity { alg, digests: all.into_iter().filter(|(a, _)| *a == alg).map(|(_, d)| d).collect() })
    }

    /// Checks the file at `path` (whose sha256 the transfer computed: `sha256_hex`).
    /// Errors: `integrity mismatch (sha384)` or a read error.
    pub async fn verify_file(&self, path: &Path, sha256_hex: &str) -> Result<(), String> {
        let digest = if self.alg == HashAlg::Sha256 {
            hex::decode(sha256_hex).map_err(|e| format!("bad sha256: {e}"))?
        } else {
            let (alg, path) = (self.alg, path.to_path_buf());
            tokio::task::spawn_blocking(move || hash_file(alg, &path))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("cannot read the file: {e}"))?
        };
        if self.digests.contains(&digest) {
            Ok(())
        } else {
            Err(format!(
                "integrity mismatch ({})",
                match self.alg {
                    HashAlg::Sha256 => "sha256",
                    HashAlg::Sha384 => "sha384",
                    HashAlg::Sha512 => "sha512",
                }
            ))
        }
    }
}

/// Hashes a file with `alg`, streaming. Errors: the file's I/O error.
pub fn hash_file(alg: HashAlg, path: &Path) -> std::io::Result<Vec<u8>> {
    Ok(match alg {
        HashAlg::Sha256 => digest_file::<sha2::Sha256>(path)?.1,
        HashAlg::Sha384 => digest_file::<sha2::Sha384>(path)?.1,
        HashAlg::Sha512 => digest_file::<sha2::Sha512>(path)?.1,
    })
}

/// A file's size (bytes) and SHA-256 (lowercase hex), streaming: what a file row records.
/// Errors: the file's I/O error.
pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    digest_file::<sha2::Sha256>(path).map(|(size, hash)| (size, hex::encode(hash)))
}

/// The one streaming hash loop: size in bytes and digest of the file at `path`.
fn digest_file<D: Digest>(path: &Path) -> std::io::Result<(u64, Vec<u8>)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let (mut hasher, mut size, mut buf) = (D::new(), 0u64, vec![0u8; 64 * 1024]);
    loop {
        match f.read(&mut buf)? {
            0 => return Ok((size, hasher.finalize().to_vec())),
            n => {
                hasher.update(&buf[..n]);
                size += n as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_cases() {
        let cases: &[(Option<&str>, &str, bool)] = &[
            (Some("audio/mpeg"), "/a", true),
            (Some("video/mp4; codecs=avc1"), "/a", true),
            (Some("application/ogg"), "/a", true),
            (Some("audio/x-mpegurl"), "/a.m3u8", false),
            (Some("text/html; charset=utf-8"), "/ep.mp3", false),
            (Some("application/octet-stream"), "/ep.mp3", true),
            (Some("application/octet-stream"), "/download", false),
            (None, "/files/ep.M4A", true),
            (None, "/files/ep", false),
            (Some("application/json"), "/ep.mp3", false),
        ];
        for (ct, path, expected) in cases {
            assert_eq!(is_media_type(*ct, path), *expected, "{ct:?} {path}");
        }
    }

    #[test]
    fn integrity_cases() {
        let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let data = b"episode bytes";
        let s256 = sha2::Sha256::digest(data).to_vec();
        let s384 = sha2::Sha384::digest(data).to_vec();
        let s512 = sha2::Sha512::digest(data).to_vec();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ep.mp3");
        std::fs::write(&file, data).unwrap();
        let hex256 = hex::encode(&s256);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        // (stored value, parsed algorithm, verifies)
        let cases: Vec<(String, Option<HashAlg>, bool)> = vec![
            (format!("sri:sha256-{}", b64(&s256)), Some(HashAlg::Sha256), true),
            (format!("sri:sha384-{}", b64(&s384)), Some(HashAlg::Sha384), true),
            (format!("sri:sha512-{}", b64(&s512)), Some(HashAlg::Sha512), true),
            (format!("sri:sha256-{} sha512-{}", b64(&s256), b64(&s512)), Some(HashAlg::Sha512), true),
            // the strongest algorithm decides: a wrong sha512 fails even with a right sha256
            (format!("sri:sha256-{} sha512-{}", b64(&s256), b64(&[0u8; 64])), Some(HashAlg::Sha512), false),
            (format!("sri:sha384-{}", b64(&[1u8; 48])), Some(HashAlg::Sha384), false),
            ("pgp-signature:abc".into(), None, false),
            ("sri:md5-abc".into(), None, false),
        ];
        for (stored, alg, ok) in cases {
            let parsed = Integrity::parse(&stored);
            assert_eq!(parsed.as_ref().map(|i| i.alg), alg, "{stored}");
            if let Some(i) = parsed {
                assert_eq!(rt.block_on(i.verify_file(&file, &hex256)).is_ok(), ok, "{stored}");
            }
        }
    }
}
