//! What the upload tests share: a catalog whose playlists have downloaded files on disk (real
//! redb, real files), the `Api` over it with upload targets, and real servers on loopback that
//! the tests start themselves: `rclone serve webdav` / `rclone serve sftp` and moto's S3
//! server, plus a TCP relay that counts the bytes a client sends to a server (and can be cut).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use catalog_sync_core::api::Api;
use catalog_sync_core::catalog::{Enclosure, ParsedItem, ParsedPlaylist};
use catalog_sync_core::config::{Config, UploadTarget};
use catalog_sync_core::store::{FileRow, JobKind, JobStatus, StageKind};
use sha2::Digest;

/// A catalog with a library and the API over it.
pub struct Rig {
    /// Holds the catalog and library (removed on drop).
    _dir: tempfile::TempDir,
    pub api: Api,
    pub library: PathBuf,
}

impl Rig {
    /// A rig whose config has `targets` and `parallel` upload workers.
    pub fn new(targets: Vec<UploadTarget>, parallel: usize) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("library");
        std::fs::create_dir_all(&library).unwrap();
        let config = Config {
            database: dir.path().join("catalog.redb"),
            library: library.clone(),
            fyyd_enabled: false,
            parallel_uploads: parallel,
            retry_backoff_ms: 50,
            upload_targets: targets,
            ..Config::default()
        };
        let api = Api::open_system(config, Some(dir.path().join("config.toml"))).unwrap();
        Rig { _dir: dir, api, library }
    }

    /// Adds playlist `title` with `n` downloaded files of `size` bytes each (distinct
    /// content), named `<title>/<prefix>NN.mp3`; returns its id and the files' (path, sha256).
    pub fn playlist(&self, title: &str, n: usize, size: usize) -> (u64, Vec<(String, String)>) {
        let store = self.api.engine().store().clone();
        let url = format!("http://media.invalid/{}.xml", title.replace(' ', "_"));
        let id = store.add_playlist(&url, Some(title), &[], 1).unwrap().id;
        let items = (0..n)
            .map(|i| ParsedItem {
                guid: Some(format!("{title}-{i}")),
                title: Some(format!("{title} episode {i}")),
                enclosure: Some(Enclosure { url: format!("{url}/{i}.mp3"), length: None, mime_type: None }),
                ..Default::default()
            })
            .collect();
        let doc = ParsedPlaylist { title: Some(title.into()), items, ..Default::default() };
        store.apply_sync(id, &doc, 2).unwrap();
        let mut files = Vec::new();
        for (i, entry) in store.playlist_items(id).unwrap().into_iter().enumerate() {
            let rel = format!("{title}/episode {i:02}.mp3");
            let bytes = content(title, i, size);
            let sha = hex::encode(sha2::Sha256::digest(&bytes));
            self.put_file(entry.id, &rel, &bytes, &sha);
            files.push((rel, sha));
        }
        (id, files)
    }

    /// Records `bytes` as the downloaded file `rel` of `item` (through a finished download job)
    /// and writes it into the library.
    pub fn put_file(&self, item: u64, rel: &str, bytes: &[u8], sha: &str) {
        let store = self.api.engine().store().clone();
        let job = store.create_job(JobKind::DownloadOnly, &[StageKind::Download], &[], 3).unwrap();
        store.add_stage_items(job, 0, &[item], 3).unwrap();
        assert_eq!(store.claim_stage_item(job, 0, 4).unwrap(), Some(item));
        let file = FileRow {
            path: rel.into(),
            size: bytes.len() as u64,
            sha256: sha.into(),
            url: format!("http://media.invalid/{item}"),
            downloaded_ms: 5,
        };
        store.finish_download(job, 0, item, &file, 5).unwrap();
        store.set_job_status(job, JobStatus::Succeeded, 6).unwrap();
        let full = self.library.join(rel);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, bytes).unwrap();
    }

    /// Queues an upload of `playlists` to `targets` and runs the engine until idle; returns the
    /// job's status.
    pub async fn upload(&self, playlists: Vec<u64>, targets: Vec<String>) -> (u64, JobStatus) {
        let job = self.api.enqueue_upload(JobKind::UploadOnly, playlists, targets).await.unwrap();
        let ran = self.api.run_until_idle().await.unwrap();
        let status = ran.iter().find(|(j, _)| *j == job).map(|(_, s)| *s).expect("the job ran");
        (job, status)
    }
}

/// Distinct bytes for file `i` of `title`.
pub fn content(title: &str, i: usize, size: usize) -> Vec<u8> {
    let seed = format!("{title}:{i}:");
    seed.bytes().cycle().enumerate().map(|(k, b)| b ^ (k as u8).wrapping_mul(31)).take(size).collect()
}

/// Lowercase hex SHA-256 of the file at `path`.
pub fn sha_of(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every file under `root`, as `/`-separated relative paths, sorted.
pub fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    if root.exists() {
        walk(root, root, &mut out);
    }
    out.sort();
    out
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something accepts on `port` (bounded: 200 tries, 50 ms apart).
pub fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port}");
}

/// Whether `tool` runs; prints why a test skips when not (and fails when `require` is set).
pub fn have(tool: &str, require_env: &str) -> bool {
    let ok = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
        || Command::new(tool).arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !ok {
        assert!(
            std::env::var_os(require_env).is_none(),
            "{tool} is required ({require_env} is set) but missing"
        );
        eprintln!("SKIP: {tool} is not installed");
    }
    ok
}

/// A child process killed (and reaped) on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `rclone serve webdav <dir>` on `port` with user `u` and password `p`.
pub fn rclone_webdav(dir: &Path, port: u16) -> Server {
    let mut child = Command::new("rclone")
        .args(["serve", "webdav", "--addr", &format!("127.0.0.1:{port}"), "--user", "u", "--pass", "p"])
        .args(["--config", "/dev/null"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("rclone runs");
    wait_listening(port, &mut child);
    Server { child, port }
}

/// A TCP relay from a loopback port to `upstream` that counts the bytes clients send.
pub struct Relay {
    pub port: u16,
    pub sent: Arc<AtomicU64>,
}

impl Relay {
    /// Starts relaying; each client chunk of up to 64 KiB is forwarded after `pause` (a
    /// throttle, so a test can act while an upload is under way).
    pub fn start(upstream: u16, pause: Duration) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let counter = counter.clone();
                std::thread::spawn(move || relay(client, upstream, counter, pause));
            }
        });
        Relay { port, sent }
    }

    /// Bytes clients sent through the relay so far.
    pub fn bytes(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

fn relay(client: TcpStream, upstream: u16, counter: Arc<AtomicU64>, pause: Duration) {
    use std::io::{Read, Write};
    let addr: SocketAddr = ([127, 0, 0, 1], upstream).into();
    let Ok(server) = TcpStream::connect(addr) else { return };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_read, mut c_write) = (server, client);
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut s_read, &mut c_write);
        let _ = c_write.shutdown(std::net::Shutdown::Both);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match c_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        std::thread::sleep(pause);
        if s_write.write_all(&buf[..n]).is_err() {
            break;
        }
        counter.fetch_add(n as u64, Ordering::SeqCst);
    }
    let _ = s_write.shutdown(std::net::Shutdown::Both);
    let _ = back.join();
}
