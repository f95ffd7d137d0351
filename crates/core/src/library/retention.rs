//! Retention (issue 16, part 2): deletes downloaded episodes past a playlist's rule
//! (`config::Retention`: keep everything, keep the newest N, delete older than D days), run
//! after each download stage (`jobs::retention_hook`) and on demand (`Api::clean`, with a dry
//! run that only reports).
//!
//! Never deleted, whatever the rule says:
//! - an item marked "keep" (`Store::set_item_keep`);
//! - a file another playlist selected for download or a job not ended still references (the
//!   reference counts of `store::refs`; the job running retention does not count);
//! - a file not written by us: only files the catalog records (`FileRow`) are considered, and
//!   one whose size on disk is neither the recorded size nor the size it had once tagged was
//!   changed by someone else and is spared; a missing file (an unmounted drive) is spared too.
//!
//! How a run goes ([`run`]): first the deletions a crash left pending are finished, then the
//! rule of each playlist in scope (its own, else the global default) picks the files past it
//! ([`past_rule`], pure), the never-delete rules spare some ([`plan`]), the decision is recorded
//! in one store transaction (`Store::record_removals`: file rows out, items remembered as
//! deleted, files marked pending), and only then are the files deleted and the pending marks
//! cleared. A kill between the two leaves files the catalog no longer claims, never the other
//! way round; the next run (or the engine's start) deletes them. Deleted items are not
//! downloaded again until the user marks them "keep".

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::retention::DAY_MS;
use crate::config::Retention;
use crate::download::naming::safe_join;
use crate::store::refs::Holder;
use crate::store::retention::{protecting_holder, Removal, RetentionFacts};
use crate::store::{Store, StoreError};

/// One file retention deleted (or would delete, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RemovedFile {
    /// Item id.
    pub item: u64,
    /// The playlist whose rule chose it.
    pub playlist: u64,
    /// The item's title, else `(untitled)`.
    pub title: String,
    /// Library-relative path of the file.
    pub path: String,
    /// Bytes freed (a dry run: the file's size now).
    pub bytes: u64,
}

/// A file past its playlist's rule that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SparedFile {
    /// Item id.
    pub item: u64,
    /// The playlist whose rule chose it.
    pub playlist: u64,
    /// The item's title, else `(untitled)`.
    pub title: String,
    /// Why it stays: `marked keep`, `playlist N wants it`, `job N references it`,
    /// `changed on disk (not ours)`, `missing on disk`.
    pub reason: String,
}

/// What a retention run did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RetentionReport {
    /// Only reported, nothing deleted.
    pub dry_run: bool,
    /// Files deleted (would be deleted), in playlist order then newest first.
    pub removed: Vec<RemovedFile>,
    /// Bytes freed by them (a dry run: their sizes now), plus the bytes of pending deletions
    /// finished.
    pub bytes_freed: u64,
    /// Files past their rule that stay.
    pub spared: Vec<SparedFile>,
    /// Deletions an interrupted run left on disk, finished now.
    pub finished_pending: u32,
}

/// The items of `files` (id, time in Unix ms: published, else downloaded) past `rule` at
/// `now_ms`: beyond the newest `count` (ties: the higher id is newer), or older than `days`
/// days. Pure; order of the result: newest first.
pub fn past_rule(rule: Retention, now_ms: i64, files: &[(u64, i64)]) -> Vec<u64> {
    let mut sorted = files.to_vec();
    sorted.sort_unstable_by_key(|f| std::cmp::Reverse((f.1, f.0)));
    match rule {
        Retention::KeepAll => Vec::new(),
        Retention::KeepNewest { count } => {
            sorted.into_iter().skip(count as usize).map(|(id, _)| id).collect()
        }
        Retention::OlderThanDays { days } => {
            let limit = now_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
            sorted.into_iter().filter(|&(_, t)| t < limit).map(|(id, _)| id).collect()
        }
    }
}

/// What [`plan`] decided: deletions to record and files spared.
#[derive(Debug, Clone, Default)]
pub struct RetentionPlan {
    /// Deletions, with the file each removes (absolute path) and its size now (bytes).
    pub removals: Vec<(Removal, RemovedFile, PathBuf)>,
    /// Files past their rule that stay.
    pub spared: Vec<SparedFile>,
}

/// Where a file is: under its overflow root `root`, else under `library`; `None` when `rel`
/// would escape it.
fn abs_path(library: &Path, root: Option<&Path>, rel: &str) -> Option<PathBuf> {
    safe_join(root.unwrap_or(library), Path::new(rel)).ok()
}

fn spare_reason(
    f: &RetentionFacts,
    playlist: u64,
    own_job: Option<u64>,
    on_disk: Option<u64>,
) -> Option<String> {
    if f.keep {
        return Some("marked keep".into());
    }
    match protecting_holder(&f.holders, playlist, own_job) {
        Some(Holder::Playlist(p)) => return Some(format!("playlist {p} wants it")),
        Some(Holder::Job(j)) => return Some(format!("job {j} references it")),
        None => {}
    }
    match on_disk {
        None => Some("missing on disk".into()),
        Some(size) if size != f.file.size && Some(size) != f.tagged_size => {
            Some("changed on disk (not ours)".into())
        }
        Some(_) => None,
    }
}

/// Decides what retention deletes in `scope` (playlist ids; empty = every playlist): each
/// playlist's own rule, else `default_rule`, at `now_ms`, run by `own_job` (whose references
/// do not protect). Reads the store and the sizes of the files on disk; changes nothing.
/// Errors: the store's.
pub fn plan(
    store: &Store,
    library: &Path,
    default_rule: Retention,
    scope: &[u64],
    now_ms: i64,
    own_job: Option<u64>,
) -> Result<RetentionPlan, StoreError> {
    let own = store.playlist_retentions()?;
    let mut out = RetentionPlan::default();
    let mut seen = HashSet::new();
    for playlist in store.scope_playlists(scope)? {
        let rule = own.get(&playlist).copied().unwrap_or(default_rule);
        if rule == Retention::KeepAll {
            continue;
        }
        let facts = store.retention_facts(playlist)?;
        let times: Vec<(u64, i64)> = facts
            .iter()
            .map(|f| (f.item, f.published.map(|s| s.saturating_mul(1000)).unwrap_or(f.file.downloaded_ms)))
            .collect();
        for id in past_rule(rule, now_ms, &times) {
            let Some(f) = facts.iter().find(|f| f.item == id) else { continue };
            if !seen.insert(id) {
                continue;
            }
            let title = f.title.clone().unwrap_or_else(|| "(untitled)".to_string());
            let abs = abs_path(library, f.root.as_deref(), &f.file.path);
            let on_disk =
                abs.as_ref().and_then(|p| std::fs::symlink_metadata(p).ok()).filter(|m| m.is_file());
            let on_disk_size = on_disk.map(|m| m.len());
            match (spare_reason(f, playlist, own_job, on_disk_size), abs) {
                (None, Some(abs)) => {
                    let removal =
                        Removal { item: id, file: f.file.clone(), playlist, own_job, rule: rule.describe() };
                    let shown = RemovedFile {
                        item: id,
                        playlist,
                        title,
                        path: f.file.path.clone(),
                        bytes: on_disk_size.unwrap_or(0),
                    };
                    out.removals.push((removal, shown, abs));
                }
                (reason, _) => out.spared.push(SparedFile {
                    item: id,
                    playlist,
                    title,
                    reason: reason.unwrap_or_else(|| "path outside the library".into()),
                }),
            }
        }
    }
    Ok(out)
}

/// Deletes the files of deletions recorded but not yet done (a crash, or a file that could
/// not be deleted), then forgets them. A path an item recorded again meanwhile is left alone.
/// Returns (deletions finished, bytes freed). Errors: the store's; a file that cannot be
/// deleted stays pending with a warning.
pub fn finish_pending(store: &Store, library: &Path) -> Result<(u32, u64), StoreError> {
    let mut done = Vec::new();
    let mut bytes = 0;
    for (item, row, taken) in store.pending_removals()? {
        if !taken {
            let root = row.root.as_deref().map(Path::new);
            if let Some(path) = abs_path(library, root, &row.path) {
                let size = std::fs::symlink_metadata(&path).map(|m| m.len()).unwrap_or(0);
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        bytes += size;
                        tracing::info!(item, path = %path.display(), size, "retention deleted a file");
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(item, path = %path.display(), error = %e, "retention cannot delete a file; tried again next run");
                        continue;
                    }
                }
            }
        }
        done.push(item);
    }
    let count = done.len() as u32;
    if !done.is_empty() {
        store.clear_pending_removals(done)?;
    }
    Ok((count, bytes))
}

/// Records the deletions of `plan` (the store re-checks each against the never-delete rules in
/// its transaction) and returns the files recorded. The files are still on disk: call
/// [`finish_pending`]. Errors: the store's.
pub fn record(store: &Store, plan: &RetentionPlan, now_ms: i64) -> Result<Vec<RemovedFile>, StoreError> {
    let removals = plan.removals.iter().map(|(r, _, _)| r.clone()).collect();
    let recorded: HashSet<u64> = store.record_removals(removals, now_ms)?.into_iter().collect();
    Ok(plan
        .removals
        .iter()
        .filter(|(r, _, _)| recorded.contains(&r.item))
        .map(|(_, f, _)| f.clone())
        .collect())
}

/// One retention run over `scope` (see the module docs and [`plan`]); with `dry_run` nothing
/// changes and the report says what would go. Errors: the store's.
pub fn run(
    store: &Store,
    library: &Path,
    default_rule: Retention,
    scope: &[u64],
    now_ms: i64,
    own_job: Option<u64>,
    dry_run: bool,
) -> Result<RetentionReport, StoreError> {
    let (finished_pending, pending_bytes) = if dry_run { (0, 0) } else { finish_pending(store, library)? };
    let plan = plan(store, library, default_rule, scope, now_ms, own_job)?;
    if dry_run {
        let removed: Vec<RemovedFile> = plan.removals.into_iter().map(|(_, f, _)| f).collect();
        let bytes_freed = removed.iter().map(|f| f.bytes).sum();
        return Ok(RetentionReport { dry_run, removed, bytes_freed, spared: plan.spared, finished_pending });
    }
    let removed = record(store, &plan, now_ms)?;
    // each file's size is the one seen at planning; the total is what the deletions measured
    let (_, bytes) = finish_pending(store, library)?;
    Ok(RetentionReport {
        dry_run,
        removed,
        bytes_freed: bytes + pending_bytes,
        spared: plan.spared,
        finished_pending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_newest_keeps_the_newest_and_ties_go_by_id() {
        let files = [(1, 100), (2, 300), (3, 200), (4, 300)];
        assert_eq!(past_rule(Retention::KeepNewest { count: 2 }, 0, &files), vec![3, 1]);
        assert_eq!(past_rule(Retention::KeepNewest { count: 9 }, 0, &files), Vec::<u64>::new());
        assert_eq!(past_rule(Retention::KeepAll, 0, &files), Vec::<u64>::new());
    }

    #[test]
    fn older_than_days_counts_from_now() {
        let now = 10 * DAY_MS;
        let files = [(1, now - 3 * DAY_MS - 1), (2, now - 3 * DAY_MS), (3, now)];
        assert_eq!(past_rule(Retention::OlderThanDays { days: 3 }, now, &files), vec![1]);
    }
}
