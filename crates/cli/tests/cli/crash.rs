//! Crash test of issue 4: the real `catalog-sync` binary runs a sync + download against a
//! throttled testkit server and is killed with SIGKILL at seeded random points, again and
//! again, then restarted until it finishes. Part of the crate's one test binary (`cli.rs`).
//!
//! After every kill the library is checked: whatever sits under a final name is a complete
//! file with the server's sha256 (a truncated file never takes a final name). At the end:
//! every item is downloaded with the right bytes (none lost), no `.part` is left, and a file
//! that was complete on disk at some kill was never requested again (the testkit counters per
//! path). The delays come from a splitmix64 stream seeded by `CRASH_SEED` (default below), so
//! a failure can be replayed; the seed is printed.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use catalog_sync_core::store::Store;
use catalog_sync_testkit::{ServerConfig, TestServer};
use sha2::{Digest, Sha256};

use super::{walk, Cli};

/// Seed of the kill delays when `CRASH_SEED` is not set.
const DEFAULT_SEED: u64 = 0x1d4_c8a5;
/// Kills that must land while the process is still running.
const KILLS: usize = 12;

/// splitmix64: a tiny seeded generator (no dependency needed for a dozen numbers).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)` milliseconds.
    fn delay(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo))
    }
}

/// Files under final names (no `.part`, `.validator`, exported `.m3u`) with their sha256, and
/// the leftovers of unfinished transfers.
fn library(cli: &Cli) -> (BTreeMap<String, String>, Vec<String>) {
    let (mut complete, mut partial) = (BTreeMap::new(), Vec::new());
    walk(&cli.library(), &mut |p| {
        let name = p.to_string_lossy().into_owned();
        // temporaries: a transfer's part and its validator sidecar, a decoded part, a tagging
        // copy, an M3U being written; none of them is a final name
        if [".part", ".validator", ".decoded", ".tagging", ".tmp"].iter().any(|s| name.ends_with(s)) {
            partial.push(name);
        } else if !name.ends_with(".m3u") {
            // a file can vanish between listing and reading only if a rename raced us; the
            // process is dead here, so read errors are real failures
            complete.insert(name, hex::encode(Sha256::digest(std::fs::read(p).unwrap())));
        }
    });
    (complete, partial)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_a_dozen_random_points_loses_nothing_and_refetches_no_complete_file() {
    let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    println!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    // 3 feeds x 6 episodes x 400 kB at 250 kB/s per connection, 3 downloaders: about 10 s of
    // transfers, plus 30 ms before every response so the sync stage takes time too
    let server =
        TestServer::start(ServerConfig { rate_limit: Some(250_000), latency_ms: 30, ..Default::default() })
            .await
            .unwrap();
    let feeds: Vec<url::Url> =
        ["crash-a", "crash-b", "crash-c"].iter().map(|s| server.add_podcast(s, 6, 400_000)).collect();
    let opml = server.add_opml("/crash.opml", &feeds);
    let manifest = server.manifest();
    let path_of_sha: HashMap<String, String> =
        manifest.values().map(|m| (m.sha256_hex.clone(), m.url.path().to_owned())).collect();

    let cli = Cli::new();
    // a killed run's heartbeats (job and item) must go stale before the next run may take its
    // work over; short windows keep the test quick, items stamp often enough to stay fresh
    std::fs::write(
        cli.dir.path().join("config.toml"),
        "heartbeat_stale_ms = 300\nitem_stale_ms = 300\nitem_heartbeat_ms = 100\n",
    )
    .unwrap();
    let (code, out, err) = cli.run(&["import", opml.as_str()]).await;
    assert_eq!(code, 0, "{out}{err}");

    // path -> requests seen when the file was first found complete on disk
    let mut complete_at: BTreeMap<String, u64> = BTreeMap::new();
    let (mut kills, mut runs, mut finished_early, mut with_work_left) = (0, 0, 0, 0);
    let started = Instant::now();
    while kills < KILLS {
        assert!(runs < 3 * KILLS, "the run keeps finishing before the kill: {kills} kills in {runs} runs");
        runs += 1;
        let mut child = cli
            .command(&["-q", "run"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // kills land within the first ~60 % of the transfers (mean 380 ms x 12 of ~10 s), so a
        // faster machine still leaves work at 10 or more of them
        let delay = rng.delay(60, 700);
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
            if library(&cli).0.len() == manifest.len() {
                break; // everything is done: no point left to kill at
            }
            continue;
        }
        child.kill().await.unwrap(); // SIGKILL, then reaped
        kills += 1;
        let (complete, partial) = library(&cli);
        with_work_left += usize::from(complete.len() < manifest.len());
        let stats = server.stats();
        for (name, sha) in &complete {
            let path = path_of_sha.get(sha).unwrap_or_else(|| {
                let size = std::fs::metadata(name).map(|m| m.len()).unwrap_or(0);
                panic!(
                    "kill {kills} after {delay:?}: {name} ({size} bytes) sits under a final name but is not a \
                     complete file; the library: complete {:?}, partial {partial:?}",
                    complete.keys().collect::<Vec<_>>()
                )
            });
            complete_at.entry(path.clone()).or_insert_with(|| stats.requests_for(path));
        }
        println!(
            "kill {kills:2} after {:4} ms: {:2} complete, {} partial",
            delay.as_millis(),
            complete.len(),
            partial.len()
        );
        // let the dead runner's heartbeat go stale (300 ms) before the restart
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
    assert!(
        with_work_left >= 10,
        "at least 10 kills while files were still missing; got {with_work_left} of {kills} (seed {seed})"
    );

    let (code, out, err) = tokio::time::timeout(Duration::from_secs(90), cli.run(&["run"]))
        .await
        .expect("the last run finishes");
    assert_eq!(code, 0, "{out}{err}");
    println!(
        "{kills} kills in {runs} runs ({finished_early} ended before their kill), {:?} in all",
        started.elapsed()
    );

    let (complete, partial) = library(&cli);
    assert!(partial.is_empty(), "no temporary (.part, .tmp...) left after the final run: {partial:?}");
    assert_eq!(complete.len(), manifest.len(), "one file per item, no duplicate: {complete:?}");
    let mut got: Vec<&String> = complete.values().collect();
    let mut want: Vec<&String> = manifest.values().map(|m| &m.sha256_hex).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "every file has the server's sha256");
    let stats = server.stats();
    for (path, requests) in &complete_at {
        assert_eq!(stats.requests_for(path), *requests, "{path} was complete on disk and was fetched again");
    }
    let sent = stats.body_bytes.iter().filter(|(p, _)| p.ends_with(".mp3")).map(|(_, b)| b).sum::<u64>();
    let payload: u64 = manifest.values().map(|m| m.size).sum();
    println!(
        "media bytes sent {sent} for a payload of {payload} ({:.1} %)",
        sent as f64 * 100.0 / payload as f64
    );
    // no item lost: every item of every playlist has its file recorded
    let store = Store::open(&cli.dir.path().join("catalog.redb")).unwrap();
    let mut recorded = 0;
    for (id, _) in store.playlists().unwrap() {
        for entry in store.playlist_items(id).unwrap() {
            let file =
                entry.file.unwrap_or_else(|| panic!("item {} ({:?}) lost", entry.id, entry.item.title));
            assert_eq!(
                complete.get(&cli.library().join(&file.path).to_string_lossy().into_owned()),
                Some(&file.sha256),
                "{file:?}"
            );
            recorded += 1;
        }
    }
    assert_eq!(recorded, manifest.len());
}
