//! Integration tests of `download::fetch_to_file` against a minimal loopback HTTP/1.1 server
//! (`mod support`), written by hand on a tokio `TcpListener` so each test scripts exactly what
//! the server answers, where it cuts a body and where it goes silent. Every response closes
//! its connection, so each request is one connection and the server records them in order.
//! Timeouts use short configured windows (a 200 ms stall window); nothing asserts on timing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalog_sync_core::download::{
    build_client, fetch_to_file, fetch_to_file_from, inspect_part_blocking, part_path, validator_path,
    ErrorKind, PartState, TransferError, TransferOptions, TransferProgress,
};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

mod support {
    //! A scripted loopback HTTP/1.1 server: a handler maps (request, connection index) to a
    //! [`Reply`]; the server records requests and the body bytes it actually sent.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// One received request: its path and headers (names lowercased).
    #[derive(Debug, Clone)]
    pub struct Request {
        pub path: String,
        pub headers: Vec<(String, String)>,
    }

    impl Request {
        pub fn header(&self, name: &str) -> Option<&str> {
            let name = name.to_ascii_lowercase();
            self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
        }
    }

    /// What to answer. `content_length` defaults to `body.len()`; `cut_after` closes the
    /// connection after that many body bytes; `stall_after` sends that many and then goes
    /// silent without closing.
    #[derive(Debug, Clone, Default)]
    pub struct Reply {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
        pub content_length: Option<u64>,
        pub cut_after: Option<usize>,
        pub stall_after: Option<usize>,
    }

    impl Reply {
        pub fn status(status: u16) -> Self {
            Reply { status, ..Default::default() }
        }
        pub fn header(mut self, name: &str, value: &str) -> Self {
            self.headers.push((name.to_owned(), value.to_owned()));
            self
        }
    }

    /// Answers like a static file server that honours `Range: bytes=n-` (RFC 9110 §14).
    pub fn serve_ranges(req: &Request, content: &[u8]) -> Reply {
        let len = content.len();
        let start = req
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok());
        match start {
            None => serve_full(content),
            Some(n) if n >= len => Reply::status(416).header("content-range", &format!("bytes */{len}")),
            Some(n) => Reply {
                body: content[n..].to_vec(),
                ..Reply::status(206).header("content-range", &format!("bytes {n}-{}/{len}", len - 1))
            }
            .header("content-type", "audio/mpeg"),
        }
    }

    /// A plain 200 with the whole content, ignoring any `Range`.
    pub fn serve_full(content: &[u8]) -> Reply {
        Reply { body: content.to_vec(), ..Reply::status(200).header("content-type", "audio/mpeg") }
    }

    type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

    pub struct Server {
        pub url: url::Url,
        requests: Arc<Mutex<Vec<Request>>>,
        sent: Arc<Mutex<Vec<usize>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    impl Server {
        pub async fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url =
                url::Url::parse(&format!("http://{}/media/episode.mp3", listener.local_addr().unwrap()))
                    .unwrap();
            let requests = Arc::new(Mutex::new(Vec::new()));
            let sent = Arc::new(Mutex::new(Vec::new()));
            let handler: Arc<Handler> = Arc::new(handler);
            let (reqs, sent2) = (requests.clone(), sent.clone());
            let task = tokio::spawn(async move {
                let mut index = 0;
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (h, r, s) = (handler.clone(), reqs.clone(), sent2.clone());
                    tokio::spawn(serve_one(stream, index, h, r, s));
                    index += 1;
                }
            });
            Server { url, requests, sent, task }
        }

        pub fn requests(&self) -> Vec<Request> {
            self.requests.lock().unwrap().clone()
        }

        /// Body bytes written per request, in request order.
        pub fn body_bytes_sent(&self) -> Vec<usize> {
            self.sent.lock().unwrap().clone()
        }
    }

    async fn serve_one(
        mut stream: TcpStream,
        index: usize,
        handler: Arc<Handler>,
        requests: Arc<Mutex<Vec<Request>>>,
        sent: Arc<Mutex<Vec<usize>>>,
    ) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let mut lines = head.split("\r\n");
        let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_owned();
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let request = Request { path, headers };
        let reply = handler(&request, index);
        let slot = {
            let mut reqs = requests.lock().unwrap();
            reqs.push(request);
            let mut sent = sent.lock().unwrap();
            sent.push(0);
            sent.len() - 1
        };
        let mut out = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
        for (n, v) in &reply.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        let length = reply.content_length.unwrap_or(reply.body.len() as u64);
        out.push_str(&format!("content-length: {length}\r\nconnection: close\r\n\r\n"));
        if stream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
        let limit = reply.cut_after.or(reply.stall_after).unwrap_or(reply.body.len()).min(reply.body.len());
        for piece in reply.body[..limit].chunks(16 * 1024) {
            if stream.write_all(piece).await.is_err() {
                return;
            }
            sent.lock().unwrap()[slot] += piece.len();
        }
        let _ = stream.flush().await;
        if reply.stall_after.is_some() {
            // Silent but open: only the client's watchdog can end this.
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        let _ = stream.shutdown().await;
    }
}

use support::{serve_full, serve_ranges, Reply, Server};

/// Deterministic pseudo-random content of `len` bytes.
fn content(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn quick_opts(max_attempts: u32) -> TransferOptions {
    TransferOptions {
        stall_timeout: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(5),
        max_attempts,
        retry_backoff: Duration::from_millis(10),
        deadline: Duration::from_secs(60),
        bandwidth: None,
        space: None,
        hedge: None,
        sync_dir: true,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    dest: PathBuf,
    part: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("show").join("2024-01-01 Episode.mp3");
    let part = part_path(&dest).unwrap();
    Fixture { _dir: dir, dest, part }
}

fn write_part(part: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(part, bytes).unwrap();
}

async fn fetch(
    server: &Server,
    dest: &Path,
    opts: &TransferOptions,
) -> Result<catalog_sync_core::download::FetchedFile, TransferError> {
    let client = build_client("catalog-sync-tests/0");
    fetch_to_file(&client, &server.url, dest, opts, &|_| {}, &CancellationToken::new()).await
}

const LEN: usize = 300_000;
const CUT: usize = 120_000;

#[tokio::test]
async fn fresh_download_is_complete_and_verified() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, _| serve_ranges(req, &b)).await;
    let f = fixture();
    let seen = Arc::new(Mutex::new(Vec::<TransferProgress>::new()));
    let seen2 = seen.clone();
    let client = build_client("catalog-sync-tests/0");
    let report = move |p: TransferProgress| seen2.lock().unwrap().push(p);
    let got =
        fetch_to_file(&client, &server.url, &f.dest, &quick_opts(1), &report, &CancellationToken::new())
            .await
            .unwrap();
    assert_eq!(got.size, LEN as u64);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!((got.resumed_from, got.attempts), (0, 1));
    assert_eq!(got.content_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(std::fs::read(&f.dest).unwrap(), body);
    assert!(!f.part.exists());
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!(last, TransferProgress { downloaded: LEN as u64, total: Some(LEN as u64), resumed_from: 0 });
    let reqs = server.requests();
    assert_eq!(reqs[0].header("range"), None);
    assert_eq!(reqs[0].header("accept-encoding"), Some("identity"));
    assert_eq!(reqs[0].path, "/media/episode.mp3");
}

#[tokio::test]
async fn cut_body_leaves_a_part_and_the_next_call_resumes_with_range() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, index| {
        if index == 0 {
            Reply { cut_after: Some(CUT), ..serve_full(&b) }
        } else {
            serve_ranges(req, &b)
        }
    })
    .await;
    let f = fixture();
    let err = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap_err();
    assert!(
        matches!(err, TransferError::Incomplete { expected, got, .. } if expected == LEN as u64 && got == CUT as u64),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(std::fs::metadata(&f.part).unwrap().len(), CUT as u64);
    assert!(!f.dest.exists());

    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[1].header("range"), Some(format!("bytes={CUT}-").as_str()));
    assert_eq!(server.body_bytes_sent(), vec![CUT, LEN - CUT]);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!((got.resumed_from, got.size), (CUT as u64, LEN as u64));
    assert!(!f.part.exists());
    assert_eq!(std::fs::read(&f.dest).unwrap(), body, "appended after the kept prefix");
}

/// `fetch_to_file_from` starts from the caller's reading of the part instead of reading it
/// again: the first request's range follows it; a reading of another file is ignored.
#[tokio::test]
async fn the_first_attempt_starts_from_the_part_the_caller_read() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, _| serve_ranges(req, &b)).await;
    let client = build_client("catalog-sync-tests/0");
    let from = |dest: PathBuf, known: Option<PartState>| {
        let (client, url) = (client.clone(), server.url.clone());
        async move {
            let cancel = CancellationToken::new();
            fetch_to_file_from(&client, &url, &dest, &quick_opts(1), &|_| {}, &cancel, known).await.unwrap()
        }
    };
    let f = fixture();
    write_part(&f.part, &body[..CUT]);
    let known = inspect_part_blocking(&f.dest).unwrap();
    assert_eq!(known, PartState { part: f.part.clone(), len: CUT as u64, meta: Default::default() });
    let got = from(f.dest.clone(), Some(known.clone())).await;
    assert_eq!(server.requests()[0].header("range"), Some(format!("bytes={CUT}-").as_str()));
    assert_eq!((got.resumed_from, got.size), (CUT as u64, LEN as u64));
    assert_eq!(std::fs::read(&f.dest).unwrap(), body);

    // another destination: `known` is not its part, so it is read here (none: from 0)
    let g = fixture();
    from(g.dest.clone(), Some(known)).await;
    assert_eq!(server.requests()[1].header("range"), None);
    assert_eq!(std::fs::read(&g.dest).unwrap(), body);

    // the reading is used as it is: a part written after it is not resumed, but replaced
    let h = fixture();
    let empty = inspect_part_blocking(&h.dest).unwrap();
    assert!(h.dest.parent().unwrap().is_dir(), "the reading made the directory");
    assert_eq!(empty.len, 0);
    write_part(&h.part, &[0xFF; CUT]);
    from(h.dest.clone(), Some(empty)).await;
    assert_eq!(server.requests()[2].header("range"), None);
    assert_eq!(std::fs::read(&h.dest).unwrap(), body);
    assert!(!h.part.exists());
}

#[tokio::test]
async fn retries_resume_within_one_call() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, index| match index {
        0 => Reply { cut_after: Some(CUT), ..serve_full(&b) },
        1 => Reply::status(503),
        _ => serve_ranges(req, &b),
    })
    .await;
    let f = fixture();
    let got = fetch(&server, &f.dest, &quick_opts(4)).await.unwrap();
    assert_eq!(got.attempts, 3);
    assert_eq!(got.resumed_from, CUT as u64);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!(std::fs::read(&f.dest).unwrap(), body);
    let ranges: Vec<_> = server.requests().iter().map(|r| r.header("range").map(str::to_owned)).collect();
    let resume = Some(format!("bytes={CUT}-"));
    assert_eq!(ranges, vec![None, resume.clone(), resume]);
}

#[tokio::test]
async fn server_ignoring_range_restarts_from_zero() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |_, _| serve_full(&b)).await;
    let f = fixture();
    write_part(&f.part, &[0xFF; 1000]); // wrong bytes: must not survive
    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    assert_eq!(server.requests()[0].header("range"), Some("bytes=1000-"));
    assert_eq!(got.resumed_from, 0);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!(std::fs::read(&f.dest).unwrap(), body);
}

#[tokio::test]
async fn a_small_body_replacing_a_part_takes_its_stale_sidecar_away() {
    // the body fits in memory (never spilled), so no new sidecar is written; the old part's
    // must still go with its part
    let body = content(1_000);
    let b = body.clone();
    let server = Server::start(move |_, _| serve_full(&b)).await;
    let f = fixture();
    write_part(&f.part, &[0xFF; 10]);
    let sidecar = validator_path(&f.part);
    std::fs::write(&sidecar, "\"v1\"").unwrap();
    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    assert_eq!(server.requests()[0].header("if-range"), Some("\"v1\""));
    assert_eq!((got.resumed_from, std::fs::read(&f.dest).unwrap()), (0, body));
    assert!(!f.part.exists() && !sidecar.exists(), "the part and its sidecar are gone");
}

#[tokio::test]
async fn content_range_start_mismatch_restarts() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, _| {
        if req.header("range").is_some() {
            let from = CUT - 10;
            Reply { body: b[from..].to_vec(), ..Reply::status(206) }
                .header("content-range", &format!("bytes {from}-{}/{LEN}", LEN - 1))
        } else {
            serve_full(&b)
        }
    })
    .await;
    let f = fixture();
    write_part(&f.part, &body[..CUT]);
    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].header("range").is_some() && reqs[1].header("range").is_none());
    assert_eq!((got.resumed_from, got.attempts), (0, 1));
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!(std::fs::read(&f.dest).unwrap(), body);
}

#[tokio::test]
async fn unsatisfiable_range_with_complete_part_finishes_it() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, _| serve_ranges(req, &b)).await;
    let f = fixture();
    write_part(&f.part, &body);
    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    assert_eq!(server.requests()[0].header("range"), Some(format!("bytes={LEN}-").as_str()));
    assert_eq!(server.body_bytes_sent(), vec![0]);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
    assert_eq!(got.resumed_from, LEN as u64);
    assert!(f.dest.exists() && !f.part.exists());
}

#[tokio::test]
async fn unsatisfiable_range_with_wrong_size_restarts() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |req, _| serve_ranges(req, &b)).await;
    let f = fixture();
    write_part(&f.part, &content(LEN + 5)); // longer than the resource: 416 */LEN
    let got = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap();
    assert_eq!(server.requests().len(), 2);
    assert_eq!(got.sha256_hex, sha256_hex(&body));
}

#[tokio::test]
async fn not_found_is_expected_and_leaves_nothing() {
    let server = Server::start(|_, _| Reply::status(404)).await;
    let f = fixture();
    let err = fetch(&server, &f.dest, &quick_opts(3)).await.unwrap_err();
    assert!(matches!(err, TransferError::Status { status, .. } if status.as_u16() == 404), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Expected);
    assert_eq!(server.requests().len(), 1, "expected errors are not retried");
    assert!(!f.dest.exists() && !f.part.exists());
}

#[tokio::test]
async fn server_error_is_transient_and_retried() {
    let server = Server::start(|_, _| Reply::status(500)).await;
    let f = fixture();
    let err = fetch(&server, &f.dest, &quick_opts(2)).await.unwrap_err();
    assert!(matches!(err, TransferError::Status { status, .. } if status.as_u16() == 500), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert_eq!(server.requests().len(), 2);
    assert!(!f.dest.exists());
}

#[tokio::test]
async fn silent_server_stalls_after_the_window() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |_, _| Reply { stall_after: Some(CUT), ..serve_full(&b) }).await;
    let f = fixture();
    let err = fetch(&server, &f.dest, &quick_opts(1)).await.unwrap_err();
    assert!(
        matches!(err, TransferError::Stalled { downloaded, after } if downloaded == CUT as u64 && after == Duration::from_millis(200)),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(std::fs::read(&f.part).unwrap(), body[..CUT]);
    assert!(!f.dest.exists());
}

#[tokio::test]
async fn cancellation_ends_promptly_and_keeps_the_part() {
    let body = content(LEN);
    let b = body.clone();
    let server = Server::start(move |_, _| Reply { stall_after: Some(CUT), ..serve_full(&b) }).await;
    let f = fixture();
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    // Cancel once every byte the server will send has arrived; the long stall window shows
    // that the token, not the watchdog, ended the transfer.
    let report = move |p: TransferProgress| {
        if p.downloaded >= CUT as u64 {
            c.cancel();
        }
    };
    let opts = TransferOptions { stall_timeout: Duration::from_secs(600), ..quick_opts(3) };
    let client = build_client("catalog-sync-tests/0");
    let err = fetch_to_file(&client, &server.url, &f.dest, &opts, &report, &cancel).await.unwrap_err();
    assert!(matches!(err, TransferError::Cancelled), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(std::fs::read(&f.part).unwrap(), body[..CUT]);
    assert!(!f.dest.exists());
    assert_eq!(server.requests().len(), 1);
}
