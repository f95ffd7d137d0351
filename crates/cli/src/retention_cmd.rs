//! `clean`, `keep` and `retention` (issue 16, part 2): thin callers of `Api::clean`,
//! `Api::set_item_keep` and `Api::set_playlist_retention` that print what happened.

use catalog_sync_core::api::{Api, RetentionReport};

use crate::args::RetentionArg;

/// Bytes in words: `1.5 MB` (SI units, as file managers show sizes).
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} bytes"),
    }
}

/// The report as lines: each file removed (or that would be), each one spared, the total.
pub fn report_lines(r: &RetentionReport) -> Vec<String> {
    let verb = if r.dry_run { "would delete" } else { "deleted" };
    let mut out: Vec<String> = r
        .removed
        .iter()
        .map(|f| format!("{verb} item {} {} ({}, {})", f.item, f.title, f.path, size(f.bytes)))
        .collect();
    out.extend(r.spared.iter().map(|s| format!("kept item {} {}: {}", s.item, s.title, s.reason)));
    if r.finished_pending > 0 {
        out.push(format!("finished {} deletions an interrupted run left", r.finished_pending));
    }
    out.push(format!("{verb} {} files, {} freed", r.removed.len(), size(r.bytes_freed)));
    out
}

/// `clean [PLAYLISTS] [--dry-run]`.
pub async fn clean(api: &Api, selectors: &[String], dry_run: bool) -> anyhow::Result<bool> {
    let mut ids = Vec::new();
    for s in selectors {
        ids.push(api.find_playlist(s.clone()).await?);
    }
    let report = api.clean(ids, dry_run).await?;
    for line in report_lines(&report) {
        println!("{line}");
    }
    Ok(true)
}

/// `keep ITEM [--unkeep]`.
pub async fn keep(api: &Api, item: u64, keep: bool) -> anyhow::Result<bool> {
    let change = api.set_item_keep(item, keep).await?;
    match (change.keep, change.restored) {
        (true, true) => {
            println!("item {item}: kept; it was deleted and is downloaded again by the next download")
        }
        (true, false) => println!("item {item}: kept (retention never deletes it)"),
        (false, _) => println!("item {item}: no longer kept"),
    }
    Ok(true)
}

/// `retention PLAYLIST RULE`.
pub async fn set_rule(api: &Api, selector: &str, rule: RetentionArg) -> anyhow::Result<bool> {
    let id = api.find_playlist(selector.to_string()).await?;
    let p = api.set_playlist_retention(id, rule.0).await?;
    let words = match p.retention {
        Some(r) => r.describe(),
        None => format!("the default ({})", api.config().retention.describe()),
    };
    println!("playlist {id} {}: retention {words}", p.title);
    Ok(true)
}
