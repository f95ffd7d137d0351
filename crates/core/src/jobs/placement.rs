//! Where a download's file goes: which library root has room for it.
//!
//! The roots are the library, then `Config::overflow_libraries` in order. Before a transfer
//! the bytes still needed are the item's declared enclosure length (advice only: a length
//! above [`ADVISORY_LENGTH_BOUND`], such as RSS `length="99999999999999"`, counts as unknown)
//! minus the bytes of a part
//! already on disk (a part is resumed in the root it is in, when that root still has room for
//! the rest); the first root whose free space ([`crate::download::space::SpaceProbe`]) covers
//! them is chosen, and with none the item fails with the final class `disk_full`. During the
//! transfer the response's announced size is checked again (`TransferOptions::space`); a
//! shortfall there moves the item to the next root with room. A file outside the default
//! library is recorded with its root (`Store::finish_download_in`), so its path stays
//! resolvable.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::context::Context;
use crate::download::space::{choose_root, SpaceProbe};
use crate::download::{part_path, TransferError};

/// Largest declared enclosure length taken as advice for the space check before a transfer,
/// in bytes (4 GiB). Feeds declare wrong lengths often, and absurd ones now and then; above
/// this the length counts as unknown, and the response's `Content-Length`, checked during the
/// transfer, decides.
pub(super) const ADVISORY_LENGTH_BOUND: u64 = 4 * 1024 * 1024 * 1024;

/// Library-relative paths that workers of a stage hold right now (chosen, not yet recorded),
/// compared case-folded (`store::tables::fold_path`): two names differing only in case are one
/// file on FAT32, exFAT and macOS volumes.
#[derive(Debug, Default)]
pub(super) struct ReservedPaths(Mutex<HashSet<String>>);

impl ReservedPaths {
    /// Reserves `rel`; `false` when it (in any case) is held already.
    pub(super) fn reserve(&self, rel: &str) -> bool {
        self.0.lock().expect("reserved lock").insert(crate::store::tables::fold_path(rel))
    }

    /// Releases `rel`.
    pub(super) fn release(&self, rel: &str) {
        self.0.lock().expect("reserved lock").remove(&crate::store::tables::fold_path(rel));
    }

    /// Releases `rel` (reserved already) when the returned guard drops: hold a name until the
    /// file row that records it is written, on every path out.
    pub(super) fn hold(&self, rel: &str) -> Held<'_> {
        Held { paths: self, rel: Some(rel.to_owned()) }
    }
}

/// A reservation released on drop ([`ReservedPaths::hold`]).
pub(super) struct Held<'a> {
    paths: &'a ReservedPaths,
    rel: Option<String>,
}

impl Held<'_> {
    /// Keeps the reservation past this guard; the caller releases it (with
    /// [`ReservedPaths::release`]) once the file row is written.
    pub(super) fn keep(mut self) {
        self.rel = None;
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(rel) = &self.rel {
            self.paths.release(rel);
        }
    }
}

/// The library roots in order: the library, then the overflow roots.
pub(super) fn roots(cx: &Context) -> Vec<PathBuf> {
    let c = cx.config();
    std::iter::once(c.library.clone()).chain(c.overflow_libraries.iter().cloned()).collect()
}

/// Bytes of the part of `rel` under `root`, if one exists.
fn part_len(root: &Path, rel: &str) -> Option<u64> {
    let dest = crate::download::safe_join(root, Path::new(rel)).ok()?;
    std::fs::metadata(part_path(&dest)?).ok().map(|m| m.len())
}

/// The root (index into `roots`) for a download of `rel` whose enclosure declares `declared`
/// bytes: the first root holding a part of `rel` (a resume), if it has room for the rest,
/// else the first with room for all of it. `first_part`: the part's length in bytes under the
/// first root when the caller already read it (0 or `None`: no part there); `None` reads it
/// here. Errors: [`TransferError::DiskFull`] when no root has room. Blocking (file system
/// calls).
pub(super) fn initial_root(
    probe: &dyn SpaceProbe,
    roots: &[PathBuf],
    rel: &str,
    declared: Option<u64>,
    first_part: Option<u64>,
) -> Result<usize, TransferError> {
    let declared = declared.filter(|&d| d <= ADVISORY_LENGTH_BOUND).unwrap_or(0);
    let part_in = |i: usize, root: &PathBuf| match (i, first_part) {
        (0, Some(len)) => (len > 0).then_some(len),
        _ => part_len(root, rel),
    };
    if let Some((i, part)) = roots.iter().enumerate().find_map(|(i, r)| part_in(i, r).map(|p| (i, p))) {
        if probe.available(&roots[i]).is_ok_and(|free| free >= declared.saturating_sub(part)) {
            return Ok(i);
        }
    }
    choose_root(probe, roots, declared)
}

/// The next root after `current` with room for `needed` bytes, if any.
pub(super) fn next_root(cx: &Context, roots: &[PathBuf], current: usize, needed: u64) -> Option<usize> {
    let later = roots.get(current + 1..)?;
    choose_root(cx.space.as_ref(), later, needed).ok().map(|i| current + 1 + i)
}
