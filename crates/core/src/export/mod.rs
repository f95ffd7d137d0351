//! The export stage's file side: one extended M3U playlist per catalog playlist, listing the
//! playlist's downloaded files in document order ([`export_playlist`], [`export_all`]).
//!
//! The file is `<library>/<sanitized playlist title>.m3u` ([`m3u_path`]), beside the
//! playlist folders, so each entry is the library-relative [`FileRow::path`] as stored (`/`
//! separators); a file placed in an overflow root (`Config::overflow_libraries`) is listed by
//! its absolute path instead. Only items whose file row exists *and* whose file is on disk are listed; a
//! playlist with none gets no file, and a `.m3u` this module wrote for it earlier is removed.
//! Writes are atomic: the text goes to `<name>.m3u.tmp`, is fsynced, renamed over the old
//! file and the library folder is fsynced (Unix), so a reader or a crash sees the old file or
//! the new one, never half of one. A file that already holds the text is not written again.
//! Names go through [`sanitize_component`] and [`safe_join`], so no playlist title can place a
//! file outside the library.
//!
//! Functions are blocking (file I/O and store reads); async callers use
//! `tokio::task::spawn_blocking`. The M3U text itself comes from [`m3u::render_m3u`].

pub mod m3u;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use m3u::{render_m3u, M3uEntry};

use crate::download::naming::{safe_join, sanitize_component, NamingError};
use crate::download::ErrorKind;
use crate::store::{FileRow, Store, StoreError};

/// File extension of exported playlists.
pub const M3U_EXTENSION: &str = "m3u";

/// Suffix appended to the playlist file name while it is being written.
const TMP_SUFFIX: &str = ".tmp";

/// Errors of the export. Kinds (ARCHITECTURE.md convention 2) via [`ExportError::kind`].
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the catalog failed; an unknown playlist id is [`StoreError::NotFound`].
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing, fsyncing, renaming or removing a playlist file failed.
    #[error("cannot write playlist file {path}: {source}")]
    Io {
        /// The file (or its `.tmp`) being written or removed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The playlist file name would not be a safe path inside the library.
    #[error(transparent)]
    Naming(#[from] NamingError),
}

impl ExportError {
    /// Expected, transient or bug: an unknown playlist and an unusable name are expected;
    /// I/O errors are transient when interrupted or timed out (e.g. a slow network share),
    /// expected otherwise (disk full, permission denied, read-only device); other store
    /// errors (database corruption, a conflicting row) are bugs.
    pub fn kind(&self) -> ErrorKind {
        use std::io::ErrorKind as Io;
        match self {
            Self::Store(StoreError::NotFound { .. }) | Self::Naming(_) => ErrorKind::Expected,
            Self::Store(_) => ErrorKind::Bug,
            Self::Io { source, .. } => match source.kind() {
                Io::Interrupted | Io::TimedOut | Io::WouldBlock => ErrorKind::Transient,
                _ => ErrorKind::Expected,
            },
        }
    }

    /// True when a later retry may succeed ([`ErrorKind::Transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

/// The file-system name of playlist `id`: the stem of its `.m3u` file and the `{playlist}`
/// folder of the name template. It is the title made one portable path component
/// ([`sanitize_component`]); when other playlists' titles give the same name, compared
/// case-folded as FAT32, exFAT and macOS volumes compare names, every one of them but the
/// oldest (lowest id) gets ` (<id>)` after it. Ids never change, so names stay put as
/// playlists come; a playlist keeps its suffix even after the one it collided with is gone
/// only if another still collides. Errors: the store's.
pub fn playlist_file_stem(store: &Store, id: u64) -> crate::store::Result<String> {
    playlist_file_stems(store)?
        .remove(&id)
        .ok_or_else(|| crate::store::StoreError::NotFound { what: "playlist", id: id.to_string() })
}

/// [`playlist_file_stem`] of every playlist, by id, from one read of the playlists. Errors:
/// the store's.
pub fn playlist_file_stems(store: &Store) -> crate::store::Result<std::collections::BTreeMap<u64, String>> {
    let all: Vec<(u64, String)> = store
        .playlists()?
        .into_iter()
        .map(|(id, row)| (id, sanitize_component(row.display_title())))
        .collect();
    // the oldest (lowest id) playlist of each case-folded name keeps it
    let mut oldest = std::collections::HashMap::new();
    for (id, stem) in &all {
        let first = oldest.entry(crate::store::tables::fold_path(stem)).or_insert(*id);
        *first = (*first).min(*id);
    }
    Ok(all
        .into_iter()
        .map(|(id, stem)| {
            let mine = oldest.get(&crate::store::tables::fold_path(&stem)) == Some(&id);
            (id, if mine { stem } else { sanitize_component(&format!("{stem} ({id})")) })
        })
        .collect())
}

/// Where a playlist whose file-system name is `stem` ([`playlist_file_stem`]) is exported:
/// `<library>/<stem>.m3u`, the stem made one portable path component by [`sanitize_component`]
/// (so `../x` gives `_x.m3u` and `CON` gives `_CON.m3u`).
///
/// Errors: [`ExportError::Naming`] if the name could still escape `library` (it cannot for a
/// sanitized component; [`safe_join`] is the last guard).
pub fn m3u_path(library: &Path, stem: &str) -> Result<PathBuf, ExportError> {
    let name = format!("{}.{M3U_EXTENSION}", sanitize_component(stem));
    Ok(safe_join(library, Path::new(&name))?)
}

/// Writes the M3U of playlist `playlist_id` into `library` (layout in the module docs) and
/// returns its path, or returns `Ok(None)` when none of the playlist's items has a
/// downloaded file present on disk; then a `.m3u` previously written for this playlist (one
/// starting with this module's `#EXTM3U` / `#PLAYLIST:<title>` header) is removed, and any
/// other file at that name is left alone.
///
/// Entries follow [`Store::playlist_items`] (document order of the last sync); the title is
/// the item's title, else its file name; the duration the item's `duration_secs`. A file row
/// whose path would leave the library is skipped with a warning.
///
/// Errors: [`ExportError::Store`] (unknown playlist: `NotFound`), [`ExportError::Io`],
/// [`ExportError::Naming`].
pub fn export_playlist(
    store: &Store,
    library: &Path,
    playlist_id: u64,
) -> Result<Option<PathBuf>, ExportError> {
    export_as(store, library, playlist_id, &playlist_file_stem(store, playlist_id)?)
}

/// [`export_playlist`] with the playlist's file-system name `stem` already known.
fn export_as(
    store: &Store,
    library: &Path,
    playlist_id: u64,
    stem: &str,
) -> Result<Option<PathBuf>, ExportError> {
    let playlist = store.playlist(playlist_id)?;
    let title = playlist.display_title();
    let path = m3u_path(library, stem)?;
    let entries = downloaded_entries(store, library, playlist_id)?;
    if entries.is_empty() {
        remove_stale(&path, title)?;
        return Ok(None);
    }
    let text = render_m3u(title, &entries);
    // unchanged: left as it is (no rewrite, fsyncs or new mtime for players to rescan)
    if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        write_atomically(&path, text.as_bytes())?;
    }
    Ok(Some(path))
}

/// Exports every playlist of the catalog, in id order, with [`export_playlist`]; returns the
/// files written (playlists without downloaded files write none). Stops at the first error.
pub fn export_all(store: &Store, library: &Path) -> Result<Vec<PathBuf>, ExportError> {
    let mut written = Vec::new();
    for (id, stem) in playlist_file_stems(store)? {
        if let Some(path) = export_as(store, library, id, &stem)? {
            if written.contains(&path) {
                tracing::warn!(playlist = id, path = %path.display(), "two playlists export to the same file; the later one wins");
            }
            written.push(path);
        }
    }
    Ok(written)
}

/// Deletes the `<name>.m3u.tmp` a crash left beside each playlist's M3U file (a kill between
/// [`write_atomically`]'s create and its rename). Run at the engine's start, before any job, so
/// no export is in progress; only the temporary names this module writes are touched. Returns
/// the paths deleted. Errors: the store's; a leftover that cannot be deleted is logged and left.
pub fn sweep_tmp_leftovers(store: &Store, library: &Path) -> crate::store::Result<Vec<PathBuf>> {
    let mut deleted = Vec::new();
    for (id, stem) in playlist_file_stems(store)? {
        let Ok(tmp) = m3u_path(library, &stem).map(|p| tmp_path(&p)) else { continue };
        if !fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_file()) {
            continue;
        }
        match fs::remove_file(&tmp) {
            Ok(()) => {
                tracing::info!(playlist = id, path = %tmp.display(), "deleted an M3U temporary a crash left");
                deleted.push(tmp);
            }
            Err(e) => {
                tracing::warn!(playlist = id, path = %tmp.display(), error = %e, "cannot delete an M3U temporary")
            }
        }
    }
    Ok(deleted)
}

/// A downloaded file of a playlist, present on disk ([`downloaded_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    /// The item.
    pub item: u64,
    /// Title players show: the item's title, else the file name.
    pub title: String,
    /// Duration in whole seconds, when known.
    pub duration_secs: Option<u64>,
    /// The file row (`path` relative to its library root).
    pub file: FileRow,
    /// Where the file is on disk.
    pub full: PathBuf,
    /// Whether it lives in an overflow root rather than `library`.
    pub overflow: bool,
}

/// The playlist's items with a file row whose file exists on disk (under `library` or its
/// overflow root), in document order. A file row whose path would leave its root is skipped
/// with a warning. Errors: the store's.
pub fn downloaded_files(
    store: &Store,
    library: &Path,
    playlist_id: u64,
) -> Result<Vec<DownloadedFile>, ExportError> {
    let mut out = Vec::new();
    let items = store.playlist_items(playlist_id)?;
    let with_files: Vec<u64> = items.iter().filter(|e| e.file.is_some()).map(|e| e.id).collect();
    let mut roots = store.item_file_roots(&with_files)?;
    for entry in items {
        let Some(file) = entry.file else { continue };
        let overflow = roots.remove(&entry.id);
        let root = overflow.as_deref().unwrap_or(library);
        let full = match safe_join(root, Path::new(&file.path)) {
            Ok(full) => full,
            Err(err) => {
                tracing::warn!(item = entry.id, path = %file.path, %err, "file row outside the library; not exported");
                continue;
            }
        };
        if !full.is_file() {
            continue;
        }
        let title = entry.item.title.clone().unwrap_or_else(|| file_name(&file).to_owned());
        out.push(DownloadedFile {
            item: entry.id,
            title,
            duration_secs: entry.item.duration_secs,
            file,
            full,
            overflow: overflow.is_some(),
        });
    }
    Ok(out)
}

/// The playlist's M3U entries (module docs): [`downloaded_files`], a file in an overflow root
/// listed by its absolute path.
fn downloaded_entries(store: &Store, library: &Path, playlist_id: u64) -> Result<Vec<M3uEntry>, ExportError> {
    Ok(downloaded_files(store, library, playlist_id)?
        .into_iter()
        .map(|f| {
            let path = if f.overflow { f.full.to_string_lossy().replace('\\', "/") } else { f.file.path };
            M3uEntry { title: f.title, duration_secs: f.duration_secs, path }
        })
        .collect())
}

/// Last `/`-separated component of a file row's path.
fn file_name(file: &FileRow) -> &str {
    file.path.rsplit('/').next().unwrap_or(&file.path)
}

/// `<path>.tmp`: where the new content is written before the rename.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(TMP_SUFFIX);
    path.with_file_name(name)
}

/// Writes `bytes` to `path` via `<path>.tmp`: create/truncate, write, fsync, rename over
/// `path`, then fsync the folder (Unix) so the rename itself is durable. The `.tmp` is removed
/// if any step before the rename fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let tmp = tmp_path(path);
    let written = (|| {
        // the library may not exist yet when every file went to an overflow root
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&tmp);
        return Err(ExportError::Io { path: tmp, source });
    }
    if let Err(source) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(ExportError::Io { path: path.to_path_buf(), source });
    }
    sync_dir(path)
}

/// Fsyncs the folder holding `path` so a rename or removal in it survives a crash
/// ([`crate::store::fsync_dir`]).
fn sync_dir(path: &Path) -> Result<(), ExportError> {
    match path.parent() {
        Some(dir) => crate::store::fsync_dir(dir).map_err(io_err(dir)),
        None => Ok(()),
    }
}

/// Removes `path` if this module wrote it for the playlist titled `title` (its first two
/// lines are `#EXTM3U` and that playlist's `#PLAYLIST:` line), plus a leftover `.tmp`.
fn remove_stale(path: &Path, title: &str) -> Result<(), ExportError> {
    let tmp = tmp_path(path);
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&tmp)(e)),
        _ => {}
    }
    let text = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let header = format!("#EXTM3U\n{}\n", m3u::playlist_line(title));
    if text.starts_with(header.as_bytes()) {
        fs::remove_file(path).map_err(io_err(path))?;
        sync_dir(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
