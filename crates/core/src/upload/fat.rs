//! Device-safe names for folder targets on FAT32 and exFAT (SD cards, USB sticks, players).
//! [`fs_kind`] reads the file system of the target folder (`statfs(2)` `f_type`: `0x4d44`
//! MSDOS_SUPER_MAGIC for FAT12/16/32 through the `vfat` driver, `0x2011bab0` for the in-kernel
//! exFAT driver; Linux `include/uapi/linux/magic.h`); on either, [`DeviceNames`] turns every
//! target-relative path into one the device accepts, by Microsoft's FAT and exFAT rules
//! ("Microsoft Extensible Firmware Initiative FAT32 File System Specification" §7, long names;
//! "exFAT file system specification" §7.7.3, FileName):
//!
//! - the characters `" * / : < > ? \ |` and controls below U+0020 are not allowed: each
//!   becomes `_`;
//! - trailing dots and spaces are dropped by Windows and refused by the drivers: trimmed;
//! - a name is at most 255 UTF-16 code units: longer ones are cut, keeping the extension;
//! - names compare case-insensitively, so a path that folds to one already taken gets
//!   ` (2)`, ` (3)`... before its extension;
//! - a whole path longer than [`MAX_PATH_UNITS`] UTF-16 units is a per-file error
//!   ([`FatError::PathTooLong`]): Windows' MAX_PATH (260) less room for a drive and a root
//!   folder, the limit a player or PC reading the card will have;
//! - on FAT32 a file of 4 GiB or more cannot be stored (the size field is 32 bits): a per-file
//!   error ([`FatError::TooLarge`]). exFAT has no such limit.

use std::collections::HashMap;
use std::path::Path;

/// What file system a folder target is on, as far as naming rules go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// FAT12/16/32 (the `vfat`/`msdos` drivers).
    Fat,
    /// exFAT.
    ExFat,
    /// Anything else: no extra rules.
    Other,
}

/// Largest file FAT32 stores (bytes): 4 GiB - 1.
pub const FAT32_MAX_FILE_BYTES: u64 = 0xFFFF_FFFF;
/// Longest target-relative path allowed on a FAT/exFAT target (UTF-16 code units).
pub const MAX_PATH_UNITS: usize = 240;
/// Longest name (one path component) on FAT/exFAT (UTF-16 code units).
pub const MAX_NAME_UNITS: usize = 255;

/// A file the device cannot take, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FatError {
    /// FAT32 cannot hold a file of 4 GiB or more.
    #[error("{path}: {size} bytes is too large for FAT32 (files must be under 4 GiB)")]
    TooLarge {
        /// Target-relative path.
        path: String,
        /// File size (bytes).
        size: u64,
    },
    /// The path is longer than the device allows.
    #[error("{path}: path of {units} characters is longer than {MAX_PATH_UNITS} allowed on FAT/exFAT")]
    PathTooLong {
        /// Target-relative path.
        path: String,
        /// Its length in UTF-16 code units.
        units: usize,
    },
}

/// The file-system kind of the folder at `path` (module docs). Errors: `statfs` failed (the
/// folder does not exist). Off Linux, always [`FsKind::Other`].
pub fn fs_kind(path: &Path) -> std::io::Result<FsKind> {
    #[cfg(target_os = "linux")]
    {
        let st = nix::sys::statfs::statfs(path).map_err(std::io::Error::from)?;
        let magic = st.filesystem_type().0 as i64;
        Ok(match magic {
            0x4d44 => FsKind::Fat,
            0x2011_bab0 => FsKind::ExFat,
            _ => FsKind::Other,
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        Ok(FsKind::Other)
    }
}

/// One name made valid on FAT/exFAT (module docs); never empty.
pub fn device_name(raw: &str) -> String {
    let replaced: String = raw
        .chars()
        .map(|c| match c {
            '"' | '*' | '/' | ':' | '<' | '>' | '?' | '\\' | '|' => '_',
            c if (c as u32) < 0x20 => '_',
            c => c,
        })
        .collect();
    let trimmed = replaced.trim_end_matches(['.', ' ']);
    let name = cut_units(trimmed, MAX_NAME_UNITS);
    let name = name.trim_end_matches(['.', ' ']);
    if name.is_empty() {
        "_".to_string()
    } else {
        name.to_string()
    }
}

/// `name` cut to at most `max` UTF-16 units, keeping a short extension.
fn cut_units(name: &str, max: usize) -> String {
    if units(name) <= max {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let budget = max.saturating_sub(units(ext));
    let mut out = String::new();
    for c in stem.chars() {
        if units(&out) + c.len_utf16() > budget {
            break;
        }
        out.push(c);
    }
    out.push_str(ext);
    out
}

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Hands out device-safe, case-insensitively unique paths for one run on one target.
#[derive(Debug)]
pub struct DeviceNames {
    kind: FsKind,
    taken: HashMap<String, String>,
}

impl DeviceNames {
    /// Names for a target of `kind`; with [`FsKind::Other`] paths pass unchanged.
    pub fn new(kind: FsKind) -> DeviceNames {
        DeviceNames { kind, taken: HashMap::new() }
    }

    /// The device path for library-relative `path` (`/`-separated) of a file of `size`
    /// bytes. The same `path` always gets the same answer within one run. Errors:
    /// [`FatError`] for a file the device cannot take.
    pub fn claim(&mut self, path: &str, size: u64) -> Result<String, FatError> {
        if self.kind == FsKind::Other {
            return Ok(path.to_string());
        }
        if self.kind == FsKind::Fat && size > FAT32_MAX_FILE_BYTES {
            return Err(FatError::TooLarge { path: path.to_string(), size });
        }
        let parts: Vec<String> = path.split('/').filter(|p| !p.is_empty()).map(device_name).collect();
        let mut candidate = parts.join("/");
        let mut n = 2;
        loop {
            let folded = candidate.to_lowercase();
            match self.taken.get(&folded) {
                None => {
                    self.taken.insert(folded, path.to_string());
                    break;
                }
                Some(owner) if owner == path => break,
                Some(_) => {
                    candidate = numbered(&parts, n);
                    n += 1;
                }
            }
        }
        let len = units(&candidate);
        if len > MAX_PATH_UNITS {
            return Err(FatError::PathTooLong { path: candidate, units: len });
        }
        Ok(candidate)
    }
}

/// `parts` joined with ` (n)` before the last name's extension.
fn numbered(parts: &[String], n: u32) -> String {
    let mut parts = parts.to_vec();
    if let Some(last) = parts.last_mut() {
        let (stem, ext) = match last.rfind('.') {
            Some(i) if i > 0 => (last[..i].to_string(), last[i..].to_string()),
            _ => (last.clone(), String::new()),
        };
        *last = format!("{stem} ({n}){ext}");
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_and_trailing_dots_and_spaces_go() {
        assert_eq!(device_name("a:b*c?d\"e<f>g|h\\i"), "a_b_c_d_e_f_g_h_i");
        assert_eq!(device_name("Episode 1. "), "Episode 1");
        assert_eq!(device_name("tab\there"), "tab_here");
        assert_eq!(device_name("..."), "_");
        assert_eq!(device_name("Ünïcödé ok.mp3"), "Ünïcödé ok.mp3");
    }

    #[test]
    fn long_names_are_cut_in_utf16_units_keeping_the_extension() {
        let long = format!("{}.mp3", "ü".repeat(300));
        let cut = device_name(&long);
        assert!(cut.ends_with(".mp3"));
        assert_eq!(cut.encode_utf16().count(), MAX_NAME_UNITS);
        // one astral character is two UTF-16 units
        let astral = format!("{}.mp3", "😀".repeat(200));
        assert!(device_name(&astral).encode_utf16().count() <= MAX_NAME_UNITS);
    }

    #[test]
    fn names_differing_only_in_case_get_numbers() {
        let mut names = DeviceNames::new(FsKind::ExFat);
        assert_eq!(names.claim("Show/Ep.mp3", 1).unwrap(), "Show/Ep.mp3");
        assert_eq!(names.claim("show/EP.mp3", 1).unwrap(), "show/EP (2).mp3");
        assert_eq!(names.claim("SHOW/ep.mp3", 1).unwrap(), "SHOW/ep (3).mp3");
        assert_eq!(names.claim("Show/Ep.mp3", 1).unwrap(), "Show/Ep.mp3", "stable for the same file");
        assert_eq!(names.claim("Show/Ep?.mp3", 1).unwrap(), "Show/Ep_.mp3");
    }

    #[test]
    fn fat32_refuses_4_gib_files_and_exfat_takes_them() {
        let four_gib = 4 * 1024 * 1024 * 1024;
        let e = DeviceNames::new(FsKind::Fat).claim("Show/big.mp4", four_gib).unwrap_err();
        assert!(matches!(e, FatError::TooLarge { .. }));
        assert!(e.to_string().contains("too large for FAT32"), "{e}");
        assert!(DeviceNames::new(FsKind::Fat).claim("Show/ok.mp4", four_gib - 1).is_ok());
        assert!(DeviceNames::new(FsKind::ExFat).claim("Show/big.mp4", four_gib).is_ok());
    }

    #[test]
    fn over_long_paths_are_a_per_file_error_and_other_file_systems_pass() {
        let deep = ["folder-name-of-thirty-chars-xx"; 10].join("/") + "/a.mp3";
        assert!(matches!(DeviceNames::new(FsKind::Fat).claim(&deep, 1), Err(FatError::PathTooLong { .. })));
        assert_eq!(DeviceNames::new(FsKind::Other).claim("a:b/c?.mp3", u64::MAX).unwrap(), "a:b/c?.mp3");
    }

    #[test]
    fn a_plain_folder_is_not_fat() {
        let dir = tempfile::tempdir().unwrap();
        // the test machine's temp folder is ext4/tmpfs/overlay, never FAT
        assert_eq!(fs_kind(dir.path()).unwrap(), FsKind::Other);
    }
}
