//! Library file naming: turns a template such as `{playlist}/{date} {title}.{ext}` and the
//! facts of one item into a relative path that is safe on Linux, macOS and Windows.
//!
//! The template is split on `/` first; each piece becomes exactly one path component. Each
//! placeholder value is sanitized as a single component before it is substituted, so a value
//! (a hostile title such as `../../etc/passwd`) can never introduce a separator or a `..`
//! component. The rendered component is then sanitized once more as a whole: forbidden
//! characters (`/ \ : * ? " < > |` and control characters) become `_`, whitespace runs become
//! one space, leading dots (hidden files, `.`/`..`) and trailing dots and spaces (dropped by
//! Windows) are trimmed, Windows reserved device names (`CON`, `PRN`, `AUX`, `NUL`,
//! `COM0-9`, `LPT0-9`, also with any extension, case-insensitive; see Microsoft's "Naming
//! Files, Paths, and Namespaces") get a `_` prefix, and the component is cut to
//! [`MAX_COMPONENT_BYTES`] bytes of UTF-8 on a char boundary, keeping a short extension.
//! [`safe_join`] is the last guard: it joins a relative path under a library root and refuses
//! anything that could escape it. [`unique_path`] appends ` (2)`, ` (3)`... on collisions.

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

pub use super::media_ext::{extension_for, split_ext};

pub use crate::config::DEFAULT_TEMPLATE;

/// Longest path component produced, in bytes of UTF-8 (ext4, APFS and NTFS allow 255; the
/// margin leaves room for ` (n)` suffixes and the `.part` of an unfinished download).
pub const MAX_COMPONENT_BYTES: usize = 200;

/// Most ` (n)` suffixes [`unique_path`] tries before giving up.
const MAX_UNIQUE_TRIES: u32 = 10_000;

/// Errors of naming. All are expected (a bad template or a path that would leave the root);
/// none is transient.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NamingError {
    /// The template is empty, absolute, has an empty, `.` or `..` component, or an unclosed `{`.
    #[error("invalid naming template {template:?}: {reason}")]
    InvalidTemplate {
        /// The template as given.
        template: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The template names a placeholder that does not exist.
    #[error("unknown placeholder {{{0}}} in naming template")]
    UnknownPlaceholder(String),
    /// A relative path is empty, absolute, or has a `..`, prefix or non-portable component,
    /// so joining it would escape (or not name anything under) the library root.
    #[error("path {0:?} would escape the library root")]
    Escapes(PathBuf),
    /// [`unique_path`] found every candidate taken.
    #[error("no free file name for {0:?}")]
    NoFreeName(PathBuf),
}

/// The facts about one item that a template can use. Missing values have fallbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameVars {
    /// `{playlist}`: the playlist title (empty -> `untitled`).
    pub playlist: String,
    /// `{title}`: the item title (empty -> `untitled`).
    pub title: String,
    /// `{date}`: publication time as Unix seconds (UTC), rendered `YYYY-MM-DD`; `None` or a
    /// year outside 1..=9999 renders `undated`.
    pub published: Option<i64>,
    /// Input of `{guid_hash}`: the item key (guid, else enclosure URL, else title + date hash).
    pub item_key: String,
    /// The enclosure URL; `{ext}` comes from its path when it has a media-like extension.
    pub enclosure_url: Option<String>,
    /// The enclosure MIME type (`audio/mpeg`...); `{ext}` falls back to it, then to `bin`.
    pub mime_type: Option<String>,
}

/// Renders `template` with `vars` into a relative path of sanitized components.
///
/// Placeholders: `{playlist}` playlist title, `{title}` item title, `{date}` `YYYY-MM-DD` of
/// publication (UTC) or `undated`, `{guid_hash}` first 8 hex chars of sha256(item key),
/// `{ext}` from [`extension_for`]. `/` in the template separates directories; a value never
/// does. Errors: [`NamingError::InvalidTemplate`], [`NamingError::UnknownPlaceholder`].
pub fn render_relative_path(template: &str, vars: &NameVars) -> Result<PathBuf, NamingError> {
    let invalid = |reason| NamingError::InvalidTemplate { template: template.to_owned(), reason };
    if template.trim().is_empty() {
        return Err(invalid("empty"));
    }
    if template.starts_with('/') || template.starts_with('\\') {
        return Err(invalid("absolute"));
    }
    let pieces: Vec<&str> = template.split('/').collect();
    let mut out = PathBuf::new();
    for piece in pieces {
        match piece.trim() {
            "" => return Err(invalid("empty component")),
            "." | ".." => return Err(invalid("`.` or `..` component")),
            _ => {}
        }
        let rendered = render_piece(piece, vars).map_err(|e| match e {
            PieceError::Unclosed => invalid("unclosed `{`"),
            PieceError::Unknown(name) => NamingError::UnknownPlaceholder(name),
        })?;
        out.push(sanitize_component(&rendered));
    }
    Ok(out)
}

enum PieceError {
    Unclosed,
    Unknown(String),
}

fn render_piece(piece: &str, vars: &NameVars) -> Result<String, PieceError> {
    let mut out = String::new();
    let mut rest = piece;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(PieceError::Unclosed)?;
        out.push_str(&placeholder_value(&after[..close], vars)?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder_value(name: &str, vars: &NameVars) -> Result<String, PieceError> {
    let raw = match name {
        "playlist" => vars.playlist.clone(),
        "title" => vars.title.clone(),
        "date" => vars.published.and_then(format_date).unwrap_or_else(|| "undated".to_owned()),
        "guid_hash" => guid_hash(&vars.item_key),
        "ext" => extension_for(vars.enclosure_url.as_deref(), vars.mime_type.as_deref()),
        other => return Err(PieceError::Unknown(other.to_owned())),
    };
    Ok(sanitize_component(&raw))
}

/// First 8 lowercase hex chars of sha256(`key`): a short stable tag for an item.
pub fn guid_hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..4])
}

/// The UTC civil date (year, month 1-12, day 1-31) of Unix seconds; `None` for years outside
/// 1..=9999. Days-to-civil conversion after Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
pub fn civil_date(unix_secs: i64) -> Option<(u16, u8, u8)> {
    let z = unix_secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = u16::try_from(year).ok().filter(|y| (1..=9999).contains(y))?;
    Some((year, month as u8, day as u8))
}

/// `YYYY-MM-DD` (UTC) of Unix seconds; `None` for years outside 1..=9999 ([`civil_date`]).
pub fn format_date(unix_secs: i64) -> Option<String> {
    civil_date(unix_secs).map(|(year, month, day)| format!("{year:04}-{month:02}-{day:02}"))
}

/// Sanitizes `raw` into one path component that is safe on Linux, macOS and Windows (rules in
/// the module docs). Never empty (`untitled`), never `.`/`..`, never reserved, at most
/// [`MAX_COMPONENT_BYTES`] bytes, and free of `/` and `\`.
pub fn sanitize_component(raw: &str) -> String {
    let replaced: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_whitespace() => ' ',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let mut name = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    name = trim_edges(&name).to_owned();
    if name.is_empty() {
        return "untitled".to_owned();
    }
    if is_reserved(&name) {
        name.insert(0, '_');
    }
    let name = truncate_keeping_ext(&name, MAX_COMPONENT_BYTES);
    let name = trim_edges(&name).to_owned();
    if name.is_empty() {
        "untitled".to_owned()
    } else {
        name
    }
}

/// Trims leading dots and spaces (hidden files, `.`/`..`) and trailing dots and spaces
/// (Windows drops them).
fn trim_edges(s: &str) -> &str {
    s.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' '])
}

/// Windows reserved device names; the part before the first dot counts (`con.txt`, `CON.tar.gz`).
fn is_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end().to_ascii_uppercase();
    match stem.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        s if s.len() == 4 && (s.starts_with("COM") || s.starts_with("LPT")) => {
            s.as_bytes()[3].is_ascii_digit()
        }
        // COM¹ COM² COM³ LPT¹ LPT² LPT³ (superscript digits count as well).
        s => ["COM", "LPT"].iter().any(|p| s.strip_prefix(p).is_some_and(|d| matches!(d, "¹" | "²" | "³"))),
    }
}

/// Cuts `name` to at most `max` bytes on a char boundary, keeping a short extension.
fn truncate_keeping_ext(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = split_ext(name);
    let budget = max.saturating_sub(ext.len());
    format!("{}{}", truncate_bytes(stem, budget).trim_end_matches(['.', ' ']), ext)
}

fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Joins `rel` under `root`, refusing anything that could escape it: an empty path, absolute
/// paths, prefixes (`C:`), `..`, and components holding `\` or `:` (which name other places
/// on Windows). `.` components are skipped. Error: [`NamingError::Escapes`].
pub fn safe_join(root: &Path, rel: &Path) -> Result<PathBuf, NamingError> {
    let escapes = || NamingError::Escapes(rel.to_path_buf());
    let mut out = root.to_path_buf();
    let mut pushed = false;
    for comp in rel.components() {
        match comp {
            Component::Normal(c) => {
                let s = c.to_str().ok_or_else(escapes)?;
                if s.contains(['\\', ':', '/']) {
                    return Err(escapes());
                }
                out.push(c);
                pushed = true;
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    if pushed {
        Ok(out)
    } else {
        Err(escapes())
    }
}

/// [`safe_join`]s `rel` under `root` and, while `taken(candidate)` says the full path is in
/// use, tries ` (2)`, ` (3)`... inserted before the extension of the last component (cutting
/// the stem so it stays within [`MAX_COMPONENT_BYTES`]). Returns the full path.
/// Errors: [`NamingError::Escapes`], [`NamingError::NoFreeName`] after 10 000 tries.
pub fn unique_path(root: &Path, rel: &Path, taken: impl Fn(&Path) -> bool) -> Result<PathBuf, NamingError> {
    let first = safe_join(root, rel)?;
    if !taken(&first) {
        return Ok(first);
    }
    for n in 2..=MAX_UNIQUE_TRIES {
        let candidate = numbered(&first, n);
        if !taken(&candidate) {
            return Ok(candidate);
        }
    }
    Err(NamingError::NoFreeName(first))
}

/// The `n`th name [`unique_path`] tries for `first` (n >= 2): ` (n)` inserted before the
/// extension of the last component, the stem cut so it stays within [`MAX_COMPONENT_BYTES`].
pub fn numbered(first: &Path, n: u32) -> PathBuf {
    let name = first.file_name().and_then(|n| n.to_str()).unwrap_or("untitled");
    let (stem, ext) = split_ext(name);
    let suffix = format!(" ({n})");
    let budget = MAX_COMPONENT_BYTES.saturating_sub(suffix.len() + ext.len());
    first.with_file_name(format!("{}{suffix}{ext}", truncate_bytes(stem, budget)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(title: &str) -> NameVars {
        NameVars {
            playlist: "My Show".into(),
            title: title.into(),
            published: Some(1_704_067_200), // 2024-01-01T00:00:00Z
            item_key: "guid-1".into(),
            enclosure_url: Some("https://cdn.example/ep/1.mp3?x=1".into()),
            mime_type: Some("audio/mpeg".into()),
        }
    }

    fn assert_safe(rel: &Path) {
        let root = Path::new("/library/root");
        let joined = safe_join(root, rel).expect("inside root");
        assert!(joined.starts_with(root), "{joined:?}");
        for comp in rel.components() {
            let Component::Normal(c) = comp else { panic!("non-normal component in {rel:?}") };
            let s = c.to_str().expect("utf-8");
            assert!(!s.is_empty() && s != "." && s != "..", "{s:?}");
            assert!(!s.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']), "{s:?}");
            assert!(!s.chars().any(char::is_control), "{s:?}");
            assert!(s.len() <= MAX_COMPONENT_BYTES, "{} bytes: {s:?}", s.len());
            assert!(!is_reserved(s), "{s:?}");
            assert!(!s.ends_with(['.', ' ']) && !s.starts_with(['.', ' ']), "{s:?}");
        }
    }

    #[test]
    fn hostile_titles_stay_inside_the_root() {
        let long = "x".repeat(300);
        let long_emoji = "🎧".repeat(120);
        let hostile = [
            "../../etc/passwd",
            "CON",
            "con.mp3",
            "LPT1",
            "lpt9.txt",
            "aux",
            "Nul.tar.gz",
            long.as_str(),
            long_emoji.as_str(),
            "🎙️ Episode 1 🚀",
            "a/b\\c:d",
            "..",
            ".",
            "",
            "   ",
            "\t\n",
            "trailing dots...",
            "trailing space ",
            "C:\\Windows\\system32",
            "/absolute",
            "x\u{0}y\u{7f}z",
            "what? *really* <yes> |no| \"q\"",
        ];
        for title in hostile {
            for template in [DEFAULT_TEMPLATE, "{title}", "{playlist}/{title}/{guid_hash}.{ext}"] {
                let mut v = vars(title);
                v.playlist = title.into();
                let rel = render_relative_path(template, &v).unwrap();
                assert_safe(&rel);
                let expected_depth = template.split('/').count();
                assert_eq!(rel.components().count(), expected_depth, "{title:?} -> {rel:?}");
            }
        }
    }

    #[test]
    fn renders_default_template() {
        let rel = render_relative_path(DEFAULT_TEMPLATE, &vars("Hello: World")).unwrap();
        assert_eq!(rel, PathBuf::from("My Show/2024-01-01 Hello_ World.mp3"));
        let mut v = vars("");
        v.published = None;
        v.playlist = "  ".into();
        let rel = render_relative_path(DEFAULT_TEMPLATE, &v).unwrap();
        assert_eq!(rel, PathBuf::from("untitled/undated untitled.mp3"));
    }

    #[test]
    fn reserved_names_get_a_prefix() {
        for (raw, want) in [
            ("CON", "_CON"),
            ("con.mp3", "_con.mp3"),
            ("LPT1", "_LPT1"),
            ("com3.txt", "_com3.txt"),
            ("console", "console"),
            ("COM10", "COM10"),
        ] {
            assert_eq!(sanitize_component(raw), want);
        }
        let rel = render_relative_path("{title}.{ext}", &vars("con")).unwrap();
        assert_eq!(rel, PathBuf::from("_con.mp3"));
    }

    #[test]
    fn long_names_keep_their_extension_and_char_boundaries() {
        let rel = render_relative_path("{title}.{ext}", &vars(&"é".repeat(300))).unwrap();
        let name = rel.to_str().unwrap();
        assert!(name.len() <= MAX_COMPONENT_BYTES && name.ends_with(".mp3"), "{name}");
        let rel = render_relative_path("{title}.{ext}", &vars(&"🎧".repeat(100))).unwrap();
        assert!(rel.to_str().unwrap().ends_with("🎧.mp3"));
    }

    #[test]
    fn whitespace_is_normalized_and_dots_trimmed() {
        assert_eq!(sanitize_component("  a \t b\n\nc  "), "a b c");
        assert_eq!(sanitize_component("end..."), "end");
        assert_eq!(sanitize_component("...start"), "start");
        assert_eq!(sanitize_component(".."), "untitled");
        assert_eq!(sanitize_component(" . "), "untitled");
    }

    #[test]
    fn dates_and_guid_hash() {
        assert_eq!(format_date(0).as_deref(), Some("1970-01-01"));
        assert_eq!(format_date(951_782_400).as_deref(), Some("2000-02-29"));
        assert_eq!(format_date(-86_400).as_deref(), Some("1969-12-31"));
        assert_eq!(format_date(i64::MAX / 2), None);
        // sha256("abc") = ba7816bf...
        assert_eq!(guid_hash("abc"), "ba7816bf");
    }

    #[test]
    fn bad_templates_are_refused() {
        let v = vars("t");
        for t in ["", "/abs/{title}", "a//b", "../{title}", "{title", "./x"] {
            assert!(matches!(render_relative_path(t, &v), Err(NamingError::InvalidTemplate { .. })), "{t}");
        }
        assert_eq!(render_relative_path("{nope}", &v), Err(NamingError::UnknownPlaceholder("nope".into())));
    }

    #[test]
    fn safe_join_refuses_escapes() {
        let root = Path::new("/lib");
        for bad in ["../x", "a/../../x", "/etc/passwd", "", ".", "a\\..\\b", "C:x"] {
            assert!(safe_join(root, Path::new(bad)).is_err(), "{bad}");
        }
        assert_eq!(safe_join(root, Path::new("./a/b.mp3")).unwrap(), PathBuf::from("/lib/a/b.mp3"));
    }

    #[test]
    fn unique_path_appends_counters_before_the_extension() {
        let root = Path::new("/lib");
        let taken = [PathBuf::from("/lib/show/ep.mp3"), PathBuf::from("/lib/show/ep (2).mp3")];
        let got = unique_path(root, Path::new("show/ep.mp3"), |p| taken.iter().any(|t| t == p)).unwrap();
        assert_eq!(got, PathBuf::from("/lib/show/ep (3).mp3"));
        let long = format!("{}.mp3", "a".repeat(196));
        let got = unique_path(root, Path::new(&long), |p| p.ends_with(&long)).unwrap();
        let name = got.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= MAX_COMPONENT_BYTES && name.ends_with(" (2).mp3"), "{name}");
        assert!(matches!(unique_path(root, Path::new("x"), |_| true), Err(NamingError::NoFreeName(_))));
        // the adoption check walks the same names
        assert_eq!(numbered(Path::new("/lib/show/ep.mp3"), 3), PathBuf::from("/lib/show/ep (3).mp3"));
        assert_eq!(numbered(Path::new("/lib/README"), 2), PathBuf::from("/lib/README (2)"));
    }
}
