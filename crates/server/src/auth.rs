//! Who may talk to the server. A home server is reachable by every device and every web page on
//! the LAN, so, on loopback too:
//! - Every API route but `GET /api/health` and `POST /api/login` needs either
//!   `Authorization: Bearer <token>` (scripts; RFC 6750 §2.1) or the session cookie a browser
//!   gets from `POST /api/login {"token": ...}`: `HttpOnly; SameSite=Strict` (RFC 6265bis
//!   §4.1.2.7), so page scripts cannot read it and other sites' requests do not carry it.
//!   Tokens are compared in constant time (`subtle`).
//! - Logins are rate-limited per client address: after [`LOGIN_ATTEMPTS`] failures within
//!   [`LOGIN_WINDOW_MS`] every login from it is refused with `429` until the window ends.
//!   Behind a reverse proxy every client shares the proxy's address, so the limit is global.
//! - The `Host` header must name this server ([`HostPolicy`]): an IP literal, `localhost`, or a
//!   name of `serve_hosts`. A DNS-rebinding page reaches the server under its own name and is
//!   refused with `421 Misdirected Request` (RFC 9110 §15.5.20).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use catalog_sync_core::api::ErrorCode;
use catalog_sync_core::clock::Clock;
use subtle::ConstantTimeEq;

use crate::wire::{ApiError, ApiJson};
use crate::AppState;

/// Failed logins one client address may make per window.
pub const LOGIN_ATTEMPTS: u32 = 10;
/// The login window (ms): a minute.
pub const LOGIN_WINDOW_MS: i64 = 60_000;
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "catalog_sync_session";

/// Which `Host` headers name this server (module docs).
#[derive(Debug, Clone)]
pub struct HostPolicy {
    names: Vec<String>,
}

impl HostPolicy {
    /// IP literals and `localhost`, plus `names` (case-insensitive, without port).
    pub fn new(names: &[String]) -> HostPolicy {
        let mut all: Vec<String> =
            names.iter().map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
        all.push("localhost".into());
        HostPolicy { names: all }
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6][:port]`) names this server.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim();
        let name = if let Some(rest) = host.strip_prefix('[') {
            match rest.split_once(']') {
                Some((v6, _)) => return v6.parse::<std::net::Ipv6Addr>().is_ok(),
                None => return false,
            }
        } else {
            host.rsplit_once(':').map_or(host, |(n, _)| n)
        };
        if name.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&name)
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: i64,
    failures: u32,
}

/// The token, the sessions and the login limiter of one server.
pub struct Auth {
    token: String,
    hosts: HostPolicy,
    clock: Arc<dyn Clock>,
    sessions: Mutex<HashSet<String>>,
    logins: Mutex<HashMap<IpAddr, Window>>,
}

impl Auth {
    /// Auth with the access `token`, accepting `hosts`, timing the login windows with `clock`.
    pub fn new(token: String, hosts: HostPolicy, clock: Arc<dyn Clock>) -> Auth {
        Auth { token, hosts, clock, sessions: Mutex::default(), logins: Mutex::default() }
    }

    fn token_matches(&self, given: &str) -> bool {
        !given.is_empty() && bool::from(given.as_bytes().ct_eq(self.token.as_bytes()))
    }

    /// Whether the request carries the token or a live session.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(t) = bearer {
            return self.token_matches(t);
        }
        match session_cookie(headers) {
            Some(id) => self.sessions.lock().expect("sessions lock").contains(id),
            None => false,
        }
    }

    /// Counts a login attempt of `ip`: `Err` with the seconds to wait when it is over the limit.
    fn limited(&self, ip: IpAddr) -> Result<(), i64> {
        let now = self.clock.now_ms();
        let mut logins = self.logins.lock().expect("logins lock");
        let w = logins.entry(ip).or_insert(Window { start_ms: now, failures: 0 });
        if now - w.start_ms >= LOGIN_WINDOW_MS {
            *w = Window { start_ms: now, failures: 0 };
        }
        if w.failures >= LOGIN_ATTEMPTS {
            return Err((w.start_ms + LOGIN_WINDOW_MS - now).max(1_000) / 1_000);
        }
        Ok(())
    }

    fn failed(&self, ip: IpAddr) {
        if let Some(w) = self.logins.lock().expect("logins lock").get_mut(&ip) {
            w.failures += 1;
        }
    }
}

/// The session id of the request's cookie header, if any (RFC 6265 §5.4 `name=value; ...`).
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

fn error(code: ErrorCode, message: &str) -> Response {
    ApiError::new(code, message).into_response()
}

/// Paths any client may call: the health check (container `HEALTHCHECK`) and the login.
fn is_open(path: &str) -> bool {
    matches!(path, "/api/health" | "/api/login")
}

/// Middleware of every request: the `Host` check, then, for `/api/*` but the open routes, the
/// token or session (module docs).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).or(req.uri().host());
    if !host.is_some_and(|h| state.auth.hosts.allows(h)) {
        let mut r = error(
            ErrorCode::Forbidden,
            "unknown Host: add the name this server is reached by to serve_hosts in the config",
        );
        *r.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return r;
    }
    let path = req.uri().path();
    if path.starts_with("/api/") && !is_open(path) && !state.auth.authorized(req.headers()) {
        return error(
            ErrorCode::Unauthorized,
            "log in with the token serve printed (or send Authorization: Bearer)",
        );
    }
    next.run(req).await
}

/// Body of `POST /api/login`.
#[derive(Debug, serde::Deserialize)]
pub struct Login {
    /// The access token.
    pub token: String,
}

/// `POST /api/login {"token"}`: a session cookie for the token (module docs). Errors:
/// `401 unauthorized` for a wrong token, `429 rate_limited` over the limit.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Response {
    let auth = &state.auth;
    if let Err(wait_s) = auth.limited(peer.ip()) {
        let mut r =
            error(ErrorCode::RateLimited, &format!("too many failed logins; try again in {wait_s} s"));
        if let Ok(v) = wait_s.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    if !auth.token_matches(body.token.trim()) {
        auth.failed(peer.ip());
        return error(ErrorCode::Unauthorized, "wrong token");
    }
    let id = hex::encode(rand::random::<[u8; 32]>());
    auth.sessions.lock().expect("sessions lock").insert(id.clone());
    let https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{secure}");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

/// `POST /api/logout`: ends the session of the request's cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        state.auth.sessions.lock().expect("sessions lock").remove(id);
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_policy() {
        let p = HostPolicy::new(&["NAS.local".into()]);
        for ok in
            ["127.0.0.1:8750", "192.168.1.5", "[::1]:8750", "localhost:8750", "nas.local", "nas.local.:80"]
        {
            assert!(p.allows(ok), "{ok}");
        }
        for bad in ["evil.example:8750", "nas.local.evil.example", "[nope]:1", ""] {
            assert!(!p.allows(bad), "{bad}");
        }
    }

    #[test]
    fn cookie_parsing() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; catalog_sync_session=abc; b=2".parse().unwrap());
        assert_eq!(session_cookie(&h), Some("abc"));
    }
}
