//! Turning the bytes of a fetched document into UTF-8 text the XML parsers can trust.
//!
//! Order of evidence, as XML 1.0 Appendix F (<https://www.w3.org/TR/xml/#sec-guessing>) and
//! feedparser do it: a byte order mark first (UTF-8, UTF-16LE/BE, UTF-32LE/BE), then the
//! byte pattern of `<?xml` in a BOM-less UTF-16/32 document, then the `encoding=` of the XML
//! declaration, then `chardetng` when the bytes are not valid UTF-8. A document declared UTF-8
//! that contains invalid bytes is decoded leniently: valid runs stay UTF-8, each invalid byte is
//! read as windows-1252 (the usual culprit: Latin-1 text pasted into a UTF-8 feed). The result
//! has C1 control characters (U+0080..U+009F, never meant in feeds) mapped to what the same
//! byte means in windows-1252 (feedparser's "demoronize": `don\u{92}t` -> `don\u{2019}t`), and
//! no BOM, no leading whitespace and no XML declaration, so the downstream parser sees
//! consistent UTF-8 (it defaults to UTF-8 when no declaration is present).

use std::borrow::Cow;

use super::ParseError;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// Decodes a document's bytes to UTF-8 text.
///
/// Returns the text with BOM, leading whitespace and the XML declaration (if any) removed.
/// Text that is not XML (M3U, PLS) goes through the same path: BOM, then UTF-8, then chardetng.
///
/// # Errors
/// [`ParseError::Encoding`] when the XML declaration names an encoding no decoder exists for
/// and the bytes are not valid UTF-8, or when UTF-32 data has an invalid code point.
pub fn decode_xml(bytes: &[u8]) -> Result<String, ParseError> {
    Ok(finish(decode_bytes(bytes)?.into_owned()))
}

/// As [`decode_xml`], taking the bytes: a document that is UTF-8 as it stands (the usual
/// case) becomes the text without being copied. Errors: as [`decode_xml`].
pub fn decode_xml_owned(bytes: Vec<u8>) -> Result<String, ParseError> {
    let decoded = match decode_bytes(&bytes)? {
        Cow::Borrowed(text) if text.len() == bytes.len() => None, // the bytes themselves
        other => Some(other.into_owned()),
    };
    let text = match decoded {
        Some(text) => text,
        None => String::from_utf8(bytes).map_err(|e| ParseError::Encoding(e.to_string()))?,
    };
    Ok(finish(text))
}

/// The decoded text without its prolog, C1 controls mapped (module docs).
fn finish(mut text: String) -> String {
    let prolog = text.len() - strip_prolog(&text).len();
    text.drain(..prolog); // in place: the document is not copied again
    map_c1_controls(&text).unwrap_or(text)
}

/// `text` with C1 controls replaced by their windows-1252 meaning (where cp1252 defines one);
/// `None` when it has none.
fn map_c1_controls(text: &str) -> Option<String> {
    // in UTF-8 a C1 control is C2 80..C2 9F: a byte search, not a walk over every char
    let bytes = text.as_bytes();
    if !memchr::memchr_iter(0xC2, bytes).any(|i| matches!(bytes.get(i + 1), Some(0x80..=0x9F))) {
        return None;
    }
    let mapped = text
        .chars()
        .map(|c| {
            if ('\u{80}'..='\u{9f}').contains(&c) {
                let byte = [c as u32 as u8];
                WINDOWS_1252.decode_without_bom_handling(&byte).0.chars().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect();
    Some(mapped)
}

/// Decodes without touching the XML declaration (BOM removed); borrowed when `bytes` are the
/// text as they stand.
fn decode_bytes(bytes: &[u8]) -> Result<Cow<'_, str>, ParseError> {
    // 1. Byte order marks (UTF-32 before UTF-16: FF FE 00 00 starts with FF FE).
    if bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return decode_utf32(&bytes[4..], false).map(Cow::Owned);
    }
    if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return decode_utf32(&bytes[4..], true).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(decode_utf8_lenient(rest));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Ok(UTF_16LE.decode_without_bom_handling(rest).0);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Ok(UTF_16BE.decode_without_bom_handling(rest).0);
    }
    // `<?xm` in EBCDIC (XML 1.0 Appendix F): no decoder here for the EBCDIC code pages, so say
    // so rather than fail later with "not a feed".
    if bytes.starts_with(&[0x4C, 0x6F, 0xA7, 0x94]) {
        return Err(ParseError::Encoding("EBCDIC (cp037/cp500/...) documents are not supported".into()));
    }
    // 2. BOM-less UTF-32 / UTF-16, recognised by the zero bytes around the first ASCII char.
    if bytes.len() >= 4 {
        match bytes[..4] {
            [a, 0, 0, 0] if a != 0 => return decode_utf32(bytes, false).map(Cow::Owned),
            [0, 0, 0, a] if a != 0 => return decode_utf32(bytes, true).map(Cow::Owned),
            [a, 0, b, 0] if a != 0 && b != 0 => return Ok(UTF_16LE.decode_without_bom_handling(bytes).0),
            [0, a, 0, b] if a != 0 && b != 0 => return Ok(UTF_16BE.decode_without_bom_handling(bytes).0),
            _ => {}
        }
    }
    // 3. The XML declaration's label (ASCII-compatible encodings only).
    if let Some(label) = declared_encoding(bytes) {
        if let Some(enc) = Encoding::for_label(label.as_bytes()) {
            if enc == UTF_8 || enc == UTF_16LE || enc == UTF_16BE {
                // UTF-16 declared on ASCII-compatible bytes is a lie; read as UTF-8.
                return Ok(decode_utf8_lenient(bytes));
            }
            return Ok(enc.decode_without_bom_handling(bytes).0);
        }
        if label.to_ascii_lowercase().starts_with("utf-32") || label.eq_ignore_ascii_case("ucs-4") {
            return Ok(decode_utf8_lenient(bytes));
        }
        if std::str::from_utf8(bytes).is_err() {
            // Unknown label: guess below, but only when the guess is all we have.
            return Ok(guess(bytes));
        }
    }
    // 4. Valid UTF-8 as is, else chardetng.
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(_) => Ok(guess(bytes)),
    }
}

/// Guesses the encoding of non-UTF-8 bytes with chardetng and decodes with it.
fn guess(bytes: &[u8]) -> Cow<'_, str> {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let enc = det.guess(None, chardetng::Utf8Detection::Allow);
    if enc == UTF_8 {
        return decode_utf8_lenient(bytes);
    }
    enc.decode_without_bom_handling(bytes).0
}

/// UTF-8 with every invalid byte decoded as windows-1252 instead of U+FFFD.
fn decode_utf8_lenient(bytes: &[u8]) -> Cow<'_, str> {
    let mut error = match std::str::from_utf8(bytes) {
        Ok(text) => return Cow::Borrowed(text),
        Err(e) => e,
    };
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        let good = error.valid_up_to();
        // The prefix was just validated, so this never falls back.
        out.push_str(std::str::from_utf8(&rest[..good]).unwrap_or_default());
        // Decode only the first offending byte as cp1252; re-check the rest as UTF-8.
        out.push_str(&WINDOWS_1252.decode_without_bom_handling(&rest[good..good + 1]).0);
        rest = &rest[good + 1..];
        match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return Cow::Owned(out);
            }
            Err(e) => error = e,
        }
    }
}

/// UTF-32 by hand (`encoding_rs` implements the WHATWG Encoding Standard, which has none).
fn decode_utf32(bytes: &[u8], big_endian: bool) -> Result<String, ParseError> {
    let mut out = String::with_capacity(bytes.len() / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() < 4 {
            return Err(ParseError::Encoding("UTF-32 data length is not a multiple of 4".into()));
        }
        let arr = [chunk[0], chunk[1], chunk[2], chunk[3]];
        let cp = if big_endian { u32::from_be_bytes(arr) } else { u32::from_le_bytes(arr) };
        match char::from_u32(cp) {
            Some(c) => out.push(c),
            None => return Err(ParseError::Encoding(format!("invalid UTF-32 code point {cp:#x}"))),
        }
    }
    Ok(out)
}

/// The `encoding="..."` label of an XML declaration at the start (after whitespace), if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &bytes[start..bytes.len().min(start + 512)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]);
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    let close = rest.find(quote)?;
    Some(rest[..close].trim().to_string())
}

/// Removes a BOM character, leading whitespace and an XML declaration from decoded text.
fn strip_prolog(text: &str) -> &str {
    let t = text.trim_start_matches('\u{FEFF}').trim_start();
    if t.starts_with("<?xml") && t[5..].starts_with(|c: char| c.is_whitespace() || c == '?') {
        if let Some(end) = t.find("?>") {
            return t[end + 2..].trim_start();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_blank_lines_and_declaration() {
        let s = decode_xml(b"\n\n  <?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss/>").unwrap();
        assert_eq!(s, "<rss/>");
    }

    #[test]
    fn declared_latin1_is_decoded() {
        let s = decode_xml(b"<?xml version='1.0' encoding='ISO-8859-1'?><t>caf\xe9</t>").unwrap();
        assert_eq!(s, "<t>caf\u{e9}</t>");
    }

    #[test]
    fn invalid_bytes_in_utf8_fall_back_to_cp1252() {
        let s =
            decode_xml(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>\xe9t\xc3\xa9 \x93q\x94</t>").unwrap();
        assert_eq!(s, "<t>\u{e9}t\u{e9} \u{201c}q\u{201d}</t>");
    }

    #[test]
    fn c1_controls_become_cp1252() {
        assert_eq!(decode_xml("<d>don\u{92}t</d>".as_bytes()).unwrap(), "<d>don\u{2019}t</d>");
        // the ends of the C1 range; U+00A0..U+00BF share the lead byte C2 and stay as they are
        assert_eq!(
            decode_xml("<d>\u{80}\u{9f}\u{a0}\u{bf}\u{7f}\u{c2}</d>".as_bytes()).unwrap(),
            "<d>\u{20ac}\u{178}\u{a0}\u{bf}\u{7f}\u{c2}</d>"
        );
        assert_eq!(map_c1_controls("<d>\u{a0}\u{bf}\u{7f}\u{c2}\u{100}</d>"), None);
    }

    #[test]
    fn owned_bytes_decode_as_borrowed_ones_do_and_utf8_is_not_copied() {
        let utf16: Vec<u8> =
            "<?xml version=\"1.0\"?><a>\u{e9}</a>".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let cases: Vec<Vec<u8>> = vec![
            b"<?xml version=\"1.0\"?>\n<rss/>".to_vec(),
            b"\xEF\xBB\xBF<a>x</a>".to_vec(),
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><t>caf\xe9</t>".to_vec(),
            b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><t>plain</t>".to_vec(),
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>\xe9t\xc3\xa9 \x93q\x94</t>".to_vec(),
            "<d>don\u{92}t</d>".as_bytes().to_vec(),
            utf16,
            b"  \n ".to_vec(),
        ];
        for bytes in cases {
            assert_eq!(decode_xml_owned(bytes.clone()), decode_xml(&bytes), "{bytes:?}");
        }
        let bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>\xc3\xa9</rss>".to_vec();
        let at = bytes.as_ptr();
        let text = decode_xml_owned(bytes).unwrap();
        assert_eq!(text, "<rss>\u{e9}</rss>");
        assert_eq!(text.as_ptr(), at, "the body's own buffer");
    }

    #[test]
    fn utf32_le_with_bom() {
        let mut b = vec![0xFF, 0xFE, 0, 0];
        for c in "<a>\u{1F600}</a>".chars() {
            b.extend_from_slice(&(c as u32).to_le_bytes());
        }
        assert_eq!(decode_xml(&b).unwrap(), "<a>\u{1F600}</a>");
    }

    #[test]
    fn utf16_be_without_bom() {
        let b: Vec<u8> =
            "<?xml version=\"1.0\"?><a>\u{e9}</a>".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode_xml(&b).unwrap(), "<a>\u{e9}</a>");
    }

    #[test]
    fn ebcdic_is_a_clear_encoding_error() {
        let err = decode_xml(&[0x4C, 0x6F, 0xA7, 0x94, 0x93, 0x40]).unwrap_err();
        assert!(matches!(err, ParseError::Encoding(ref m) if m.contains("EBCDIC")), "{err:?}");
    }

    #[test]
    fn truncated_utf32_is_an_error() {
        assert!(matches!(decode_xml(&[0xFF, 0xFE, 0, 0, 0x41]), Err(ParseError::Encoding(_))));
    }

    #[test]
    fn empty_input_is_empty_text() {
        assert_eq!(decode_xml(b"").unwrap(), "");
        assert_eq!(decode_xml(b" \n").unwrap(), "");
    }
}
