//! Free space of library roots, checked before bytes are written.
//!
//! A [`SpaceProbe`] says how many bytes an unprivileged user may still write on the file
//! system holding a path ([`FsSpace`]: `statvfs` `f_bavail * f_frsize` on unix,
//! `GetDiskFreeSpaceExW` on Windows, through the `fs4` crate); tests inject a fake probe.
//! [`choose_root`] walks the roots in order (the library, then `Config::overflow_libraries`)
//! and picks the first with room for the bytes still to come; when none has room it fails with
//! [`TransferError::DiskFull`] naming the needed and available bytes. The probe measures the
//! nearest existing ancestor, so a root not created yet reports the space it will get.

use std::path::{Path, PathBuf};

use super::error::TransferError;

/// Free space of the file system holding a path.
pub trait SpaceProbe: Send + Sync + std::fmt::Debug {
    /// Bytes available to an unprivileged user on the file system holding `path`.
    /// Errors: the path (and every ancestor) cannot be inspected.
    fn available(&self, path: &Path) -> std::io::Result<u64>;
}

/// The real probe (module docs).
#[derive(Debug, Default, Clone, Copy)]
pub struct FsSpace;

impl SpaceProbe for FsSpace {
    fn available(&self, path: &Path) -> std::io::Result<u64> {
        // the path itself first: it exists nearly always (one statvfs, no stat)
        match fs4::available_space(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let existing = path.ancestors().skip(1).find(|p| p.exists()).unwrap_or(path);
                fs4::available_space(existing)
            }
            measured => measured,
        }
    }
}

/// The first of `roots` (index into it) whose file system has at least `needed` bytes
/// available, by `probe`. A root whose space cannot be read is skipped; when every root is
/// short the error is [`TransferError::DiskFull`] with the last root checked.
pub fn choose_root(probe: &dyn SpaceProbe, roots: &[PathBuf], needed: u64) -> Result<usize, TransferError> {
    let mut last = None;
    for (i, root) in roots.iter().enumerate() {
        match probe.available(root) {
            Ok(available) if available >= needed => return Ok(i),
            Ok(available) => last = Some((root.clone(), available)),
            Err(e) => {
                tracing::warn!(root = %root.display(), error = %e, "cannot read free space; skipping root")
            }
        }
    }
    let (root, available) = last.unwrap_or_else(|| (roots.first().cloned().unwrap_or_default(), 0));
    Err(TransferError::DiskFull { root, needed, available })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Debug)]
    struct Fake(HashMap<PathBuf, u64>);

    impl SpaceProbe for Fake {
        fn available(&self, path: &Path) -> std::io::Result<u64> {
            self.0.get(path).copied().ok_or_else(|| std::io::Error::other("no such mount"))
        }
    }

    #[test]
    fn the_first_root_with_room_wins_and_none_is_disk_full() {
        let roots: Vec<PathBuf> = ["/lib", "/gone", "/over1", "/over2"].iter().map(PathBuf::from).collect();
        let probe = Fake([("/lib".into(), 100), ("/over1".into(), 500), ("/over2".into(), 5_000)].into());
        assert_eq!(choose_root(&probe, &roots, 100).unwrap(), 0);
        assert_eq!(choose_root(&probe, &roots, 101).unwrap(), 2, "an unreadable root is skipped");
        assert_eq!(choose_root(&probe, &roots, 4_000).unwrap(), 3);
        let err = choose_root(&probe, &roots, 9_000).unwrap_err();
        assert!(
            matches!(&err, TransferError::DiskFull { root, needed: 9_000, available: 5_000 } if root == Path::new("/over2")),
            "{err:?}"
        );
        assert_eq!(err.class(), "disk_full");
    }

    #[test]
    fn the_real_probe_reads_a_missing_folder_through_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        // statvfs on the missing path itself would fail with ENOENT
        assert!(FsSpace.available(&dir.path().join("not/yet/made")).unwrap() > 0);
    }
}
