//! What one run does on one target, decided from the catalog and our own record of the target
//! (`Store::uploaded`) without asking the target:
//!
//! - **wanted**: every downloaded file (present on disk) of every playlist assigned to the
//!   target, at its library-relative path made device-safe ([`super::fat::DeviceNames`]), plus
//!   one M3U per such playlist at the target's root (`<playlist name>.m3u`, entries relative to
//!   the root, CRLF line ends when the target asks);
//! - **send**: the wanted files of the playlists in the job's scope that we have no record of,
//!   or whose source changed since (catalog SHA-256 or size differs from what we recorded);
//! - **delete** (mirror mode only): recorded paths no assigned playlist wants any more. Only
//!   recorded paths are ever candidates, so a file we did not put there is never touched.
//!
//! A file the device cannot take (FAT rules) is a per-file error of its playlists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::fat::DeviceNames;
use crate::config::UploadTarget;
use crate::export::{downloaded_files, playlist_file_stem, render_m3u, ExportError, M3uEntry};
use crate::store::{Store, UploadedRow};

/// One library file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Target-relative path, `/`-separated.
    pub path: String,
    /// The library file.
    pub local: PathBuf,
    /// Its size on disk (bytes).
    pub size: u64,
    /// SHA-256 the catalog recorded for it.
    pub source_sha256: String,
    /// The catalog item.
    pub item: u64,
    /// What a live worker shows.
    pub title: String,
    /// The playlists in scope that list it (a failure is theirs).
    pub playlists: Vec<u64>,
}

/// One M3U playlist file for the target, rendered once the files are sent ([`PlannedM3u::render`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedM3u {
    /// The playlist.
    pub playlist: u64,
    /// Target-relative path.
    pub path: String,
    /// The playlist's title.
    pub title: String,
    /// Its files in document order, at their target paths.
    pub entries: Vec<M3uEntry>,
}

impl PlannedM3u {
    /// The text listing the entries whose path is in `present` (on the target now), CRLF line
    /// ends when `crlf`, and its SHA-256; `None` when no entry is present.
    pub fn render(&self, present: &BTreeSet<String>, crlf: bool) -> Option<(String, String)> {
        let entries: Vec<M3uEntry> =
            self.entries.iter().filter(|e| present.contains(&e.path)).cloned().collect();
        if entries.is_empty() {
            return None;
        }
        let mut text = render_m3u(&self.title, &entries);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let sha = sha256_hex(text.as_bytes());
        Some((text, sha))
    }
}

/// The plan of one run on one target (module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPlan {
    /// Files to send, by item order of the playlists.
    pub send: Vec<PlannedFile>,
    /// M3U files of the playlists in scope (sent when their text differs from what we recorded).
    pub m3u: Vec<PlannedM3u>,
    /// Recorded paths to delete (mirror mode only).
    pub delete: Vec<String>,
    /// Recorded paths of ours whose item is wanted under another path now (its library file
    /// was renamed, `organize`): (old path, new path). Any mode deletes the old copy once the
    /// new one is on the target, so a rename never leaves an orphan behind.
    pub superseded: Vec<(String, String)>,
    /// Per-file errors (FAT rules), by playlist.
    pub errors: Vec<(u64, String)>,
    /// Wanted files already on the target as recorded.
    pub unchanged: u32,
}

impl TargetPlan {
    /// Bytes of the files the plan sends.
    pub fn bytes(&self) -> u64 {
        self.send.iter().map(|f| f.size).sum()
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Plans a run on `target` (module docs): `assigned` are the playlists assigned to it, `scope`
/// those of the job (a subset; their files are sent), `recorded` what we put there, `names`
/// the device's naming rules. Errors: the catalog's.
pub fn plan_target(
    store: &Store,
    library: &std::path::Path,
    target: &UploadTarget,
    assigned: &[u64],
    scope: &[u64],
    recorded: &BTreeMap<String, UploadedRow>,
    names: &mut DeviceNames,
) -> Result<TargetPlan, ExportError> {
    let mut plan = TargetPlan::default();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut sending: BTreeMap<String, usize> = BTreeMap::new();
    let mut wanted_items: BTreeMap<u64, String> = BTreeMap::new();
    for &playlist in assigned {
        let in_scope = scope.contains(&playlist);
        let files = downloaded_files(store, library, playlist)?;
        let mut entries = Vec::with_capacity(files.len());
        for f in files {
            let size = std::fs::metadata(&f.full).map(|m| m.len()).unwrap_or(f.file.size);
            let path = match names.claim(&f.file.path, size) {
                Ok(path) => path,
                Err(e) => {
                    if in_scope {
                        plan.errors.push((playlist, e.to_string()));
                    }
                    continue;
                }
            };
            wanted.insert(path.clone());
            wanted_items.entry(f.item).or_insert_with(|| path.clone());
            entries.push(M3uEntry {
                title: f.title.clone(),
                duration_secs: f.duration_secs,
                path: path.clone(),
            });
            if !in_scope {
                continue;
            }
            if let Some(&i) = sending.get(&path) {
                plan.send[i].playlists.push(playlist);
                continue;
            }
            let same =
                recorded.get(&path).is_some_and(|r| r.size == size && r.source_sha256 == f.file.sha256);
            if same {
                plan.unchanged += 1;
                continue;
            }
            sending.insert(path.clone(), plan.send.len());
            plan.send.push(PlannedFile {
                path,
                local: f.full,
                size,
                source_sha256: f.file.sha256,
                item: f.item,
                title: f.title,
                playlists: vec![playlist],
            });
        }
        if entries.is_empty() {
            continue;
        }
        let stem = playlist_file_stem(store, playlist)?;
        let title = store.playlist(playlist)?.display_title().to_string();
        let Ok(path) = names.claim(&format!("{stem}.m3u"), 0) else { continue };
        wanted.insert(path.clone());
        if in_scope {
            plan.m3u.push(PlannedM3u { playlist, path, title, entries });
        }
    }
    if target.mirror {
        plan.delete = recorded.keys().filter(|p| !wanted.contains(*p)).cloned().collect();
    } else {
        plan.superseded = recorded
            .iter()
            .filter(|(p, _)| !wanted.contains(*p))
            .filter_map(|(p, r)| Some((p.clone(), wanted_items.get(&r.item?)?.clone())))
            .collect();
    }
    Ok(plan)
}
