//! How a path answers beyond its body: what real hosts, CDNs and playlist servers do that a
//! client must cope with. A [`Behaviour`] is set per path and applies to every request of it
//! until cleared (unlike a [`crate::Fault`], which can be limited to the next N requests).
//!
//! - [`Behaviour::Redirect`]: a `301`/`302`/`307`/`308` with `Location` (RFC 9110 §15.4), e.g. a
//!   feed that moved for good (`301`, `308`) or for now (`302`, `307`).
//! - [`Behaviour::Encode`]: the body sent with `Content-Encoding` (RFC 9110 §8.4): `gzip`,
//!   `deflate` (the zlib format, RFC 9110 §8.4.1.2) or `br` (RFC 7932). Negotiated, it applies
//!   only when the request's `Accept-Encoding` lists the coding; forced, it applies even when the
//!   client asked for `identity`, as some misconfigured hosts do. The encoded bytes are the
//!   representation: `Content-Length`, `Range` and `Content-Range` count encoded bytes, and the
//!   `ETag` differs from the identity one (RFC 9110 §8.8.3).
//! - [`Behaviour::NoContentLength`]: the body is sent without `Content-Length`, in chunked
//!   transfer coding (RFC 9112 §7.1), so a client learns its size only by reading it: what a
//!   server streaming generated content does, and what a client's size cap must survive.

use std::io::Write;

/// A content coding the server can apply to a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `deflate`: the zlib format (RFC 1950) around deflate data (RFC 1951).
    Deflate,
    /// `br`: Brotli (RFC 7932).
    Brotli,
}

impl Coding {
    /// The token in `Content-Encoding` / `Accept-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }

    /// `body` encoded with this coding.
    pub fn encode(self, body: &[u8]) -> Vec<u8> {
        match self {
            Coding::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(body).expect("writing to a Vec");
                enc.finish().expect("writing to a Vec")
            }
            Coding::Deflate => {
                let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(body).expect("writing to a Vec");
                enc.finish().expect("writing to a Vec")
            }
            Coding::Brotli => {
                let mut out = Vec::new();
                {
                    let mut enc = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    enc.write_all(body).expect("writing to a Vec");
                }
                out
            }
        }
    }

    /// Whether an `Accept-Encoding` header value lists this coding with a non-zero weight.
    pub fn accepted_by(self, accept_encoding: &str) -> bool {
        accept_encoding.split(',').any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let zero = parts
                .any(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0));
            (name.eq_ignore_ascii_case(self.token()) || name == "*") && !zero
        })
    }
}

/// What a path does besides serving its body (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer `status` (301, 302, 307 or 308) with `Location: location` (absolute, or relative
    /// to the request URL) and no body.
    Redirect {
        /// The redirect status code.
        status: u16,
        /// The `Location` value, sent verbatim.
        location: String,
    },
    /// Send the body with `Content-Encoding: coding`.
    Encode {
        /// The coding applied.
        coding: Coding,
        /// Apply it even when the request's `Accept-Encoding` does not list it.
        forced: bool,
    },
    /// Send the body without `Content-Length` (chunked).
    NoContentLength,
}

#[cfg(test)]
mod tests {
    use super::Coding;

    #[test]
    fn accept_encoding_lists_codings_and_honours_zero_weights() {
        let cases = [
            ("gzip, deflate, br", Coding::Brotli, true),
            ("identity", Coding::Gzip, false),
            ("GZIP;q=0.5", Coding::Gzip, true),
            ("gzip;q=0", Coding::Gzip, false),
            ("*", Coding::Deflate, true),
            ("", Coding::Gzip, false),
        ];
        for (header, coding, want) in cases {
            assert_eq!(coding.accepted_by(header), want, "{header:?} {coding:?}");
        }
    }

    #[test]
    fn each_coding_round_trips() {
        use std::io::Read;
        let body = b"<rss>hello hello hello</rss>".repeat(50);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&Coding::Gzip.encode(&body)[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
        out.clear();
        flate2::read::ZlibDecoder::new(&Coding::Deflate.encode(&body)[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
        out.clear();
        brotli::Decompressor::new(&Coding::Brotli.encode(&body)[..], 4096).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
    }
}
