//! Updating yt-dlp where the user installed it (issue 13, part 5). Sites change and yt-dlp
//! follows within days, so an old yt-dlp is the most common cause of "Unsupported URL" and
//! extraction errors. [`inspect`] finds out how the binary was installed, from yt-dlp's own
//! word (`yt-dlp -v` prints `[debug] yt-dlp version stable@2026.10.26 from yt-dlp/yt-dlp
//! [hash] (pip)`, the variant in parentheses: `pip`, `zip`, `linux_exe`, `source`...) and from
//! where the file sits ([`classify`]):
//! - a standalone binary (`zip`, `*_exe`) the user can write: `yt-dlp -U` (yt-dlp replaces
//!   itself from its GitHub releases);
//! - a pipx install (its interpreter in a `pipx/venvs/` virtualenv): `pipx upgrade yt-dlp`;
//! - a virtualenv the user can write: `<venv>/bin/python -m pip install -U yt-dlp`;
//! - a `pip install --user` (the script under the home folder, a system interpreter):
//!   `<python> -m pip install --user -U yt-dlp`;
//! - anything else (a distribution package, a system-wide pip or binary, a source checkout)
//!   is not ours to change: [`InstallKind::System`] says so and how to update it instead.
//!
//! [`update`] runs the command under the subprocess watchdog and returns its output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::subprocess::{self, SubprocessError, SubprocessLimits};
use super::ytdlp_errors::error_line;

/// How yt-dlp was installed (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum InstallKind {
    /// yt-dlp's standalone binary (zipapp or executable) in a folder the user can write.
    Standalone,
    /// Installed with pipx.
    Pipx,
    /// Installed with pip in a virtualenv the user can write.
    Venv,
    /// Installed with `pip install --user`.
    PipUser,
    /// Installed system-wide or in a way we do not update.
    System,
}

/// How yt-dlp was installed and how to update it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct YtDlpInstall {
    /// How it was installed.
    pub kind: InstallKind,
    /// The update command we would run, as words (program first); `None` for
    /// [`InstallKind::System`].
    pub update_command: Option<Vec<String>>,
    /// In words: where it is and how it is updated (for a system install: how the user can).
    pub note: String,
}

/// Why inspecting or updating failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The subprocess could not start, stalled, ran past its deadline or was cancelled.
    #[error(transparent)]
    Subprocess(#[from] SubprocessError),
    /// The command exited unsuccessfully: its command line and last error line.
    #[error("`{command}` failed: {message}")]
    Failed {
        /// The command, as typed.
        command: String,
        /// Its `ERROR:` line, else its last line of output.
        message: String,
    },
    /// The install is not ours to update (the note says how).
    #[error("{0}")]
    NotUpdatable(String),
}

/// yt-dlp's variant (`pip`, `zip`, `linux_exe`, `source`) from its `-v` header; `None` when
/// the text has no `yt-dlp version ... (<variant>)` line.
pub fn parse_variant(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.contains("yt-dlp version"))?;
    let line = line.trim_end().trim_end_matches('*');
    let open = line.rfind('(')?;
    let close = line[open..].find(')')? + open;
    Some(line[open + 1..close].trim().to_string()).filter(|v| !v.is_empty())
}

/// Whether this process may write `path` (`access(2)` with `W_OK`).
fn writable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::W_OK).is_ok()
}

/// The interpreter of a Python script's `#!` line.
fn shebang(script: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(script).and_then(|mut f| f.read(&mut head)).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    let line = text.lines().next()?.strip_prefix("#!")?.trim();
    let program = line.split_whitespace().next()?;
    program.contains("python").then(|| PathBuf::from(program))
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// How `binary` (resolved through symlinks) was installed, given yt-dlp's `variant`, the
/// user's home folder and `pipx` when it is on `PATH` (module docs).
pub fn classify(binary: &Path, variant: &str, home: Option<&Path>, pipx: Option<&Path>) -> YtDlpInstall {
    let bin = binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf());
    let shown = bin.display().to_string();
    let system = |note: String| YtDlpInstall { kind: InstallKind::System, update_command: None, note };
    let dir_writable = bin.parent().is_some_and(writable);
    if variant == "zip" || variant.ends_with("_exe") || variant.ends_with("_dir") {
        if writable(&bin) && dir_writable {
            return YtDlpInstall {
                kind: InstallKind::Standalone,
                update_command: Some(words(&[&shown, "-U"])),
                note: format!("standalone binary at {shown}, updated by `yt-dlp -U`"),
            };
        }
        return system(format!(
            "standalone binary at {shown}, which this user cannot write: update it as its owner (`sudo {shown} -U`)"
        ));
    }
    if variant != "pip" {
        return system(format!(
            "yt-dlp at {shown} runs as `{variant}`; update it the way it was installed (git pull for a source checkout)"
        ));
    }
    let Some(python) = shebang(&bin) else {
        return system(format!(
            "yt-dlp at {shown} is not a pip script we can read; update it the way it was installed"
        ));
    };
    let venv = python.parent().and_then(Path::parent).filter(|v| v.join("pyvenv.cfg").is_file());
    if let Some(venv) = venv {
        let py = python.display().to_string();
        let in_pipx = venv.components().any(|c| c.as_os_str() == "pipx");
        if in_pipx {
            if let Some(pipx) = pipx {
                return YtDlpInstall {
                    kind: InstallKind::Pipx,
                    update_command: Some(words(&[&pipx.display().to_string(), "upgrade", "yt-dlp"])),
                    note: format!(
                        "installed with pipx ({}), updated by `pipx upgrade yt-dlp`",
                        venv.display()
                    ),
                };
            }
        }
        if writable(venv) {
            return YtDlpInstall {
                kind: if in_pipx { InstallKind::Pipx } else { InstallKind::Venv },
                update_command: Some(words(&[&py, "-m", "pip", "install", "-U", "yt-dlp"])),
                note: format!("installed with pip in the virtualenv {}, updated by its pip", venv.display()),
            };
        }
        return system(format!(
            "installed with pip in the virtualenv {}, which this user cannot write: update it as its owner",
            venv.display()
        ));
    }
    if home.is_some_and(|h| bin.starts_with(h)) {
        let py = python.display().to_string();
        return YtDlpInstall {
            kind: InstallKind::PipUser,
            update_command: Some(words(&[&py, "-m", "pip", "install", "--user", "-U", "yt-dlp"])),
            note: format!("installed with `pip install --user` ({shown}), updated by pip"),
        };
    }
    system(format!(
        "installed system-wide at {shown}: update it with the package manager that installed it \
         (apt, dnf, brew...) or as an administrator"
    ))
}

fn limits(stall_s: u64, deadline_s: u64) -> SubprocessLimits {
    SubprocessLimits { stall: Duration::from_secs(stall_s), deadline: Duration::from_secs(deadline_s) }
}

/// How the yt-dlp at `binary` was installed: runs `<binary> -v` (30 s at most; it needs no
/// network) for its variant, then [`classify`]. Errors: the subprocess's.
pub async fn inspect(binary: &Path) -> Result<YtDlpInstall, UpdateError> {
    let mut cmd = Command::new(binary);
    cmd.arg("-v");
    let out = subprocess::run(cmd, limits(30, 30), &CancellationToken::new()).await?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    let variant = parse_variant(&text).unwrap_or_else(|| "unknown".into());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let pipx = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("pipx")).find(|p| p.is_file()));
    Ok(classify(binary, &variant, home.as_deref(), pipx.as_deref()))
}

/// Runs `install`'s update command (2 min without output or 10 min in all end it). Returns its
/// output (stdout, then stderr). Errors: [`UpdateError::NotUpdatable`] for a system install,
/// the subprocess's, or the command's failure with its error line.
pub async fn update(install: &YtDlpInstall, cancel: &CancellationToken) -> Result<String, UpdateError> {
    let Some((program, args)) = install.update_command.as_ref().and_then(|c| c.split_first()) else {
        return Err(UpdateError::NotUpdatable(install.note.clone()));
    };
    let mut cmd = Command::new(program);
    cmd.args(args);
    let out = subprocess::run(cmd, limits(120, 600), cancel).await?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        let command = install.update_command.as_deref().unwrap_or_default().join(" ");
        let message = if out.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            error_line(&out.stderr)
        } else {
            text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string()
        };
        return Err(UpdateError::Failed { command, message });
    }
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn variant_cases() {
        let cases = [
            ("[debug] yt-dlp version stable@2026.10.26 from yt-dlp/yt-dlp [c91f8de0b] (pip)\n", Some("pip")),
            (
                "[debug] yt-dlp version stable@2026.10.26 from yt-dlp/yt-dlp [c91f8de0b] (linux_exe)",
                Some("linux_exe"),
            ),
            ("[debug] yt-dlp version nightly@2026.11.01 [abc] (zip)*", Some("zip")),
            ("[debug] Python 3.11.7 (CPython x86_64 64bit)", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_variant(text).as_deref(), want, "{text}");
        }
    }

    fn script(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Layouts as pipx, a virtualenv, `pip --user`, the standalone binary and a system pip
    /// leave them, in a temporary "home" and a temporary "system" folder.
    #[test]
    fn install_cases() {
        let home = tempfile::tempdir().unwrap();
        let sys = tempfile::tempdir().unwrap();
        let h = home.path();
        let pipx_venv = h.join(".local/share/pipx/venvs/yt-dlp");
        std::fs::create_dir_all(pipx_venv.join("bin")).unwrap();
        std::fs::write(pipx_venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let pipx_bin = pipx_venv.join("bin/yt-dlp");
        script(&pipx_bin, &format!("#!{}/bin/python\nfrom yt_dlp import main\n", pipx_venv.display()));
        let venv = h.join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let venv_bin = venv.join("bin/yt-dlp");
        script(&venv_bin, &format!("#!{}/bin/python3\nfrom yt_dlp import main\n", venv.display()));
        let user_bin = h.join(".local/bin/yt-dlp");
        script(&user_bin, "#!/usr/bin/python3\nfrom yt_dlp import main\n");
        let standalone = h.join("bin/yt-dlp");
        script(&standalone, "#!/usr/bin/env python3\nPK...");
        let system_bin = sys.path().join("usr/bin/yt-dlp");
        script(&system_bin, "#!/usr/bin/python3\nfrom yt_dlp import main\n");
        let pipx = Path::new("/opt/pipx/bin/pipx");
        let s = |p: &Path| p.canonicalize().unwrap().display().to_string();
        type Case<'a> = (&'a Path, &'a str, Option<&'a Path>, InstallKind, Option<Vec<String>>);
        let cases: Vec<Case> = vec![
            (
                pipx_bin.as_path(),
                "pip",
                Some(pipx),
                InstallKind::Pipx,
                Some(words(&["/opt/pipx/bin/pipx", "upgrade", "yt-dlp"])),
            ),
            (
                pipx_bin.as_path(),
                "pip",
                None,
                InstallKind::Pipx,
                Some(words(&[
                    &format!("{}/bin/python", pipx_venv.display()),
                    "-m",
                    "pip",
                    "install",
                    "-U",
                    "yt-dlp",
                ])),
            ),
            (
                venv_bin.as_path(),
                "pip",
                Some(pipx),
                InstallKind::Venv,
                Some(words(&[
                    &format!("{}/bin/python3", venv.display()),
                    "-m",
                    "pip",
                    "install",
                    "-U",
                    "yt-dlp",
                ])),
            ),
            (
                user_bin.as_path(),
                "pip",
                None,
                InstallKind::PipUser,
                Some(words(&["/usr/bin/python3", "-m", "pip", "install", "--user", "-U", "yt-dlp"])),
            ),
            (
                standalone.as_path(),
                "zip",
                None,
                InstallKind::Standalone,
                Some(words(&[&s(&standalone), "-U"])),
            ),
            (
                standalone.as_path(),
                "linux_exe",
                None,
                InstallKind::Standalone,
                Some(words(&[&s(&standalone), "-U"])),
            ),
            (system_bin.as_path(), "pip", Some(pipx), InstallKind::System, None),
            (venv_bin.as_path(), "source", None, InstallKind::System, None),
        ];
        for (bin, variant, pipx, kind, command) in cases {
            let got = classify(bin, variant, Some(h), pipx);
            assert_eq!(
                (got.kind, got.update_command),
                (kind, command),
                "{} {variant}: {}",
                bin.display(),
                got.note
            );
        }
        let system = classify(&system_bin, "pip", Some(h), None);
        assert!(system.note.contains("installed system-wide"), "{}", system.note);
    }

    #[tokio::test]
    async fn a_system_install_is_not_updated_and_a_failing_update_says_why() {
        let not =
            YtDlpInstall { kind: InstallKind::System, update_command: None, note: "system-wide".into() };
        let err = update(&not, &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, UpdateError::NotUpdatable(ref n) if n == "system-wide"), "{err}");
        let failing = YtDlpInstall {
            kind: InstallKind::Standalone,
            update_command: Some(words(&[
                "sh",
                "-c",
                "echo checking; echo 'ERROR: Unable to obtain version info' >&2; exit 1",
            ])),
            note: String::new(),
        };
        let err = update(&failing, &CancellationToken::new()).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`sh -c {}` failed: ERROR: Unable to obtain version info",
                "echo checking; echo 'ERROR: Unable to obtain version info' >&2; exit 1"
            )
        );
    }
}
