//! Build script: reads `tauri.conf.json` from the repository root (ARCHITECTURE.md layout),
//! resolves the capabilities in `capabilities/` and declares the app's commands, so each one
//! needs an explicit `allow-<command>` permission in a capability (least privilege).

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build script");
}

/// Every command the app registers (see `src/commands.rs`); keep in sync with
/// `collect_commands!` in `src/lib.rs` (the build fails on a capability naming an unknown one).
const COMMANDS: &[&str] = &[
    "list_playlists",
    "list_items",
    "playlist_art",
    "item_art",
    "add_playlists",
    "add_playlists_as",
    "set_playlist_media",
    "set_playlist_tagging",
    "set_playlist_retention",
    "set_item_keep",
    "clean_library",
    "ytdlp_status",
    "auto_sync_status",
    "update_ytdlp",
    "import_file",
    "export_opml",
    "pick_import_file",
    "pick_export_path",
    "pick_folder",
    "enqueue_job",
    "set_wanted",
    "task_center",
    "job_detail",
    "job_command",
    "pause_all",
    "resume_all",
    "throughput_history",
    "get_settings",
    "save_settings",
    "app_info",
    "list_targets",
    "save_target",
    "remove_target",
    "test_target",
    "set_playlist_targets",
    "enqueue_upload",
    "organize_preview",
    "organize",
];
