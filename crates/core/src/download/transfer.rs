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
//! the part fsynced, renamed atomically to `dest` and the directory fsynced (unix). A fresh
//! part is held in memory until it outgrows the write buffer, so a small file is written,
//! fsynced and renamed in one blocking call ([`super::part_sink`]). Every failure keeps the
//! part for a later resume (except a body longer than announced, whose part is deleted). A
//! [`Watchdog`] ends an attempt that receives no bytes for [`TransferOptions::stall_timeout`], that runs past [`TransferOptions::deadline`], or that is
//! cancelled (at once, even while the peer hangs silently); transient failures are retried
//! inside the call up to [`TransferOptions::max_attempts`] times by the policy in
//! [`super::retry`] (exponential backoff, `Retry-After`), each retry resuming from the part.
//!
//! Media is asked for with `Accept-Encoding: identity`. A server that encodes it anyway (`gzip`,
//! `deflate`, `br`) gets its encoded bytes kept in the part, ranges and lengths counting
//! encoded bytes as RFC 9110 §8.4 says, and the complete part decoded into `dest`; the part's
//! sidecar records the coding, and a resume answered in another coding restarts from 0
//! ([`super::content_coding`]). A file under its final name is always the decoded media.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT_ENCODING, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::content_coding::{coding_of, decode_file, Coding, PartMeta};
use super::dir_sync::DirSyncs;
use super::error::io_err;
pub use super::error::{ErrorKind, FetchFailure, TransferError};
use super::http_range::range_from;
pub use super::part_sink::validator_path;
use super::part_sink::{PartBody, PartSink, WRITE_BUFFER_BYTES};
use super::response_plan::{plan, Plan};
use super::watchdog::{Watchdog, WatchdogStop};

/// How often a silent transfer checks whether to hedge ([`super::hedge`]).
const HEDGE_CHECK_EVERY: Duration = Duration::from_millis(100);

/// What [`Attempt::next_chunk`] got: a chunk of the current response (`None` at its end), or
/// a hedged response that won the race, with its first chunk.
enum Next {
    Chunk(Option<bytes::Bytes>),
    Switched(reqwest::Response, bytes::Bytes),
}

/// How long an idle media connection stays pooled for reuse (reqwest's default is 90 s). A
/// connection that streamed a large body keeps its grown read buffer (hundreds of KB) while
/// pooled, so a catalog spread over many hosts would otherwise hold dozens of them after each
/// host's items are done; a downloader reuses a connection within moments, or not at all.
const POOL_IDLE: Duration = Duration::from_secs(5);

/// Where a part stands while its body streams: bytes in it, the expected total and coding,
/// and the validator of the representation it holds (a hedged request's `If-Range`).
#[derive(Debug, Clone, Copy)]
struct Position<'a> {
    written: u64,
    total: Option<u64>,
    coding: Option<Coding>,
    validator: Option<&'a str>,
}

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
    /// Backoff before retry k (k = 1, 2, ...) is `retry_backoff * 2^(k-1)`, capped, and at
    /// least the server's `Retry-After` (see [`super::retry`]). Default 1 s.
    pub retry_backoff: Duration,
    /// Overall deadline of one attempt; past it the attempt ends with
    /// [`TransferError::DeadlineExceeded`] (transient). Default 4 h.
    pub deadline: Duration,
    /// A global bandwidth limit shared with other transfers; `None` = unlimited.
    pub bandwidth: Option<std::sync::Arc<super::limits::BandwidthLimiter>>,
    /// Checks free space against the bytes a response announces before writing them; a
    /// short disk ends the attempt with [`TransferError::DiskFull`] (final). `None` = no check.
    pub space: Option<std::sync::Arc<dyn super::space::SpaceProbe>>,
    /// Hedged range requests for a transfer stuck while its host delivers to others
    /// ([`super::hedge`]); `None` = only the fixed stall window.
    pub hedge: Option<super::hedge::Hedge>,
    /// Whether the call fsyncs the destination's folder after the rename that ends it, so
    /// the file's name is durable when it returns (POSIX `rename(2)`, `fsync(2)`). `false`
    /// when the caller does it (the download stage: the store's writer, before the commit
    /// that records the file). Default `true`.
    pub sync_dir: bool,
}

impl Default for TransferOptions {
    fn default() -> Self {
        Self {
            stall_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(15),
            max_attempts: 4,
            retry_backoff: Duration::from_secs(1),
            deadline: Duration::from_secs(4 * 3600),
            bandwidth: None,
            space: None,
            hedge: None,
            sync_dir: true,
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
    /// The whole file's bytes when the transfer held them in memory (a small body, at most
    /// 64 KiB, not decoded), so a caller can read the file without the disk; else `None`.
    pub held: Option<Vec<u8>>,
}

/// The one shared HTTP client: HTTP/1.1 and HTTP/2 (ALPN), at most 10 redirects, a 15 s
/// connect timeout, TCP keepalive, and no automatic decompression (media bytes must be
/// byte-exact and `Range` must address the raw representation, RFC 9110 §14). Media
/// requests also send `Accept-Encoding: identity` (see [`fetch_to_file`]).
pub fn build_client(user_agent: &str) -> reqwest::Client {
    build_client_guarded(user_agent, None)
}

/// [`build_client`] with the private-address `guard` installed on every connection and
/// redirect hop, when given (`net_guard`).
pub fn build_client_guarded(
    user_agent: &str,
    guard: Option<&std::sync::Arc<crate::net_guard::AddressGuard>>,
) -> reqwest::Client {
    crate::net_guard::client_builder(user_agent, guard)
        .redirect(reqwest::redirect::Policy::limited(10))
        .pool_idle_timeout(POOL_IDLE)
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
/// [`fetch_to_file_from`] also says which attempt failed.
pub async fn fetch_to_file(
    client: &reqwest::Client,
    url: &Url,
    dest: &Path,
    opts: &TransferOptions,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<FetchedFile, TransferError> {
    let fetched = fetch_to_file_from(client, url, dest, opts, progress, cancel, None).await;
    fetched.map_err(|failure| failure.error)
}

/// As [`fetch_to_file`], with the failing attempt's number beside the error ([`FetchFailure`],
/// displayed as `attempt 2/3, transient: ...`), and starting from `known` when given: `dest`'s
/// part as the caller just read it with [`inspect_part_blocking`] (which also made the
/// directory), so the first attempt does not inspect it again. Later attempts, and a `known`
/// of another part, inspect; `None` inspects from the first attempt.
pub async fn fetch_to_file_from(
    client: &reqwest::Client,
    url: &Url,
    dest: &Path,
    opts: &TransferOptions,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
    cancel: &CancellationToken,
    mut known: Option<PartState>,
) -> Result<FetchedFile, FetchFailure> {
    let max_attempts = opts.max_attempts.max(1);
    let at = |attempt: u32| move |error| FetchFailure { attempt, max_attempts, error };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(at(1)(TransferError::UnsupportedScheme(url.scheme().to_owned())));
    }
    let part = part_path(dest).ok_or_else(|| at(1)(TransferError::InvalidDestination(dest.to_path_buf())))?;
    let dog = Watchdog::new(opts.stall_timeout, cancel.clone());
    let mut attempt = 1;
    loop {
        if dog.is_cancelled() {
            return Err(at(attempt)(TransferError::Cancelled));
        }
        let attempt_dog = dog.with_deadline(opts.deadline);
        let job = Attempt { client, url, dest, part: &part, opts, progress, dog: &attempt_dog };
        match job.run(known.take().filter(|k| k.part == part)).await {
            Ok(mut file) => {
                file.attempts = attempt;
                return Ok(file);
            }
            Err(e) => match super::retry::retry_delay(attempt, opts.retry_backoff, &e) {
                Some(delay) if attempt < max_attempts => {
                    tracing::warn!(%url, attempt, error = %e, ?delay, "transfer attempt failed; retrying");
                    dog.sleep(delay).await.map_err(|_| at(attempt)(TransferError::Cancelled))?;
                    attempt += 1;
                }
                _ => return Err(at(attempt)(e)),
            },
        }
    }
}

/// What the part of a destination holds before a transfer: its path (`<dest>.part`), its
/// size in bytes (0 when there is none) and its sidecar's validator and coding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    /// The part's path, `<dest>.part` ([`part_path`]).
    pub part: PathBuf,
    /// The part's size in bytes, 0 when there is none.
    pub len: u64,
    /// What the part's sidecar recorded (nothing when there is no part).
    pub meta: PartMeta,
}

/// Creates `dest`'s directory and reads its part ([`PartState`]), on the calling (blocking)
/// thread. Errors: [`TransferError::InvalidDestination`] for a `dest` without a file name;
/// the file system's, with the operation that failed.
pub fn inspect_part_blocking(dest: &Path) -> Result<PartState, TransferError> {
    let part = part_path(dest).ok_or_else(|| TransferError::InvalidDestination(dest.to_path_buf()))?;
    let dir = parent_dir(dest);
    // a lookup first: `create_dir_all` of an existing folder is a failing mkdir (which locks
    // the parent folder) and a stat
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
    }
    let (len, meta) = match std::fs::metadata(&part) {
        Ok(m) => (m.len(), PartMeta::read_blocking(&validator_path(&part))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, PartMeta::default()),
        Err(e) => return Err(io_err("inspect", &part)(e)),
    };
    Ok(PartState { part, len, meta })
}

fn parent_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The sidecar of the part a response's body goes to: what it records, and whether one from
/// before the attempt may still lie beside the part (`stale`).
struct Sidecar {
    validator: Option<String>,
    coding: Option<Coding>,
    stale: bool,
}

impl Sidecar {
    /// Whether a sidecar may exist once the body is written: a stale one, or this one (a part
    /// `spilled` to disk writes it when it records something; one held in memory writes none).
    fn may_exist(&self, spilled: bool) -> bool {
        self.stale || (spilled && (self.validator.is_some() || self.coding.is_some()))
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
    /// `known`: the part as just inspected, if it was (else it is inspected here).
    async fn run(&self, known: Option<PartState>) -> Result<FetchedFile, TransferError> {
        let (mut offset, mut stored) = match known {
            Some(known) => (known.len, known.meta),
            None => self.inspect_part().await?,
        };
        loop {
            // a sidecar may lie beside a part from before this attempt (none after a restart)
            let stale_sidecar = offset > 0 || stored != PartMeta::default();
            let response = self.send(offset, stored.validator.as_deref()).await?;
            let reason = match plan(response.status(), response.headers(), offset, self.url)? {
                Plan::Write { offset: start, total } => {
                    let coding = coding_of(response.headers())?;
                    if start == 0 || coding == stored.coding {
                        let validator =
                            if start == 0 { validator_of(response.headers()) } else { stored.validator };
                        let sidecar = Sidecar { validator, coding, stale: stale_sidecar };
                        return self.write(response, start, total, sidecar).await;
                    }
                    format!(
                        "the part holds {} bytes, the response is {}",
                        stored.coding.map_or("identity", Coding::token),
                        coding.map_or("identity", Coding::token)
                    )
                }
                Plan::AlreadyComplete { total } => return self.finish_existing(total, stored.coding).await,
                Plan::Restart(reason) => reason,
            };
            tracing::info!(url = %self.url, offset, %reason, "cannot resume; restarting from 0");
            drop(response);
            tokio::fs::remove_file(self.part).await.map_err(io_err("remove", self.part))?;
            let _ = tokio::fs::remove_file(validator_path(self.part)).await;
            (offset, stored) = (0, PartMeta::default());
        }
    }

    /// The part's size in bytes (0 when there is none) and what its sidecar recorded, after
    /// creating the destination's directory, in one blocking call ([`inspect_part_blocking`]).
    async fn inspect_part(&self) -> Result<(u64, PartMeta), TransferError> {
        let dest = self.dest.to_path_buf();
        let inspected = tokio::task::spawn_blocking(move || inspect_part_blocking(&dest));
        let state = inspected.await.map_err(|e| io_err("inspect", self.part)(std::io::Error::other(e)))??;
        Ok((state.len, state.meta))
    }

    /// Sends the GET, with `Range: bytes=offset-` (and `If-Range: validator`) when
    /// `offset > 0`, under the watchdog.
    async fn send(&self, offset: u64, validator: Option<&str>) -> Result<reqwest::Response, TransferError> {
        let mut request = self.client.get(self.url.clone()).header(ACCEPT_ENCODING, "identity");
        if offset > 0 {
            request = request.header(RANGE, range_from(offset));
            if let Some(validator) = validator {
                request = request.header(IF_RANGE, validator);
            }
        }
        let window = self.opts.connect_timeout + self.opts.stall_timeout;
        match self.dog.guard_for(window, request.send()).await {
            Ok(result) => Ok(result?),
            Err(WatchdogStop::Cancelled) => Err(TransferError::Cancelled),
            Err(WatchdogStop::Stalled(after)) => Err(TransferError::ResponseTimeout { after }),
            Err(WatchdogStop::DeadlineExceeded(after)) => {
                Err(TransferError::DeadlineExceeded { after, downloaded: offset })
            }
        }
    }

    /// Streams the body into the part after its first `offset` bytes, then verifies and
    /// finalizes. `total` is the expected size of the part in bytes (encoded bytes when
    /// `sidecar.coding` is set); `sidecar.validator` that of the representation the part
    /// holds (for hedged requests' `If-Range`).
    async fn write(
        &self,
        mut response: reqwest::Response,
        offset: u64,
        total: Option<u64>,
        sidecar: Sidecar,
    ) -> Result<FetchedFile, TransferError> {
        let (validator, coding) = (sidecar.validator.clone(), sidecar.coding);
        let content_type =
            response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let (Some(probe), Some(total)) = (&self.opts.space, total) {
            let dir = parent_dir(self.dest);
            let needed = total.saturating_sub(offset);
            let available = probe.available(&dir).map_err(io_err("read free space", &dir))?;
            if available < needed {
                return Err(TransferError::DiskFull { root: dir, needed, available });
            }
        }
        let mut hasher = Sha256::new();
        let mut writer = if offset > 0 {
            PartSink::open(self.open_and_hash_prefix(offset, &mut hasher).await?)
        } else {
            PartSink::held(self.part, PartMeta { validator: validator.clone(), coding })
        };
        let mut written = offset;
        let report =
            |downloaded| (self.progress)(TransferProgress { downloaded, total, resumed_from: offset });
        report(written);
        let host = self.opts.hedge.as_ref().map(|_| super::hedge::host_key(self.url));
        let (mut last_chunk, mut gaps) = (tokio::time::Instant::now(), super::hedge::GapAverage::default());
        let streamed: Result<(), TransferError> = loop {
            let at = Position { written, total, coding, validator: validator.as_deref() };
            let next = self.next_chunk(&mut response, at, last_chunk, gaps.get()).await;
            let next = next.map(|r| {
                r.map(|n| match n {
                    Next::Chunk(chunk) => chunk,
                    Next::Switched(hedged, first) => {
                        response = hedged;
                        Some(first)
                    }
                })
            });
            let chunk = match next {
                Err(WatchdogStop::Cancelled) => break Err(TransferError::Cancelled),
                Err(WatchdogStop::DeadlineExceeded(after)) => {
                    break Err(TransferError::DeadlineExceeded { after, downloaded: written })
                }
                Err(WatchdogStop::Stalled(after)) => {
                    break Err(TransferError::Stalled { after, downloaded: written })
                }
                Ok(Err(e)) => {
                    break Err(match total {
                        Some(expected) if written < expected => {
                            TransferError::Incomplete { expected, got: written, cause: Some(e) }
                        }
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
                return Err(TransferError::Incomplete { expected, got, cause: None });
            }
            if let Err(e) = writer.write_all(&chunk).await {
                break Err(io_err("write", self.part)(e));
            }
            hasher.update(&chunk);
            written = got;
            report(written);
            if let (Some(hedge), Some(host)) = (&self.opts.hedge, &host) {
                let now = tokio::time::Instant::now();
                hedge.activity.note(host, now);
                gaps.observe(now - last_chunk);
                last_chunk = now;
            }
            if let Some(limit) = &self.opts.bandwidth {
                let wait = limit.reserve(chunk.len() as u64);
                let slept = if wait.is_zero() { Ok(()) } else { self.dog.sleep(wait).await };
                match slept {
                    Ok(()) => {}
                    Err(WatchdogStop::DeadlineExceeded(after)) => {
                        break Err(TransferError::DeadlineExceeded { after, downloaded: written })
                    }
                    Err(_) => break Err(TransferError::Cancelled),
                }
            }
        };
        // On every path that ends early the part holds exactly the bytes received, for a resume.
        let short = total.filter(|&t| t != written);
        let persisted = if streamed.is_err() || short.is_some() { writer.persist().await } else { Ok(()) };
        streamed?;
        persisted.map_err(io_err("write", self.part))?;
        if let Some(expected) = short {
            return Err(TransferError::Incomplete { expected, got: written, cause: None });
        }
        let body = writer.into_body().await.map_err(io_err("write", self.part))?;
        self.finalize(body, written, hasher, offset, content_type, sidecar).await
    }

    /// The next body chunk under the watchdog; with [`TransferOptions::hedge`], a hedged range
    /// request races a silent response once the evidence says it is stuck (see
    /// [`super::hedge`]), and the first to deliver a byte wins.
    async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
        at: Position<'_>,
        last_chunk: tokio::time::Instant,
        usual_gap: Duration,
    ) -> Result<Result<Next, reqwest::Error>, WatchdogStop> {
        let Some(hedge) = &self.opts.hedge else {
            return self.dog.guard(response.chunk()).await.map(|r| r.map(Next::Chunk));
        };
        let host = super::hedge::host_key(self.url);
        let step = self.dog.guard(response.chunk());
        tokio::pin!(step);
        loop {
            tokio::select! {
                out = &mut step => return out.map(|r| r.map(Next::Chunk)),
                () = tokio::time::sleep(HEDGE_CHECK_EVERY) => {
                    if hedge.due(&host, last_chunk, usual_gap, tokio::time::Instant::now()) {
                        break;
                    }
                }
            }
        }
        tracing::info!(url = %self.url, offset = at.written, "silent while the host delivers elsewhere: hedging");
        tokio::select! {
            out = &mut step => out.map(|r| r.map(Next::Chunk)),
            hedged = self.hedge_request(at) => match hedged {
                Some((response, first)) => Ok(Ok(Next::Switched(response, first))),
                None => step.await.map(|r| r.map(Next::Chunk)),
            },
        }
    }

    /// A second request continuing the part at `at.written` and its first chunk; `None` when
    /// its answer cannot continue the part (another start, total or coding, an error, no
    /// bytes).
    async fn hedge_request(&self, at: Position<'_>) -> Option<(reqwest::Response, bytes::Bytes)> {
        let Position { written, total, coding, validator } = at;
        let mut response = self.send(written, validator).await.ok()?;
        match plan(response.status(), response.headers(), written, self.url) {
            Ok(Plan::Write { offset, total: t }) if offset == written && t == total => {}
            _ => return None,
        }
        if coding_of(response.headers()).ok()? != coding {
            return None;
        }
        let first = self.dog.guard(response.chunk()).await.ok()?.ok()??;
        Some((response, first))
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
        let read = hash_reader(&mut file, hasher).await.map_err(io_err("read", self.part))?;
        if read != offset {
            return Err(TransferError::Io {
                op: "resume",
                path: self.part.to_path_buf(),
                source: std::io::Error::other(format!("part changed size: {offset} -> {read} bytes")),
            });
        }
        Ok(file)
    }

    /// The part already holds `total` bytes (416 `bytes */total`): hash and finalize it;
    /// `coding` is the coding its sidecar recorded.
    async fn finish_existing(
        &self,
        total: u64,
        coding: Option<Coding>,
    ) -> Result<FetchedFile, TransferError> {
        let mut file = tokio::fs::File::open(self.part).await.map_err(io_err("open", self.part))?;
        let mut hasher = Sha256::new();
        let size = hash_reader(&mut file, &mut hasher).await.map_err(io_err("read", self.part))?;
        if size != total {
            return Err(TransferError::Incomplete { expected: total, got: size, cause: None });
        }
        (self.progress)(TransferProgress { downloaded: size, total: Some(total), resumed_from: size });
        let sidecar = Sidecar { validator: None, coding, stale: true };
        self.finalize(PartBody::File(file.into_std().await), size, hasher, size, None, sidecar).await
    }

    /// Writes held bytes to the part, fsyncs it, renames it to `dest` and fsyncs the
    /// directory (unix). An encoded part (`coding`) is first decoded into `<part>.decoded`,
    /// which takes the final name instead; `size` and the hash are then those of the decoded
    /// media. A part that does not decode is deleted ([`TransferError::Undecodable`],
    /// transient). `sidecar`: the part's coding, and whether its sidecar may exist (it is
    /// then removed).
    async fn finalize(
        &self,
        body: PartBody,
        size: u64,
        hasher: Sha256,
        resumed_from: u64,
        content_type: Option<String>,
        sidecar: Sidecar,
    ) -> Result<FetchedFile, TransferError> {
        let (coding, sidecar) = (sidecar.coding, sidecar.may_exist(matches!(body, PartBody::File(_))));
        let (part, dest) = (self.part.to_path_buf(), self.dest.to_path_buf());
        let sync = move |part: &Path| body.sync_at(part).map_err(|(op, e)| io_err(op, part)(e));
        let sync_dir_too = self.opts.sync_dir;
        let (size, hasher, held) = match coding {
            None => {
                // (write,) fsync, rename, sidecar gone, directory fsynced: one blocking call
                let done = tokio::task::spawn_blocking(move || {
                    let held = sync(&part)?;
                    std::fs::rename(&part, &dest).map_err(io_err("rename", &part))?;
                    if sidecar {
                        let _ = std::fs::remove_file(validator_path(&part));
                    }
                    if sync_dir_too {
                        sync_dir_blocking(&parent_dir(&dest))?;
                    }
                    Ok::<_, TransferError>(held)
                });
                let held =
                    done.await.map_err(|e| io_err("finalize", self.part)(std::io::Error::other(e)))??;
                (size, hasher, held)
            }
            Some(coding) => {
                tokio::task::spawn_blocking(move || sync(&part).map(drop))
                    .await
                    .map_err(|e| io_err("fsync", self.part)(std::io::Error::other(e)))??;
                let mut decoded = self.part.as_os_str().to_owned();
                decoded.push(".decoded");
                let decoded = PathBuf::from(decoded);
                let result = decode_file(self.part.to_path_buf(), coding, decoded.clone()).await;
                if let Err(e @ TransferError::Undecodable { .. }) = result {
                    let _ = tokio::fs::remove_file(self.part).await;
                    let _ = tokio::fs::remove_file(validator_path(self.part)).await;
                    return Err(e);
                }
                let out = result?;
                tokio::fs::rename(&decoded, self.dest).await.map_err(io_err("rename", &decoded))?;
                tokio::fs::remove_file(self.part).await.map_err(io_err("remove", self.part))?;
                let _ = tokio::fs::remove_file(validator_path(self.part)).await;
                if sync_dir_too {
                    sync_dir(&parent_dir(self.dest)).await?;
                }
                (out.0, out.1, None)
            }
        };
        Ok(FetchedFile {
            path: self.dest.to_path_buf(),
            size,
            sha256_hex: hex::encode(hasher.finalize()),
            resumed_from,
            attempts: 1,
            content_type,
            held,
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
    let owned = dir.to_path_buf();
    tokio::task::spawn_blocking(move || sync_dir_blocking(&owned))
        .await
        .map_err(|e| io_err("fsync directory", dir)(std::io::Error::other(e)))?
}

/// The process's directory fsyncs, one group commit per directory ([`super::dir_sync`]).
static DIR_SYNCS: std::sync::LazyLock<DirSyncs> = std::sync::LazyLock::new(DirSyncs::default);

/// [`sync_dir`] on the calling (blocking) thread: shares an fsync with the renames into the
/// same directory that finish meanwhile ([`super::dir_sync`]).
fn sync_dir_blocking(dir: &Path) -> Result<(), TransferError> {
    DIR_SYNCS.sync(dir, crate::store::fsync_dir).map_err(io_err("open and fsync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_path_sits_next_to_dest() {
        assert_eq!(part_path(Path::new("/a/b.mp3")).unwrap(), PathBuf::from("/a/b.mp3.part"));
        assert_eq!(part_path(Path::new("/")), None);
    }
}
