//! Recognises URLs already in the form the `url` crate would write them, so the feed readers
//! can keep them as written instead of parsing each one (one enclosure URL per item: a tenth of
//! the extras pass's CPU on a big feed). Conservative by design: anything it is not sure of
//! goes through `url::Url::parse`, which stays the only parser.

/// Whether `s` is an absolute `http`/`https` URL that `url::Url::parse` serializes back to
/// exactly `s` (WHATWG URL Standard, <https://url.spec.whatwg.org/>): a lower-case scheme;
/// a host of lower-case ASCII labels (`a-z`, `0-9`, inner `-`; no punycode label; a numeric
/// last label only in a dotted-quad IPv4 address without leading zeros); an optional port
/// that is not the scheme's default; then a path starting with `/` (and query, fragment) made
/// of characters no percent-encode set of the standard names, with `%` only before two hex
/// digits and no `.` or `..` segment.
pub(crate) fn is_canonical_http_url(s: &str) -> bool {
    let (rest, default_port) = match s.strip_prefix("https://") {
        Some(rest) => (rest, "443"),
        None => match s.strip_prefix("http://") {
            Some(rest) => (rest, "80"),
            None => return false,
        },
    };
    let Some(end) = rest.find('/') else { return false };
    let (authority, tail) = rest.split_at(end);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    host_is_canonical(host)
        && port.is_none_or(|p| port_is_canonical(p, default_port))
        && tail_is_canonical(tail)
}

fn host_is_canonical(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && !l.starts_with("xn--")
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return false;
    }
    // a host whose last label is a number is read as an IPv4 address (the standard's "ends in
    // a number"): only the dotted quad is written back unchanged
    let last = host.rsplit('.').next().unwrap_or("");
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        let octets: Vec<&str> = host.split('.').collect();
        return octets.len() == 4
            && octets.iter().all(|o| {
                o.bytes().all(|b| b.is_ascii_digit())
                    && (*o == "0" || !o.starts_with('0'))
                    && o.parse::<u16>().is_ok_and(|n| n <= 255)
            });
    }
    true
}

fn port_is_canonical(port: &str, default_port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && !port.starts_with('0')
        && port != default_port
        && port.parse::<u32>().is_ok_and(|p| p <= 65535)
}

fn tail_is_canonical(tail: &str) -> bool {
    let bytes = tail.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let plain = b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/?#".contains(&b);
        let escape = b == b'%'
            && bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if !plain && !escape {
            return false;
        }
    }
    // dot segments are resolved away, `%2e` counts as a dot in a path
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    !path.split('/').any(|seg| seg == "." || seg == "..") && !path.contains("%2e") && !path.contains("%2E")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL taken as written is what `url` writes; the common ones are taken.
    #[test]
    fn taken_as_written_only_when_url_writes_it_so() {
        let taken = [
            "https://example.com/",
            "http://127.0.0.1:46121/feed-000/1.mp3",
            "https://cdn.example.com/a/b%20c.mp3?x=1&y=a:b@c#t=10",
            "https://traffic.libsyn.com/secure/show/ep-1.mp3?dest-id=123",
            "http://a-b.example:8080/~u/(x)*,;=!$",
        ];
        let refused = [
            "HTTPS://example.com/",
            "https://Example.com/",
            "https://example.com",
            "https://example.com?x",
            "https://example.com:443/",
            "http://example.com:80/",
            "https://example.com:/",
            "https://example.com:0443/",
            "https://example.com:99999/",
            "https://127.1/",
            "https://127.0.0.01/",
            "https://0x7f.0.0.1/",
            "https://a.1/",
            "https://xn--nxasmq6b.example/",
            "https://-a.example/",
            "https://a..example/",
            "https://a.example./",
            "https://u:p@a.example/",
            "https://a.example/a b",
            "https://a.example/a/./b",
            "https://a.example/a/../b",
            "https://a.example/a/%2e%2E/b",
            "https://a.example/a\\b",
            "https://a.example/a\"b",
            "https://a.example/<b>",
            "https://a.example/a|b",
            "https://a.example/it's",
            "https://a.example/a%zz",
            "https://a.example/é",
            "https://[::1]/",
            "ftp://a.example/",
            "/relative.mp3",
        ];
        for s in taken.iter().chain(&refused) {
            if is_canonical_http_url(s) {
                assert_eq!(url::Url::parse(s).map(String::from).as_deref(), Ok(*s), "{s}");
            }
        }
        assert!(taken.iter().all(|s| is_canonical_http_url(s)), "the common forms are taken");
        assert!(!refused.iter().any(|s| is_canonical_http_url(s)), "conservative");
    }

    /// Every URL in the corpus that is taken as written reads back the same through `url`.
    #[test]
    fn every_corpus_url_taken_as_written_is_what_url_writes() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/feeds");
        let (mut taken, mut seen) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("corpus").flatten() {
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
            for quoted in text.split('"').skip(1).step_by(2) {
                let s = quoted.trim();
                if !s.starts_with("http") {
                    continue;
                }
                seen += 1;
                if is_canonical_http_url(s) {
                    taken += 1;
                    assert_eq!(url::Url::parse(s).map(String::from).as_deref(), Ok(s), "{s}");
                }
            }
        }
        assert!(seen > 1000 && taken * 2 > seen, "{taken} of {seen} taken");
    }
}
