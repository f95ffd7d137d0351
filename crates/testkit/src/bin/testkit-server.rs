//! `testkit-server`: runs the loopback server with synthetic podcasts for shell benchmarks.
//!
//! It registers `--feeds` podcasts (`/feed-000/feed.xml` ...) of `--episodes` episodes of
//! `--size` bytes each, an OPML list of them at `/subscriptions.opml`, writes a sha256sum-style
//! manifest (`<sha256>  <url-path>` per media file), prints `BASE <url>`, `OPML <url>` and
//! `MANIFEST <path>` lines, then serves until SIGTERM or ctrl-c.

use std::io::Write as _;
use std::path::PathBuf;

use catalog_sync_testkit::{ServerConfig, TestServer};

const USAGE: &str = "usage: testkit-server [--feeds N] [--episodes N] [--size BYTES] [--rate BYTES_PER_SEC] \
[--latency-ms MS] [--port P] [--out DIR]
  defaults: --feeds 20 --episodes 10 --size 2000000, no rate limit, no latency, a free port,
  manifest in $TMPDIR/testkit-server-<pid>/manifest.sha256";

struct Args {
    feeds: usize,
    episodes: usize,
    size: u64,
    rate: Option<u64>,
    latency_ms: u64,
    port: u16,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args { feeds: 20, episodes: 10, size: 2_000_000, rate: None, latency_ms: 0, port: 0, out: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--feeds" => a.feeds = num(&value)? as usize,
            "--episodes" => a.episodes = num(&value)? as usize,
            "--size" => a.size = num(&value)?,
            "--rate" => a.rate = Some(num(&value)?).filter(|r| *r > 0),
            "--latency-ms" => a.latency_ms = num(&value)?,
            "--port" => a.port = u16::try_from(num(&value)?).map_err(|e| format!("--port: {e}"))?,
            "--out" => a.out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("testkit-server: {msg}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let config = ServerConfig { port: args.port, rate_limit: args.rate, latency_ms: args.latency_ms, ..ServerConfig::default() };
    let server = TestServer::start(config).await?;
    let feeds: Vec<_> = (0..args.feeds).map(|f| server.add_podcast(&format!("feed-{f:03}"), args.episodes, args.size)).collect();
    let opml = server.add_opml("/subscriptions.opml", &feeds);

    let dir = args.out.unwrap_or_else(|| std::env::temp_dir().join(format!("testkit-server-{}", std::process::id())));
    std::fs::create_dir_all(&dir)?;
    let manifest_path = dir.join("manifest.sha256");
    let mut manifest = String::new();
    for info in server.manifest().values() {
        manifest.push_str(&format!("{}  {}\n", info.sha256_hex, info.url.path()));
    }
    std::fs::write(&manifest_path, manifest)?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "BASE {}", server.base_url())?;
    writeln!(out, "OPML {opml}")?;
    writeln!(out, "MANIFEST {}", manifest_path.display())?;
    out.flush()?;
    drop(out);

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}
