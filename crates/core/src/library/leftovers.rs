//! Temporary files a crash leaves beside media (issue 16, part 1 leftover). Tagging writes a
//! copy named `<file>.tagging` beside the downloaded file and renames it over the file
//! (`tags::tag_file`); a kill before the rename leaves the copy. [`sweep_tagging_leftovers`]
//! runs at the engine's start, before any job (so no tagging is in progress), and deletes
//! only such copies of files the catalog records: never a file merely named like one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::download::naming::safe_join;
use crate::store::{Store, StoreError};

/// Suffix of the tagging copy.
pub const TAGGING_SUFFIX: &str = ".tagging";

/// The tagging copy of `file`: `<file>.tagging` beside it.
pub fn tagging_temp(file: &Path) -> PathBuf {
    let mut name: OsString = file.file_name().unwrap_or_default().to_os_string();
    name.push(TAGGING_SUFFIX);
    file.with_file_name(name)
}

/// Deletes the tagging copies left beside the files the catalog records (under their
/// overflow root, else `library`). Returns the paths deleted. Errors: the store's; a copy
/// that cannot be deleted is logged and left.
pub fn sweep_tagging_leftovers(store: &Store, library: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut deleted = Vec::new();
    for (item, rel, root) in store.recorded_files()? {
        let Ok(file) = safe_join(root.as_deref().unwrap_or(library), Path::new(&rel)) else { continue };
        let tmp = tagging_temp(&file);
        if !std::fs::symlink_metadata(&tmp).is_ok_and(|m| m.is_file()) {
            continue;
        }
        match std::fs::remove_file(&tmp) {
            Ok(()) => {
                tracing::info!(item, path = %tmp.display(), "deleted a tagging copy a crash left");
                deleted.push(tmp);
            }
            Err(e) => tracing::warn!(item, path = %tmp.display(), error = %e, "cannot delete a tagging copy"),
        }
    }
    Ok(deleted)
}
