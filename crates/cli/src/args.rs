//! Command-line grammar of `catalog-sync` (clap derive). Global options override the config
//! file, which overrides the built-in defaults (see `catalog_sync_core::config`).

use std::path::PathBuf;

use catalog_sync_core::api::{AddKind, MediaChoice, Retention};
use clap::{Parser, Subcommand, ValueEnum};

/// Keep a catalog of podcast feeds and playlists, sync them and download their media.
#[derive(Debug, Parser)]
#[command(name = "catalog-sync", version, about)]
pub struct Args {
    /// Catalog database file (default: <data dir>/catalog-sync/catalog.redb).
    #[arg(long, global = true, env = "CATALOG_SYNC_DATABASE")]
    pub database: Option<PathBuf>,
    /// Library folder downloads go to (default: <music dir>/Catalog Sync).
    #[arg(long, global = true, env = "CATALOG_SYNC_LIBRARY")]
    pub library: Option<PathBuf>,
    /// Config file (TOML; default: <config dir>/catalog-sync/config.toml).
    #[arg(long, global = true, env = "CATALOG_SYNC_CONFIG")]
    pub config: Option<PathBuf>,
    /// Transfers at once (default 8), each a downloader; resolvers are added as needed
    /// (1 to 4, extra ones only while downloaders wait).
    #[arg(short = 'j', long, global = true)]
    pub parallel: Option<usize>,
    /// No progress bars; print only the summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add playlists by URL (feed, M3U/PLS/XSPF) or local path, or a channel or playlist
    /// yt-dlp lists (YouTube, PeerTube, Vimeo, SoundCloud, Bandcamp...).
    Add {
        /// URLs or paths.
        #[arg(required = true)]
        urls: Vec<String>,
        /// What the URLs are: by content (a web page yt-dlp reads as a playlist becomes a
        /// yt-dlp playlist), a document only, or a yt-dlp playlist whatever they serve.
        #[arg(long, value_enum, default_value_t = AddKindArg::Auto)]
        kind: AddKindArg,
        /// What a yt-dlp playlist downloads: `audio`, `m4a`, `opus`, `video` or a height such as
        /// `1080p` (default 1080p).
        #[arg(long, value_parser = parse_media)]
        format: Option<MediaChoice>,
    },
    /// Set what a yt-dlp playlist downloads of each entry.
    Format {
        /// The playlist (id, URL or title).
        playlist: String,
        /// `audio` (best audio as served), `m4a` or `opus` (best audio extracted without
        /// re-encoding; needs ffmpeg), `video` (best) or a height such as `1080p`.
        #[arg(value_parser = parse_media)]
        format: MediaChoice,
    },
    /// Tags and cover art for a playlist's downloads: `on`, `off`, or `default` (on for feeds,
    /// off for M3U/PLS/XSPF and yt-dlp playlists). Files downloaded before are tagged at the
    /// playlist's next sync.
    Tags {
        /// The playlist (id, URL or title).
        playlist: String,
        /// `on`, `off` or `default`.
        #[arg(value_enum)]
        setting: TagsArg,
    },
    /// Delete downloaded episodes past each playlist's retention rule (its own, else
    /// `[retention]` of the config file) now; never a file marked keep, one another playlist
    /// or a running job references, or one not written by us. Reports what went and the bytes
    /// freed; M3U playlists are refreshed afterwards.
    Clean {
        /// Playlists by id, URL or title (all when none is named).
        playlists: Vec<String>,
        /// Only show what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Mark an item "keep": retention never deletes it; an item retention deleted is
    /// downloaded again by the next download. `--unkeep` clears the mark.
    Keep {
        /// Item id (`list items` shows them).
        item: u64,
        /// Clear the mark instead.
        #[arg(long)]
        unkeep: bool,
    },
    /// Set a playlist's retention rule: `all` (keep everything), `newest:N` (keep the newest
    /// N episodes), `days:D` (delete episodes older than D days) or `default` (the config
    /// file's `[retention]`, keep everything unless set).
    Retention {
        /// The playlist (id, URL or title).
        playlist: String,
        /// `all`, `newest:N`, `days:D` or `default`.
        #[arg(value_parser = parse_retention)]
        rule: RetentionArg,
    },
    /// Show the yt-dlp in use (the `ytdlp_path` setting, else `yt-dlp` on PATH), its version
    /// and how it was installed; `--update` updates it where the user installed it.
    Ytdlp {
        /// Update yt-dlp (`yt-dlp -U`, `pipx upgrade yt-dlp` or pip) when it is installed in a
        /// user location; a system-wide install is reported, not changed.
        #[arg(long)]
        update: bool,
    },
    /// Import an OPML subscription list, or add an M3U/PLS/XSPF/feed file as a playlist
    /// (decided by content).
    Import {
        /// A file path or URL.
        source: String,
    },
    /// Write the catalog's playlists as OPML 2.0.
    ExportOpml {
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// List playlists or items.
    List {
        /// What to list.
        #[arg(value_enum, default_value_t = ListWhat::Playlists)]
        what: ListWhat,
        /// Only items of these playlists (id, URL or title).
        #[arg(short, long)]
        playlist: Vec<String>,
    },
    /// Refresh playlists into the catalog (all when none is named).
    Sync {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Download items of the catalog not yet downloaded (all playlists when none is named).
    Download {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Sync, then download: the main job.
    Run {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
    },
    /// Show jobs with their stages and the catalog's totals.
    Status,
    /// The task center: jobs with lane, queue position, progress and speed; refreshes every
    /// second while jobs run (on a terminal).
    Jobs {
        /// Print once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Pause a job: running work finishes its current transfers, then the job waits.
    Pause {
        /// Job id.
        job: u64,
    },
    /// Resume a paused job.
    Resume {
        /// Job id.
        job: u64,
    },
    /// Cancel a job: drops its references, so its transfers stop now unless a selected
    /// playlist still wants their items (partial files are kept for a later download).
    Cancel {
        /// Job id.
        job: u64,
    },
    /// Queue the failed items of a failed job again.
    Retry {
        /// Job id.
        job: u64,
    },
    /// Select playlists for download: they hold a reference on each of their items, so a
    /// download of an item shared with other playlists goes on while one of them wants it.
    Want {
        /// Playlists by id, URL or title.
        #[arg(required = true)]
        playlists: Vec<String>,
    },
    /// Unselect playlists: drop their references; with --delete, delete the downloaded files
    /// of their items that no other selected playlist or running job wants.
    Unwant {
        /// Playlists by id, URL or title.
        #[arg(required = true)]
        playlists: Vec<String>,
        /// Delete files (and partial files) nothing wants any more.
        #[arg(long)]
        delete: bool,
    },
    /// Show the auto-sync schedule (`auto_sync_hours`): the interval, the next run and the last.
    /// The desktop app and `serve` run it; the next due time is kept in the catalog.
    Schedule,
    /// Send the downloaded files and M3U playlists of playlists to their upload targets (all
    /// playlists with a target when none is named); only new or changed files are sent.
    Upload {
        /// Playlists by id, URL or title.
        playlists: Vec<String>,
        /// Only these targets (by name; repeat for several).
        #[arg(long)]
        target: Vec<String>,
        /// Download what is missing first (`download_upload`).
        #[arg(long)]
        download: bool,
    },
    /// List the upload targets (from the config file) with their playlists.
    Targets {
        /// Also test each target: write, read back and delete a probe file.
        #[arg(long)]
        test: bool,
    },
    /// Assign a playlist to upload targets (replacing its earlier ones; none = unassign).
    Assign {
        /// The playlist (id, URL or title).
        playlist: String,
        /// Target names.
        targets: Vec<String>,
    },
    /// Move downloaded files to the names the current `name_template` gives them and remove
    /// the folders left empty (an `organize` job; a killed run is finished by the next one).
    Organize {
        /// Only list the renames (old -> new); change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show a job's runs (newest first) and its event log.
    Log {
        /// Job id.
        job: u64,
    },
    /// Serve the web UI and the JSON API (engine in-process) until Ctrl-C or SIGTERM. The first
    /// start creates an access token, saves it in the config file and prints a login URL.
    #[cfg(feature = "serve")]
    Serve {
        /// Address and port to listen on (`0.0.0.0:8750` for every interface).
        #[arg(long, env = "CATALOG_SYNC_LISTEN", default_value = catalog_sync_server::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
    },
}

/// `--kind` of `add`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddKindArg {
    /// By content; a web page yt-dlp reads as a playlist or channel becomes a yt-dlp playlist.
    Auto,
    /// A feed, M3U/PLS/XSPF or OPML document only.
    Document,
    /// A channel or playlist yt-dlp lists.
    Ytdlp,
}

impl From<AddKindArg> for AddKind {
    fn from(k: AddKindArg) -> AddKind {
        match k {
            AddKindArg::Auto => AddKind::Auto,
            AddKindArg::Document => AddKind::Document,
            AddKindArg::Ytdlp => AddKind::Ytdlp,
        }
    }
}

/// The setting of `tags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagsArg {
    /// Tag this playlist's downloads.
    On,
    /// Leave them as downloaded.
    Off,
    /// On for feeds, off for playlist files and yt-dlp playlists.
    Default,
}

impl TagsArg {
    /// The `Api::set_playlist_tagging` argument.
    pub fn enabled(self) -> Option<bool> {
        match self {
            TagsArg::On => Some(true),
            TagsArg::Off => Some(false),
            TagsArg::Default => None,
        }
    }
}

fn parse_media(s: &str) -> Result<MediaChoice, String> {
    MediaChoice::parse(s)
}

/// What `list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// Playlists with item and download counts.
    Playlists,
    /// Items with their download state.
    Items,
}

/// The rule of `retention`: a rule, or `None` for the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionArg(pub Option<Retention>);

/// Parses `all`, `newest:N`, `days:D` or `default` (N, D at least 1).
pub fn parse_retention(s: &str) -> Result<RetentionArg, String> {
    let number = |v: &str| v.trim().parse::<u32>().map_err(|_| format!("{v:?} is not a whole number"));
    let rule = match s.trim().split_once(':') {
        None if s.trim() == "default" => return Ok(RetentionArg(None)),
        None if s.trim() == "all" => Retention::KeepAll,
        Some(("newest", n)) => Retention::KeepNewest { count: number(n)? },
        Some(("days", d)) => Retention::OlderThanDays { days: number(d)? },
        _ => return Err("expected all, newest:N, days:D or default".into()),
    };
    rule.validate().map(|r| RetentionArg(Some(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_rules_parse() {
        assert_eq!(parse_retention("newest:5"), Ok(RetentionArg(Some(Retention::KeepNewest { count: 5 }))));
        assert_eq!(parse_retention("days:30"), Ok(RetentionArg(Some(Retention::OlderThanDays { days: 30 }))));
        assert_eq!(parse_retention("all"), Ok(RetentionArg(Some(Retention::KeepAll))));
        assert_eq!(parse_retention("default"), Ok(RetentionArg(None)));
        assert!(parse_retention("newest:0").is_err());
        assert!(parse_retention("weekly").is_err());
    }
}
