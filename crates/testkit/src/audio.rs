//! Tiny, valid, untagged audio files written by code (no ffmpeg, nothing checked in), for
//! tests that tag downloads and read the tags back: an MP3 of silent MPEG-1 Layer III frames,
//! an M4A (`ftyp`, `mdat`, `moov` with one sound track; also one with a full AAC sample
//! table that ffmpeg decodes) and an Ogg Opus stream (ID header,
//! comment header, one silent packet) in pages with their CRC. Each is a few kilobytes.
//!
//! Formats: MPEG-1 audio frame header (ISO/IEC 11172-3 §2.4.1.3); ISO base media file format
//! boxes (ISO/IEC 14496-12); Ogg pages (RFC 3533) carrying Opus (RFC 7845).

/// An MP3 of `frames` silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, joint stereo):
/// each frame is the 4-byte header `FF FB 90 64` and 413 zero bytes (side information and
/// main data all zero decode as silence), 417 bytes a frame (144 * 128000 / 44100).
pub fn tiny_mp3(frames: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(frames * 417);
    for _ in 0..frames {
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
        out.resize(out.len() + 413, 0);
    }
    out
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full_box(kind: &[u8; 4], version_flags: u32, body: &[u8]) -> Vec<u8> {
    let mut inner = version_flags.to_be_bytes().to_vec();
    inner.extend_from_slice(body);
    boxed(kind, &inner)
}

/// `ftyp` of an M4A: major brand `M4A `, compatible `M4A `, `mp42`, `isom`.
fn ftyp_m4a() -> Vec<u8> {
    let mut ftyp = b"M4A ".to_vec();
    ftyp.extend_from_slice(&0u32.to_be_bytes());
    ftyp.extend_from_slice(b"M4A mp42isom");
    boxed(b"ftyp", &ftyp)
}

/// `moov` with `mvhd` and one sound track (`tkhd`, `mdia` with `mdhd`, a `soun` handler and
/// the `minf` given, if any), `duration` in units of `timescale` (Hz).
fn sound_moov(timescale: u32, duration: u32, minf: Option<Vec<u8>>) -> Vec<u8> {
    // mvhd v0: times, timescale, duration, rate, volume, reserved, matrix, pre_defined, next id
    let mut mvhd = Vec::new();
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&timescale.to_be_bytes());
    mvhd.extend_from_slice(&duration.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes());
    mvhd.extend_from_slice(&[0; 10]);
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&v.to_be_bytes());
    }
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&2u32.to_be_bytes());
    // tkhd v0 (flags: enabled, in movie): times, track id, reserved, duration, reserved,
    // layer, group, volume, reserved, matrix, width, height
    let mut tkhd = Vec::new();
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&1u32.to_be_bytes());
    tkhd.extend_from_slice(&[0; 4]);
    tkhd.extend_from_slice(&duration.to_be_bytes());
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&[0, 0, 0, 0, 0x01, 0x00, 0, 0]);
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        tkhd.extend_from_slice(&v.to_be_bytes());
    }
    tkhd.extend_from_slice(&[0; 8]);
    // mdhd v0: times, timescale, duration, language `und`, pre_defined
    let mut mdhd = Vec::new();
    mdhd.extend_from_slice(&[0; 8]);
    mdhd.extend_from_slice(&timescale.to_be_bytes());
    mdhd.extend_from_slice(&duration.to_be_bytes());
    mdhd.extend_from_slice(&[0x55, 0xC4, 0, 0]);
    // hdlr: pre_defined, handler type, reserved, name
    let mut hdlr = vec![0; 4];
    hdlr.extend_from_slice(b"soun");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"SoundHandler\0");
    let mut mdia = [full_box(b"mdhd", 0, &mdhd), full_box(b"hdlr", 0, &hdlr)].concat();
    mdia.extend(minf.unwrap_or_default());
    let trak = boxed(b"trak", &[full_box(b"tkhd", 3, &tkhd), boxed(b"mdia", &mdia)].concat());
    boxed(b"moov", &[full_box(b"mvhd", 0, &mvhd), trak].concat())
}

/// An M4A: `ftyp` (`M4A `), `mdat` with `payload` bytes of stand-in audio, then `moov` with
/// `mvhd` and one track (`tkhd`, `mdia` with `mdhd` at 44.1 kHz, 1 s, and a `soun` handler).
/// The `moov` comes last, so a tag written into it moves no media offset. It names no codec
/// (no sample table): tag readers take it, ffmpeg does not (see [`tiny_aac_m4a`]).
pub fn tiny_m4a(payload: usize) -> Vec<u8> {
    let mdat = boxed(b"mdat", &vec![0u8; payload]);
    [ftyp_m4a(), mdat, sound_moov(44_100, 44_100, None)].concat()
}

/// One silent AAC-LC raw data block, mono, 44.1 kHz: a single channel element (global gain
/// only, every band zero) then END, as ffmpeg's AAC encoder writes digital silence.
const SILENT_AAC_FRAME: [u8; 4] = [0x01, 0x18, 0x20, 0x07];

/// An M4A that decoders and ffmpeg read as AAC-LC (mono, 44.1 kHz): `ftyp`, `mdat` with
/// `frames` silent AAC frames of 1024 samples (23.2 ms each), then `moov` with a full sample
/// table: `stsd` (an `mp4a` entry whose `esds` holds the AudioSpecificConfig `12 08`:
/// object type 2, frequency index 4, one channel; ISO/IEC 14496-3 §1.6.2.1, descriptors of
/// ISO/IEC 14496-1 §7.2.6), `stts`, `stsc` (one chunk), `stsz` (4 bytes each) and `stco`.
pub fn tiny_aac_m4a(frames: usize) -> Vec<u8> {
    let frames = frames.max(1);
    let ftyp = ftyp_m4a();
    let mdat = boxed(b"mdat", &SILENT_AAC_FRAME.repeat(frames));
    let data_offset = (ftyp.len() + 8) as u32;
    let n = frames as u32;
    // ES_Descriptor (tag 3): ES id, flags; DecoderConfigDescriptor (tag 4): AAC (0x40), audio
    // stream (0x15), buffer size, max and average bitrate; DecoderSpecificInfo (tag 5); SL (6)
    let mut dcd = vec![0x40, 0x15, 0, 0, 0];
    dcd.extend_from_slice(&[0, 0, 0x2B, 0x11, 0, 0, 0x2B, 0x11]);
    dcd.extend_from_slice(&[0x05, 2, 0x12, 0x08]);
    let mut es = vec![0, 0, 0, 0x04, dcd.len() as u8];
    es.extend(dcd);
    es.extend_from_slice(&[0x06, 1, 0x02]);
    let mut esds = vec![0x03, es.len() as u8];
    esds.extend(es);
    // mp4a sample entry: reserved, data reference 1, reserved, channels, sample size,
    // pre_defined, reserved, sample rate (16.16)
    let mut mp4a = vec![0; 6];
    mp4a.extend_from_slice(&1u16.to_be_bytes());
    mp4a.extend_from_slice(&[0; 8]);
    mp4a.extend_from_slice(&1u16.to_be_bytes());
    mp4a.extend_from_slice(&16u16.to_be_bytes());
    mp4a.extend_from_slice(&[0; 4]);
    mp4a.extend_from_slice(&(44_100u32 << 16).to_be_bytes());
    mp4a.extend(full_box(b"esds", 0, &esds));
    let words = |ws: &[u32]| ws.iter().flat_map(|w| w.to_be_bytes()).collect::<Vec<u8>>();
    let stbl = [
        full_box(b"stsd", 0, &[words(&[1]), boxed(b"mp4a", &mp4a)].concat()),
        full_box(b"stts", 0, &words(&[1, n, 1024])),
        full_box(b"stsc", 0, &words(&[1, 1, n, 1])),
        full_box(b"stsz", 0, &words(&[SILENT_AAC_FRAME.len() as u32, n])),
        full_box(b"stco", 0, &words(&[1, data_offset])),
    ]
    .concat();
    let dinf = boxed(b"dinf", &full_box(b"dref", 0, &[words(&[1]), full_box(b"url ", 1, &[])].concat()));
    let minf = boxed(b"minf", &[full_box(b"smhd", 0, &[0; 4]), dinf, boxed(b"stbl", &stbl)].concat());
    [ftyp, mdat, sound_moov(44_100, n * 1024, Some(minf))].concat()
}

/// CRC-32 of an Ogg page (RFC 3533 §6: polynomial 0x04C11DB7, initial value 0, no
/// reflection, no final XOR), computed with the checksum field zeroed.
pub fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04C1_1DB7 } else { crc << 1 };
        }
    }
    crc
}

/// One Ogg page holding `packet` whole (`flags`: 0x02 first page, 0x04 last page).
fn ogg_page(flags: u8, granule: u64, serial: u32, seq: u32, packet: &[u8]) -> Vec<u8> {
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push((packet.len() % 255) as u8);
    let mut page = b"OggS".to_vec();
    page.push(0);
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&seq.to_le_bytes());
    page.extend_from_slice(&[0; 4]);
    page.push(lacing.len() as u8);
    page.extend_from_slice(&lacing);
    page.extend_from_slice(packet);
    let crc = ogg_crc(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// An Ogg Opus stream (RFC 7845): `OpusHead` (mono, 48 kHz, pre-skip 312), `OpusTags` with
/// vendor `catalog-sync-testkit` and no comments, then `packets` silent 20 ms CELT packets
/// (TOC `0xF8`, then `0xFF 0xFE`), the last page marked end of stream.
pub fn tiny_opus(packets: usize) -> Vec<u8> {
    let serial = 0x5EED;
    let mut head = b"OpusHead".to_vec();
    head.extend_from_slice(&[1, 1]);
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    let vendor = b"catalog-sync-testkit";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    let mut out = ogg_page(0x02, 0, serial, 0, &head);
    out.extend(ogg_page(0, 0, serial, 1, &tags));
    let packets = packets.max(1);
    for n in 0..packets {
        let last = n + 1 == packets;
        let granule = 312 + 960 * (n as u64 + 1);
        out.extend(ogg_page(if last { 0x04 } else { 0 }, granule, serial, 2 + n as u32, &[0xF8, 0xFF, 0xFE]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ogg_crc_matches_a_known_page() {
        // the check value of this CRC-32 variant (CRC-32/MPEG-2 without init/xorout): "123456789"
        assert_eq!(ogg_crc(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn files_have_their_signatures() {
        assert_eq!(&tiny_mp3(3)[..2], &[0xFF, 0xFB]);
        assert_eq!(tiny_mp3(3).len(), 3 * 417);
        assert_eq!(&tiny_m4a(10)[4..12], b"ftypM4A ");
        let aac = tiny_aac_m4a(3);
        assert_eq!(
            (&aac[4..12], &aac[32..36], &aac[36..48]),
            (&b"ftypM4A "[..], &b"mdat"[..], &[1, 0x18, 0x20, 7].repeat(3)[..])
        );
        assert_eq!(&tiny_opus(2)[..4], b"OggS");
        assert_eq!(&tiny_opus(2)[28..36], b"OpusHead");
    }
}
