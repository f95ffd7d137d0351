//! The control socket of a running `catalog-sync`. The catalog belongs to one process at a
//! time (see `Store::open`), so while a run owns it, other invocations (`jobs`, `pause`,
//! `resume`, `cancel`, `retry`, `want`, `unwant`) talk to that run over a Unix socket beside
//! the database (`catalog.redb` -> `catalog.sock`). The socket is one more front over the
//! core's `Api`: each request is one `Api` call, its reply the same text the command prints
//! when it runs in-process. Protocol: one request line (`jobs`,
//! `<command> <job id>`, or `want|unwant|unwant-delete <playlist id, URL or title>`), one text
//! reply, then the server closes the connection. On platforms without
//! Unix sockets the commands report that a run holds the catalog.

use std::path::{Path, PathBuf};

use catalog_sync_core::api::{Api, ApiResult, CommandOutcome, ErrorCode, JobAction, JobCommand};

/// The socket of the run that owns the database at `database`.
pub fn socket_path(database: &Path) -> PathBuf {
    database.with_extension("sock")
}

/// Parses `pause 3` style requests.
fn parse_command(line: &str) -> Option<(JobCommand, u64)> {
    let mut words = line.split_whitespace();
    let cmd = match words.next()? {
        "pause" => JobCommand::Pause,
        "resume" => JobCommand::Resume,
        "cancel" => JobCommand::Cancel,
        "retry" => JobCommand::RetryFailed,
        _ => return None,
    };
    Some((cmd, words.next()?.parse().ok()?))
}

/// A playlist selection request: (wanted, delete orphans, playlist selector).
fn parse_selection(line: &str) -> Option<(bool, bool, &str)> {
    let (word, selector) = line.trim().split_once(' ')?;
    let (wanted, delete) = match word {
        "want" => (true, false),
        "unwant" => (false, false),
        "unwant-delete" => (false, true),
        _ => return None,
    };
    Some((wanted, delete, selector.trim()))
}

/// The request line selecting (`wanted`) or unselecting a playlist.
pub fn selection_line(wanted: bool, delete: bool, selector: &str) -> String {
    let word = match (wanted, delete) {
        (true, _) => "want",
        (false, false) => "unwant",
        (false, true) => "unwant-delete",
    };
    format!("{word} {selector}")
}

/// Selects or unselects the playlist named by `selector` (see `Api::set_wanted`: transfers
/// nobody wants any more stop) and says what changed, one line.
pub async fn set_wanted(api: &Api, selector: &str, wanted: bool, delete: bool) -> anyhow::Result<String> {
    let id = api.find_playlist(selector.to_string()).await?;
    let change = api.set_wanted(vec![id], wanted, delete).await?;
    let title = api.playlist(id).await?.title;
    Ok(if wanted {
        format!("playlist {id} {title}: selected for download\n")
    } else {
        format!(
            "playlist {id} {title}: unselected; {} items no longer wanted, {} files deleted\n",
            change.changed, change.deleted_files
        )
    })
}

/// The line a job command's outcome prints: the transition, or that the running engine
/// applies it, or (a `conflict`) that it does not apply. Errors: any other failure.
pub fn command_reply(
    outcome: ApiResult<CommandOutcome>,
    job: u64,
    cmd: JobCommand,
) -> anyhow::Result<String> {
    match outcome {
        Ok(CommandOutcome { before, after }) if before == after => {
            Ok(format!("job {job}: {cmd:?} sent to the running engine"))
        }
        Ok(CommandOutcome { before, after }) => Ok(format!("job {job}: {before} -> {after}")),
        Err(e) if e.code == ErrorCode::Conflict => Ok(e.message),
        Err(e) => Err(e.into()),
    }
}

/// The request line for a job command.
pub fn command_line(cmd: JobCommand, job: u64) -> String {
    let word = match cmd {
        JobCommand::Pause => "pause",
        JobCommand::Resume => "resume",
        JobCommand::Cancel => "cancel",
        JobCommand::RetryFailed => "retry",
    };
    format!("{word} {job}")
}

async fn answer(api: &Api, line: &str) -> String {
    if line.trim() == "jobs" {
        return match api.task_center().await {
            Ok(tc) => crate::jobs_view::render(&tc),
            Err(e) => format!("error: {e}\n"),
        };
    }
    if let Some((wanted, delete, selector)) = parse_selection(line) {
        return set_wanted(api, selector, wanted, delete).await.unwrap_or_else(|e| format!("error: {e}\n"));
    }
    match parse_command(line) {
        Some((cmd, job)) => match command_reply(api.job_command(job, JobAction::from(cmd)).await, job, cmd) {
            Ok(reply) => format!("{reply}\n"),
            Err(e) => format!("error: {e}\n"),
        },
        None => format!("error: unknown request {line:?}\n"),
    }
}

#[cfg(unix)]
mod imp {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{UnixListener, UnixStream};

    /// Serves requests for `api` at `path` until the returned guard drops (which removes
    /// the socket file). A leftover socket of a crashed run is replaced.
    pub fn serve(path: PathBuf, api: Api) -> std::io::Result<ServeGuard> {
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = api.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut line = String::new();
                    if BufReader::new(read).read_line(&mut line).await.is_ok() {
                        let reply = answer(&api, &line).await;
                        let _ = write.write_all(reply.as_bytes()).await;
                    }
                });
            }
        });
        Ok(ServeGuard { path, task })
    }

    /// Stops the server and removes its socket file when dropped.
    pub struct ServeGuard {
        path: PathBuf,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for ServeGuard {
        fn drop(&mut self) {
            self.task.abort();
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Sends one request line to the run at `path` and returns its reply.
    pub async fn request(path: &Path, line: &str) -> std::io::Result<String> {
        let mut stream = UnixStream::connect(path).await?;
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        let mut reply = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut reply).await?;
        Ok(reply)
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;

    /// No control socket on this platform.
    pub struct ServeGuard;

    /// No control socket on this platform: nothing is served.
    pub fn serve(_path: PathBuf, _api: Api) -> std::io::Result<ServeGuard> {
        Ok(ServeGuard)
    }

    /// Always fails: no control socket on this platform.
    pub async fn request(_path: &Path, _line: &str) -> std::io::Result<String> {
        Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no control socket on this platform"))
    }
}

pub use imp::{request, serve};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        for cmd in [JobCommand::Pause, JobCommand::Resume, JobCommand::Cancel, JobCommand::RetryFailed] {
            assert_eq!(parse_command(&command_line(cmd, 7)), Some((cmd, 7)));
        }
        assert_eq!(parse_command("pause x"), None);
        assert_eq!(parse_command("explode 3"), None);
        assert_eq!(parse_selection(&selection_line(false, true, "My Show")), Some((false, true, "My Show")));
        assert_eq!(parse_selection(&selection_line(true, true, "3")), Some((true, false, "3")));
        assert_eq!(parse_selection("want"), None);
        assert_eq!(socket_path(Path::new("/d/catalog.redb")), Path::new("/d/catalog.sock"));
    }
}
