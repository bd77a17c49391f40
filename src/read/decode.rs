//! Byte-order marks, UTF-16 and explicit encodings.

use encoding_rs::{Encoding, UTF_8};

/// Where a file read as UTF-8 first holds bytes that are not UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidUtf8 {
    /// 1-based line of the first invalid byte.
    pub line: u64,
    /// Byte offset of the first invalid byte (in the file, after any BOM).
    pub byte: u64,
    /// The byte itself.
    pub value: u8,
}

pub(super) struct Decoded {
    pub bytes: Vec<u8>,
    pub encoding: &'static str,
    pub bom: bool,
    pub invalid_utf8: Option<InvalidUtf8>,
}

pub(super) fn decode(bytes: Vec<u8>, forced: Option<&'static Encoding>) -> Decoded {
    let sniffed = Encoding::for_bom(&bytes);
    let encoding = match (forced, sniffed) {
        // A BOM is definitive: it overrides a label, as browsers do.
        (_, Some((enc, _))) => enc,
        (Some(enc), None) => enc,
        (None, None) => UTF_8,
    };
    let bom_len = sniffed.map_or(0, |(_, len)| len);
    if encoding == UTF_8 {
        let mut bytes = bytes;
        if bom_len > 0 {
            bytes.drain(..bom_len);
        }
        let invalid_utf8 = std::str::from_utf8(&bytes).err().map(|e| {
            let at = e.valid_up_to();
            let before = bytes.get(..at).unwrap_or_default();
            let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            InvalidUtf8 { line, byte: at as u64, value: bytes.get(at).copied().unwrap_or_default() }
        });
        return Decoded { bytes, encoding: UTF_8.name(), bom: bom_len > 0, invalid_utf8 };
    }
    // Every other encoding is transcoded to UTF-8; malformed sequences (an odd
    // trailing byte in UTF-16, say) become U+FFFD, which T-rules still see.
    let body = bytes.get(bom_len..).unwrap_or_default();
    let (text, _had_errors) = encoding.decode_without_bom_handling(body);
    Decoded {
        bytes: text.into_owned().into_bytes(),
        encoding: encoding.name(),
        bom: bom_len > 0,
        invalid_utf8: None,
    }
}

/// Resolves a WHATWG encoding label (`windows-1252`, `latin1`, `utf-16le`, …).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_is_stripped() {
        let d = decode(b"\xEF\xBB\xBFUser".to_vec(), None);
        assert!(d.bom);
        assert_eq!(d.bytes, b"User");
        assert_eq!(d.invalid_utf8, None);
    }

    #[test]
    fn utf16le_and_be_are_transcoded() {
        let le: Vec<u8> = [0xFF, 0xFE, b'a', 0, b',', 0, 0xE8, 0].to_vec();
        let d = decode(le, None);
        assert_eq!(d.encoding, "UTF-16LE");
        assert_eq!(String::from_utf8(d.bytes).unwrap(), "a,è");
        let be: Vec<u8> = [0xFE, 0xFF, 0, b'a', 0, b','].to_vec();
        assert_eq!(decode(be, None).bytes, b"a,");
    }

    #[test]
    fn first_invalid_line_is_found() {
        let d = decode(b"a\nb\nc\xe8\nd\xff".to_vec(), None);
        assert_eq!(d.invalid_utf8, Some(InvalidUtf8 { line: 3, byte: 5, value: 0xe8 }));
    }

    #[test]
    fn windows_1252_is_decoded_when_asked() {
        let enc = encoding_for_label("windows-1252");
        let d = decode(b"Nicol\xf2".to_vec(), enc);
        assert_eq!(String::from_utf8(d.bytes).unwrap(), "Nicolò");
        assert!(encoding_for_label("no-such-encoding").is_none());
    }
}
