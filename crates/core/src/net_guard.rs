//! The private-address guard (`block_private_addresses`), a leaf module that the catalog
//! (document fetches) and the download engine (media) both install into their HTTP clients:
//! with it on, feed, page and media fetches never reach loopback, link-local, private, shared
//! (CGNAT), unique-local or unspecified addresses, so a feed URL given to a server on the LAN
//! cannot make it probe the LAN (server-side request forgery; cf. Audiobookshelf's advisory
//! GHSA-mgj7-rfx8-vhpr). The ranges are those of RFC 1918, RFC 6598, RFC 3927, RFC 4193,
//! RFC 4291 and RFC 5735.
//!
//! It is checked twice, both inside the HTTP client so that every request and every redirect
//! hop passes through it: the DNS resolver ([`GuardedResolver`]) drops the refused addresses a
//! name resolves to (and fails with [`AddressRefused`] when none remains), and a connector
//! layer ([`GuardLayer`]) checks the peer address of every new connection, which also covers
//! URLs with an IP literal (reqwest resolves none of those) and a name that resolves
//! differently the second time (DNS rebinding). The allow-list `allowed_private_hosts` takes
//! host names (their addresses are allowed, whatever they resolve to), single addresses and
//! CIDR ranges (`192.168.1.0/24`, `fd00::/8`), for a NAS whose feeds live on the LAN.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::Connection;
use ipnet::IpNet;

/// A fetch refused by the guard: `host` (a name, or the peer address) resolves to `addr`, a
/// private or local address. Expected (final): retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused: {host} is the private or local address {addr} (block_private_addresses is on; allow it with allowed_private_hosts)"
)]
pub struct AddressRefused {
    /// The host asked for.
    pub host: String,
    /// The address refused.
    pub addr: IpAddr,
}

/// Whether `ip` is one the guard refuses: loopback, unspecified, private (RFC 1918), shared
/// (RFC 6598), link-local (RFC 3927, fe80::/10), unique-local (fc00::/7), broadcast, or an
/// IPv4-mapped IPv6 form of one of these.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The guard's policy and what it learnt (see the module docs). Shared by both checks.
#[derive(Debug, Default)]
pub struct AddressGuard {
    names: Vec<String>,
    nets: Vec<IpNet>,
    /// Addresses allow-listed host names resolved to (the connector sees only addresses).
    approved: Mutex<HashSet<IpAddr>>,
}

impl AddressGuard {
    /// A guard allowing `allowed`: host names (compared case-insensitively), addresses and CIDR
    /// ranges. Errors: an entry that looks like an address or range but does not parse.
    pub fn new(allowed: &[String]) -> Result<AddressGuard, String> {
        let mut guard = AddressGuard::default();
        for entry in allowed.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                guard.nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                guard.nets.push(IpNet::from(ip));
            } else if entry.contains('/') || entry.parse::<SocketAddr>().is_ok() {
                return Err(format!(
                    "allowed_private_hosts: {entry:?} is not a host name, address or CIDR range"
                ));
            } else {
                guard.names.push(entry.trim_end_matches('.').to_ascii_lowercase());
            }
        }
        Ok(guard)
    }

    fn name_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&host)
    }

    /// Checks one address of `host` (module docs). Errors: [`AddressRefused`].
    pub fn check(&self, host: &str, addr: IpAddr) -> Result<(), AddressRefused> {
        if !is_private(addr)
            || self.nets.iter().any(|n| n.contains(&addr))
            || self.approved.lock().expect("approved lock").contains(&addr)
        {
            return Ok(());
        }
        Err(AddressRefused { host: host.to_string(), addr })
    }

    /// `builder` with both checks installed (resolver and connector layer).
    pub fn install(self: &Arc<Self>, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder
            .dns_resolver(Arc::new(GuardedResolver(self.clone())))
            .connector_layer(GuardLayer(self.clone()))
    }
}

/// The settings every HTTP client of ours starts from: `user_agent`, a 15 s connect timeout,
/// 60 s TCP keepalive, and `guard`'s checks on every connection when given. The document and
/// media clients add their redirect policy, decoding and pooling.
pub fn client_builder(user_agent: &str, guard: Option<&Arc<AddressGuard>>) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(std::time::Duration::from_secs(15))
        .tcp_keepalive(std::time::Duration::from_secs(60));
    match guard {
        Some(g) => g.install(builder),
        None => builder,
    }
}

/// Whether `err` or one of its sources is an [`AddressRefused`].
pub fn is_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<AddressRefused>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The DNS half of the guard: the system resolver (`getaddrinfo` on the blocking pool, through
/// tokio), then the refused addresses dropped.
#[derive(Debug, Clone)]
pub struct GuardedResolver(Arc<AddressGuard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if guard.name_allowed(&host) {
                guard.approved.lock().expect("approved lock").extend(addrs.iter().map(SocketAddr::ip));
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let mut refused = None;
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match guard.check(&host, a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused.get_or_insert(e);
                        false
                    }
                })
                .collect();
            match (kept.is_empty(), refused) {
                (true, Some(e)) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}

/// The connection half of the guard: a tower layer over reqwest's connector that checks the
/// peer address of each new connection (module docs). Connections through a proxy are the
/// proxy's business and pass.
#[derive(Debug, Clone)]
pub struct GuardLayer(Arc<AddressGuard>);

impl<S> tower_layer::Layer<S> for GuardLayer {
    type Service = GuardService<S>;
    fn layer(&self, inner: S) -> GuardService<S> {
        GuardService { inner, guard: self.0.clone() }
    }
}

/// The service [`GuardLayer`] makes.
#[derive(Debug, Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Arc<AddressGuard>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, Req> tower_service::Service<Req> for GuardService<S>
where
    S: tower_service::Service<Req, Error = BoxError>,
    S::Response: Connection + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let (fut, guard) = (self.inner.call(req), self.guard.clone());
        Box::pin(async move {
            let conn = fut.await?;
            let connected = conn.connected();
            if connected.is_proxied() {
                return Ok(conn);
            }
            let mut extras = http::Extensions::new();
            connected.get_extras(&mut extras);
            if let Some(info) = extras.get::<hyper_util::client::legacy::connect::HttpInfo>() {
                let peer = info.remote_addr().ip();
                guard.check(&peer.to_string(), peer)?;
            }
            Ok(conn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd12::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn allow_list_takes_names_addresses_and_ranges() {
        let g = AddressGuard::new(&["NAS.local".into(), "192.168.1.0/24".into(), "10.0.0.7".into()]).unwrap();
        assert!(g.check("x", "192.168.1.20".parse().unwrap()).is_ok());
        assert!(g.check("x", "10.0.0.7".parse().unwrap()).is_ok());
        let e = g.check("x", "10.0.0.8".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("10.0.0.8") && is_refusal(&e));
        assert!(g.name_allowed("nas.local.") && !g.name_allowed("other"));
        assert!(AddressGuard::new(&["10.0.0.0/33".into()]).is_err());
    }
}
