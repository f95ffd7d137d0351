//! Crash test of a big sync (issue 18, part 3): the real `catalog-sync sync` of 12 feeds x 300
//! episodes (each feed written into the catalog in one transaction, new item ids taken from
//! the id counter once per feed) is killed with SIGKILL at seeded random points, and the
//! catalog is checked after every kill and after a last run that finishes:
//!
//! * a playlist the catalog shows synced (a sync time, an item count) has every one of its
//!   items, each listed once, each under its own id, with the feed's title: a crash never
//!   leaves half a feed behind;
//! * a sync work item reported done in the job's log belongs to such a playlist: nothing
//!   reported synced is lost;
//! * the last run brings every feed in, and no item id was ever given twice (an item row
//!   overwritten by a reused id would show another feed's title or a missing item).

use std::collections::HashSet;
use std::time::Duration;

use catalog_sync_core::store::{Store, WorkStatus};
use catalog_sync_testkit::{ServerConfig, TestServer};

use super::Cli;

const FEEDS: usize = 12;
const EPISODES: usize = 300;
/// Seed of the kill delays when `CRASH_SEED` is not set.
const DEFAULT_SEED: u64 = 0x5c_a1e3;

/// splitmix64 (as in `crash.rs`): delays in `[lo, hi)` ms.
fn delays(mut state: u64, lo: u64, hi: u64) -> impl Iterator<Item = Duration> {
    std::iter::repeat_with(move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Duration::from_millis(lo + (z ^ (z >> 31)) % (hi - lo))
    })
}

/// Checks the invariants of the module docs on the catalog the dead process left; returns how
/// many playlists are synced.
fn check(cli: &Cli, what: &str) -> usize {
    let store = Store::open(&cli.dir.path().join("catalog.redb")).unwrap();
    let mut synced = HashSet::new();
    let mut ids = HashSet::new();
    for (id, row) in store.playlists().unwrap() {
        let items = store.playlist_items(id).unwrap();
        if row.last_sync_ms.is_none() {
            assert!(items.is_empty(), "{what}: playlist {id} not synced yet lists {} items", items.len());
            continue;
        }
        assert_eq!(row.item_count as usize, EPISODES, "{what}: playlist {id}");
        assert_eq!(items.len(), EPISODES, "{what}: playlist {id} is synced but holds {} items", items.len());
        // the feed's slug, e.g. `sync-crash-03`: every title names it
        let slug = row.url.rsplit('/').nth(1).unwrap().to_owned();
        for entry in &items {
            assert!(ids.insert(entry.id), "{what}: item id {} listed twice", entry.id);
            assert_eq!(entry.item.playlist_id, id, "{what}: item {} belongs to another playlist", entry.id);
            let title = entry.item.title.as_deref().unwrap_or_default();
            assert!(title.starts_with(&format!("{slug} episode ")), "{what}: item {} is {title:?}", entry.id);
        }
        synced.insert(id);
    }
    for (job, _) in store.jobs().unwrap() {
        for (playlist, work) in store.stage_items(job, 0).unwrap() {
            if work.status == WorkStatus::Done {
                assert!(synced.contains(&playlist), "{what}: job {job} reported playlist {playlist} synced");
            }
        }
    }
    synced.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_big_sync_keeps_every_synced_feed_whole() {
    let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    println!("CRASH_SEED={seed}");
    // 100 ms before every response and one feed at a time: a run syncs at most 4 feeds
    // before its kill (delays under 400 ms) on any machine, so the first two kills both land
    // mid-sync (12 feeds)
    let server = TestServer::start(ServerConfig { latency_ms: 100, ..Default::default() }).await.unwrap();
    let feeds: Vec<url::Url> =
        (0..FEEDS).map(|f| server.add_podcast(&format!("sync-crash-{f:02}"), EPISODES, 1)).collect();
    let opml = server.add_opml("/sync-crash.opml", &feeds);
    let cli = Cli::new();
    std::fs::write(cli.dir.path().join("config.toml"), "parallel_syncs = 1\nheartbeat_stale_ms = 300\n")
        .unwrap();
    let (code, out, err) = cli.run(&["import", opml.as_str()]).await;
    assert_eq!(code, 0, "{out}{err}");

    let (mut kills, mut partial_kills) = (0, 0);
    for delay in delays(seed, 50, 400).take(8) {
        let mut child = cli
            .command(&["-q", "sync"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            break; // finished before the kill: the last run below checks the end state
        }
        child.kill().await.unwrap(); // SIGKILL, then reaped
        kills += 1;
        let synced = check(&cli, &format!("kill {kills} after {delay:?}"));
        partial_kills += usize::from(synced < FEEDS);
        println!("kill {kills} after {:4} ms: {synced} of {FEEDS} feeds synced", delay.as_millis());
        tokio::time::sleep(Duration::from_millis(350)).await; // the dead run's heartbeat goes stale
    }
    assert!(partial_kills >= 2, "at least two kills mid-sync; got {partial_kills} of {kills} (seed {seed})");

    let (code, out, err) =
        tokio::time::timeout(Duration::from_secs(120), cli.run(&["sync"])).await.expect("the last run ends");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(check(&cli, "after the last run"), FEEDS, "every feed synced in the end");
}
