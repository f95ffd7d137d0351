//! `bench-catalog`: builds and measures the big catalog of issue 18 for `bench/big_catalog.sh`.
//! Not a user command; nothing here is used by the app.
//!
//! `generate DB` writes a real redb catalog through the store APIs: `--playlists` playlists of
//! `--items` items each (one `apply_sync` per playlist, as a sync writes them), extra playlists
//! of the sizes `--big` names, then `--jobs` finished hourly auto-sync jobs
//! (`sync_download` of every playlist: one sync work item and one log line per playlist, a
//! download work item for a new episode every sixth hour, one run; one job in a hundred failed
//! with one playlist's HTTP 404) ending an hour apart up to now, written whole in batches of
//! 100 per transaction (`Store::insert_finished_jobs`). With `--compact-daily` it compacts the
//! history after each simulated day as the app does (`Store::compact_history`). It prints the
//! store size after the items and after every simulated month: the file's size (redb grows it
//! by doubling) and the bytes its tables hold (`Store::stored_bytes`).
//!
//! `compact DB` compacts every finished job but the newest, one per transaction (the SIGKILL
//! test of compaction in `crates/cli/tests/cli/crash.rs` kills it midway).
//!
//! `stamp DB 8` stamps the file with schema version 8, so builds from before schema 9 (which
//! only added an empty table) open it for before/after figures.
//!
//! `measure DB` opens the catalog through `Api` and prints the median time (ms) of the task
//! center projection, of the first page (100 rows) of the largest playlist and of the first
//! page of playlists, each over `--repeat` runs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use catalog_sync_core::api::{Api, Page};
use catalog_sync_core::catalog::{Enclosure, ParsedItem, ParsedPlaylist, PlaylistFormat};
use catalog_sync_core::config::Config;
use catalog_sync_core::store::history::{CompactPolicy, FinishedJob};
use catalog_sync_core::store::jobs::WorkEnd;
use catalog_sync_core::store::{JobKind, JobStatus, StageKind, Store};
use clap::{Parser, Subcommand};

const HOUR: i64 = 3_600_000;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the catalog (see the module docs).
    Generate {
        db: PathBuf,
        #[arg(long, default_value_t = 200)]
        playlists: u64,
        #[arg(long, default_value_t = 500)]
        items: u64,
        /// Sizes of extra playlists (e.g. 5000).
        #[arg(long, value_delimiter = ',')]
        big: Vec<u64>,
        #[arg(long, default_value_t = 9_000)]
        jobs: u64,
        #[arg(long)]
        compact_daily: bool,
    },
    /// Compacts the whole history now, one job per transaction (for the SIGKILL test of
    /// compaction: many commits to land a kill between).
    Compact { db: PathBuf },
    /// Stamps schema version `version` into the file (8: readable by builds before schema 9).
    Stamp { db: PathBuf, version: u64 },
    /// Times the views (see the module docs).
    Measure {
        db: PathBuf,
        #[arg(long, default_value_t = 7)]
        repeat: usize,
    },
}

fn playlist_doc(p: u64, n: u64, now_s: i64) -> ParsedPlaylist {
    let items = (0..n)
        .map(|i| ParsedItem {
            guid: Some(format!("urn:bench:{p}:{i}")),
            title: Some(format!("Episode {} of show {p}: a title of usual length", n - i)),
            published: Some(now_s - (i as i64) * 86_400),
            description: Some("A short description of the episode, as feeds carry them.".into()),
            duration_secs: Some(1_800),
            enclosure: Some(Enclosure {
                url: format!("https://media{}.example.org/show{p}/episode{i}.mp3", p % 20),
                length: Some(30_000_000),
                mime_type: Some("audio/mpeg".into()),
            }),
            ..Default::default()
        })
        .collect();
    ParsedPlaylist {
        format: Some(PlaylistFormat::Rss),
        title: Some(format!("Show {p}")),
        items,
        ..Default::default()
    }
}

/// The `h`-th hourly auto-sync over `playlists`, ending at `end_ms`.
fn hourly_job(h: u64, playlists: &[u64], first_item: u64, end_ms: i64) -> FinishedJob {
    let failed = h % 100 == 99;
    let mut work: Vec<(u8, u64, WorkEnd)> = playlists
        .iter()
        .map(|&p| match failed && p == playlists[0] {
            true => (0, p, WorkEnd::failed(format!("playlist {p}: HTTP 404 Not Found"))),
            false => (0, p, WorkEnd::done("unchanged")),
        })
        .collect();
    if h.is_multiple_of(6) {
        work.push((1, first_item + h % 500, WorkEnd::done("downloaded")));
    }
    FinishedJob {
        kind: JobKind::SyncDownload,
        stages: vec![StageKind::Sync, StageKind::Download],
        scope: Vec::new(),
        status: if failed { JobStatus::Failed } else { JobStatus::Succeeded },
        started_ms: end_ms - 40_000,
        ended_ms: end_ms,
        work,
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn generate(
    db: PathBuf,
    playlists: u64,
    items: u64,
    big: Vec<u64>,
    jobs: u64,
    compact_daily: bool,
) -> Result<()> {
    let store = Store::open(&db)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
    let t = Instant::now();
    let mut ids = Vec::new();
    let sizes = (0..playlists).map(|_| items).chain(big.iter().copied());
    for (p, n) in sizes.enumerate() {
        let id = store.add_playlist(&format!("https://feeds.example.org/show{p}.xml"), None, &[], now)?.id;
        store.apply_sync_shared(id, std::sync::Arc::new(playlist_doc(p as u64, n, now / 1000)), now)?;
        ids.push(id);
    }
    let total_items = playlists * items + big.iter().sum::<u64>();
    let after_items = store.stored_bytes()?;
    println!(
        "items: {total_items} in {} playlists in {:.1}s; file {}, tables hold {} ({} bytes/item)",
        ids.len(),
        t.elapsed().as_secs_f64(),
        mb(store.file_size()),
        mb(after_items),
        after_items / total_items.max(1)
    );
    let t = Instant::now();
    let start = now - jobs as i64 * HOUR;
    let policy = CompactPolicy::default();
    let (mut h, mut month) = (0, 0);
    while h < jobs {
        let n = 24.min(jobs - h); // one simulated day per batch
        let day: Vec<FinishedJob> =
            (h..h + n).map(|k| hourly_job(k, &ids, 1, start + (k as i64 + 1) * HOUR)).collect();
        store.insert_finished_jobs(day)?;
        h += n;
        if compact_daily {
            store.compact_history(policy, start + h as i64 * HOUR)?;
        }
        if h / 750 > month || h == jobs {
            month = h / 750;
            let stored = store.stored_bytes()?;
            println!(
                "  after {h} jobs ({:.1} months): file {}, tables hold {}",
                h as f64 / 750.0,
                mb(store.file_size()),
                mb(stored)
            );
        }
    }
    let after_jobs = store.stored_bytes()?;
    println!(
        "jobs: {jobs} in {:.1}s; file {}, tables hold {} ({} bytes/job{})",
        t.elapsed().as_secs_f64(),
        mb(store.file_size()),
        mb(after_jobs),
        after_jobs.saturating_sub(after_items) / jobs.max(1),
        if compact_daily { ", compacted daily" } else { "" }
    );
    Ok(())
}

async fn median_ms<F, Fut, T>(repeat: usize, f: F) -> Result<f64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, catalog_sync_core::api::WireError>>,
{
    let mut times = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

async fn measure(db: PathBuf, repeat: usize) -> Result<()> {
    let config = Config { database: db, ..Config::default() };
    let api = Api::open_system(config, None)?;
    let mut biggest = (0, 0);
    let mut page = Page::first(1_000);
    loop {
        let p = api.list_playlists(page.clone()).await?;
        for v in &p.playlists {
            biggest = biggest.max((v.item_count, v.id));
        }
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let tc = median_ms(repeat, || api.task_center()).await?;
    let jobs = api.task_center().await?;
    println!("task_center_ms={tc:.2} listed_jobs={} total_jobs={}", jobs.jobs.len(), jobs.summary.total);
    let items = median_ms(repeat, || api.list_items(biggest.1, Page::first(100))).await?;
    println!("first_items_page_ms={items:.2} playlist_items={}", biggest.0);
    let pls = median_ms(repeat, || api.list_playlists(Page::first(100))).await?;
    println!("first_playlists_page_ms={pls:.2}");
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    match Args::parse().command {
        Command::Generate { db, playlists, items, big, jobs, compact_daily } => {
            tokio::task::block_in_place(|| generate(db, playlists, items, big, jobs, compact_daily))
        }
        Command::Compact { db } => {
            let policy = CompactPolicy { keep_newest: 1, min_age_ms: 0, batch: 1 };
            let report = Store::open(&db)?.compact_history(policy, i64::MAX / 2)?;
            println!("compacted {} jobs", report.jobs);
            Ok(())
        }
        Command::Stamp { db, version } => {
            Ok(catalog_sync_core::store::schema::stamp_version(&Store::open(&db)?, version)?)
        }
        Command::Measure { db, repeat } => measure(db, repeat).await,
    }
}
