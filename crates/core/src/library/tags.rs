//! Tags and cover art written into downloaded files with `lofty` (no ffmpeg), issue 16 part 1:
//! ID3v2.4 in MP3, the `ilst` atom in MP4/M4A, Vorbis comments in Ogg Vorbis and Opus. What a
//! tag says ([`TagInfo`]): title; album = the playlist's title; artist = the episode's
//! `itunes:author`, else the channel's, else the channel's title; date; track =
//! `itunes:episode`; disc = `itunes:season`; comment = the description as plain text; genre
//! `Podcast`; and the cover (the episode's image, else the channel's, from the art cache, which
//! fetched it once and checked its size and type). Only JPEG and PNG covers are embedded: the
//! two every tag format and player takes (MP4's `covr` has no GIF or WebP type).
//!
//! The format comes from the file's bytes (`lofty::probe::Probe::guess_file_type`), never from
//! its name. Each format is edited through its own tag type, so frames the generic tag has no
//! place for (ID3v2 chapters, a publisher's own frames) are kept.
//!
//! Crash safety: [`tag_file`] copies the file to `<name>.tagging` beside it, tags the copy,
//! fsyncs it and renames it over the original, so a crash leaves either the old file or the
//! tagged one, never half a tag. A file lofty cannot read is [`TagError::Unparsable`]: the
//! caller keeps it untagged.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use lofty::config::{ParseOptions, WriteOptions};
use lofty::file::{AudioFile, FileType};
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::items::Timestamp;
use lofty::tag::Accessor;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The genre every tag carries.
pub const GENRE: &str = "Podcast";

/// Bumped when what a tag says for the same metadata changes, so files are tagged again.
const TAG_RULES: u32 = 1;

/// What the tags of one file say (module docs). `None` fields are left as the file has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TagInfo {
    /// Episode title.
    pub title: Option<String>,
    /// The playlist's title.
    pub album: Option<String>,
    /// `itunes:author` of the episode, else of the channel, else the channel's title.
    pub artist: Option<String>,
    /// Publication time, Unix seconds (written as the UTC date).
    pub date_secs: Option<i64>,
    /// `itunes:episode`.
    pub track: Option<u32>,
    /// `itunes:season`.
    pub disc: Option<u32>,
    /// The description as plain text.
    pub comment: Option<String>,
    /// The cover's URL: the episode's image, else the channel's.
    pub cover_url: Option<String>,
}

impl TagInfo {
    /// SHA-256 (hex) of everything the tags would say: equal fingerprints mean a file tagged
    /// before needs no new tags.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(&(TAG_RULES, self)).expect("tag info serializes");
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// A cover to embed: the image bytes and their MIME type (`image/jpeg`, `image/png`).
#[derive(Debug, Clone, Copy)]
pub struct Cover<'a> {
    /// The image file's bytes.
    pub bytes: &'a [u8],
    /// Its MIME type.
    pub mime: &'a str,
}

/// The tagged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// Why a file was not tagged.
#[derive(Debug, thiserror::Error)]
pub enum TagError {
    /// lofty cannot read the file as MP3, MP4/M4A, Ogg Vorbis or Opus (expected: the file stays
    /// untagged).
    #[error("cannot tag: {0}")]
    Unparsable(String),
    /// Reading, copying or renaming failed (transient).
    #[error("tagging {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TagError + '_ {
    move |source| TagError::Io { path: path.to_path_buf(), source }
}

/// Writes `info` (and `cover`) into the file at `path` (module docs: format by content,
/// crash-safe copy and rename). Returns the tagged file's size and SHA-256.
/// Errors: [`TagError::Unparsable`] (the file is unchanged), [`TagError::Io`].
pub fn tag_file(path: &Path, info: &TagInfo, cover: Option<Cover<'_>>) -> Result<Tagged, TagError> {
    // the format by content, before any copy: most files that cannot be tagged cost a probe
    let file_type = Some(taggable(path)?);
    let tmp = super::leftovers::tagging_temp(path);
    // a copy left by a crash is replaced: `fs::copy` truncates what is there
    std::fs::copy(path, &tmp).map_err(io(&tmp))?;
    let written = write_tags(&tmp, file_type, info, cover).and_then(|()| {
        let file = File::open(&tmp).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))?;
        if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
            let _ = dir.sync_all();
        }
        hash_file(path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The format of the file at `path` by its bytes, when it is one that is tagged (MP3, MP4/M4A,
/// Ogg Vorbis, Opus) and lofty parses it. Reads, never writes. Errors: [`TagError::Unparsable`]
/// for any other file, [`TagError::Io`].
pub fn taggable(path: &Path) -> Result<FileType, TagError> {
    probe(std::io::BufReader::new(File::open(path).map_err(io(path))?), path)
}

/// [`taggable`] for a whole file's bytes held in memory (a small download), without the disk.
/// Errors: [`TagError::Unparsable`].
pub fn taggable_bytes(bytes: &[u8]) -> Result<FileType, TagError> {
    probe(std::io::Cursor::new(bytes), Path::new(""))
}

/// The format of the file `reader` reads from its start (see [`taggable`]); `path` names it
/// in errors.
fn probe<R: std::io::Read + Seek>(reader: R, path: &Path) -> Result<FileType, TagError> {
    // `Probe::new`, not `Probe::open`: the latter starts from the name's extension and keeps
    // it when the bytes say nothing, and a file's name is no evidence of its format
    // MPEG frames must start the file or follow its ID3v2 tag (at most 2 bytes searched): a
    // frame sync somewhere in the first kilobyte (lofty's default) is found in most random bytes
    let probe = lofty::probe::Probe::new(reader).options(ParseOptions::new().max_junk_bytes(2));
    let probe = probe.guess_file_type().map_err(io(path))?;
    let file_type = probe.file_type();
    let mut reader = probe.into_inner();
    match file_type {
        Some(t @ (FileType::Mpeg | FileType::Mp4 | FileType::Vorbis | FileType::Opus)) => {
            // read once, without writing: a file lofty cannot parse is never copied
            reader.rewind().map_err(io(path))?;
            let (r, options) = (&mut reader, ParseOptions::new());
            match t {
                FileType::Mpeg => lofty::mpeg::MpegFile::read_from(r, options).map(drop),
                FileType::Mp4 => lofty::mp4::Mp4File::read_from(r, options).map(drop),
                FileType::Vorbis => lofty::ogg::VorbisFile::read_from(r, options).map(drop),
                _ => lofty::ogg::OpusFile::read_from(r, options).map(drop),
            }
            .map_err(unparsable)?;
            Ok(t)
        }
        Some(t) => Err(TagError::Unparsable(format!(
            "{t:?} files are not tagged (MP3, MP4/M4A, Ogg Vorbis and Opus are)"
        ))),
        None => Err(TagError::Unparsable("not an audio format lofty recognizes".into())),
    }
}

/// Size and SHA-256 of the file at `path`. Errors: [`TagError::Io`].
pub fn hash_file(path: &Path) -> Result<Tagged, TagError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut HashWriter(&mut hasher)).map_err(io(path))?;
    Ok(Tagged { size, sha256: hex::encode(hasher.finalize()) })
}

struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn unparsable(e: impl std::fmt::Display) -> TagError {
    TagError::Unparsable(e.to_string())
}

/// Tags the file at `path` (of type `file_type`) in place through its format's own tag type.
fn write_tags(
    path: &Path,
    file_type: Option<FileType>,
    info: &TagInfo,
    cover: Option<Cover<'_>>,
) -> Result<(), TagError> {
    let picture = cover.and_then(picture);
    let mut f = File::options().read(true).write(true).open(path).map_err(io(path))?;
    let options = ParseOptions::new();
    match file_type {
        Some(FileType::Mpeg) => {
            let mut file = lofty::mpeg::MpegFile::read_from(&mut f, options).map_err(unparsable)?;
            let mut tag = file.id3v2().cloned().unwrap_or_default();
            fill(&mut tag, info);
            if let Some(p) = picture {
                tag.remove_picture_type(PictureType::CoverFront);
                tag.insert_picture(p);
            }
            file.set_id3v2(tag);
            save(&file, &mut f, path)
        }
        Some(FileType::Mp4) => {
            let mut file = lofty::mp4::Mp4File::read_from(&mut f, options).map_err(unparsable)?;
            let mut tag = file.ilst().cloned().unwrap_or_default();
            fill(&mut tag, info);
            if let Some(p) = picture {
                tag.remove_pictures();
                tag.insert_picture(p);
            }
            file.set_ilst(tag);
            save(&file, &mut f, path)
        }
        Some(FileType::Vorbis) => {
            let mut file = lofty::ogg::VorbisFile::read_from(&mut f, options).map_err(unparsable)?;
            fill_vorbis(file.vorbis_comments_mut(), info, picture)?;
            save(&file, &mut f, path)
        }
        Some(FileType::Opus) => {
            let mut file = lofty::ogg::OpusFile::read_from(&mut f, options).map_err(unparsable)?;
            fill_vorbis(file.vorbis_comments_mut(), info, picture)?;
            save(&file, &mut f, path)
        }
        _ => Err(TagError::Unparsable("not a format that is tagged".into())),
    }
}

fn save(file: &impl AudioFile, f: &mut File, path: &Path) -> Result<(), TagError> {
    f.rewind().map_err(io(path))?;
    file.save_to(f, WriteOptions::default()).map_err(unparsable)
}

fn fill_vorbis(
    tag: &mut lofty::ogg::tag::VorbisComments,
    info: &TagInfo,
    picture: Option<Picture>,
) -> Result<(), TagError> {
    use lofty::ogg::OggPictureStorage;
    fill(tag, info);
    if let Some(p) = picture {
        tag.remove_picture_type(PictureType::CoverFront);
        tag.insert_picture(p, None).map_err(unparsable)?;
    }
    Ok(())
}

/// The cover as a front-cover picture; `None` for anything but JPEG and PNG (module docs).
fn picture(cover: Cover<'_>) -> Option<Picture> {
    let mime = match cover.mime {
        "image/jpeg" => MimeType::Jpeg,
        "image/png" => MimeType::Png,
        _ => return None,
    };
    Some(Picture::unchecked(cover.bytes.to_vec()).pic_type(PictureType::CoverFront).mime_type(mime).build())
}

fn fill<T: Accessor>(tag: &mut T, info: &TagInfo) {
    if let Some(v) = &info.title {
        tag.set_title(v.clone());
    }
    if let Some(v) = &info.album {
        tag.set_album(v.clone());
    }
    if let Some(v) = &info.artist {
        tag.set_artist(v.clone());
    }
    if let Some(ts) = info.date_secs.and_then(timestamp) {
        tag.set_date(ts);
    }
    if let Some(n) = info.track {
        tag.set_track(n);
    }
    if let Some(n) = info.disc {
        tag.set_disk(n);
    }
    if let Some(v) = &info.comment {
        tag.set_comment(v.clone());
    }
    tag.set_genre(GENRE.to_string());
}

/// The UTC date of Unix seconds `secs` ([`crate::download::naming::civil_date`]).
fn timestamp(secs: i64) -> Option<Timestamp> {
    let (year, month, day) = crate::download::naming::civil_date(secs)?;
    Some(Timestamp { year, month: Some(month), day: Some(day), ..Timestamp::default() })
}

/// The description as plain text for the comment: markup dropped, whitespace runs folded.
pub fn plain_text(html: &str) -> String {
    let text: String = scraper::Html::parse_fragment(html).root_element().text().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        let ts = timestamp(1_710_288_000).unwrap();
        assert_eq!((ts.year, ts.month, ts.day), (2024, Some(3), Some(13)));
        assert!(timestamp(-100_000_000_000).is_none(), "year 0 and before");
    }

    #[test]
    fn the_fingerprint_follows_every_field() {
        let a = TagInfo { title: Some("A".into()), ..Default::default() };
        let b = TagInfo { track: Some(1), ..a.clone() };
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn descriptions_lose_their_markup() {
        assert_eq!(
            plain_text("<p>Hello <b>world</b></p>\n<p>again &amp; more</p>"),
            "Hello world again & more"
        );
    }

    #[test]
    fn the_format_comes_from_the_bytes_not_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.mp3");
        // random bytes with a frame header 100 bytes in (none at the start), named .mp3: not
        // taggable, nothing copied
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut bytes: Vec<u8> = (0..400_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        bytes[0] = 0x42;
        (bytes[100], bytes[101], bytes[102], bytes[103]) = (0xFF, 0xFB, 0x90, 0x64); // a frame header
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(taggable(&path), Err(TagError::Unparsable(_))));
        assert!(tag_file(&path, &TagInfo::default(), None).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no copy made");
    }

    #[test]
    fn a_file_lofty_cannot_read_is_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.mp3");
        std::fs::write(&path, b"not audio at all, just text").unwrap();
        let err = tag_file(&path, &TagInfo::default(), None).unwrap_err();
        assert!(matches!(err, TagError::Unparsable(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not audio at all, just text");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
    }
}
