//! Updating yt-dlp through the API (issue 13, part 5) with fake installs: a standalone binary
//! the user owns is updated with `yt-dlp -U` and the versions before and after are reported; a
//! failed update is a `network` error with yt-dlp's line; an install we cannot update is
//! refused as a `conflict` that says how to update it instead.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use catalog_sync_core::api::{Api, ErrorCode, InstallKind};
use catalog_sync_core::config::Config;

/// A fake yt-dlp of variant `variant` at `dir/yt-dlp`: `--version` prints the version kept in
/// `dir/version`, `-v` its debug header, `-U` moves the version on (or fails when `dir/offline`
/// exists, as yt-dlp does without network).
fn fake_installed_ytdlp(dir: &Path, variant: &str) -> PathBuf {
    let script = dir.join("yt-dlp");
    std::fs::write(dir.join("version"), "2026.10.26\n").unwrap();
    let d = dir.display();
    let body = format!(
        "#!/bin/sh\ncase \"$1\" in\n\
         --version) cat {d}/version ;;\n\
         -v) echo \"[debug] yt-dlp version stable@$(cat {d}/version) from yt-dlp/yt-dlp [c91f8de0b] ({variant})\" >&2 ;;\n\
         -U) if [ -e {d}/offline ]; then echo 'ERROR: Unable to obtain version info ([Errno -2] Name or service not known)' >&2; exit 1; fi\n\
             echo 'Current version: stable@2026.10.26'; echo '2026.11.20' > {d}/version; echo 'Updated yt-dlp to stable@2026.11.20' ;;\n\
         esac\n"
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[tokio::test]
async fn the_api_updates_a_user_installed_ytdlp_and_refuses_a_system_one() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let config = |binary: PathBuf| Config {
        database: dir.path().join("catalog.redb"),
        library: dir.path().join("library"),
        ytdlp_path: Some(binary),
        ..Config::default()
    };
    let standalone = fake_installed_ytdlp(bin.path(), "zip");
    let api = Api::open_system(config(standalone.clone()), None).unwrap();
    let status = api.ytdlp_status().await.unwrap();
    let install = status.install.unwrap();
    assert_eq!(install.kind, InstallKind::Standalone, "{}", install.note);
    let shown = standalone.canonicalize().unwrap().display().to_string();
    assert_eq!(install.update_command, Some(vec![shown.clone(), "-U".to_string()]));
    let updated = api.update_ytdlp().await.unwrap();
    assert_eq!(
        (updated.before.as_deref(), updated.after.as_deref()),
        (Some("2026.10.26"), Some("2026.11.20"))
    );
    assert_eq!(updated.command, format!("{shown} -U"));
    assert!(updated.output.contains("Updated yt-dlp to stable@2026.11.20"), "{}", updated.output);

    std::fs::write(bin.path().join("offline"), "").unwrap();
    let err = api.update_ytdlp().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Network);
    assert!(
        err.message
            .ends_with("failed: ERROR: Unable to obtain version info ([Errno -2] Name or service not known)"),
        "{}",
        err.message
    );
    drop(api);

    // a pip install we cannot tell the interpreter of: not ours to update, and said so
    let other = tempfile::tempdir().unwrap();
    let pip = fake_installed_ytdlp(other.path(), "pip");
    let api = Api::open_system(config(pip), None).unwrap();
    let install = api.ytdlp_status().await.unwrap().install.unwrap();
    assert_eq!((install.kind, install.update_command), (InstallKind::System, None));
    let err = api.update_ytdlp().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.contains("update it the way it was installed"), "{}", err.message);
}
