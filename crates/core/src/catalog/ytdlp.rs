//! yt-dlp's JSON as playlists and entries: the `--flat-playlist -J` document (one object, the
//! playlist with its `entries`) and the `--flat-playlist -j` lines (one object per entry, with
//! the playlist's `playlist_*` fields beside the entry's own). Field names follow yt-dlp's
//! output template docs (<https://github.com/yt-dlp/yt-dlp#output-template>): `id`, `title`,
//! `timestamp`, `upload_date` (`YYYYMMDD`), `duration` (seconds), `thumbnail` / `thumbnails`,
//! `webpage_url`, `url`, `ie_key` and `extractor_key`.
//!
//! An entry's identity is its extractor and its id (`youtube:dQw4w9WgXcQ`, see
//! [`super::identity::extractor_key`]): the same video listed by two channels or playlists is
//! one item. The extractor is the entry's `ie_key` (flat entries name the extractor that will
//! handle them), else its `extractor_key`, else the playlist's. Extractors whose ids are local
//! to one page ([`is_page_local`]: `generic` names an RSS entry by its guid, `HTML5MediaEmbed`
//! by `<page>-<n>`) are not trusted across playlists: their id is the entry's URL instead.
//! yt-dlp's smuggled data (`#__youtubedl_smuggle=...`, the generic extractor's way of passing
//! a guid along) is read for the id and dropped from the URL.

use serde_json::Value;

/// One entry of a yt-dlp playlist, as the catalog keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YtDlpEntry {
    /// The extractor, lowercase (`youtube`, `peertube`, `soundcloud`, `generic`).
    pub extractor: String,
    /// The extractor's id of the entry (the entry's URL for page-local extractors).
    pub id: String,
    /// Title, trimmed.
    pub title: Option<String>,
    /// Description as given.
    pub description: Option<String>,
    /// Upload time, Unix seconds (UTC): `timestamp`, `release_timestamp`, else `upload_date` /
    /// `release_date` at midnight UTC.
    pub published: Option<i64>,
    /// Duration in seconds, rounded.
    pub duration_secs: Option<u64>,
    /// Thumbnail URL: `thumbnail`, else the last (best, yt-dlp sorts them worst first) of
    /// `thumbnails`.
    pub thumbnail: Option<String>,
    /// The URL yt-dlp downloads the entry from: the flat entry's `url`, else `webpage_url`,
    /// else the single format's `url`; without smuggled data.
    pub url: String,
    /// Uploader or channel name.
    pub uploader: Option<String>,
    /// 1-based position in the playlist (`playlist_index`), when yt-dlp gave one.
    pub index: Option<u64>,
}

impl YtDlpEntry {
    /// The entry's identity key in the catalog: `ytdlp:<extractor>:<id>`.
    pub fn key(&self) -> String {
        super::identity::extractor_key(&self.extractor, &self.id)
    }
}

/// What `yt-dlp --flat-playlist -J <url>` said about a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YtDlpListing {
    /// `true` for a playlist or channel (`_type: playlist`), `false` for a single video.
    pub is_playlist: bool,
    /// The playlist's id.
    pub id: Option<String>,
    /// Title (`title`, else `playlist_title`).
    pub title: Option<String>,
    /// The playlist's extractor, lowercase (`youtubetab`, `generic`).
    pub extractor: Option<String>,
    /// Uploader or channel.
    pub uploader: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Thumbnail of the playlist or channel.
    pub thumbnail: Option<String>,
    /// The playlist's page.
    pub webpage_url: Option<String>,
    /// Entries it holds in all (`playlist_count`), when yt-dlp knows.
    pub count: Option<u64>,
    /// The entries listed, in playlist order.
    pub entries: Vec<YtDlpEntry>,
    /// Entries skipped, in words (nested playlists, entries without an id).
    pub skipped: Vec<String>,
}

/// What a yt-dlp playlist downloads of each entry: a per-playlist setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MediaChoice {
    /// The best audio-only format as the site serves it (`-f bestaudio/best`).
    BestAudio,
    /// The best audio in an MP4/AAC container, extracted to `.m4a` without re-encoding
    /// (`-f bestaudio[ext=m4a]/bestaudio[acodec^=mp4a] -x --audio-format m4a`; needs ffmpeg).
    AudioM4a,
    /// The best Opus audio, extracted to `.opus` without re-encoding
    /// (`-f bestaudio[acodec=opus] -x --audio-format opus`; needs ffmpeg).
    AudioOpus,
    /// The best video with audio up to this height in pixels (e.g. 1080), or the best of all
    /// when `None` (`-f bv*[height<=?H]+ba/b[height<=?H]`; merging needs ffmpeg).
    Video {
        /// Largest height in pixels; `None` for no limit.
        max_height: Option<u32>,
    },
}

impl Default for MediaChoice {
    /// Video up to 1080p, what Pinchflat and ytdl-sub default to.
    fn default() -> Self {
        MediaChoice::Video { max_height: Some(1080) }
    }
}

impl MediaChoice {
    /// yt-dlp's arguments for this choice (`-f` and, for extraction, `-x --audio-format`
    /// with `--postprocessor-args "ExtractAudio:-c:a copy"`); the selectors are yt-dlp's
    /// format selection syntax (<https://github.com/yt-dlp/yt-dlp#format-selection>).
    ///
    /// The copy makes "without re-encoding" hold whatever the stream: yt-dlp's
    /// `FFmpegExtractAudio` keeps a stream already in the target codec as is (or copies it
    /// into the target container), but one it does not recognise as such (e.g. ALAC in a
    /// `.m4a`, which `bestaudio[ext=m4a]` picks when the site names no codec) it would
    /// re-encode with `-acodec aac`; our `-c:a copy`, placed after its options, wins.
    pub fn ytdlp_args(self) -> Vec<String> {
        let (format, extract) = match self {
            MediaChoice::BestAudio => ("bestaudio/best".to_string(), None),
            MediaChoice::AudioM4a => ("bestaudio[ext=m4a]/bestaudio[acodec^=mp4a]".to_string(), Some("m4a")),
            MediaChoice::AudioOpus => ("bestaudio[acodec=opus]".to_string(), Some("opus")),
            MediaChoice::Video { max_height: Some(h) } => {
                (format!("bv*[height<=?{h}]+ba/b[height<=?{h}]"), None)
            }
            MediaChoice::Video { max_height: None } => ("bv*+ba/b".to_string(), None),
        };
        let mut args = vec!["-f".to_string(), format];
        if let Some(codec) = extract {
            args.extend(
                ["-x", "--audio-format", codec, "--postprocessor-args", "ExtractAudio:-c:a copy"]
                    .map(String::from),
            );
        }
        args
    }

    /// Parses `audio`, `m4a`, `opus`, `video` (no limit) or `<height>p` / `video:<height>`
    /// (e.g. `1080p`), as the command line takes it. Errors: anything else, in words.
    pub fn parse(s: &str) -> Result<MediaChoice, String> {
        let s = s.trim().to_ascii_lowercase();
        let height = s.strip_suffix('p').or_else(|| s.strip_prefix("video:"));
        match s.as_str() {
            "audio" | "bestaudio" => Ok(MediaChoice::BestAudio),
            "m4a" => Ok(MediaChoice::AudioM4a),
            "opus" => Ok(MediaChoice::AudioOpus),
            "video" | "best" => Ok(MediaChoice::Video { max_height: None }),
            _ => match height.and_then(|h| h.parse::<u32>().ok()).filter(|h| *h > 0) {
                Some(h) => Ok(MediaChoice::Video { max_height: Some(h) }),
                None => Err(format!(
                    "unknown format {s:?}: use audio, m4a, opus, video or a height such as 1080p"
                )),
            },
        }
    }
}

/// Extractors whose ids are only unique within one page (module docs).
pub fn is_page_local(extractor: &str) -> bool {
    matches!(extractor, "generic" | "html5mediaembed")
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|n| n.is_finite())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// yt-dlp's `YYYYMMDD` date as Unix seconds at midnight UTC; `None` when malformed.
pub fn parse_upload_date(s: &str) -> Option<i64> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, d) = (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..].parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// `url` without yt-dlp's smuggled data, and the smuggled `force_videoid` when there is one.
pub fn unsmuggle(url: &str) -> (String, Option<String>) {
    let Some((base, data)) = url.split_once("#__youtubedl_smuggle=") else { return (url.to_string(), None) };
    let decoded: String = url::form_urlencoded::parse(format!("d={data}").as_bytes())
        .find(|(k, _)| k == "d")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let id = serde_json::from_str::<Value>(&decoded).ok().and_then(|v| text(&v, "force_videoid"));
    (base.to_string(), id)
}

fn thumbnail(v: &Value) -> Option<String> {
    text(v, "thumbnail")
        .or_else(|| v.get("thumbnails")?.as_array()?.iter().rev().find_map(|t| text(t, "url")))
}

/// Reads one entry (a `-J` document's `entries[i]` or one `-j` line); `fallback_extractor` is
/// the playlist's. `Err` says why the entry is skipped (a nested playlist, no id or URL).
pub fn parse_entry(v: &Value, fallback_extractor: Option<&str>) -> Result<YtDlpEntry, String> {
    let title = text(v, "title");
    let what = || title.clone().map(|t| format!("\"{t}\"")).unwrap_or_else(|| "an entry".into());
    if v.get("_type").and_then(Value::as_str) == Some("playlist") {
        return Err(format!("{} is a playlist itself; add its URL on its own", what()));
    }
    let ie_key = text(v, "ie_key");
    if ie_key.as_deref().is_some_and(|k| k.ends_with("Tab") || k.ends_with("Playlist")) {
        return Err(format!("{} is a playlist or channel tab itself; add its URL on its own", what()));
    }
    let extractor = ie_key
        .or_else(|| text(v, "extractor_key"))
        .or_else(|| fallback_extractor.map(str::to_string))
        .unwrap_or_else(|| "generic".into())
        .to_lowercase();
    let single_format =
        v.get("formats").and_then(Value::as_array).filter(|f| f.len() == 1).and_then(|f| text(&f[0], "url"));
    let page = text(v, "webpage_url").filter(|w| Some(w) != text(v, "playlist_webpage_url").as_ref());
    let Some(raw_url) = text(v, "url").or(page).or(single_format) else {
        return Err(format!("{} has no URL", what()));
    };
    let (url, smuggled_id) = unsmuggle(&raw_url);
    let id = if is_page_local(&extractor) {
        url.clone()
    } else {
        match text(v, "id").or(smuggled_id) {
            Some(id) => id,
            None => return Err(format!("{} has no id", what())),
        }
    };
    let published =
        number(v, "timestamp").or_else(|| number(v, "release_timestamp")).map(|t| t.floor() as i64).or_else(
            || text(v, "upload_date").or_else(|| text(v, "release_date")).and_then(|d| parse_upload_date(&d)),
        );
    Ok(YtDlpEntry {
        extractor,
        id,
        title,
        description: text(v, "description"),
        published,
        duration_secs: number(v, "duration").filter(|d| *d >= 0.0).map(|d| d.round() as u64),
        thumbnail: thumbnail(v),
        url,
        uploader: text(v, "uploader").or_else(|| text(v, "channel")),
        index: v.get("playlist_index").and_then(Value::as_u64),
    })
}

/// Reads a `--flat-playlist -J` document (module docs). A single video is a listing with
/// `is_playlist: false` and itself as its one entry. Errors: not a JSON object (yt-dlp prints
/// `null` when it failed).
pub fn parse_listing(v: &Value) -> Result<YtDlpListing, String> {
    if !v.is_object() {
        return Err("yt-dlp printed no playlist (null)".into());
    }
    let extractor = text(v, "extractor_key").or_else(|| text(v, "extractor")).map(|e| e.to_lowercase());
    let is_playlist = matches!(v.get("_type").and_then(Value::as_str), Some("playlist" | "multi_video"));
    let mut listing = YtDlpListing {
        is_playlist,
        id: text(v, "id"),
        title: text(v, "title").or_else(|| text(v, "playlist_title")),
        extractor: extractor.clone(),
        uploader: text(v, "uploader").or_else(|| text(v, "channel")),
        description: text(v, "description"),
        thumbnail: thumbnail(v),
        webpage_url: text(v, "webpage_url"),
        count: v.get("playlist_count").and_then(Value::as_u64),
        ..Default::default()
    };
    let entries: Vec<&Value> = if is_playlist {
        v.get("entries").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
    } else {
        vec![v]
    };
    for (i, e) in entries.into_iter().enumerate() {
        match parse_entry(e, extractor.as_deref()) {
            Ok(mut entry) => {
                entry.index = entry.index.or(Some(i as u64 + 1));
                listing.entries.push(entry);
            }
            Err(why) => listing.skipped.push(why),
        }
    }
    Ok(listing)
}

/// The playlist fields a `-j` line carries beside its entry (`playlist_title`,
/// `playlist_uploader`, `playlist_webpage_url`, `playlist_count`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePlaylist {
    /// `playlist_title` (else `playlist`).
    pub title: Option<String>,
    /// `playlist_uploader` (else `playlist_channel`).
    pub uploader: Option<String>,
    /// `playlist_count`: entries in all, when known.
    pub count: Option<u64>,
}

/// Reads one `--flat-playlist -j` line: the entry and its playlist's fields. Errors: not JSON,
/// or the entry is skipped (see [`parse_entry`]).
pub fn parse_line(line: &str) -> Result<(YtDlpEntry, LinePlaylist), String> {
    let v: Value = serde_json::from_str(line.trim())
        .map_err(|e| format!("yt-dlp printed a line that is not JSON: {e}"))?;
    let playlist = LinePlaylist {
        title: text(&v, "playlist_title").or_else(|| text(&v, "playlist")),
        uploader: text(&v, "playlist_uploader").or_else(|| text(&v, "playlist_channel")),
        count: v.get("playlist_count").and_then(Value::as_u64),
    };
    Ok((parse_entry(&v, None)?, playlist))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn media_choices() {
        assert_eq!(MediaChoice::parse("1080p"), Ok(MediaChoice::Video { max_height: Some(1080) }));
        assert_eq!(MediaChoice::parse("Opus"), Ok(MediaChoice::AudioOpus));
        assert!(MediaChoice::parse("8k!").is_err());
        assert_eq!(MediaChoice::BestAudio.ytdlp_args(), ["-f", "bestaudio/best"]);
        assert_eq!(
            MediaChoice::AudioM4a.ytdlp_args(),
            [
                "-f",
                "bestaudio[ext=m4a]/bestaudio[acodec^=mp4a]",
                "-x",
                "--audio-format",
                "m4a",
                "--postprocessor-args",
                "ExtractAudio:-c:a copy"
            ]
        );
        assert_eq!(MediaChoice::default().ytdlp_args(), ["-f", "bv*[height<=?1080]+ba/b[height<=?1080]"]);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_upload_date("19700101"), Some(0));
        assert_eq!(parse_upload_date("20240102"), Some(1_704_153_600));
        assert_eq!(parse_upload_date("20241301"), None);
        assert_eq!(parse_upload_date("2024-01-02"), None);
    }

    #[test]
    fn smuggled_guid_and_generic_identity() {
        let line = json!({"_type": "url_transparent",
            "url": "http://h/ep2.mp3#__youtubedl_smuggle=%7B%22force_videoid%22%3A+%22g2%22%7D",
            "title": "Ep 2", "timestamp": 1704189600, "extractor_key": "Generic", "playlist_index": 2,
            "playlist_title": "My Show", "playlist_count": 3});
        assert_eq!(unsmuggle(line["url"].as_str().unwrap()), ("http://h/ep2.mp3".into(), Some("g2".into())));
        let (e, pl) = parse_line(&line.to_string()).unwrap();
        assert_eq!(
            (e.extractor.as_str(), e.id.as_str(), e.url.as_str()),
            ("generic", "http://h/ep2.mp3", "http://h/ep2.mp3")
        );
        assert_eq!(e.key(), "ytdlp:generic:http://h/ep2.mp3");
        assert_eq!((e.published, e.index), (Some(1704189600), Some(2)));
        assert_eq!((pl.title.as_deref(), pl.count), (Some("My Show"), Some(3)));
    }

    #[test]
    fn nested_playlists_and_null_are_refused() {
        assert!(parse_entry(
            &json!({"_type": "url", "ie_key": "YoutubeTab", "url": "https://y/videos"}),
            None
        )
        .is_err());
        assert!(parse_entry(&json!({"_type": "playlist", "title": "x"}), None).is_err());
        assert!(parse_listing(&Value::Null).is_err());
        let single = parse_listing(&json!({"id": "a", "title": "One", "extractor_key": "Youtube",
            "webpage_url": "https://www.youtube.com/watch?v=a"}))
        .unwrap();
        assert!(!single.is_playlist);
        assert_eq!(single.entries[0].key(), "ytdlp:youtube:a");
    }
}
