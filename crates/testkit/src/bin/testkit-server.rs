//! `testkit-server`: runs the loopback server with synthetic podcasts for shell benchmarks.
//!
//! It registers `--feeds` podcasts (`/feed-000/feed.xml` ...) of `--episodes` episodes of
//! `--size` bytes each, an OPML list of them at `/subscriptions.opml`, writes a sha256sum-style
//! manifest (`<sha256>  <url-path>` per media file), prints `BASE <url>`, `OPML <url>` and
//! `MANIFEST <path>` lines, then serves until SIGTERM or ctrl-c.
//!
//! `--fault-percent P` makes P % of the media files (rounded to the nearest file) fail their
//! first request, deterministically for a given `--fault-seed`: the files are ordered by a
//! seeded hash of their path, the first ones are picked, and the kinds rotate over stall,
//! reset, HTTP 500 and short body (the body faults cut at a seeded point between 10 % and 90 %
//! of the file). The picks are written to `faults.txt` next to the manifest (`<kind>  <path>`)
//! and counted in a `FAULTS <n>` line. The counters are served at `/_testkit/stats` and printed
//! as a `STATS requests=.. body_bytes=.. from_zero_requests=.. media_bytes=..` line at exit.
//!
//! `--hosts N` (1 to 254) spreads the media over N hosts: the server also listens on
//! 127.0.0.2 ... 127.0.0.N at its port, and feed f's enclosures name host 127.0.0.(f mod N + 1)
//! (feeds and the OPML stay on 127.0.0.1). Every enclosure URL is listed in `media.urls` next
//! to the manifest, printed as a `MEDIA_URLS <path>` line.

use std::io::Write as _;
use std::path::PathBuf;

use catalog_sync_testkit::{Fault, ServerConfig, TestServer};
use sha2::{Digest, Sha256};

const USAGE: &str = "usage: testkit-server [--feeds N] [--episodes N] [--size BYTES] [--rate BYTES_PER_SEC] \
[--latency-ms MS] [--port P] [--out DIR] [--fault-percent P] [--fault-seed N] [--hosts N]
  defaults: --feeds 20 --episodes 10 --size 2000000, no rate limit, no latency, a free port, 1 host,
  manifest in $TMPDIR/testkit-server-<pid>/manifest.sha256, no faults, seed 1";

struct Args {
    feeds: usize,
    episodes: usize,
    size: u64,
    rate: Option<u64>,
    latency_ms: u64,
    port: u16,
    out: Option<PathBuf>,
    fault_percent: u64,
    fault_seed: u64,
    hosts: u8,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        feeds: 20,
        episodes: 10,
        size: 2_000_000,
        rate: None,
        latency_ms: 0,
        port: 0,
        out: None,
        fault_percent: 0,
        fault_seed: 1,
        hosts: 1,
    };
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
            "--fault-percent" => a.fault_percent = num(&value)?.min(100),
            "--fault-seed" => a.fault_seed = num(&value)?,
            "--hosts" => {
                a.hosts = u8::try_from(num(&value)?)
                    .ok()
                    .filter(|n| (1..=254).contains(n))
                    .ok_or("--hosts: 1 to 254")?
            }
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
    let config = ServerConfig {
        port: args.port,
        rate_limit: args.rate,
        latency_ms: args.latency_ms,
        ..ServerConfig::default()
    };
    let server = TestServer::start(config).await?;
    let mut hosts = vec![server.base_url()];
    for n in 2..=args.hosts {
        hosts.push(server.also_listen_on(std::net::Ipv4Addr::new(127, 0, 0, n)).await?);
    }
    let feeds: Vec<_> = (0..args.feeds)
        .map(|f| {
            let media_base = &hosts[f % hosts.len()];
            server.add_podcast_with_media_on(&format!("feed-{f:03}"), args.episodes, args.size, media_base)
        })
        .collect();
    let opml = server.add_opml("/subscriptions.opml", &feeds);

    let dir = args
        .out
        .unwrap_or_else(|| std::env::temp_dir().join(format!("testkit-server-{}", std::process::id())));
    std::fs::create_dir_all(&dir)?;
    let manifest_path = dir.join("manifest.sha256");
    let mut manifest = String::new();
    for info in server.manifest().values() {
        manifest.push_str(&format!("{}  {}\n", info.sha256_hex, info.url.path()));
    }
    std::fs::write(&manifest_path, manifest)?;
    let urls_path = dir.join("media.urls");
    let mut urls = String::new();
    for f in 0..args.feeds {
        for n in 1..=args.episodes {
            let path = format!("/feed-{f:03}/{n}.mp3"); // as `add_podcast_with_media_on` names them
            urls.push_str(&format!("{}\n", hosts[f % hosts.len()].join(&path).expect("path joins")));
        }
    }
    std::fs::write(&urls_path, urls)?;
    let faults = inject_faults(&server, args.fault_percent, args.fault_seed);
    std::fs::write(
        dir.join("faults.txt"),
        faults.iter().map(|(kind, path)| format!("{kind}  {path}\n")).collect::<String>(),
    )?;

    let mut out = std::io::stdout().lock();
    writeln!(out, "BASE {}", server.base_url())?;
    writeln!(out, "OPML {opml}")?;
    writeln!(out, "FAULTS {}", faults.len())?;
    writeln!(out, "MANIFEST {}", manifest_path.display())?;
    writeln!(out, "MEDIA_URLS {}", urls_path.display())?;
    out.flush()?;
    drop(out);

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let stats = server.stats();
    let media_bytes: u64 = server.manifest().values().map(|m| m.size).sum();
    println!(
        "STATS requests={} body_bytes={} from_zero_requests={} media_bytes={media_bytes}",
        stats.total_requests,
        stats.total_body_bytes(),
        stats.from_zero.values().sum::<u64>()
    );
    server.shutdown().await;
    Ok(())
}

/// A seeded 64-bit hash of `s`: the first 8 bytes of SHA-256(seed LE || s), LE.
fn seeded(seed: u64, s: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(s.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Sets a one-time fault on `percent` % of the media files (module docs); returns
/// `(kind, url path)` per faulted file, in pick order.
fn inject_faults(server: &TestServer, percent: u64, seed: u64) -> Vec<(&'static str, String)> {
    let mut media: Vec<(String, u64)> =
        server.manifest().values().map(|m| (m.url.path().to_owned(), m.size)).collect();
    media.sort_by_key(|(path, _)| (seeded(seed, path), path.clone()));
    let count = (media.len() as u64 * percent + 50) / 100;
    let mut picked = Vec::new();
    for (i, (path, size)) in media.into_iter().take(count as usize).enumerate() {
        // a cut point between 10 % and 90 % of the file
        let cut = size / 10 + seeded(seed ^ 0x5eed, &path) % (size * 8 / 10).max(1);
        let (kind, fault) = match i % 4 {
            0 => ("stall", Fault::Stall { after_bytes: cut }),
            1 => ("reset", Fault::Reset { after_bytes: cut }),
            2 => ("http-500", Fault::Status(500)),
            _ => ("short-body", Fault::ShortBody { after_bytes: cut }),
        };
        server.set_fault(&path, fault, Some(1));
        picked.push((kind, path));
    }
    picked
}
