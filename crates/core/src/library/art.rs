//! The cover art cache: each image URL a feed names (a playlist's cover, an item's own image)
//! is fetched once and kept as a file, `<art dir>/<sha256 of the URL>.<jpg|png|gif|webp>`, in
//! the folder `art/` beside the catalog database ([`ArtCache::beside`]). The UI shows the
//! cached bytes as a `data:` URL, so the window never loads a remote image (its CSP stays
//! `img-src 'self' data:`); tag writing can embed the same bytes.
//!
//! A fetch goes through the document client and `catalog::fetch` (redirects followed hop by
//! hop, a stall window of [`ART_STALL`], a deadline of [`ART_DEADLINE`]) and is checked twice
//! before anything is written: its size, against [`ART_MAX_BYTES`] both as declared
//! (`Content-Length`, refused before the body is read) and as received (counted while reading,
//! so a server that sends no length, or more than it said, is cut off at the cap); and its
//! content, sniffed from its first bytes ([`super::sniff`]): JPEG, PNG, GIF or WebP, whatever
//! the `Content-Type` says. An HTML error page served as `image/jpeg`, an SVG (which can carry
//! script) or anything else is refused. Only `http` and `https` URLs are fetched: a feed must
//! not make the app read local files. The file is written under a temporary name and renamed
//! into place, so a cached file is always whole.
//!
//! A refused or failed image is remembered beside it (`<hash>.failed`, with the reason and
//! when to try again: [`ART_RETRY_FINAL_MS`] after a final failure such as a 404 or a wrong
//! type, [`ART_RETRY_TRANSIENT_MS`] after a transient one), so it is not asked for at every
//! sync or every look at the playlist; time comes from the cache's [`Clock`]. Concurrent
//! requests for one URL share one fetch (a lock per URL).
//!
//! After a sync, the sync stage hands the cache the playlist's cover and its first
//! [`ART_PREFETCH_ITEMS`] item images ([`prefetch_list`], [`ArtCache::prefetch`]): they are
//! fetched in the background, [`ART_PARALLEL`] at a time across all playlists, so a sync never
//! waits for images and an image never fails a sync. Anything else is fetched on first request
//! ([`ArtCache::get_or_fetch`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};
use tokio_util::sync::CancellationToken;

use super::sniff::{self, ImageKind};
use crate::catalog::fetch::{fetch_document_conditional, DocumentLimits, FetchError, Validators};
use crate::catalog::ParsedPlaylist;
use crate::clock::Clock;

/// Largest image accepted, in bytes (declared or received): 5 MB. Podcast directories ask for
/// covers of at most 3000x3000 pixels and 512 KB; real ones stay far below this.
pub const ART_MAX_BYTES: u64 = 5_000_000;
/// Nothing received for this long ends an image fetch (transient).
pub const ART_STALL: Duration = Duration::from_secs(20);
/// An image fetch ends after this long in all (transient).
pub const ART_DEADLINE: Duration = Duration::from_secs(60);
/// Background fetches at once, across every playlist.
pub const ART_PARALLEL: usize = 2;
/// Item images fetched in the background after a sync of one playlist (the first ones in
/// document order, usually the newest); the others are fetched when first asked for.
pub const ART_PREFETCH_ITEMS: usize = 20;
/// How long a final failure (404, wrong type, too large) is remembered, in ms: 7 days.
pub const ART_RETRY_FINAL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// How long a transient failure (timeout, 5xx, refused connection) is remembered, in ms: 1 h.
pub const ART_RETRY_TRANSIENT_MS: i64 = 60 * 60 * 1000;
/// The cache folder's name, beside the catalog database.
pub const ART_DIR: &str = "art";

/// A cached image: its file, what it is and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedImage {
    /// The cache file.
    pub path: PathBuf,
    /// What the bytes are, by their signature.
    pub kind: ImageKind,
    /// Its MIME type, e.g. `image/png`.
    pub mime: &'static str,
    /// The image file's bytes.
    pub bytes: Vec<u8>,
}

impl CachedImage {
    /// The image as a `data:` URL (RFC 2397), `data:<mime>;base64,<bytes>`.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

/// Why an image is not in the cache. [`ArtError::is_transient`] tells whether trying again
/// later may help.
#[derive(Debug, thiserror::Error)]
pub enum ArtError {
    /// Not an `http`/`https` URL (final).
    #[error("image URL {0} is not an http or https URL")]
    BadUrl(String),
    /// The fetch failed: HTTP status, network, stall, deadline (class of the [`FetchError`]).
    #[error("image not fetched: {0}")]
    Fetch(#[source] FetchError),
    /// Declared or received size above the cap (final).
    #[error("image larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The bytes are no JPEG, PNG, GIF or WebP (final).
    #[error("not a JPEG, PNG, GIF or WebP image but {found}")]
    NotAnImage {
        /// What they look like ([`sniff::describe`]), e.g. `an HTML page`.
        found: &'static str,
    },
    /// An earlier attempt failed and is remembered until `retry_at_ms` (the earlier class).
    #[error("{reason} (remembered from an earlier attempt)")]
    Remembered {
        /// The earlier error's text.
        reason: String,
        /// The earlier error's class.
        transient: bool,
        /// When the URL is tried again (Unix ms).
        retry_at_ms: i64,
    },
    /// Reading or writing the cache folder failed (transient: not remembered).
    #[error("art cache {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ArtError {
    /// Whether trying again later may succeed: transient fetch failures (5xx, 429, network,
    /// stalls, deadlines) and cache I/O; a remembered failure keeps its class.
    pub fn is_transient(&self) -> bool {
        match self {
            ArtError::Fetch(e) => e.is_transient(),
            ArtError::Remembered { transient, .. } => *transient,
            ArtError::Io { .. } => true,
            ArtError::BadUrl(_) | ArtError::TooLarge { .. } | ArtError::NotAnImage { .. } => false,
        }
    }
}

/// The image URLs worth fetching after a sync of `doc`: its cover, then its first
/// [`ART_PREFETCH_ITEMS`] distinct item images other than the cover.
pub fn prefetch_list(doc: &ParsedPlaylist) -> Vec<String> {
    let mut out: Vec<String> = doc.image.iter().cloned().collect();
    let cover = out.len();
    for image in doc.items.iter().filter_map(|i| i.image.as_ref()) {
        if out.len() - cover == ART_PREFETCH_ITEMS {
            break;
        }
        if !out.contains(image) {
            out.push(image.clone());
        }
    }
    out
}

/// The cover art cache (module docs). Share it in an `Arc`.
pub struct ArtCache {
    dir: PathBuf,
    client: reqwest::Client,
    clock: Arc<dyn Clock>,
    limits: DocumentLimits,
    /// One lock per URL key while it is looked up or fetched.
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    /// Background fetches at once.
    permits: Semaphore,
    /// Background prefetch tasks not ended yet.
    pending: watch::Sender<usize>,
    /// Ends background fetches.
    stop: CancellationToken,
}

impl std::fmt::Debug for ArtCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtCache").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// Counts a background task while it lives (also when it is dropped unfinished).
struct Pending(Arc<ArtCache>);

impl Drop for Pending {
    fn drop(&mut self) {
        self.0.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// The file name stem of `url` in the cache: SHA-256 of the URL, lower-case hex.
fn key_of(url: &str) -> String {
    hex::encode(Sha256::digest(url.as_bytes()))
}

impl ArtCache {
    /// A cache in `dir` (created on first write), fetching with `client` (a
    /// `catalog::fetch::build_document_client`) and judging remembered failures by `clock`.
    pub fn new(dir: PathBuf, client: reqwest::Client, clock: Arc<dyn Clock>) -> ArtCache {
        ArtCache {
            dir,
            client,
            clock,
            limits: DocumentLimits { stall: ART_STALL, deadline: ART_DEADLINE, max_bytes: ART_MAX_BYTES },
            locks: Mutex::default(),
            permits: Semaphore::new(ART_PARALLEL),
            pending: watch::channel(0).0,
            stop: CancellationToken::new(),
        }
    }

    /// A cache in the [`ART_DIR`] folder beside the catalog database `database`.
    pub fn beside(database: &Path, client: reqwest::Client, clock: Arc<dyn Clock>) -> ArtCache {
        let parent = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        ArtCache::new(parent.join(ART_DIR), client, clock)
    }

    /// The same cache with another size cap, in bytes (default [`ART_MAX_BYTES`]).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> ArtCache {
        self.limits.max_bytes = max_bytes;
        self
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cached image of `url`, without any network access; `None` when not cached.
    /// Errors: [`ArtError::Io`] reading the folder.
    pub async fn cached(&self, url: &str) -> Result<Option<CachedImage>, ArtError> {
        self.read_cached(&key_of(url)).await
    }

    /// The image of `url`: from the cache, else fetched, checked and cached (module docs).
    /// Errors: [`ArtError`]; a failure is remembered (not an I/O one), and while it is, the
    /// URL is not fetched again but answered with [`ArtError::Remembered`].
    pub async fn get_or_fetch(&self, url: &str) -> Result<CachedImage, ArtError> {
        let key = key_of(url);
        let lock = self.lock_for(&key);
        let _held = lock.lock().await;
        if let Some(image) = self.read_cached(&key).await? {
            return Ok(image);
        }
        if let Some(remembered) = self.remembered(&key).await {
            return Err(remembered);
        }
        match self.fetch_checked(url).await {
            Ok((kind, bytes)) => self.write(&key, kind, bytes).await,
            Err(e @ ArtError::Io { .. }) => Err(e),
            Err(e) => {
                self.remember(&key, &e).await;
                Err(e)
            }
        }
    }

    /// Fetches `urls` in the background, one after another, at most [`ART_PARALLEL`] fetches
    /// at once across all calls; failures are remembered and logged, never returned. Does
    /// nothing outside a tokio runtime or after [`ArtCache::stop`].
    pub fn prefetch(self: &Arc<Self>, urls: Vec<String>) {
        if urls.is_empty() || self.stop.is_cancelled() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        self.pending.send_modify(|n| *n += 1);
        let pending = Pending(self.clone());
        runtime.spawn(async move {
            let me = &pending.0;
            for url in urls {
                let permit = tokio::select! {
                    p = me.permits.acquire() => p,
                    () = me.stop.cancelled() => break,
                };
                let Ok(_permit) = permit else { break };
                tokio::select! {
                    r = me.get_or_fetch(&url) => {
                        if let Err(e) = r {
                            tracing::debug!(%url, error = %e, "cover art not cached");
                        }
                    }
                    () = me.stop.cancelled() => break,
                }
            }
            drop(pending);
        });
    }

    /// Resolves once every background fetch queued so far has ended (or been stopped).
    pub async fn settled(&self) {
        let mut rx = self.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// Ends background fetches now and refuses new ones (shutdown).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().expect("art locks");
        if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= 256 {
            locks.retain(|_, l| l.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArtError + '_ {
        move |source| ArtError::Io { path: path.to_path_buf(), source }
    }

    /// The cached file of `key` whose bytes still are the image its name says; a damaged one
    /// is removed (and so fetched again).
    async fn read_cached(&self, key: &str) -> Result<Option<CachedImage>, ArtError> {
        for kind in ImageKind::ALL {
            let path = self.dir.join(format!("{key}.{}", kind.extension()));
            match tokio::fs::read(&path).await {
                Ok(bytes) if sniff::sniff(&bytes) == Some(kind) => {
                    return Ok(Some(CachedImage { path, kind, mime: kind.mime(), bytes }));
                }
                Ok(_) => {
                    tracing::warn!(path = %path.display(), "damaged cached image removed");
                    let _ = tokio::fs::remove_file(&path).await;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Self::io(&path)(e)),
            }
        }
        Ok(None)
    }

    fn failed_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.failed"))
    }

    /// The remembered failure of `key`, while it is to be remembered. The file holds
    /// `<final|transient> <retry at, Unix ms>` on its first line and the reason on the second.
    async fn remembered(&self, key: &str) -> Option<ArtError> {
        let text = tokio::fs::read_to_string(self.failed_path(key)).await.ok()?;
        let (head, reason) = text.split_once('\n').unwrap_or((&text, ""));
        let (class, at) = head.split_once(' ')?;
        let retry_at_ms: i64 = at.trim().parse().ok()?;
        (self.clock.now_ms() < retry_at_ms).then(|| ArtError::Remembered {
            reason: reason.trim().to_owned(),
            transient: class == "transient",
            retry_at_ms,
        })
    }

    async fn remember(&self, key: &str, e: &ArtError) {
        let (class, wait) = if e.is_transient() {
            ("transient", ART_RETRY_TRANSIENT_MS)
        } else {
            ("final", ART_RETRY_FINAL_MS)
        };
        let text = format!("{class} {}\n{e}\n", self.clock.now_ms().saturating_add(wait));
        let path = self.failed_path(key);
        let written = async {
            tokio::fs::create_dir_all(&self.dir).await?;
            tokio::fs::write(&path, text).await
        };
        if let Err(err) = written.await {
            tracing::warn!(path = %path.display(), error = %err, "cannot remember a failed image");
        }
    }

    async fn fetch_checked(&self, url: &str) -> Result<(ImageKind, Vec<u8>), ArtError> {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ArtError::BadUrl(url.to_owned()))?;
        let fetched = fetch_document_conditional(&self.client, &parsed, &self.limits, &Validators::default())
            .await
            .map_err(|e| match e {
                FetchError::TooLarge(limit) => ArtError::TooLarge { limit },
                e => ArtError::Fetch(e),
            })?;
        let kind = sniff::sniff(&fetched.body)
            .ok_or_else(|| ArtError::NotAnImage { found: sniff::describe(&fetched.body) })?;
        Ok((kind, fetched.body))
    }

    /// Writes the image under a temporary name and renames it into place, on the blocking
    /// pool (so it completes even when the caller stops waiting); forgets an earlier failure.
    async fn write(&self, key: &str, kind: ImageKind, bytes: Vec<u8>) -> Result<CachedImage, ArtError> {
        static TEMP: AtomicU64 = AtomicU64::new(0);
        let dir = self.dir.clone();
        let path = dir.join(format!("{key}.{}", kind.extension()));
        let temp =
            dir.join(format!(".{key}.{}-{}.part", std::process::id(), TEMP.fetch_add(1, Ordering::Relaxed)));
        let failed = self.failed_path(key);
        let target = path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir).map_err(ArtCache::io(&dir))?;
            let written = std::fs::write(&temp, &bytes).and_then(|()| std::fs::rename(&temp, &target));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&temp);
                return Err(ArtCache::io(&target)(e));
            }
            let _ = std::fs::remove_file(&failed);
            Ok(CachedImage { path: target, kind, mime: kind.mime(), bytes })
        })
        .await
        .map_err(|e| ArtError::Io { path, source: std::io::Error::other(e.to_string()) })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ParsedItem;

    #[test]
    fn prefetch_takes_the_cover_then_the_first_distinct_item_images() {
        let item =
            |n: usize| ParsedItem { image: Some(format!("http://i/{}.jpg", n % 30)), ..Default::default() };
        let mut items: Vec<ParsedItem> = (0..400).map(item).collect();
        items.insert(0, ParsedItem { image: Some("http://i/cover.jpg".into()), ..Default::default() });
        items.insert(1, ParsedItem::default());
        let doc = ParsedPlaylist { image: Some("http://i/cover.jpg".into()), items, ..Default::default() };
        let list = prefetch_list(&doc);
        assert_eq!(list.len(), 1 + ART_PREFETCH_ITEMS);
        assert_eq!(list[0], "http://i/cover.jpg");
        assert_eq!(
            list[1..],
            (0..ART_PREFETCH_ITEMS).map(|n| format!("http://i/{n}.jpg")).collect::<Vec<_>>()
        );
        assert!(prefetch_list(&ParsedPlaylist::default()).is_empty());
    }
}
