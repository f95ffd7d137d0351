//! `catalog-sync ytdlp [--update]` with a fake yt-dlp named by `ytdlp_path`: a standalone binary
//! the user owns (its `-v` header says `zip`) is shown with how it updates, and `--update`
//! runs `yt-dlp -U` and prints the versions before and after.

use std::os::unix::fs::PermissionsExt;

/// A fake standalone yt-dlp in `dir`: `--version` and `-v` read `dir/version`, `-U` bumps it.
fn fake_standalone(dir: &std::path::Path) -> std::path::PathBuf {
    let script = dir.join("yt-dlp");
    std::fs::write(dir.join("version"), "2026.10.26\n").unwrap();
    let d = dir.display();
    let body = format!(
        "#!/bin/sh\ncase \"$1\" in\n--version) cat {d}/version ;;\n\
         -v) echo \"[debug] yt-dlp version stable@$(cat {d}/version) from yt-dlp/yt-dlp [abc] (zip)\" >&2 ;;\n\
         -U) echo '2026.11.20' > {d}/version; echo 'Updated yt-dlp to stable@2026.11.20' ;;\nesac\n"
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[tokio::test]
async fn ytdlp_shows_the_install_and_update_updates_a_user_owned_binary() {
    let dir = tempfile::tempdir().unwrap();
    let script = fake_standalone(dir.path());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("fyyd_enabled = false\nytdlp_path = {:?}\n", script.display().to_string()),
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_catalog-sync"));
        cmd.args(args)
            .env("CATALOG_SYNC_DATABASE", dir.path().join("catalog.redb"))
            .env("CATALOG_SYNC_LIBRARY", dir.path().join("library"))
            .env("CATALOG_SYNC_CONFIG", &config)
            .kill_on_drop(true);
        async move {
            let out = cmd.output().await.unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
        }
    };
    let shown = script.canonicalize().unwrap().display().to_string();
    let (code, out) = run(&["ytdlp"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("yt-dlp 2026.10.26 at"), "{out}");
    assert!(out.contains(&format!("standalone binary at {shown}, updated by `yt-dlp -U`")), "{out}");
    let (code, out) = run(&["ytdlp", "--update"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Updated yt-dlp to stable@2026.11.20"), "{out}");
    assert!(out.contains(&format!("yt-dlp updated from 2026.10.26 to 2026.11.20 ({shown} -U)")), "{out}");
}
