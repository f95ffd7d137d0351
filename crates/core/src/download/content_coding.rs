//! Media sent with a `Content-Encoding` although we asked for `identity`.
//!
//! Some hosts and CDNs compress every response, media included, whatever `Accept-Encoding`
//! says. The encoded bytes are then the representation (RFC 9110 §8.4): `Content-Length`,
//! `Range` and `Content-Range` count encoded bytes. So a transfer keeps the *encoded* bytes in
//! its `.part` (a resume asks for a range of the encoded representation, as it must) and decodes
//! the complete part into the final file. The coding is recorded in the part's sidecar beside
//! its validator ([`PartMeta`]); a resume whose response has another coding restarts from 0,
//! since the bytes would not belong to the same representation.
//!
//! Decoded: `gzip` and `x-gzip` (RFC 1952), `deflate` (the zlib format, RFC 9110 §8.4.1.2; raw
//! deflate as some servers send it is accepted too) and `br` (RFC 7932), with the flate2 and
//! brotli crates. Any other coding (`compress`, `zstd`, several codings stacked) fails the
//! attempt with [`TransferError::UnsupportedEncoding`].

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use reqwest::header::{HeaderMap, CONTENT_ENCODING};
use sha2::{Digest, Sha256};

use super::error::TransferError;

/// A content coding we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip` / `x-gzip`.
    Gzip,
    /// `deflate` (zlib-wrapped; raw deflate accepted).
    Deflate,
    /// `br`.
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }

    fn from_token(token: &str) -> Option<Coding> {
        match token.to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            _ => None,
        }
    }
}

/// The coding of a response: `Ok(None)` for none or `identity`, `Ok(Some(_))` for one coding
/// we decode. Errors: [`TransferError::UnsupportedEncoding`] for anything else.
pub fn coding_of(headers: &HeaderMap) -> Result<Option<Coding>, TransferError> {
    let mut tokens = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let value = value.to_str().unwrap_or("?");
        tokens.extend(
            value.split(',').map(str::trim).filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("identity")),
        );
    }
    match tokens.as_slice() {
        [] => Ok(None),
        [one] => Coding::from_token(one)
            .map(Some)
            .ok_or_else(|| TransferError::UnsupportedEncoding(one.to_string())),
        many => Err(TransferError::UnsupportedEncoding(many.join(", "))),
    }
}

/// What the sidecar `<part>.validator` records about the bytes in a part: the validator sent
/// as `If-Range` on a resume (a strong `ETag`, else `Last-Modified`) and the content coding of
/// those bytes. Stored as text: the validator on the first line (may be empty), then
/// `coding=<token>` when the part holds encoded bytes. A one-line file (older parts) is a
/// validator with no coding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartMeta {
    /// The `If-Range` validator, if the response had one.
    pub validator: Option<String>,
    /// The coding of the part's bytes, if they are encoded.
    pub coding: Option<Coding>,
}

impl PartMeta {
    /// Reads the sidecar at `path`; a missing or unreadable one means "nothing known".
    pub async fn read(path: &Path) -> PartMeta {
        match tokio::fs::read_to_string(path).await {
            Ok(text) => PartMeta::parse(&text),
            Err(_) => PartMeta::default(),
        }
    }

    /// [`PartMeta::read`] on the calling (blocking) thread.
    pub fn read_blocking(path: &Path) -> PartMeta {
        std::fs::read_to_string(path).map(|t| PartMeta::parse(&t)).unwrap_or_default()
    }

    fn parse(text: &str) -> PartMeta {
        let mut lines = text.lines();
        let validator = lines.next().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let coding = lines.find_map(|l| l.trim().strip_prefix("coding=")).and_then(Coding::from_token);
        PartMeta { validator, coding }
    }

    /// Writes the sidecar at `path`, or removes it when there is nothing to record; on the
    /// calling (blocking) thread.
    pub fn write_blocking(&self, path: &Path) -> std::io::Result<()> {
        if self.validator.is_none() && self.coding.is_none() {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let mut text = self.validator.clone().unwrap_or_default();
        if let Some(coding) = self.coding {
            text.push_str("\ncoding=");
            text.push_str(coding.token());
        }
        std::fs::write(path, text)
    }
}

/// Decodes the complete part `encoded` (in `coding`) into `out`, fsynced; returns the decoded
/// size in bytes and the sha256 of the decoded bytes. Runs on a blocking thread. Errors: a body
/// that does not decode is [`TransferError::Undecodable`] (the caller deletes the part); local
/// I/O is [`TransferError::Io`].
pub async fn decode_file(
    encoded: PathBuf,
    coding: Coding,
    out: PathBuf,
) -> Result<(u64, Sha256), TransferError> {
    tokio::task::spawn_blocking(move || decode_blocking(&encoded, coding, &out)).await.map_err(|e| {
        TransferError::Io { op: "decode", path: PathBuf::new(), source: std::io::Error::other(e) }
    })?
}

fn decode_blocking(encoded: &Path, coding: Coding, out: &Path) -> Result<(u64, Sha256), TransferError> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| TransferError::Io { op, path, source }
    };
    let input = BufReader::new(std::fs::File::open(encoded).map_err(io("open", encoded))?);
    let mut reader: Box<dyn Read> = match coding {
        Coding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Coding::Deflate if looks_like_zlib(encoded).map_err(io("read", encoded))? => {
            Box::new(flate2::read::ZlibDecoder::new(input))
        }
        Coding::Deflate => Box::new(flate2::read::DeflateDecoder::new(input)),
        Coding::Brotli => Box::new(brotli::Decompressor::new(input, 64 * 1024)),
    };
    let mut file = std::fs::File::create(out).map_err(io("create", out))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(out);
                return Err(TransferError::Undecodable { coding: coding.token(), reason: e.to_string() });
            }
        };
        file.write_all(&buf[..n]).map_err(io("write", out))?;
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    file.sync_all().map_err(io("fsync", out))?;
    Ok((size, hasher))
}

/// A zlib stream starts with a CMF/FLG pair whose 16-bit value is a multiple of 31 and whose
/// method is 8 (RFC 1950 §2.2); raw deflate data almost never does.
fn looks_like_zlib(path: &Path) -> std::io::Result<bool> {
    let mut head = [0u8; 2];
    let mut f = std::fs::File::open(path)?;
    if f.read(&mut head)? < 2 {
        return Ok(false);
    }
    Ok(head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// `Content-Encoding` header values, and the coding or the unsupported token expected.
    type Case = (&'static [&'static str], Result<Option<Coding>, &'static str>);

    #[test]
    fn codings_of_responses() {
        let cases: &[Case] = &[
            (&[], Ok(None)),
            (&["identity"], Ok(None)),
            (&["gzip"], Ok(Some(Coding::Gzip))),
            (&["X-GZIP"], Ok(Some(Coding::Gzip))),
            (&["deflate"], Ok(Some(Coding::Deflate))),
            (&["br"], Ok(Some(Coding::Brotli))),
            (&["identity, br"], Ok(Some(Coding::Brotli))),
            (&["zstd"], Err("zstd")),
            (&["gzip", "br"], Err("gzip, br")),
        ];
        for (values, want) in cases {
            let got = coding_of(&headers(values));
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, *w, "{values:?}"),
                (Err(TransferError::UnsupportedEncoding(g)), Err(w)) => assert_eq!(g, *w),
                (g, w) => panic!("{values:?}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[tokio::test]
    async fn part_meta_round_trips_and_reads_old_one_line_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.part.validator");
        let meta = PartMeta { validator: Some("\"abc\"".into()), coding: Some(Coding::Brotli) };
        meta.write_blocking(&path).unwrap();
        assert_eq!(PartMeta::read(&path).await, meta);
        let no_validator = PartMeta { validator: None, coding: Some(Coding::Gzip) };
        no_validator.write_blocking(&path).unwrap();
        assert_eq!(PartMeta::read(&path).await, no_validator);
        tokio::fs::write(&path, "\"old\"").await.unwrap();
        assert_eq!(PartMeta::read(&path).await, PartMeta { validator: Some("\"old\"".into()), coding: None });
        assert_eq!(
            PartMeta::read_blocking(&path),
            PartMeta { validator: Some("\"old\"".into()), coding: None }
        );
        PartMeta::default().write_blocking(&path).unwrap();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn raw_and_zlib_deflate_both_decode_and_garbage_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"media bytes ".repeat(1000);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&body).unwrap();
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&body).unwrap();
        for (name, bytes) in [("zlib", zlib.finish().unwrap()), ("raw", raw.finish().unwrap())] {
            let enc = dir.path().join(name);
            std::fs::write(&enc, bytes).unwrap();
            let out = dir.path().join(format!("{name}.out"));
            let (size, _) = decode_file(enc, Coding::Deflate, out.clone()).await.unwrap();
            assert_eq!(size, body.len() as u64);
            assert_eq!(std::fs::read(&out).unwrap(), body, "{name}");
        }
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"this is not gzip at all").unwrap();
        let out = dir.path().join("junk.out");
        let err = decode_file(junk, Coding::Gzip, out.clone()).await.unwrap_err();
        assert!(matches!(err, TransferError::Undecodable { coding: "gzip", .. }), "{err:?}");
        assert!(!out.exists(), "no half-decoded file is left");
    }
}
