//! Kill-and-resume test of renaming (issue 16, part 3): the real `catalog-sync organize` is
//! killed with SIGKILL again and again while it moves 30 downloaded files to the names of a
//! new template (the test hook `CATALOG_SYNC_TEST_ORGANIZE_STEP_MS` widens the windows between
//! journal, move and commit, so kills land inside them), then run until it finishes. After
//! every kill every file is reachable from the catalog: at its file row's path, or at the new
//! path its journaled move names. At the end every row names its new path with the same
//! bytes, the journal is empty, nothing is duplicated and the old folders are gone. The kill
//! delays come from a splitmix64 stream seeded by `ORGANIZE_CRASH_SEED` (printed).

use std::collections::BTreeMap;
use std::time::Duration;

use catalog_sync_core::store::Store;
use catalog_sync_testkit::{ServerConfig, TestServer};
use sha2::{Digest, Sha256};

use super::{walk, Cli, OFFLINE};

const DEFAULT_SEED: u64 = 0x0e9a_11ce;
const KILLS: usize = 6;

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Media files under the library: relative path -> sha256.
fn media(cli: &Cli) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(&cli.library(), &mut |p| {
        if p.extension().is_some_and(|e| e == "mp3") {
            let rel = p.strip_prefix(cli.library()).unwrap().to_string_lossy().into_owned();
            out.insert(rel, hex::encode(Sha256::digest(std::fs::read(p).unwrap())));
        }
    });
    out
}

/// Every file row's file, found at its path or at its journaled new path; (rows, journaled).
fn assert_all_reachable(cli: &Cli, shas: &BTreeMap<String, String>, when: &str) -> (usize, usize) {
    let store = Store::open(&cli.dir.path().join("catalog.redb")).unwrap();
    let journal: BTreeMap<u64, String> =
        store.organize_journal().unwrap().into_iter().map(|(item, row)| (item, row.to)).collect();
    let items = store.downloaded_item_ids().unwrap();
    for item in &items {
        let row = store.item_file(*item).unwrap().unwrap();
        let at = [Some(&row.path), journal.get(item)]
            .into_iter()
            .flatten()
            .find(|p| cli.library().join(p).is_file())
            .unwrap_or_else(|| panic!("{when}: item {item} ({}) is reachable from the catalog", row.path));
        assert_eq!(shas.get(at), Some(&row.sha256), "{when}: {at} holds item {item}'s bytes");
    }
    (items.len(), journal.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_organize_keeps_every_file_reachable_and_the_next_run_finishes() {
    let seed = std::env::var("ORGANIZE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    println!("ORGANIZE_CRASH_SEED={seed}");
    let mut rng = seed;
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let cli = Cli::new();
    let config = cli.dir.path().join("config.toml");
    let windows = "heartbeat_stale_ms = 300\nitem_stale_ms = 300\nitem_heartbeat_ms = 100\n";
    std::fs::write(&config, format!("{OFFLINE}{windows}")).unwrap();
    for slug in ["org-a", "org-b"] {
        let feed = server.add_podcast(slug, 15, 2_000);
        let (code, out, err) = cli.run(&["add", feed.as_str()]).await;
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = cli.run(&["-q", "run"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let before = media(&cli);
    assert_eq!(before.len(), 30, "{before:?}");
    assert!(before.keys().all(|p| p.starts_with("Podcast org-")), "{before:?}");

    let template = "Shows/{playlist}/{title} {guid_hash}.{ext}";
    std::fs::write(&config, format!("{OFFLINE}{windows}name_template = \"{template}\"\n")).unwrap();
    let (code, out, err) = cli.run(&["organize", "--dry-run"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("30 to rename"), "{out}");
    assert_eq!(media(&cli), before, "the dry run moved nothing");

    let (mut kills, mut runs, mut journaled_at_kill) = (0, 0, 0);
    while kills < KILLS {
        runs += 1;
        assert!(runs < 4 * KILLS, "the run keeps finishing before its kill");
        let mut child = cli
            .command(&["-q", "organize"])
            .env("CATALOG_SYNC_TEST_ORGANIZE_STEP_MS", "40")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let delay = Duration::from_millis(200 + next(&mut rng) % 600);
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_some() {
            break; // finished: nothing left to kill
        }
        child.kill().await.unwrap(); // SIGKILL, then reaped
        kills += 1;
        let shas = media(&cli);
        assert_eq!(shas.len(), 30, "kill {kills}: no file lost or duplicated: {shas:?}");
        let (rows, journaled) = assert_all_reachable(&cli, &shas, &format!("kill {kills} after {delay:?}"));
        assert_eq!(rows, 30);
        journaled_at_kill += journaled;
        let moved = shas.keys().filter(|p| p.starts_with("Shows/")).count();
        println!(
            "kill {kills} after {:4} ms: {moved:2} of 30 moved, {journaled} journaled",
            delay.as_millis()
        );
        tokio::time::sleep(Duration::from_millis(350)).await; // the dead runner's heartbeat goes stale
    }
    assert!(kills >= 3, "at least 3 kills landed mid-organize: {kills} in {runs} runs");
    println!("{kills} kills in {runs} runs; {journaled_at_kill} moves were in flight at a kill");

    let (code, out, err) = tokio::time::timeout(Duration::from_secs(60), cli.run(&["organize"]))
        .await
        .expect("the last run finishes");
    assert_eq!(code, 0, "{out}{err}");
    let after = media(&cli);
    assert_all_reachable(&cli, &after, "after the last run");
    let mut want: Vec<&String> = before.values().collect();
    let mut got: Vec<&String> = after.values().collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the same 30 files, none lost or copied");
    assert!(after.keys().all(|p| p.starts_with("Shows/Podcast org-")), "every file renamed: {after:?}");
    let store = Store::open(&cli.dir.path().join("catalog.redb")).unwrap();
    assert!(store.organize_journal().unwrap().is_empty(), "the journal is settled");
    drop(store);
    for old in ["Podcast org-a", "Podcast org-b"] {
        assert!(!cli.library().join(old).exists(), "{old}/ was emptied and removed");
    }
    let m3u = std::fs::read_to_string(cli.library().join("Podcast org-a.m3u")).unwrap();
    assert!(m3u.lines().filter(|l| !l.starts_with('#')).all(|l| l.starts_with("Shows/")), "{m3u}");
    let (code, out, _) = cli.run(&["organize", "--dry-run"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("0 to rename, 30 already named"), "{out}");
}
