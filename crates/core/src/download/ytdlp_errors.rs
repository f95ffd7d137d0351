//! yt-dlp's failures by class (ARCHITECTURE.md, convention 2), decided in one place
//! ([`YtDlpFailure::from_message`]) for the sync of a yt-dlp playlist, adding one and
//! downloading through yt-dlp.
//!
//! yt-dlp reports an extractor error as one `ERROR: [extractor] id: message` line on stderr
//! and exits 1. The message's wording is what tells the classes apart (yt-dlp's own
//! `ExtractorError(expected=True)` cases, `yt_dlp/extractor/youtube/_video.py` and
//! `yt_dlp/networking/exceptions.py`):
//! - final: private, removed or unavailable (`HTTP Error 404`/`410`), geo-blocked,
//!   members-only, `Sign in to confirm` (age or bot check: needs cookies), `Unsupported URL`,
//!   and any other error yt-dlp raises (retrying the same URL gives the same answer);
//! - transient: `HTTP Error 5xx`, timeouts, and `Unable to download webpage` for other causes
//!   (connection refused, reset, DNS);
//! - rate limited: `HTTP Error 429` / `Too Many Requests`. Those back off for the whole
//!   extractor ([`ExtractorBackoff`]), not per item: every entry of that site waits.
//!
//! A failure keeps yt-dlp's own message; its display is `<class> (<kind>): <message>`, the
//! line stored on the playlist or work item and shown by the UI and `list items`.

use std::collections::HashMap;
use std::sync::Mutex;

/// What kind of failure yt-dlp reported (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum YtDlpErrorKind {
    /// A private video or playlist. Final.
    Private,
    /// Removed, deleted, unavailable or not found (404/410). Final.
    Removed,
    /// Not available in this country. Final.
    GeoBlocked,
    /// For channel members only. Final.
    MembersOnly,
    /// "Sign in to confirm" your age or that you are not a bot: needs cookies. Final.
    SignInRequired,
    /// No extractor for the URL. Final.
    Unsupported,
    /// HTTP 429: the site throttles us. Backs off for the whole extractor.
    RateLimited,
    /// HTTP 5xx from the site. Transient.
    ServerError,
    /// A read or connect timeout. Transient.
    Timeout,
    /// The page could not be fetched for another reason (refused, reset, DNS). Transient.
    Network,
    /// Any other error yt-dlp raised. Final.
    Other,
}

impl YtDlpErrorKind {
    /// The kind in words: `private`, `removed`, `geo-blocked`, `members-only`,
    /// `sign-in required`, `unsupported URL`, `rate limited`, `server error`, `timeout`,
    /// `network`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Removed => "removed",
            Self::GeoBlocked => "geo-blocked",
            Self::MembersOnly => "members-only",
            Self::SignInRequired => "sign-in required",
            Self::Unsupported => "unsupported URL",
            Self::RateLimited => "rate limited",
            Self::ServerError => "server error",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::Other => "error",
        }
    }

    /// True for the kinds a later attempt may get past: server errors, timeouts, network
    /// failures and rate limits.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RateLimited | Self::ServerError | Self::Timeout | Self::Network)
    }
}

/// A failure yt-dlp reported, with its class and its own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({}): {message}", if .kind.is_transient() { "transient" } else { "final" }, .kind.as_str())]
pub struct YtDlpFailure {
    /// Its kind; [`YtDlpErrorKind::is_transient`] gives the class.
    pub kind: YtDlpErrorKind,
    /// yt-dlp's `ERROR:` line (else its last line of stderr).
    pub message: String,
}

/// The HTTP status in `HTTP Error NNN` of a message.
fn http_status(m: &str) -> Option<u16> {
    let at = m.find("HTTP Error ")? + "HTTP Error ".len();
    m.get(at..at + 3)?.parse().ok()
}

impl YtDlpFailure {
    /// Classifies yt-dlp's message (module docs for the rules and their source).
    pub fn from_message(message: impl Into<String>) -> YtDlpFailure {
        let message = message.into();
        let m = message.to_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
        let status = http_status(&message);
        let kind = if status == Some(429) || has(&["too many requests", "rate-limited", "rate limit"]) {
            YtDlpErrorKind::RateLimited
        } else if has(&["private video", "video is private", "playlist is private", "is a private"]) {
            YtDlpErrorKind::Private
        } else if has(&["members-only", "members only", "join this channel", "channel's members"]) {
            YtDlpErrorKind::MembersOnly
        } else if has(&["sign in to confirm", "sign in to view"]) {
            YtDlpErrorKind::SignInRequired
        } else if has(&[
            "available in your country",
            "geo restrict",
            "geo-restrict",
            "geo-block",
            "from your location",
        ]) {
            YtDlpErrorKind::GeoBlocked
        } else if has(&["unsupported url"]) {
            YtDlpErrorKind::Unsupported
        } else if matches!(status, Some(404 | 410))
            || has(&[
                "has been removed",
                "video unavailable",
                "no longer available",
                "does not exist",
                "account associated with this video has been terminated",
            ])
        {
            YtDlpErrorKind::Removed
        } else if status.is_some_and(|s| (500..600).contains(&s)) {
            YtDlpErrorKind::ServerError
        } else if has(&["timed out", "timeout"]) {
            YtDlpErrorKind::Timeout
        } else if status.is_none()
            && has(&[
                "unable to download",
                "connection refused",
                "connection reset",
                "name or service not known",
                "temporary failure in name resolution",
            ])
        {
            YtDlpErrorKind::Network
        } else {
            YtDlpErrorKind::Other
        };
        YtDlpFailure { kind, message }
    }

    /// Classifies a failed run by its stderr: yt-dlp's `ERROR:` line, else the last line.
    pub fn from_stderr(stderr: &[u8]) -> YtDlpFailure {
        YtDlpFailure::from_message(error_line(stderr))
    }

    /// True when a later attempt may succeed (see [`YtDlpErrorKind::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

/// yt-dlp's own error line (`ERROR: ...`) from its stderr, else the last non-empty line.
pub fn error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR"))
        .or(lines.last())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "yt-dlp failed without a message".into())
}

/// The site an extractor belongs to, the key of its rate-limit back-off: the extractor,
/// lowercase, without the suffix yt-dlp gives a site's list extractors (`YoutubeTab` and
/// `Youtube` are both `youtube`, `SoundcloudPlaylist` is `soundcloud`).
pub fn site_of(extractor: &str) -> String {
    let e = extractor.to_lowercase();
    for suffix in ["tab", "playlist", "channel", "user", "set", "search"] {
        if let Some(site) = e.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return site.to_string();
        }
    }
    e
}

/// Longest back-off of one extractor after repeated rate limits (ms): 30 minutes.
pub const MAX_BACKOFF_MS: i64 = 30 * 60 * 1000;

/// Rate-limit back-off per extractor, in memory for the engine's lifetime: after an HTTP 429
/// every sync and download of that extractor waits until the window ends. Each rate limit in a
/// row doubles the window (from the `base_ms` given, capped at [`MAX_BACKOFF_MS`]); a success
/// clears it. Times are Unix ms from the caller's clock (convention 13).
#[derive(Debug, Default)]
pub struct ExtractorBackoff {
    by_extractor: Mutex<HashMap<String, (i64, u32)>>,
}

impl ExtractorBackoff {
    /// Until when `extractor` waits (Unix ms), when it is later than `now_ms`.
    pub fn blocked_until(&self, extractor: &str, now_ms: i64) -> Option<i64> {
        let map = self.by_extractor.lock().expect("backoff lock");
        map.get(extractor).map(|(until, _)| *until).filter(|until| *until > now_ms)
    }

    /// Records a rate limit of `extractor` at `now_ms`; returns the end of its window.
    pub fn rate_limited(&self, extractor: &str, now_ms: i64, base_ms: u64) -> i64 {
        let mut map = self.by_extractor.lock().expect("backoff lock");
        let (until, strikes) = map.entry(extractor.to_string()).or_insert((now_ms, 0));
        let window = (base_ms.max(1) as i64).saturating_mul(1 << (*strikes).min(20)).min(MAX_BACKOFF_MS);
        *strikes += 1;
        *until = (*until).max(now_ms + window);
        *until
    }

    /// `extractor` answered: its window and strikes are cleared.
    pub fn succeeded(&self, extractor: &str) {
        self.by_extractor.lock().expect("backoff lock").remove(extractor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_from_real_messages() {
        use YtDlpErrorKind::*;
        let cases = [
            ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video", Private),
            ("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader", Removed),
            ("ERROR: [youtube] abc: The uploader has not made this video available in your country", GeoBlocked),
            ("ERROR: [youtube] abc: Join this channel to get access to members-only content like this video", MembersOnly),
            ("ERROR: [youtube] abc: Sign in to confirm you're not a bot. Use --cookies-from-browser", SignInRequired),
            ("ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate", SignInRequired),
            ("ERROR: Unsupported URL: http://127.0.0.1/x", Unsupported),
            ("ERROR: [generic] x: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404>)", Removed),
            ("ERROR: [generic] x: Unable to download webpage: HTTP Error 503: Service Unavailable", ServerError),
            ("ERROR: [youtube] x: Unable to download webpage: HTTP Error 429: Too Many Requests", RateLimited),
            ("ERROR: [generic] x: Unable to download webpage: The read operation timed out", Timeout),
            ("ERROR: [generic] x: Unable to download webpage: [Errno 111] Connection refused", Network),
            ("ERROR: [generic] x: something nobody expected", Other),
        ];
        for (message, kind) in cases {
            let f = YtDlpFailure::from_message(message);
            assert_eq!(f.kind, kind, "{message}");
            assert_eq!(f.is_transient(), matches!(kind, ServerError | Timeout | Network | RateLimited));
        }
        assert_eq!(
            error_line(b"[generic] x\nERROR: Unsupported URL: http://a\n\n"),
            "ERROR: Unsupported URL: http://a"
        );
        assert_eq!(error_line(b"just a line\n"), "just a line");
        assert_eq!(error_line(b""), "yt-dlp failed without a message");
        let f = YtDlpFailure::from_stderr(b"[youtube] x: Downloading\nERROR: [youtube] x: Private video\n");
        assert_eq!(f.to_string(), "final (private): ERROR: [youtube] x: Private video");
    }

    #[test]
    fn sites_of_extractors() {
        assert_eq!(site_of("YoutubeTab"), "youtube");
        assert_eq!(site_of("youtube"), "youtube");
        assert_eq!(site_of("SoundcloudPlaylist"), "soundcloud");
        assert_eq!(site_of("PeerTubePlaylist"), "peertube");
        assert_eq!(site_of("Generic"), "generic");
    }

    #[test]
    fn backoff_is_per_extractor_doubles_and_clears() {
        let b = ExtractorBackoff::default();
        assert_eq!(b.rate_limited("youtube", 1_000, 100), 1_100);
        assert_eq!(b.blocked_until("youtube", 1_050), Some(1_100));
        assert_eq!(b.blocked_until("youtube", 1_100), None, "the window ended");
        assert_eq!(b.blocked_until("soundcloud", 1_050), None, "another extractor is not held");
        assert_eq!(b.rate_limited("youtube", 2_000, 100), 2_200, "a second 429 doubles the window");
        b.succeeded("youtube");
        assert_eq!(b.rate_limited("youtube", 3_000, 100), 3_100);
        assert_eq!(b.rate_limited("x", 0, MAX_BACKOFF_MS as u64 * 4), MAX_BACKOFF_MS);
    }
}
