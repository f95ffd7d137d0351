//! The settings page's [`Settings`]: the user-facing fields of `Config`, read from
//! and written back to the config TOML file (`Config::default_path`, or `CATALOG_SYNC_CONFIG`).
//! Saving loads the file as it is now, replaces only these fields and writes the whole config
//! to a temp file renamed over the old one, so a crash never leaves half a file and fields the
//! page does not show (database, user agent, lane limits) are kept. Credentials travel as plain
//! strings between a front and this module only; `Settings` has no `Debug`, and the core's
//! `Secret` prints `***`, so they are never logged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{ApiResult, ErrorCode, WireError};
use crate::config::{Config, Secret};

/// What the settings page edits. Units are in the names (ms, bytes/s, hours).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    /// Library root folder.
    pub library: String,
    /// Overflow roots, tried in order when the library root lacks space.
    pub overflow_libraries: Vec<String>,
    /// Transfers at once in a download stage (downloaders; resolvers adapt, `jobs::pools`), at least 1.
    pub parallel_downloads: u32,
    /// Connections to one host at once, at least 1.
    pub per_host_connections: u32,
    /// Global bandwidth limit (bytes/s); `None` = unlimited.
    pub bandwidth_limit_bytes_per_sec: Option<u64>,
    /// A transfer with no bytes for this long is retried (ms).
    pub stall_timeout_ms: u64,
    /// Deadline of one transfer attempt (ms).
    pub transfer_deadline_ms: u64,
    /// A silent subprocess (yt-dlp) is killed after this long (ms).
    pub subprocess_stall_timeout_ms: u64,
    /// File name template, e.g. `{playlist}/{date} {title}.{ext}`.
    pub name_template: String,
    /// podcastindex.org API key.
    pub podcastindex_key: Option<String>,
    /// podcastindex.org API secret.
    pub podcastindex_secret: Option<String>,
    /// Ask fyyd.de for missing media.
    pub fyyd_enabled: bool,
    /// OpenAI-compatible endpoint of the resolver agent; `None` = off.
    pub agent_base_url: Option<String>,
    /// Model the agent asks for.
    pub agent_model: Option<String>,
    /// Bearer key of the agent endpoint.
    pub agent_api_key: Option<String>,
    /// Sync and download every playlist every this many hours while the app runs.
    pub auto_sync_hours: Option<u32>,
    /// Start the app in the tray at login.
    pub start_at_login: bool,
    /// The retention rule of playlists without their own (default keep everything).
    pub retention: crate::config::Retention,
    /// Which finished jobs raise a desktop notification (grouped; default every job).
    pub notify: crate::config::NotifyMode,
}

fn text(s: &Option<Secret>) -> Option<String> {
    s.as_ref().map(|s| s.expose().to_string())
}

fn secret(s: &Option<String>) -> Option<Secret> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(Secret::new)
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl Settings {
    /// The page's view of `c`.
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            library: c.library.display().to_string(),
            overflow_libraries: c.overflow_libraries.iter().map(|p| p.display().to_string()).collect(),
            parallel_downloads: c.parallel_downloads as u32,
            per_host_connections: c.per_host_connections as u32,
            bandwidth_limit_bytes_per_sec: c.bandwidth_limit_bytes_per_sec,
            stall_timeout_ms: c.stall_timeout_ms,
            transfer_deadline_ms: c.transfer_deadline_ms,
            subprocess_stall_timeout_ms: c.subprocess_stall_timeout_ms,
            name_template: c.name_template.clone(),
            podcastindex_key: text(&c.podcastindex_key),
            podcastindex_secret: text(&c.podcastindex_secret),
            fyyd_enabled: c.fyyd_enabled,
            agent_base_url: c.agent_base_url.clone(),
            agent_model: c.agent_model.clone(),
            agent_api_key: text(&c.agent_api_key),
            auto_sync_hours: c.auto_sync_hours,
            start_at_login: c.start_at_login,
            retention: c.retention,
            notify: c.notify,
        }
    }

    /// Checks the values and writes them over `c`. Errors: `invalid_input` naming the field
    /// (empty library, zero workers, zero windows, a template without `{ext}`, a retention
    /// count or age of 0).
    pub fn apply_to(&self, c: &mut Config) -> ApiResult<()> {
        if self.library.trim().is_empty() {
            return Err(WireError::invalid("library: choose a folder"));
        }
        if self.parallel_downloads == 0 || self.per_host_connections == 0 {
            return Err(WireError::invalid("parallel downloads and connections per host must be at least 1"));
        }
        if self.stall_timeout_ms == 0
            || self.transfer_deadline_ms == 0
            || self.subprocess_stall_timeout_ms == 0
        {
            return Err(WireError::invalid("watchdog windows must be longer than 0 ms"));
        }
        if !self.name_template.contains("{ext}") {
            return Err(WireError::invalid("name template: must contain {ext}"));
        }
        if self.auto_sync_hours == Some(0) || self.bandwidth_limit_bytes_per_sec == Some(0) {
            return Err(WireError::invalid("auto-sync hours and bandwidth limit must be empty or above 0"));
        }
        let retention = self.retention.validate().map_err(WireError::invalid)?;
        c.library = PathBuf::from(self.library.trim());
        c.overflow_libraries = self
            .overflow_libraries
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        c.parallel_downloads = self.parallel_downloads as usize;
        c.per_host_connections = self.per_host_connections as usize;
        c.bandwidth_limit_bytes_per_sec = self.bandwidth_limit_bytes_per_sec;
        c.stall_timeout_ms = self.stall_timeout_ms;
        c.transfer_deadline_ms = self.transfer_deadline_ms;
        c.subprocess_stall_timeout_ms = self.subprocess_stall_timeout_ms;
        c.name_template = self.name_template.trim().to_string();
        c.podcastindex_key = secret(&self.podcastindex_key);
        c.podcastindex_secret = secret(&self.podcastindex_secret);
        c.fyyd_enabled = self.fyyd_enabled;
        c.agent_base_url = non_empty(&self.agent_base_url);
        c.agent_model = non_empty(&self.agent_model);
        c.agent_api_key = secret(&self.agent_api_key);
        c.auto_sync_hours = self.auto_sync_hours;
        c.start_at_login = self.start_at_login;
        c.retention = retention;
        c.notify = self.notify;
        Ok(())
    }
}

/// Writes `config` to `path` as TOML via a temp file (mode `0600` on Unix: it holds
/// credentials) and a rename (creating the folder).
/// Errors: `io` when the folder or file cannot be written.
pub fn write_config(path: &Path, config: &Config) -> ApiResult<()> {
    let text = toml::to_string(config)
        .map_err(|e| WireError::new(ErrorCode::Internal, format!("cannot encode settings: {e}")))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    // the file holds credentials (upload targets, API keys): readable by its owner only
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&tmp)?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_keeps_hidden_fields_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/config.toml");
        let mut config = Config { user_agent: "UA/1".into(), general_lane_jobs: 7, ..Config::default() };
        let mut s = Settings::from_config(&config);
        s.library = dir.path().join("lib").display().to_string();
        s.podcastindex_key = Some("k-1".into());
        s.agent_api_key = Some("  ".into());
        s.auto_sync_hours = Some(6);
        s.apply_to(&mut config).unwrap();
        write_config(&path, &config).unwrap();
        let back = Config::load(&path).unwrap();
        assert_eq!(back, config);
        assert_eq!((back.user_agent.as_str(), back.general_lane_jobs), ("UA/1", 7));
        assert_eq!(back.agent_api_key, None, "a blank secret is no secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the config file holds credentials");
        }
        let again = Settings::from_config(&back);
        assert_eq!((again.podcastindex_key.as_deref(), again.auto_sync_hours), (Some("k-1"), Some(6)));
    }

    #[test]
    fn invalid_values_name_the_field() {
        let mut config = Config::default();
        let mut s = Settings::from_config(&config);
        s.name_template = "{title}".into();
        let e = s.apply_to(&mut config).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("name template"), "{}", e.message);
        assert_eq!(config, Config::default(), "nothing applied");
    }
}
