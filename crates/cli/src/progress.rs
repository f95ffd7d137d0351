//! Progress bars and the end-of-run summary, drawn from engine events. One bar per stage
//! (playlists or items done of total) and one per running download (bytes, speed, ETA).
//! Bars draw on stderr and hide themselves when it is not a terminal; the summary goes to
//! stdout and names every playlist and item that failed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use catalog_sync_core::api::{Event, ItemOutcome, JobStatus, StageKind};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Default)]
struct Tally {
    new_playlists: u32,
    exported: u32,
    synced: u32,
    new_items: u32,
    downloaded: u32,
    bytes: u64,
    resumed: u32,
    already: u32,
    /// Upload runs by target: (sent, deleted).
    uploads: Vec<(String, u32, u32)>,
    /// Files renamed by organize stages.
    renamed: u32,
    failures: Vec<String>,
}

/// Renders events; shared by the engine's workers.
pub struct Progress {
    multi: MultiProgress,
    /// The style of a download's bar, parsed once.
    item_style: ProgressStyle,
    stage: Mutex<Option<ProgressBar>>,
    items: Mutex<HashMap<u64, ProgressBar>>,
    tally: Mutex<Tally>,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("valid progress template").progress_chars("=> ")
}

impl Progress {
    /// Bars on stderr, or none when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            item_style: style(
                "  {prefix:>10} {msg:40!} [{bar:20}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            ),
            stage: Mutex::default(),
            items: Mutex::default(),
            tally: Mutex::default(),
        }
    }

    /// Updates bars and the tally for one engine event.
    pub fn on_event(&self, event: &Event) {
        let mut tally = self.tally.lock().expect("tally lock");
        match event {
            Event::StageStarted { stage, total, finished, .. } => {
                let (label, unit) = match stage {
                    StageKind::Sync => ("sync", "playlists"),
                    StageKind::Download => ("download", "items"),
                    StageKind::Collect => ("collect", "lists"),
                    StageKind::Export => ("export", "playlists"),
                    StageKind::Upload => ("upload", "playlists"),
                    StageKind::Organize => ("organize", "files"),
                };
                let bar = self.multi.add(ProgressBar::new(u64::from(*total)));
                bar.set_style(style(&format!("{label:>8} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}}")));
                bar.set_position(u64::from(*finished));
                if let Some(old) = self.stage.lock().expect("stage lock").replace(bar) {
                    old.finish_and_clear();
                }
            }
            Event::PlaylistSynced { new_items, .. } => {
                tally.synced += 1;
                tally.new_items += new_items;
                self.inc_stage();
            }
            Event::CollectionFailed { error, .. } => {
                tally.failures.push(error.clone());
                self.multi.suspend(|| eprintln!("failed: {error}"));
                self.inc_stage();
            }
            Event::CollectionRead { new_playlists, .. } => {
                tally.new_playlists += new_playlists;
                self.inc_stage();
            }
            Event::Exported { files, .. } => tally.exported = tally.exported.max(*files),
            Event::Organized { job, renamed, failed } => {
                tally.renamed += renamed;
                if *failed > 0 {
                    let line = format!("organize: {failed} files not renamed (`catalog-sync log {job}`)");
                    self.multi.suspend(|| eprintln!("{line}"));
                    tally.failures.push(line);
                }
            }
            Event::Uploaded { job, target, sent, deleted, failed } => {
                tally.uploads.push((target.clone(), *sent, *deleted));
                if *failed > 0 {
                    let line = format!("upload to {target}: {failed} failed (`catalog-sync log {job}`)");
                    self.multi.suspend(|| eprintln!("{line}"));
                    tally.failures.push(line);
                }
            }
            Event::ItemResolved { .. } => {}
            Event::PlaylistFailed { error, .. } => {
                tally.failures.push(error.clone());
                self.multi.suspend(|| eprintln!("failed: {error}"));
                self.inc_stage();
            }
            // no bar per download where none is drawn (quiet, or stderr is not a terminal)
            Event::DownloadStarted { .. } if self.multi.is_hidden() => {}
            Event::DownloadStarted { item, title, worker, .. } => {
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_style(self.item_style.clone());
                bar.set_prefix(worker.clone());
                bar.set_message(title.clone());
                self.items.lock().expect("items lock").insert(*item, bar);
            }
            Event::DownloadProgress { item, downloaded, total, .. } => {
                if let Some(bar) = self.items.lock().expect("items lock").get(item) {
                    if let Some(total) = total {
                        bar.set_length(*total);
                    }
                    bar.set_position(*downloaded);
                }
            }
            Event::DownloadFinished { item, title, outcome, .. } => {
                if let Some(bar) = self.items.lock().expect("items lock").remove(item) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                match outcome {
                    ItemOutcome::Downloaded { bytes, resumed_from, .. } => {
                        tally.downloaded += 1;
                        tally.bytes += bytes - resumed_from.min(bytes);
                        tally.resumed += u32::from(*resumed_from > 0);
                    }
                    ItemOutcome::AlreadyDownloaded => tally.already += 1,
                    ItemOutcome::Failed(reason) => {
                        let line = format!("item {item} \"{title}\": {reason}");
                        self.multi.suspend(|| eprintln!("failed: {line}"));
                        tally.failures.push(line);
                    }
                }
                self.inc_stage();
            }
            Event::StageFinished { .. } => {
                if let Some(bar) = self.stage.lock().expect("stage lock").take() {
                    bar.finish();
                }
            }
            Event::JobStarted { .. } | Event::JobFinished { .. } => {}
        }
    }

    fn inc_stage(&self) {
        if let Some(bar) = self.stage.lock().expect("stage lock").as_ref() {
            bar.inc(1);
        }
    }

    /// Prints the summary; returns `true` when nothing failed and no job was interrupted.
    pub fn summary(&self, ran: &[(u64, JobStatus)], elapsed: Duration, library: &Path) -> bool {
        let _ = self.multi.clear();
        let tally = self.tally.lock().expect("tally lock");
        let secs = elapsed.as_secs_f64().max(0.001);
        println!(
            "synced {} playlists ({} new items); downloaded {} files, {} in {:.1} s ({}/s){}{}",
            tally.synced,
            tally.new_items,
            tally.downloaded,
            HumanBytes(tally.bytes),
            secs,
            HumanBytes((tally.bytes as f64 / secs) as u64),
            if tally.resumed > 0 { format!(", {} resumed", tally.resumed) } else { String::new() },
            if tally.already > 0 { format!(", {} already downloaded", tally.already) } else { String::new() },
        );
        if tally.new_playlists > 0 {
            println!("collected {} new playlists", tally.new_playlists);
        }
        if tally.renamed > 0 {
            println!("renamed {} files after the name template", tally.renamed);
        }
        for (target, sent, deleted) in &tally.uploads {
            println!("uploaded to {target}: {sent} files sent, {deleted} deleted");
        }
        println!("library: {}", library.display());
        let interrupted = ran.iter().any(|(_, s)| *s == JobStatus::Queued);
        if interrupted {
            println!("interrupted: queued work is kept; run again to resume");
        }
        for (job, _) in ran.iter().filter(|(_, s)| *s == JobStatus::Paused) {
            println!("job {job} paused: `catalog-sync resume {job}`, then `catalog-sync run`, finishes it");
        }
        for (job, _) in ran.iter().filter(|(_, s)| *s == JobStatus::Cancelled) {
            println!("job {job} cancelled");
        }
        if !tally.failures.is_empty() {
            println!("{} failed:", tally.failures.len());
            for line in &tally.failures {
                println!("  {line}");
            }
        }
        tally.failures.is_empty() && !interrupted
    }
}
