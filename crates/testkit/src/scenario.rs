//! Synthetic playlists for benchmarks: RSS 2.0 podcasts over registered media, and OPML.
//!
//! `add_podcast("show", 3, 1000)` registers `/show/1.mp3` .. `/show/3.mp3` (1000 bytes each)
//! and serves `/show/feed.xml`: RSS 2.0 (<https://www.rssboard.org/rss-specification>) with the
//! iTunes namespace, one `<item>` per episode with a non-permalink `<guid>`
//! (`<slug>-ep-<n>`), an RFC 2822 `<pubDate>` one day apart going back from 2024-06-01, and an
//! `<enclosure url length type>`. `add_opml` writes an OPML 2.0 subscription list
//! (<http://opml.org/spec2.opml>) of `<outline type="rss">` entries. All output is
//! deterministic.

use std::fmt::Write as _;

use url::Url;

use crate::server::TestServer;

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Formats days since 1970-01-01 (at 12:00:00 GMT) as an RFC 2822 date.
pub(crate) fn rfc2822(days: i64) -> String {
    // Civil-from-days, after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let wd = WEEKDAYS[days.rem_euclid(7) as usize];
    format!("{wd}, {day:02} {} {year} 12:00:00 GMT", MONTHS[(month - 1) as usize])
}

/// 2024-06-01 as days since 1970-01-01.
const NEWEST_EPISODE_DAY: i64 = 19_875;

impl TestServer {
    /// Registers `episodes` media files of `media_size` bytes at `/<slug>/<n>.mp3` (n from 1)
    /// and an RSS 2.0 feed over them at `/<slug>/feed.xml`; returns the feed URL.
    /// Episode 1 is the newest.
    pub fn add_podcast(&self, slug: &str, episodes: usize, media_size: u64) -> Url {
        self.add_podcast_with_media_on(slug, episodes, media_size, &self.base_url())
    }

    /// [`TestServer::add_podcast`] whose enclosure URLs name `media_base` (e.g. a base URL
    /// from [`TestServer::also_listen_on`]) instead of this server's base URL.
    pub fn add_podcast_with_media_on(
        &self,
        slug: &str,
        episodes: usize,
        media_size: u64,
        media_base: &Url,
    ) -> Url {
        let feed_url = self.url(&format!("/{slug}/feed.xml"));
        let t = xml_escape(slug);
        let mut xml = String::new();
        xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(
            "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">\n<channel>\n",
        );
        let _ = writeln!(xml, "<title>Podcast {t}</title>");
        let _ = writeln!(xml, "<link>{}</link>", xml_escape(self.url(&format!("/{slug}/")).as_str()));
        let _ = writeln!(xml, "<description>Synthetic podcast {t} ({episodes} episodes)</description>");
        xml.push_str("<language>en</language>\n");
        let _ =
            writeln!(xml, "<itunes:author>Testkit</itunes:author>\n<itunes:explicit>false</itunes:explicit>");
        xml.push_str("<itunes:category text=\"Technology\"/>\n");
        for n in 1..=episodes {
            let media = self.add_media(&format!("/{slug}/{n}.mp3"), media_size);
            let date = rfc2822(NEWEST_EPISODE_DAY - (n as i64 - 1));
            let _ = write!(
                xml,
                "<item>\n<title>{t} episode {n}</title>\n<guid isPermaLink=\"false\">{t}-ep-{n}</guid>\n\
                 <pubDate>{date}</pubDate>\n<itunes:duration>{dur}</itunes:duration>\n<itunes:episode>{n}</itunes:episode>\n\
                 <enclosure url=\"{url}\" length=\"{len}\" type=\"audio/mpeg\"/>\n</item>\n",
                dur = 60 * n,
                url = xml_escape(media_base.join(media.url.path()).expect("path joins").as_str()),
                len = media.size,
            );
        }
        xml.push_str("</channel>\n</rss>\n");
        self.add_feed(feed_url.path(), xml.into_bytes(), "application/rss+xml; charset=utf-8")
    }

    /// Serves an OPML 2.0 list at `path` with one `<outline type="rss">` per feed URL
    /// (`text`/`title` = the URL's path); returns its URL.
    pub fn add_opml(&self, path: &str, feed_urls: &[Url]) -> Url {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head>\n<title>Testkit subscriptions</title>\n</head>\n<body>\n",
        );
        for u in feed_urls {
            let text = xml_escape(u.path());
            let _ = writeln!(
                xml,
                "<outline type=\"rss\" text=\"{text}\" title=\"{text}\" xmlUrl=\"{}\"/>",
                xml_escape(u.as_str())
            );
        }
        xml.push_str("</body>\n</opml>\n");
        self.add_feed(path, xml.into_bytes(), "text/x-opml; charset=utf-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 12:00:00 GMT");
        assert_eq!(rfc2822(NEWEST_EPISODE_DAY), "Sat, 01 Jun 2024 12:00:00 GMT");
        assert_eq!(rfc2822(NEWEST_EPISODE_DAY - 1), "Fri, 31 May 2024 12:00:00 GMT");
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("a&b<\"'>"), "a&amp;b&lt;&quot;&apos;&gt;");
    }
}
