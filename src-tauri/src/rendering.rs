//! How the window is drawn on Linux, where the webview is WebKitGTK.
//!
//! WebKitGTK composites a page with OpenGL ("accelerated compositing"). Without a GPU (a VM,
//! a container, a NAS, a remote X session) Mesa still offers OpenGL, drawn on the CPU by
//! llvmpipe, and that is far dearer than WebKit's own non-composited painting: opening the
//! 100,000-item bench catalog under Xvfb (release build) cost 7.2-7.4 s of CPU in the app and
//! its WebKit processes in the first 10 s with compositing, 1.7-1.9 s without, and the web
//! process held 365 MB instead of 269 MB (issue 18). So when the machine has no GPU render node
//! (`/dev/dri/renderD*`, the DRM device Mesa needs for hardware OpenGL), compositing is turned
//! off with WebKitGTK's documented switch `WEBKIT_DISABLE_COMPOSITING_MODE=1`. A value the
//! user set, either way, is left alone.

use std::ffi::OsString;
use std::path::Path;

/// WebKitGTK's switch: set (to anything but `0`), the web process paints without compositing.
pub const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether `dri` (normally `/dev/dri`) holds a DRM render node (`renderD<minor>`), i.e. a GPU
/// Mesa can draw with. A missing or unreadable folder is "no".
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// The value to give [`DISABLE_COMPOSITING`]: `Some("1")` when the user set nothing
/// (`current` is `None`) and there is no GPU; `None` (leave it) otherwise.
pub fn compositing_switch(current: Option<OsString>, gpu: bool) -> Option<&'static str> {
    (current.is_none() && !gpu).then_some("1")
}

/// Applies [`compositing_switch`] to this process's environment, which the WebKit web process
/// inherits. Call first thing in `main`, before any thread starts (the environment is not
/// thread-safe to change) and before GTK or WebKit are loaded.
pub fn choose_compositing() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let gpu = has_render_node(Path::new("/dev/dri"));
    if let Some(value) = compositing_switch(std::env::var_os(DISABLE_COMPOSITING), gpu) {
        std::env::set_var(DISABLE_COMPOSITING, value);
        tracing::info!("no GPU render node in /dev/dri: WebKit compositing off ({DISABLE_COMPOSITING}=1)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_is_a_gpu_and_a_card_node_or_nothing_is_not() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&dri.path().join("missing")), "no /dev/dri at all");
        std::fs::write(dri.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(dri.path()), "a display-only card node (no render node)");
        std::fs::write(dri.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(dri.path()));
    }

    #[test]
    fn compositing_goes_off_only_without_a_gpu_and_never_over_the_users_choice() {
        assert_eq!(compositing_switch(None, false), Some("1"));
        assert_eq!(compositing_switch(None, true), None);
        assert_eq!(compositing_switch(Some("0".into()), false), None, "the user wants compositing");
        assert_eq!(compositing_switch(Some("1".into()), true), None);
    }
}
