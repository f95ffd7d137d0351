//! What `serve` decides before it opens the catalog: the access token (created at the first
//! start: 32 random bytes from the OS generator, hex, saved as `serve_token` in the config
//! file, readable by its owner only) and the default of `block_private_addresses` (off on a
//! loopback listen address, on otherwise: a server on the LAN should not fetch from the LAN
//! unless told to, through `allowed_private_hosts`).

use std::net::SocketAddr;
use std::path::Path;

use catalog_sync_core::api::{write_config, WireError};
use catalog_sync_core::config::{Config, Secret};

/// What [`prepare_config`] decided.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The access token.
    pub token: String,
    /// The token was created now (and saved).
    pub created: bool,
    /// `block_private_addresses` in effect.
    pub blocks_private: bool,
}

/// A new random token (64 hex characters, 256 bits).
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Prepares `config` for serving on `listen` (module docs); a new token is saved to
/// `config_path` (only that key is added to what the file holds). Errors: `invalid_input` for
/// a malformed `allowed_private_hosts`, `io` when the token cannot be saved, `invalid_input`
/// when there is no config file to save it to.
pub fn prepare_config(
    config: &mut Config,
    config_path: Option<&Path>,
    listen: SocketAddr,
) -> Result<Prepared, WireError> {
    config.address_guard().map_err(WireError::invalid)?;
    if config.block_private_addresses.is_none() {
        config.block_private_addresses = Some(!listen.ip().is_loopback());
    }
    let blocks_private = config.block_private_addresses == Some(true);
    if let Some(token) = config.serve_token.as_ref().filter(|t| !t.expose().trim().is_empty()) {
        return Ok(Prepared { token: token.expose().trim().to_string(), created: false, blocks_private });
    }
    let path = config_path
        .ok_or_else(|| WireError::invalid("serve needs a config file to keep its token in (--config)"))?;
    let token = new_token();
    let mut on_disk = Config::load(path)?;
    on_disk.serve_token = Some(Secret::new(token.clone()));
    write_config(path, &on_disk)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    config.serve_token = Some(Secret::new(token.clone()));
    Ok(Prepared { token, created: true, blocks_private })
}

/// The URL that logs a browser in: the token rides in the fragment, which browsers never send
/// to a server (so it stays out of proxy and access logs); the UI trades it for a session.
pub fn login_url(listen: SocketAddr, token: &str) -> String {
    let host = if listen.ip().is_unspecified() { "localhost".to_string() } else { listen.ip().to_string() };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    format!("http://{host}:{}/#token={token}", listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_created_once_and_block_default_follows_the_listen_address() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "parallel_downloads = 7\n").unwrap();
        let mut c = Config::load(&path).unwrap();
        let first = prepare_config(&mut c, Some(&path), "127.0.0.1:8750".parse().unwrap()).unwrap();
        assert!(first.created && first.token.len() == 64 && !first.blocks_private);
        let mut again = Config::load(&path).unwrap();
        assert_eq!(again.parallel_downloads, 7, "the file keeps its settings");
        let second = prepare_config(&mut again, Some(&path), "0.0.0.0:8750".parse().unwrap()).unwrap();
        assert!(!second.created && second.token == first.token && second.blocks_private);
        assert_eq!(login_url("0.0.0.0:1".parse().unwrap(), "t"), "http://localhost:1/#token=t".to_string());
    }
}
