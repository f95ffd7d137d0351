//! Process-wide tuning of the C allocator, called once at the start of each front's `main`.
//!
//! glibc's malloc gives an allocation of at least `M_MMAP_THRESHOLD` bytes (128 KiB at start)
//! its own `mmap` and unmaps it on free. But it raises that threshold to the size of every such
//! block freed, up to 32 MiB (mallopt(3), "dynamic mmap threshold"). After the first big feed,
//! a document's buffers (its body, decoded text, repaired copy: 0.5-1 MB each) come from the
//! heap arenas instead, and what they free there stays resident. Fixing the threshold at
//! 128 KiB keeps those buffers on `mmap`, so they go back to the system the moment they are
//! freed. Measured on a first sync of 100 feeds x 1,000 items: peak RSS 33.5-34.6 MB ->
//! 29.1-29.7 MB at the same wall time (issue 18). Elsewhere (musl, macOS, Windows) this does
//! nothing.
//!
//! This module holds the one `unsafe` block of the workspace (`unsafe_code` is denied
//! everywhere else): the call into the C library.

/// The fixed `M_MMAP_THRESHOLD`, in bytes: glibc's own starting value.
pub const MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Fixes glibc's `M_MMAP_THRESHOLD` at [`MMAP_THRESHOLD_BYTES`] (module docs). Call it first
/// thing in `main`, before other threads start. Returns whether the allocator took the setting.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() -> bool {
    // SAFETY: mallopt(3) only sets a parameter of the allocator and reports whether it took it
    // (1, else 0); any value up to 32 MiB is valid for M_MMAP_THRESHOLD, and glibc serialises
    // the change against other threads' allocations itself.
    #[allow(unsafe_code)]
    let taken = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
    taken == 1
}

/// Does nothing where the C library is not glibc (module docs); returns `false`.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() -> bool {
    false
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_the_threshold() {
        assert!(super::tune(), "mallopt refused M_MMAP_THRESHOLD = {}", super::MMAP_THRESHOLD_BYTES);
    }
}
