//! Read models for text fronts (the command line's `list`, `status` and `log`): the store's
//! rows gathered in one read each, so a front formats them without touching the store. The
//! window uses the typed views of `views` and `job_views` instead.

use std::collections::HashMap;
use std::path::PathBuf;

use super::error::ApiResult;
use super::Api;
use crate::store::failures::DownloadFailed;
use crate::store::items::ItemEntry;
use crate::store::{JobLogRow, JobRow, PlaylistRow, RunRow, StageCounts};

/// One playlist of a listing, with its items when asked for.
#[derive(Debug, Clone)]
pub struct PlaylistListing {
    /// Playlist id.
    pub id: u64,
    /// Its row.
    pub playlist: PlaylistRow,
    /// Selected for download.
    pub wanted: bool,
    /// Items the playlist lists.
    pub item_count: u32,
    /// Of them, items with a downloaded file.
    pub downloaded_count: u32,
    /// Items in document order (with their files), when the listing was asked with items;
    /// else empty.
    pub items: Vec<ListedItem>,
}

/// One item of a listing.
#[derive(Debug, Clone)]
pub struct ListedItem {
    /// The item with its file, if downloaded.
    pub entry: ItemEntry,
    /// The last cascade failure naming every source tried, for an item without a file.
    pub failure: Option<DownloadFailed>,
    /// The last failed download attempt's error, e.g. `attempt 3/3, transient: HTTP 503 ...`.
    pub last_error: Option<String>,
    /// Marked "keep": retention never deletes it.
    pub keep: bool,
    /// Retention deleted its file; not downloaded again until marked "keep".
    pub removed: bool,
}

/// The catalog at a glance.
#[derive(Debug, Clone)]
pub struct CatalogStatus {
    /// The database file.
    pub database: PathBuf,
    /// Its size (bytes).
    pub database_bytes: u64,
    /// Playlists.
    pub playlists: u32,
    /// Playlists whose last sync failed.
    pub failing: u32,
    /// Items of all playlists.
    pub items: u32,
    /// Items with a file.
    pub files: u32,
    /// Bytes of those files.
    pub bytes: u64,
    /// The newest jobs, newest first, each with its stages' counts.
    pub jobs: Vec<(u64, JobRow, Vec<StageCounts>)>,
}

/// A job's runs and its whole event log.
#[derive(Debug, Clone)]
pub struct JobHistory {
    /// Job id.
    pub id: u64,
    /// The job.
    pub job: JobRow,
    /// Its runs, first to last.
    pub runs: Vec<RunRow>,
    /// Its log, oldest first, with sequence numbers.
    pub log: Vec<(u64, JobLogRow)>,
}

impl Api {
    /// Playlists named by `selectors` (id, URL or title; empty = every playlist), with their
    /// items when `with_items`. Errors: `not_found` for a selector that names none.
    pub async fn listing(&self, selectors: Vec<String>, with_items: bool) -> ApiResult<Vec<PlaylistListing>> {
        self.blocking(move |s| {
            let ids: Vec<u64> = if selectors.is_empty() {
                s.playlists()?.into_iter().map(|(id, _)| id).collect()
            } else {
                selectors.iter().map(|sel| s.find_playlist(sel)).collect::<Result<_, _>>()?
            };
            let mut out = Vec::new();
            if !with_items {
                // counts only: key lookups, no item row decoded (a 100,000-item catalog lists
                // its playlists without reading its items)
                for id in ids {
                    let facts = s.member_facts(id)?;
                    out.push(PlaylistListing {
                        id,
                        playlist: s.playlist(id)?,
                        wanted: s.playlist_wanted(id)?,
                        item_count: facts.total,
                        downloaded_count: facts.with_file.len() as u32,
                        items: Vec::new(),
                    });
                }
                return Ok(out);
            }
            let errors: HashMap<u64, String> = s.download_failures()?;
            let (kept, removed) = (s.kept_items()?, s.removed_items()?);
            for id in ids {
                let mut items = Vec::new();
                for entry in s.playlist_items(id)? {
                    let failure = if entry.file.is_none() { s.download_failure(entry.id)? } else { None };
                    let last_error = errors.get(&entry.id).cloned();
                    let (keep, removed) = (kept.contains(&entry.id), removed.contains(&entry.id));
                    items.push(ListedItem { entry, failure, last_error, keep, removed });
                }
                out.push(PlaylistListing {
                    id,
                    playlist: s.playlist(id)?,
                    wanted: s.playlist_wanted(id)?,
                    item_count: items.len() as u32,
                    downloaded_count: items.iter().filter(|i| i.entry.file.is_some()).count() as u32,
                    items,
                });
            }
            Ok(out)
        })
        .await
    }

    /// The catalog's counts and the newest `jobs` jobs with their stage counts.
    pub async fn catalog_status(&self, jobs: usize) -> ApiResult<CatalogStatus> {
        self.blocking(move |s| {
            let playlists = s.playlists()?;
            let failing = playlists.iter().filter(|(_, p)| p.last_error.is_some()).count() as u32;
            let (mut items, mut files, mut bytes) = (0u32, 0u32, 0u64);
            for (id, _) in &playlists {
                for entry in s.playlist_items(*id)? {
                    items += 1;
                    if let Some(f) = entry.file {
                        files += 1;
                        bytes += f.size;
                    }
                }
            }
            let mut newest = Vec::new();
            for (id, job) in s.recent_jobs(jobs)? {
                let counts = (0..job.stages.len())
                    .map(|i| s.stage_counts(id, i as u8))
                    .collect::<Result<Vec<_>, _>>()?;
                newest.push((id, job, counts));
            }
            Ok(CatalogStatus {
                database: s.path().to_path_buf(),
                database_bytes: s.file_size(),
                playlists: playlists.len() as u32,
                failing,
                items,
                files,
                bytes,
                jobs: newest,
            })
        })
        .await
    }

    /// Job `job` with its runs and whole log. Errors: `not_found`.
    pub async fn job_history(&self, job: u64) -> ApiResult<JobHistory> {
        self.blocking(move |s| {
            Ok(JobHistory { id: job, job: s.job(job)?, runs: s.runs(job)?, log: s.job_log(job)? })
        })
        .await
    }
}
