//! Renaming (the `organize` job): moves every downloaded file to the name the current
//! `name_template` gives it, and removes the folders a move leaves empty (inside the library
//! root or overflow root the file lives in; never the root itself).
//!
//! Names are chosen as the download stage chooses them (`download::naming`): the template
//! rendered with the item's facts (`{playlist}` the playlist's file-system name, `{title}`,
//! `{date}`, `{guid_hash}`; `{ext}` keeps the file's own extension, which came from the same
//! rule when it was downloaded), then made unique with ` (2)`, ` (3)`... against every path
//! the catalog records or journals for another item, files on disk (a foreign file is never
//! overwritten) and `.part` files of transfers in flight. A file already at one of its
//! candidate names stays put.
//!
//! Each move is crash-safe (see `store::organize`): [`prepare`] journals old and new path,
//! [`apply`] moves the file without ever replacing one (a hard link to the new name, then
//! the old name is unlinked; a plain rename checked against an existing name where the volume
//! has no hard links), [`commit`] records the new path. [`recover`] finishes what a crash left
//! in the journal by looking at which of the two paths holds the file. [`preview`] is the dry
//! run: the same choices, simulated in order, with nothing written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::download::naming::{
    render_relative_path, safe_join, split_ext, unique_path, NameVars, NamingError,
};
use crate::download::part_path;
use crate::store::organize::{Committed, OrganizeMoveRow};
use crate::store::{tables, FileRow, Store, StoreError};

/// Errors of renaming. Store and I/O errors are transient (a rerun retries); a template that
/// does not render is expected (fix the template).
#[derive(Debug, thiserror::Error)]
pub enum OrganizeError {
    /// The catalog could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The template does not render, or no free name is left.
    #[error(transparent)]
    Naming(#[from] NamingError),
    /// A file or folder could not be moved or created.
    #[error("{path}: {source}")]
    Io {
        /// The path acted on.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OrganizeError + '_ {
    move |source| OrganizeError::Io { path: path.to_path_buf(), source }
}

/// One rename, planned or done: library-relative paths (`/`-separated) under `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The catalog item.
    pub item: u64,
    /// Its title (for people).
    pub title: String,
    /// Path before.
    pub from: String,
    /// Path after.
    pub to: String,
    /// The library root the file lives under (the default library or an overflow root).
    pub root: PathBuf,
}

/// The dry run's answer ([`preview`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizePlan {
    /// Renames in the order the job would make them.
    pub renames: Vec<Rename>,
    /// Downloaded files already named after the template.
    pub unchanged: u32,
    /// File rows whose file is not on disk (left alone).
    pub missing: u32,
    /// Items whose name could not be chosen: (item, reason).
    pub errors: Vec<(u64, String)>,
}

/// What the catalog says about one downloaded item, and the name the template gives it.
struct Facts {
    title: String,
    file: FileRow,
    root: PathBuf,
    wanted: PathBuf,
}

/// A `/`-separated relative path as the store records it.
fn slash(rel: &Path) -> String {
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Playlist id -> its file-system name (`export::playlist_file_stems`: one read of the
/// playlists for a whole pass).
type Stems = std::collections::BTreeMap<u64, String>;

fn facts(
    store: &Store,
    library: &Path,
    template: &str,
    item: u64,
    stems: &Stems,
) -> Result<Option<Facts>, OrganizeError> {
    let Some(file) = store.item_file(item)? else { return Ok(None) };
    let row = store.item(item)?;
    let playlist = stems
        .get(&row.playlist_id)
        .cloned()
        .ok_or_else(|| StoreError::NotFound { what: "playlist", id: row.playlist_id.to_string() })?;
    let title = row.title.clone().unwrap_or_else(|| format!("item {item}"));
    let (_, ext) = split_ext(&file.path);
    // `{ext}` keeps the file's own extension: an `x.<ext>` URL gives exactly it
    let enclosure_url = match ext.len() {
        2..=6 => Some(format!("file:///x{ext}")),
        _ => Some(file.url.clone()),
    };
    let vars = NameVars {
        playlist,
        title: title.clone(),
        published: row.published,
        item_key: row.key.clone(),
        enclosure_url,
        mime_type: row.enclosure.as_ref().and_then(|e| e.mime_type.clone()),
    };
    let wanted = render_relative_path(template, &vars)?;
    let root = store.item_file_root(item)?.unwrap_or_else(|| library.to_path_buf());
    Ok(Some(Facts { title, file, root, wanted }))
}

/// Whether `a` and `b` name one file (a hard link, or one name in two cases).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
    }
}

/// Whether `from` (the same file as the new name) is a second name of it, a hard link left
/// by a crash between link and unlink, rather than the one name a case-insensitive volume
/// gives `from_rel` and `to_rel` when they differ only in case.
fn two_names(from: &Path, from_rel: &str, to_rel: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = (from_rel, to_rel);
        std::fs::metadata(from).is_ok_and(|m| m.nlink() >= 2)
    }
    #[cfg(not(unix))]
    {
        let _ = from;
        tables::fold_path(from_rel) != tables::fold_path(to_rel)
    }
}

/// Whether something on disk holds `abs` (other than the item's own file `own`): a file or
/// folder, or the `.part` of a transfer in flight.
fn on_disk(abs: &Path, own: &Path) -> bool {
    (abs.exists() && !same_file(abs, own)) || part_path(abs).is_some_and(|p| p.exists())
}

/// Whether library-relative `rel` (at `abs`) is taken for `item`: another item's file row
/// names it, or a file other than `own` (or a `.part`) sits there. A store error is kept in
/// `failed` and counts as taken, so the caller stops and reports it.
fn taken(
    store: &Store,
    rel: &str,
    item: u64,
    abs: &Path,
    own: &Path,
    failed: &std::cell::RefCell<Option<crate::store::StoreError>>,
) -> bool {
    match store.organize_path_owner(rel) {
        Ok(owner) => owner.is_some_and(|o| o != item) || on_disk(abs, own),
        Err(e) => {
            *failed.borrow_mut() = Some(e);
            true
        }
    }
}

/// The dry run (module docs): every downloaded item in id order, names chosen as the job
/// would choose them one after another. Writes nothing. Errors: the store's.
pub fn preview(store: &Store, library: &Path, template: &str) -> Result<OrganizePlan, OrganizeError> {
    let mut plan = OrganizePlan::default();
    let (mut claimed, mut vacated) = (HashSet::new(), HashSet::new());
    let stems = crate::export::playlist_file_stems(store)?;
    for item in store.downloaded_item_ids()? {
        let f = match facts(store, library, template, item, &stems) {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(OrganizeError::Naming(e)) => {
                plan.errors.push((item, e.to_string()));
                continue;
            }
            Err(e) => return Err(e),
        };
        let own = match safe_join(&f.root, Path::new(&f.file.path)) {
            Ok(own) if own.is_file() => own,
            _ => {
                plan.missing += 1;
                continue;
            }
        };
        let failed = std::cell::RefCell::new(None);
        let chosen = unique_path(&f.root, &f.wanted, |abs| {
            let Ok(rel) = abs.strip_prefix(&f.root).map(slash) else { return true };
            let folded = tables::fold_path(&rel);
            if claimed.contains(&folded) {
                return true;
            }
            if vacated.contains(&folded) {
                return false;
            }
            taken(store, &rel, item, abs, &own, &failed)
        });
        if let Some(e) = failed.into_inner() {
            return Err(e.into());
        }
        let to = match chosen {
            Ok(abs) => slash(abs.strip_prefix(&f.root).unwrap_or(&abs)),
            Err(e) => {
                plan.errors.push((item, e.to_string()));
                continue;
            }
        };
        if to == f.file.path {
            plan.unchanged += 1;
            continue;
        }
        claimed.insert(tables::fold_path(&to));
        vacated.insert(tables::fold_path(&f.file.path));
        plan.renames.push(Rename { item, title: f.title, from: f.file.path, to, root: f.root });
    }
    Ok(plan)
}

/// Chooses `item`'s new name against the catalog and the disk as they are now and journals
/// the move (step 1); `None` when the file is already named after the template, has no file
/// row, or its file is not on disk. Errors: the store's; a template that does not render.
pub fn prepare(
    store: &Store,
    library: &Path,
    template: &str,
    job: u64,
    item: u64,
    now_ms: i64,
) -> Result<Option<Rename>, OrganizeError> {
    let stems = crate::export::playlist_file_stems(store)?;
    let Some(f) = facts(store, library, template, item, &stems)? else { return Ok(None) };
    let own = safe_join(&f.root, Path::new(&f.file.path))?;
    if !own.is_file() {
        return Ok(None);
    }
    let failed = std::cell::RefCell::new(None);
    let chosen = unique_path(&f.root, &f.wanted, |abs| {
        let Ok(rel) = abs.strip_prefix(&f.root).map(slash) else { return true };
        taken(store, &rel, item, abs, &own, &failed)
    });
    if let Some(e) = failed.into_inner() {
        return Err(e.into());
    }
    let to = slash(chosen?.strip_prefix(&f.root).unwrap_or(Path::new("")));
    if to == f.file.path {
        return Ok(None);
    }
    let row = OrganizeMoveRow { job, from: f.file.path.clone(), to: to.clone(), planned_ms: now_ms };
    store.journal_move(item, row)?;
    Ok(Some(Rename { item, title: f.title, from: f.file.path, to, root: f.root }))
}

/// Moves the file of a journaled rename on disk (step 2) without replacing anything, then
/// removes the folders the move left empty: `false` when a file appeared at the new name
/// meanwhile (the caller abandons the move and chooses again). The folders go before the
/// move is committed, so a crash after the commit never leaves an emptied folder behind that
/// no journal entry names (a crash before it leaves the entry, and [`recover`] removes them).
/// Errors: I/O (the journal entry stays; [`recover`] settles it).
pub fn apply(rename: &Rename) -> Result<bool, OrganizeError> {
    let moved = move_file(rename)?;
    if moved {
        remove_empty_parents(&rename.root, &rename.from);
    }
    Ok(moved)
}

/// [`apply`]'s move of the file itself.
fn move_file(rename: &Rename) -> Result<bool, OrganizeError> {
    let from = safe_join(&rename.root, Path::new(&rename.from))?;
    let to = safe_join(&rename.root, Path::new(&rename.to))?;
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    match std::fs::hard_link(&from, &to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !same_file(&from, &to) => {
            return Ok(false)
        }
        Err(_) => {
            // no hard links here (FAT, exFAT), or one name in two cases: a checked rename
            if to.exists() && !same_file(&from, &to) {
                return Ok(false);
            }
            std::fs::rename(&from, &to).map_err(io(&from))?;
            return Ok(true);
        }
    }
    std::fs::remove_file(&from).map_err(io(&from))?;
    Ok(true)
}

/// Records the new path (step 3); [`apply`] removed the folders the move left empty.
/// Errors: the store's.
pub fn commit(store: &Store, rename: &Rename) -> Result<(), OrganizeError> {
    store.commit_move(rename.item)?;
    Ok(())
}

/// Removes the folders of `rel` (a library-relative file path) that are empty, deepest first,
/// up to but never including `root`. Stops at the first folder that is not empty.
pub fn remove_empty_parents(root: &Path, rel: &str) {
    let mut dir = Path::new(rel).parent().map(Path::to_path_buf);
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        let Ok(abs) = safe_join(root, &d) else { return };
        if abs == root || std::fs::remove_dir(&abs).is_err() {
            return;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
}

/// How [`recover`] settled the journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Moves finished: the file was at its new path.
    pub committed: u32,
    /// Moves forgotten: the file never left its old path (or is gone).
    pub abandoned: u32,
}

/// Settles every journaled move a crash left (module docs): the file at the new path (alone,
/// or as a hard link of the old one, which is then unlinked) commits the move; otherwise the
/// move is forgotten and the file keeps its old name. Errors: the store's.
pub fn recover(store: &Store, library: &Path) -> Result<Recovered, OrganizeError> {
    let mut out = Recovered::default();
    for (item, row) in store.organize_journal()? {
        let root = store.item_file_root(item)?.unwrap_or_else(|| library.to_path_buf());
        let (Ok(from), Ok(to)) =
            (safe_join(&root, Path::new(&row.from)), safe_join(&root, Path::new(&row.to)))
        else {
            store.abandon_move(item)?;
            out.abandoned += 1;
            continue;
        };
        let linked = from.exists() && same_file(&from, &to);
        if !to.is_file() || (from.exists() && !linked) {
            // the file never left its old name (or a foreign file sits at the new one)
            store.abandon_move(item)?;
            out.abandoned += 1;
            continue;
        }
        if linked && two_names(&from, &row.from, &row.to) {
            std::fs::remove_file(&from).map_err(io(&from))?;
        }
        if store.commit_move(item)? == Committed::Moved {
            out.committed += 1;
        }
        remove_empty_parents(&root, &row.from);
    }
    Ok(out)
}
