//! Tagging one item's downloaded file from the catalog (issue 16, part 1): [`tag_item`] reads
//! what the tags are made of (`store::tagging::TagParts`), builds the [`TagInfo`], fetches the
//! cover through the art cache (the episode's image, else the channel's; cached once, size and
//! type checked there), writes the tags ([`tags::tag_file`]) and records the tagged file's
//! SHA-256 beside the original's (the file row keeps the bytes as downloaded).
//!
//! When it runs: the download stage calls it once a download is verified and recorded (its
//! length and integrity checked by the transfer), and the sync stage after each playlist
//! applied ([`retag_playlist`]), so a re-sync that changes an episode's metadata tags its file
//! again without downloading it. A file whose tags already say the same (equal
//! [`TagInfo::fingerprint`]) is left alone. A file lofty cannot read stays untagged with a
//! warning in the log, and is tried again only when its metadata changes; the download never
//! fails for a tag.

use std::path::Path;

use super::tags::{self, Cover, TagError, TagInfo, Tagged};
use super::ArtCache;
use crate::store::tagging::TagParts;
use crate::store::{Store, StoreError, TaggedRow};

/// What [`tag_item`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagOutcome {
    /// The playlist's tagging is off.
    Disabled,
    /// The item has no file (not downloaded, or removed meanwhile).
    NoFile,
    /// The file's tags already say this.
    UpToDate,
    /// Tagged now.
    Tagged(Tagged),
    /// Left untagged: lofty cannot read it (recorded), or I/O failed (tried again later).
    Untagged(String),
}

/// The tags of `parts` (module docs of `tags`): the artist falls back from the episode's
/// author to the channel's to the channel's title; the cover from the episode's image to the
/// channel's.
pub fn tag_info(parts: &TagParts) -> TagInfo {
    TagInfo {
        title: parts.item.title.clone(),
        album: parts.playlist.title.clone(),
        artist: parts
            .meta
            .author
            .clone()
            .or_else(|| parts.channel_author.clone())
            .or_else(|| parts.playlist.title.clone()),
        date_secs: parts.item.published,
        track: parts.meta.episode,
        disc: parts.meta.season,
        comment: parts.item.description.as_deref().map(tags::plain_text).filter(|t| !t.is_empty()),
        cover_url: parts.item_image.clone().or_else(|| parts.playlist.image.clone()),
    }
}

async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .unwrap_or_else(|e| Err(StoreError::Conflict(format!("tagging task failed: {e}"))))
}

/// Whether the file's recorded tags already carry `fingerprint`.
fn is_done(parts: &TagParts, fingerprint: &str) -> bool {
    parts.tagged.as_ref().is_some_and(|t| t.fingerprint == fingerprint)
}

/// Tags item `item`'s file (module docs); `library` is the default library root. `held`: the
/// file's whole bytes when the caller still has them in memory (a small download,
/// [`crate::download::FetchedFile::held`]): the format is probed from them, without a trip to
/// the disk. Errors: the store's only (a file that cannot be tagged is an outcome, not an error).
pub async fn tag_item(
    store: &Store,
    art: &ArtCache,
    library: &Path,
    (item, held): (u64, Option<&[u8]>),
    now_ms: i64,
) -> Result<TagOutcome, StoreError> {
    // what the tags are made of: point reads by key, here (microseconds from redb's cache);
    // only a file that needs tags costs a trip to the blocking pool, to probe it (a re-sync's
    // retag of a playlist whose files are up to date makes none)
    let parts = store.tag_parts(item)?;
    if !parts.enabled {
        return Ok(TagOutcome::Disabled);
    }
    let Some(file) = parts.file.clone() else { return Ok(TagOutcome::NoFile) };
    let mut info = tag_info(&parts);
    if is_done(&parts, &info.fingerprint()) {
        return Ok(TagOutcome::UpToDate);
    }
    let path = parts.root.clone().unwrap_or_else(|| library.to_path_buf()).join(&file.path);
    let probed = match held {
        Some(bytes) => tags::taggable_bytes(bytes).map(|_| path),
        None => tokio::task::spawn_blocking(move || tags::taggable(&path).map(|_| path))
            .await
            .unwrap_or_else(|e| Err(TagError::Unparsable(format!("tagging task failed: {e}")))),
    };
    // a file that is not tagged costs a probe: no cover is fetched for it
    let mut cover = None;
    if probed.is_err() {
        info.cover_url = None;
    } else if let Some(url) = info.cover_url.clone() {
        match art.get_or_fetch(&url).await {
            Ok(image) => cover = Some(image),
            Err(e) => {
                tracing::debug!(item, %url, error = %e, "no cover to embed");
                info.cover_url = None; // tagged without it; a later run embeds it
            }
        }
    }
    let fingerprint = info.fingerprint();
    if is_done(&parts, &fingerprint) {
        return Ok(TagOutcome::UpToDate);
    }
    let written = match probed {
        Err(e) => Err(e),
        Ok(path) => tokio::task::spawn_blocking(move || {
            let cover = cover.as_ref().map(|c| Cover { bytes: &c.bytes, mime: c.mime });
            tags::tag_file(&path, &info, cover)
        })
        .await
        .unwrap_or_else(|e| Err(TagError::Unparsable(format!("tagging task failed: {e}")))),
    };
    let mut row =
        TaggedRow { original_sha256: file.sha256.clone(), fingerprint, at_ms: now_ms, ..Default::default() };
    let outcome = match written {
        Ok(tagged) => {
            row.tagged_sha256 = Some(tagged.sha256.clone());
            row.tagged_size = tagged.size;
            TagOutcome::Tagged(tagged)
        }
        Err(e @ TagError::Unparsable(_)) => {
            tracing::warn!(item, path = %file.path, error = %e, "file kept untagged");
            row.error = Some(e.to_string());
            TagOutcome::Untagged(e.to_string())
        }
        Err(e) => {
            tracing::warn!(item, path = %file.path, error = %e, "tagging failed; tried again later");
            return Ok(TagOutcome::Untagged(e.to_string()));
        }
    };
    store.record_tagged(item, file.path, row).await?;
    Ok(outcome)
}

/// Tags again the downloaded files of playlist `playlist` whose tags no longer say what the
/// catalog does (after a sync; module docs). Returns how many files were tagged.
/// Errors: the store's.
pub async fn retag_playlist(
    store: &Store,
    art: &ArtCache,
    library: &Path,
    playlist: u64,
    now_ms: i64,
) -> Result<u32, StoreError> {
    let items = blocking(store, move |s| {
        if !s.tagging_enabled(playlist)? {
            return Ok(Vec::new());
        }
        s.playlist_downloads(playlist)
    })
    .await?;
    let mut tagged = 0;
    for item in items {
        if matches!(tag_item(store, art, library, (item, None), now_ms).await?, TagOutcome::Tagged(_)) {
            tagged += 1;
        }
    }
    Ok(tagged)
}
