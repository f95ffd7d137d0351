//! Settings of the core: where the database and the library live, how many transfers run at
//! once, the file name template and the watchdog windows. Defaults put the database in the
//! platform's data folder and the library in the user's music folder (via `dirs`); a TOML file
//! (default `<config dir>/catalog-sync/config.toml`) overrides them, and the front ends
//! override the file with flags. Every field of the file is optional.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod notify;
pub mod retention;
pub mod targets;

pub use notify::NotifyMode;
pub use retention::Retention;
pub use targets::{Remote, UploadTarget};

/// Errors reading the configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// Config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("invalid config {path}: {source}")]
    Parse {
        /// Config file.
        path: PathBuf,
        /// TOML's reason, with line and column.
        #[source]
        source: toml::de::Error,
    },
}

/// The core's settings. Units are in the field names (`_ms`, `_bytes_per_sec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The redb catalog file.
    pub database: PathBuf,
    /// Root folder of downloaded files; nothing is ever written outside it.
    pub library: PathBuf,
    /// Transfers at once in a download stage (default 8): its downloaders, fed by
    /// clamp(N / 4, 1, 4) resolvers that adapt to demand (`jobs::pools::pool_split`).
    pub parallel_downloads: usize,
    /// Concurrent connections to one host (default 6, as browsers allow per HTTP/1.1 host).
    pub per_host_connections: usize,
    /// Global download bandwidth limit in bytes/s over all transfers; `None` = unlimited.
    pub bandwidth_limit_bytes_per_sec: Option<u64>,
    /// Download-lane jobs running at once (default 1).
    pub download_lane_jobs: usize,
    /// General-lane jobs running at once (default 3).
    pub general_lane_jobs: usize,
    /// A running job whose runner has not stamped a heartbeat for this long is considered
    /// crashed and re-queued by the reaper (ms, default 30 000).
    pub heartbeat_stale_ms: u64,
    /// Refresh `<library>/<playlist>.m3u` as downloads complete (default true).
    pub export_m3u: bool,
    /// Playlists fetched at once in a sync stage (default 4).
    pub parallel_syncs: usize,
    /// File name template relative to the library, `/` between folders.
    pub name_template: String,
    /// `User-Agent` sent with every request.
    pub user_agent: String,
    /// A transfer that receives no bytes for this long is ended and retried (ms).
    pub stall_timeout_ms: u64,
    /// A transfer silent this long (and for 8 times its usual gap between chunks) while its
    /// host delivers bytes to other transfers is hedged with a second range request from
    /// where it stopped, the first to deliver winning (`download::hedge`; ms, default 1 000;
    /// 0 turns hedging off, leaving `stall_timeout_ms` alone).
    pub hedge_after_ms: u64,
    /// Connection set-up limit (ms).
    pub connect_timeout_ms: u64,
    /// Attempts per download, resuming from the partial file each time (default 3).
    pub max_attempts: u32,
    /// Pause between attempts (ms).
    pub retry_backoff_ms: u64,
    /// Overflow library roots, tried in order when the default root lacks the free space an
    /// item needs (its declared length). Empty = only `library`.
    pub overflow_libraries: Vec<PathBuf>,
    /// Overall deadline of one HTTP transfer attempt (ms, default 4 h = 14 400 000).
    pub transfer_deadline_ms: u64,
    /// Overall deadline of one document fetch (feed, playlist, OPML, episode page, index
    /// lookup): a server that drips bytes never trips the stall window (ms, default 120 000).
    pub document_deadline_ms: u64,
    /// Largest document accepted, in bytes after decoding (default 50 000 000); a bigger one
    /// fails with a clear reason.
    pub document_max_bytes: u64,
    /// A subprocess (yt-dlp) that prints nothing for this long is killed with its process
    /// group (ms, default 300 000).
    pub subprocess_stall_timeout_ms: u64,
    /// Overall deadline of one subprocess run (ms, default 4 h = 14 400 000).
    pub subprocess_deadline_ms: u64,
    /// A running work item stamps its heartbeat about this often while bytes flow (ms,
    /// default 30 000).
    pub item_heartbeat_ms: u64,
    /// A running work item whose heartbeat is older than this is returned to pending by the
    /// reaper (ms, default 1 800 000 = 30 min).
    pub item_stale_ms: u64,
    /// How often the reaper runs while the engine is up (ms, default 300 000 = 5 min).
    pub reaper_interval_ms: u64,
    /// podcastindex.org API key; the provider is skipped without key and secret.
    pub podcastindex_key: Option<Secret>,
    /// podcastindex.org API secret.
    pub podcastindex_secret: Option<Secret>,
    /// podcastindex.org API base URL (default `https://api.podcastindex.org/api/1.0`).
    pub podcastindex_base_url: String,
    /// Ask fyyd.de (no key needed; default true).
    pub fyyd_enabled: bool,
    /// fyyd API base URL (default `https://api.fyyd.de`).
    pub fyyd_base_url: String,
    /// yt-dlp binary; `None` = look up `yt-dlp` on `PATH`, and skip the source when absent.
    pub ytdlp_path: Option<PathBuf>,
    /// OpenAI-compatible chat-completions base URL for the optional resolver agent, e.g.
    /// `http://127.0.0.1:11434/v1` for a local Ollama; `None` = agent off.
    pub agent_base_url: Option<String>,
    /// Model name the agent asks for.
    pub agent_model: Option<String>,
    /// Bearer key of the agent endpoint (none for a local Ollama).
    pub agent_api_key: Option<Secret>,
    /// Sync every playlist every this many hours while the desktop app runs; `None` = never.
    pub auto_sync_hours: Option<u32>,
    /// Start the desktop app (in the tray) at login.
    pub start_at_login: bool,
    /// Refuse feed, page and media fetches to loopback, link-local and private addresses
    /// (`net_guard`); `None` = the front decides: off for the desktop app and the
    /// command line, off for `serve` on a loopback address and on otherwise.
    pub block_private_addresses: Option<bool>,
    /// Host names, addresses and CIDR ranges (`192.168.1.0/24`) fetched even when
    /// `block_private_addresses` is on.
    pub allowed_private_hosts: Vec<String>,
    /// The access token of `serve` (created at its first start); every API request needs it.
    pub serve_token: Option<Secret>,
    /// Host names `serve` answers to besides its listen address (and `localhost` when it
    /// listens on loopback), e.g. `nas.local`: requests with another `Host` are refused.
    pub serve_hosts: Vec<String>,
    /// Files sent at once by an upload stage (default 4).
    pub parallel_uploads: usize,
    /// The retention rule of playlists without their own (`[retention]`, see [`retention`];
    /// default keep everything). Runs after each download stage and on `clean`.
    pub retention: Retention,
    /// Which finished jobs the desktop app notifies about (`off`, `failures`, `every_job`;
    /// default every job), grouped so that many jobs ending together give one notification.
    pub notify: NotifyMode,
    /// Named places the library is uploaded to (`[[upload_targets]]`, see [`targets`]).
    pub upload_targets: Vec<UploadTarget>,
}

/// A credential from the config file. Serialized as the plain string (the file is the user's),
/// but `Debug` and `Display` print `***`, so a logged `Config` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Default for Config {
    fn default() -> Self {
        let data = dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("catalog-sync");
        let library = dirs::audio_dir()
            .or_else(|| dirs::home_dir().map(|h| h.join("Music")))
            .map(|d| d.join("Catalog Sync"))
            .unwrap_or_else(|| data.join("library"));
        Config {
            database: data.join("catalog.redb"),
            library,
            parallel_downloads: 8,
            per_host_connections: 6,
            bandwidth_limit_bytes_per_sec: None,
            download_lane_jobs: 1,
            general_lane_jobs: 3,
            heartbeat_stale_ms: 30_000,
            export_m3u: true,
            parallel_syncs: 4,
            name_template: DEFAULT_TEMPLATE.to_string(),
            user_agent: format!("CatalogSync/{} (+podcast downloader)", env!("CARGO_PKG_VERSION")),
            stall_timeout_ms: 30_000,
            hedge_after_ms: 1_000,
            connect_timeout_ms: 15_000,
            max_attempts: 3,
            retry_backoff_ms: 1_000,
            overflow_libraries: Vec::new(),
            transfer_deadline_ms: 14_400_000,
            document_deadline_ms: 120_000,
            document_max_bytes: 50_000_000,
            subprocess_stall_timeout_ms: 300_000,
            subprocess_deadline_ms: 14_400_000,
            item_heartbeat_ms: 30_000,
            item_stale_ms: 1_800_000,
            reaper_interval_ms: 300_000,
            podcastindex_key: None,
            podcastindex_secret: None,
            podcastindex_base_url: "https://api.podcastindex.org/api/1.0".to_string(),
            fyyd_enabled: true,
            fyyd_base_url: "https://api.fyyd.de".to_string(),
            ytdlp_path: None,
            agent_base_url: None,
            agent_model: None,
            agent_api_key: None,
            auto_sync_hours: None,
            start_at_login: false,
            block_private_addresses: None,
            allowed_private_hosts: Vec::new(),
            serve_token: None,
            serve_hosts: Vec::new(),
            parallel_uploads: 4,
            retention: Retention::KeepAll,
            notify: NotifyMode::EveryJob,
            upload_targets: Vec::new(),
        }
    }
}

impl Config {
    /// The private-address guard these settings ask for (`None` when
    /// `block_private_addresses` is off). Errors: a malformed `allowed_private_hosts` entry.
    pub fn address_guard(&self) -> Result<Option<std::sync::Arc<crate::net_guard::AddressGuard>>, String> {
        if self.block_private_addresses != Some(true) {
            return Ok(None);
        }
        crate::net_guard::AddressGuard::new(&self.allowed_private_hosts).map(|g| Some(g.into()))
    }

    /// The limits of document fetches: `stall_timeout_ms`, `document_deadline_ms`,
    /// `document_max_bytes`.
    pub fn document_limits(&self) -> crate::catalog::fetch::DocumentLimits {
        crate::catalog::fetch::DocumentLimits {
            stall: std::time::Duration::from_millis(self.stall_timeout_ms),
            deadline: std::time::Duration::from_millis(self.document_deadline_ms),
            max_bytes: self.document_max_bytes,
        }
    }

    /// The upload target named `name`.
    pub fn target(&self, name: &str) -> Option<&UploadTarget> {
        self.upload_targets.iter().find(|t| t.name == name)
    }

    /// The default config file: `<config dir>/catalog-sync/config.toml`.
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("catalog-sync").join("config.toml"))
    }

    /// Defaults overlaid with the TOML file at `path` if it exists. A missing file is not an
    /// error; an unreadable or invalid one is ([`ConfigError`]).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read { path: path.into(), source }),
        }
    }
}

/// The default naming template (see `download::naming`): one folder per playlist, files
/// named by date and title.
pub const DEFAULT_TEMPLATE: &str = "{playlist}/{date} {title}.{ext}";

/// Settings a front sets over the config file: command-line flags, or the environment
/// (`CATALOG_SYNC_DATABASE`, `CATALOG_SYNC_LIBRARY`) for the desktop app.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Catalog database file.
    pub database: Option<PathBuf>,
    /// Library folder.
    pub library: Option<PathBuf>,
    /// Download-stage workers (at least 1).
    pub parallel_downloads: Option<usize>,
}

impl Overrides {
    /// `CATALOG_SYNC_DATABASE` and `CATALOG_SYNC_LIBRARY` from the environment.
    pub fn from_env() -> Overrides {
        Overrides {
            database: std::env::var_os("CATALOG_SYNC_DATABASE").map(PathBuf::from),
            library: std::env::var_os("CATALOG_SYNC_LIBRARY").map(PathBuf::from),
            parallel_downloads: None,
        }
    }
}

impl Config {
    /// The config file a front uses when none is given: `CATALOG_SYNC_CONFIG`, else
    /// [`Config::default_path`].
    pub fn path_from_env() -> Option<PathBuf> {
        std::env::var_os("CATALOG_SYNC_CONFIG").map(PathBuf::from).or_else(Config::default_path)
    }

    /// The settings a front starts with: the file at `path` (defaults when `None` or missing),
    /// then `overrides`. The one loader of every front. Errors: an unreadable or invalid file.
    pub fn load_with(path: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        if let Some(db) = &overrides.database {
            config.database = db.clone();
        }
        if let Some(lib) = &overrides.library {
            config.library = lib.clone();
        }
        if let Some(n) = overrides.parallel_downloads {
            config.parallel_downloads = n.max(1);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "library = \"/srv/pods\"\nparallel_downloads = 16\n").unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(
            (c.library.as_path(), c.parallel_downloads, c.max_attempts),
            (Path::new("/srv/pods"), 16, 3)
        );
        std::fs::write(&path, "paralel_downloads = 2\n").unwrap();
        assert!(Config::load(&path).unwrap_err().to_string().contains("invalid config"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "podcastindex_key = \"k-123\"\npodcastindex_secret = \"s-456\"\n").unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.podcastindex_secret.as_ref().map(Secret::expose), Some("s-456"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("k-123") && !shown.contains("s-456") && shown.contains("***"), "{shown}");
    }
}
