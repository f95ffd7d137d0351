//! HTTP transfer with resume: [`fetch_to_file`] moves one URL's bytes to a file that, once it
//! exists under its final name, is complete.
//!
//! Bytes stream into `<dest>.part` next to `dest`. When a part with n > 0 bytes exists, the
//! request carries `Range: bytes=n-` (RFC 9110 §14.2). A 206 whose `Content-Range` starts at
//! n is appended to the part (after hashing the part once, so the file is read at most once
//! more); a 200 means the server ignored the range, so the part is truncated and the body
//! written from byte 0; a 416 with `Content-Range: bytes */n` means the part already is the
//! whole representation; any other answer to a range request restarts from byte 0. The final
//! size is checked against the expected total (the `Content-Length` of a 200, the complete
//! length of a 206's `Content-Range`) and sha256 is computed over the whole file. Only then is
//! the part fsynced, renamed atomically to `dest` and the directory fsynced (unix). Every
//! failure keeps the part for a later resume (except a body longer than announced, whose part
//! is deleted). A [`Watchdog`] ends an attempt that receives no bytes for
//! [`TransferOptions::stall_timeout`] or is cancelled; transient failures are retried inside
//! the call up to [`TransferOptions::max_attempts`] times, each retry resuming from the part.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE,
    LAST_MODIFIED, RANGE,
};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::error::io_err;
pub use super::error::{ErrorKind, TransferError};
use super::http_range::{parse_content_range, range_from, ContentRange};
use super::watchdog::{Watchdog, WatchdogStop};

/// Write buffer between the network and the part file, in bytes.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// Limits of one [`fetch_to_file`] call.
#[derive(Debug, Clone)]
pub struct TransferOptions {
    /// An attempt that receives no body bytes for this long ends with
    /// [`TransferError::Stalled`] (transient). Default 30 s.
    pub stall_timeout: Duration,
    /// Bound on connecting; the wait for response headers may take `connect_timeout +
    /// stall_timeout` before [`TransferError::ResponseTimeout`] (transient). Default 15 s.
    pub connect_timeout: Duration,
    /// Attempts per call (at least 1): transient errors are retried, resuming from the part.
    /// Default 4.
    pub max_attempts: u32,
    /// Backoff before retry k (k = 1, 2, ...) is `k * retry_backoff`. Default 1 s.
    pub retry_backoff: Duration,
    /// A global bandwidth limit shared with other transfers; `None` = unlimited.
    pub bandwidth: Option<std::sync::Arc<super::limits::BandwidthLimiter>>,
}

impl Default for TransferOptions {
    fn default() -> Self {
        Self {
            stall_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(15),
            max_attempts: 4,
            retry_backoff: Duration::from_secs(1),
            bandwidth: None,
        }
    }
}

/// Cumulative progress of a transfer, reported once per received chunk (cheap to build; the
/// caller samples it). Totals, not deltas (ARCHITECTURE.md convention 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    /// Bytes in the part so far, including the resumed prefix.
    pub downloaded: u64,
    /// Expected final size in bytes, when the server announced it.
    pub total: Option<u64>,
    /// Bytes kept from an earlier part in the current attempt (0 for a fresh download).
    pub resumed_from: u64,
}

/// A completed, verified file at its final path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// The final path (`dest`).
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    /// sha256 of the whole file, lowercase hex (64 chars).
    pub sha256_hex: String,
    /// Bytes of an earlier part kept by the successful attempt (0 when it started afresh).
    pub resumed_from: u64,
    /// Attempts used, 1-based.
    pub attempts: u32,
    /// The `Content-Type` of the response that delivered the bytes, if any.
    pub content_type: Option<String>,
}

/// The one shared HTTP client: HTTP/1.1 and HTTP/2 (ALPN), at most 10 redirects, a 15 s
/// connect timeout, TCP keepalive, and no automatic decompression (media bytes must be
/// byte-exact and `Range` must address the raw representation, RFC 9110 §14). Media
/// requests also send `Accept-Encoding: identity` (see [`fetch_to_file`]).
pub fn build_client(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .redirect(reqwest::redirect::Policy::limited(10))
        .connect_timeout(Duration::from_secs(15))
        .tcp_keepalive(Duration::from_secs(60))
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd()
        .build()
        // Only fails when the TLS backend cannot initialise: a build/configuration bug.
        .expect("HTTP client configuration is valid")
}

/// `<dest>.part` in the same directory.
pub fn part_path(dest: &Path) -> Option<PathBuf> {
    let mut name = dest.file_name()?.to_os_string();
    name.push(".part");
    Some(dest.with_file_name(name))
}

/// `<dest>.part.validator`: the strong `ETag` (else `Last-Modified`) of the representation a
/// part holds bytes of. A resume sends it as `If-Range` (RFC 9110 §13.1.5), so a server whose
/// file changed answers 200 with the new full body instead of appending new bytes to old ones.
pub fn validator_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".validator");
    PathBuf::from(name)
}

/// The validator of a response usable with `If-Range`: a strong ETag, else `Last-Modified`.
fn validator_of(headers: &HeaderMap) -> Option<String> {
    let strong_etag = headers.get(ETAG).and_then(|v| v.to_str().ok()).filter(|e| !e.starts_with("W/"));
    strong_etag.or_else(|| headers.get(LAST_MODIFIED).and_then(|v| v.to_str().ok())).map(str::to_owned)
}

/// Downloads `url` to `dest` through `<dest>.part`, resuming an existing part (module docs).
///
/// `progress` is called with cumulative [`TransferProgress`] per chunk; `cancel` ends the call
/// promptly with [`TransferError::Cancelled`], keeping the part. Parent directories of `dest`
/// are created; an existing `dest` is replaced. Returns the verified [`FetchedFile`]. Errors:
/// see [`TransferError`]; transient ones are retried here up to `opts.max_attempts` times.
pub async fn fetch_to_file(
    client: &reqwest::Client,
    url: &Url,
    dest: &Path,
    opts: &TransferOptions,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<FetchedFile, TransferError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TransferError::UnsupportedScheme(url.scheme().to_owned()));
    }
    let part =
        part_path(dest).ok_or_else(|| TransferError::InvalidDestination(dest.to_path_buf()))?;
    let dir = parent_dir(dest);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(io_err("create directory", &dir))?;
    let dog = Watchdog::new(opts.stall_timeout, cancel.clone());
    let job = Attempt {
        client,
        url,
        dest,
        part: &part,
        opts,
        progress,
        dog: &dog,
    };
    let max_attempts = opts.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        if dog.is_cancelled() {
            return Err(TransferError::Cancelled);
        }
        match job.run().await {
            Ok(mut file) => {
                file.attempts = attempt;
                return Ok(file);
            }
            Err(e) if e.is_transient() && attempt < max_attempts => {
                tracing::warn!(%url, attempt, error = %e, "transfer attempt failed; retrying");
                dog.sleep(opts.retry_backoff * attempt)
                    .await
                    .map_err(|_| TransferError::Cancelled)?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

fn parent_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What to do with a response, decided from its status and headers.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Write the body after the first `offset` bytes of the part; `total` is the expected
    /// final size in bytes.
    Write { offset: u64, total: Option<u64> },
    /// The part already holds all `total` bytes.
    AlreadyComplete { total: u64 },
    /// The answer cannot continue the part: truncate it and ask again without `Range`.
    Restart(String),
}

/// Decides how to use a response to a request sent with `offset` bytes already in the part
/// (`Range` sent iff `offset > 0`).
fn plan(
    status: StatusCode,
    headers: &HeaderMap,
    offset: u64,
    url: &Url,
) -> Result<Plan, TransferError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let content_length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let content_range = header(CONTENT_RANGE).and_then(parse_content_range);
    let restart_or = |reason: String| {
        if offset > 0 {
            Ok(Plan::Restart(reason))
        } else {
            Err(TransferError::WrongRange {
                url: url.clone(),
                reason,
            })
        }
    };
    match status {
        StatusCode::OK => Ok(Plan::Write {
            offset: 0,
            total: content_length,
        }),
        StatusCode::PARTIAL_CONTENT => match content_range {
            Some(ContentRange::Bytes {
                first,
                last,
                complete,
            }) if first == offset => {
                if content_length.is_some_and(|len| len != last - first + 1) {
                    return restart_or(format!(
                        "Content-Length disagrees with Content-Range {first}-{last}"
                    ));
                }
                // Unknown complete length: the range end is the best expectation we have.
                Ok(Plan::Write {
                    offset,
                    total: Some(complete.unwrap_or(last + 1)),
                })
            }
            other => restart_or(format!(
                "206 with Content-Range {other:?} for offset {offset}"
            )),
        },
        StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => match content_range {
            Some(ContentRange::Unsatisfied { complete }) if complete == offset => {
                Ok(Plan::AlreadyComplete { total: complete })
            }
            other => Ok(Plan::Restart(format!(
                "416 with Content-Range {other:?} for offset {offset}"
            ))),
        },
        s if s.is_client_error() || s.is_server_error() => Err(TransferError::Status {
            status: s,
            url: url.clone(),
        }),
        s => Err(TransferError::Protocol {
            url: url.clone(),
            reason: format!("unexpected status {s}"),
        }),
    }
}

/// One attempt's fixed inputs.
struct Attempt<'a> {
    client: &'a reqwest::Client,
    url: &'a Url,
    dest: &'a Path,
    part: &'a Path,
    opts: &'a TransferOptions,
    progress: &'a (dyn Fn(TransferProgress) + Send + Sync),
    dog: &'a Watchdog,
}

impl Attempt<'_> {
    /// One attempt: request (resuming when a part exists), then write, verify and finalize.
    async fn run(&self) -> Result<FetchedFile, TransferError> {
        let mut offset = match tokio::fs::metadata(self.part).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io_err("inspect", self.part)(e)),
        };
        loop {
            let response = self.send(offset).await?;
            match plan(response.status(), response.headers(), offset, self.url)? {
                Plan::Write {
                    offset: start,
                    total,
                } => return self.write(response, start, total).await,
                Plan::AlreadyComplete { total } => return self.finish_existing(total).await,
                Plan::Restart(reason) => {
                    tracing::info!(url = %self.url, offset, %reason, "cannot resume; restarting from 0");
                    drop(response);
                    tokio::fs::remove_file(self.part)
                        .await
                        .map_err(io_err("remove", self.part))?;
                    let _ = tokio::fs::remove_file(validator_path(self.part)).await;
                    offset = 0;
                }
            }
        }
    }

    /// Sends the GET, with `Range: bytes=offset-` when `offset > 0`, under the watchdog.
    async fn send(&self, offset: u64) -> Result<reqwest::Response, TransferError> {
        let mut request = self
            .client
            .get(self.url.clone())
            .header(ACCEPT_ENCODING, "identity");
        if offset > 0 {
            request = request.header(RANGE, range_from(offset));
            if let Ok(validator) = tokio::fs::read_to_string(validator_path(self.part)).await {
                request = request.header(IF_RANGE, validator.trim());
            }
        }
        let window = self.opts.connect_timeout + self.opts.stall_timeout;
        match self.dog.guard_for(window, request.send()).await {
            Ok(result) => Ok(result?),
            Err(WatchdogStop::Cancelled) => Err(TransferError::Cancelled),
            Err(WatchdogStop::Stalled(after)) => Err(TransferError::ResponseTimeout { after }),
        }
    }

    /// Streams the body into the part after its first `offset` bytes, then verifies and
    /// finalizes. `total` is the expected final size in bytes.
    async fn write(
        &self,
        mut response: reqwest::Response,
        offset: u64,
        total: Option<u64>,
    ) -> Result<FetchedFile, TransferError> {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut hasher = Sha256::new();
        let file = if offset > 0 {
            self.open_and_hash_prefix(offset, &mut hasher).await?
        } else {
            let validator = validator_path(self.part);
            match validator_of(response.headers()) {
                Some(v) => tokio::fs::write(&validator, v).await.map_err(io_err("write", &validator))?,
                None => {
                    let _ = tokio::fs::remove_file(&validator).await;
                }
            }
            tokio::fs::File::create(self.part)
                .await
                .map_err(io_err("create", self.part))?
        };
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        let mut written = offset;
        let report = |downloaded| {
            (self.progress)(TransferProgress {
                downloaded,
                total,
                resumed_from: offset,
            })
        };
        report(written);
        let streamed: Result<(), TransferError> = loop {
            let chunk = match self.dog.guard(response.chunk()).await {
                Err(WatchdogStop::Cancelled) => break Err(TransferError::Cancelled),
                Err(WatchdogStop::Stalled(after)) => {
                    break Err(TransferError::Stalled {
                        after,
                        downloaded: written,
                    })
                }
                Ok(Err(e)) => {
                    break Err(match total {
                        Some(expected) if written < expected => TransferError::Incomplete {
                            expected,
                            got: written,
                            cause: Some(e),
                        },
                        _ => TransferError::Http(e),
                    })
                }
                Ok(Ok(None)) => break Ok(()),
                Ok(Ok(Some(chunk))) => chunk,
            };
            let got = written + chunk.len() as u64;
            if let Some(expected) = total.filter(|&t| got > t) {
                // Longer than announced: the part cannot be trusted; start over next time.
                drop(writer);
                let _ = tokio::fs::remove_file(self.part).await;
                return Err(TransferError::Incomplete {
                    expected,
                    got,
                    cause: None,
                });
            }
            if let Err(e) = writer.write_all(&chunk).await {
                break Err(io_err("write", self.part)(e));
            }
            hasher.update(&chunk);
            written = got;
            report(written);
            if let Some(limit) = &self.opts.bandwidth {
                let wait = limit.reserve(chunk.len() as u64);
                if !wait.is_zero() && self.dog.sleep(wait).await.is_err() {
                    break Err(TransferError::Cancelled);
                }
            }
        };
        // Flush on every path, so the part holds exactly the bytes received for a resume.
        let flushed = writer.flush().await.map_err(io_err("write", self.part));
        streamed?;
        flushed?;
        if let Some(expected) = total.filter(|&t| t != written) {
            return Err(TransferError::Incomplete {
                expected,
                got: written,
                cause: None,
            });
        }
        self.finalize(writer.into_inner(), written, hasher, offset, content_type)
            .await
    }

    /// Opens the part for appending and hashes its first `offset` bytes (it must have exactly
    /// that many), leaving the cursor at its end.
    async fn open_and_hash_prefix(
        &self,
        offset: u64,
        hasher: &mut Sha256,
    ) -> Result<tokio::fs::File, TransferError> {
        let mut file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.part)
            .await
            .map_err(io_err("open", self.part))?;
        let read = hash_reader(&mut file, hasher)
            .await
            .map_err(io_err("read", self.part))?;
        if read != offset {
            return Err(TransferError::Io {
                op: "resume",
                path: self.part.to_path_buf(),
                source: std::io::Error::other(format!(
                    "part changed size: {offset} -> {read} bytes"
                )),
            });
        }
        Ok(file)
    }

    /// The part already holds `total` bytes (416 `bytes */total`): hash and finalize it.
    async fn finish_existing(&self, total: u64) -> Result<FetchedFile, TransferError> {
        let mut file = tokio::fs::File::open(self.part)
            .await
            .map_err(io_err("open", self.part))?;
        let mut hasher = Sha256::new();
        let size = hash_reader(&mut file, &mut hasher)
            .await
            .map_err(io_err("read", self.part))?;
        if size != total {
            return Err(TransferError::Incomplete {
                expected: total,
                got: size,
                cause: None,
            });
        }
        (self.progress)(TransferProgress {
            downloaded: size,
            total: Some(total),
            resumed_from: size,
        });
        self.finalize(file, size, hasher, size, None).await
    }

    /// fsyncs the part, renames it to `dest` and fsyncs the directory (unix).
    async fn finalize(
        &self,
        file: tokio::fs::File,
        size: u64,
        hasher: Sha256,
        resumed_from: u64,
        content_type: Option<String>,
    ) -> Result<FetchedFile, TransferError> {
        file.sync_all().await.map_err(io_err("fsync", self.part))?;
        drop(file);
        tokio::fs::rename(self.part, self.dest)
            .await
            .map_err(io_err("rename", self.part))?;
        let _ = tokio::fs::remove_file(validator_path(self.part)).await;
        sync_dir(&parent_dir(self.dest)).await?;
        Ok(FetchedFile {
            path: self.dest.to_path_buf(),
            size,
            sha256_hex: hex::encode(hasher.finalize()),
            resumed_from,
            attempts: 1,
            content_type,
        })
    }
}

/// Feeds everything `reader` yields into `hasher`; returns the byte count.
async fn hash_reader(reader: &mut tokio::fs::File, hasher: &mut Sha256) -> std::io::Result<u64> {
    let mut buf = vec![0u8; WRITE_BUFFER_BYTES];
    let mut count = 0u64;
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(count);
        }
        hasher.update(&buf[..n]);
        count += n as u64;
    }
}

/// fsyncs a directory so a rename inside it is durable (unix; a no-op elsewhere).
async fn sync_dir(dir: &Path) -> Result<(), TransferError> {
    #[cfg(unix)]
    {
        let handle = tokio::fs::File::open(dir)
            .await
            .map_err(io_err("open directory", dir))?;
        handle
            .sync_all()
            .await
            .map_err(io_err("fsync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn plans_follow_rfc_9110() {
        let url = Url::parse("http://x.test/a.mp3").unwrap();
        let ok = headers(&[(CONTENT_LENGTH, "10")]);
        assert_eq!(
            plan(StatusCode::OK, &ok, 4, &url).unwrap(),
            Plan::Write {
                offset: 0,
                total: Some(10)
            }
        );
        let partial = headers(&[(CONTENT_RANGE, "bytes 4-9/10"), (CONTENT_LENGTH, "6")]);
        assert_eq!(
            plan(StatusCode::PARTIAL_CONTENT, &partial, 4, &url).unwrap(),
            Plan::Write {
                offset: 4,
                total: Some(10)
            }
        );
        assert!(matches!(
            plan(StatusCode::PARTIAL_CONTENT, &partial, 3, &url).unwrap(),
            Plan::Restart(_)
        ));
        let err = plan(StatusCode::PARTIAL_CONTENT, &partial, 0, &url).unwrap_err();
        assert!(matches!(err, TransferError::WrongRange { .. }) && err.is_transient());
        let unsat = headers(&[(CONTENT_RANGE, "bytes */10")]);
        assert_eq!(
            plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 10, &url).unwrap(),
            Plan::AlreadyComplete { total: 10 }
        );
        assert!(matches!(
            plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 12, &url).unwrap(),
            Plan::Restart(_)
        ));
        let err = plan(StatusCode::RANGE_NOT_SATISFIABLE, &unsat, 0, &url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expected);
        let err = plan(StatusCode::SERVICE_UNAVAILABLE, &ok, 0, &url).unwrap_err();
        assert!(err.is_transient());
        let err = plan(StatusCode::TOO_MANY_REQUESTS, &ok, 0, &url).unwrap_err();
        assert!(err.is_transient());
        let err = plan(StatusCode::GONE, &ok, 0, &url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Expected);
    }

    #[test]
    fn part_path_sits_next_to_dest() {
        assert_eq!(
            part_path(Path::new("/a/b.mp3")).unwrap(),
            PathBuf::from("/a/b.mp3.part")
        );
        assert_eq!(part_path(Path::new("/")), None);
    }
}
