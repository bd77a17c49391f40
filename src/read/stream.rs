//! Reading a file as a stream: the same decoding as [`Source::decode`], done
//! as the bytes arrive, so that a large file is never held whole.
//!
//! [`Source::decode`]: super::Source::decode

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8};

use super::records::RecordReader;

/// What is known of a stream once its first bytes are read.
pub(crate) struct Opened<'a> {
    /// The encoding name (`UTF-8`, `UTF-16LE`, …).
    pub encoding: &'static str,
    /// Whether a byte-order mark was removed.
    pub bom: bool,
    /// The records, decoded to UTF-8.
    pub records: RecordReader<'a>,
}

/// Opens `reader`: byte-order mark, encoding (a BOM wins over `forced`),
/// then the delimiter of the first line.
pub(crate) fn open<'a>(
    mut reader: impl Read + 'a,
    forced: Option<&'static Encoding>,
) -> io::Result<Opened<'a>> {
    let mut prefix = Vec::with_capacity(3);
    (&mut reader).take(3).read_to_end(&mut prefix)?;
    let sniffed = Encoding::for_bom(&prefix);
    let encoding = match (forced, sniffed) {
        (_, Some((enc, _))) => enc,
        (Some(enc), None) => enc,
        (None, None) => UTF_8,
    };
    let bom_len = sniffed.map_or(0, |(_, len)| len);
    prefix.drain(..bom_len.min(prefix.len()));
    let records = if encoding == UTF_8 {
        RecordReader::from_stream(prefix, Box::new(reader), true)?
    } else {
        let source = io::Cursor::new(prefix).chain(reader);
        let transcode = Transcode::new(source, encoding.new_decoder_without_bom_handling());
        RecordReader::from_stream(Vec::new(), Box::new(transcode), false)?
    };
    Ok(Opened { encoding: encoding.name(), bom: bom_len > 0, records })
}

/// A reader of UTF-8 decoded from another encoding; malformed sequences
/// become U+FFFD, as in [`Encoding::decode_without_bom_handling`].
struct Transcode<R> {
    inner: R,
    decoder: Decoder,
    src: Vec<u8>,
    src_pos: usize,
    src_eof: bool,
    out: Vec<u8>,
    out_pos: usize,
    finished: bool,
}

impl<R: Read> Transcode<R> {
    fn new(inner: R, decoder: Decoder) -> Transcode<R> {
        Transcode {
            inner,
            decoder,
            src: Vec::new(),
            src_pos: 0,
            src_eof: false,
            out: Vec::new(),
            out_pos: 0,
            finished: false,
        }
    }

    /// Decodes the next piece into `out`; `false` when everything is decoded.
    fn decode_more(&mut self) -> io::Result<bool> {
        while !self.finished {
            if self.src_pos == self.src.len() && !self.src_eof {
                self.src.resize(1 << 16, 0);
                let n = loop {
                    match self.inner.read(&mut self.src) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.src.truncate(n);
                self.src_pos = 0;
                self.src_eof = n == 0;
            }
            self.out.resize(1 << 17, 0);
            let src = self.src.get(self.src_pos..).unwrap_or_default();
            let (result, read, written, _) = self.decoder.decode_to_utf8(src, &mut self.out, self.src_eof);
            self.src_pos += read;
            self.out.truncate(written);
            self.out_pos = 0;
            if self.src_eof && result == CoderResult::InputEmpty {
                self.finished = true;
            }
            if written > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out.len() && !self.decode_more()? {
            return Ok(0);
        }
        let pending = self.out.get(self.out_pos..).unwrap_or_default();
        let n = pending.len().min(dst.len());
        if let (Some(to), Some(from)) = (dst.get_mut(..n), pending.get(..n)) {
            to.copy_from_slice(from);
        }
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Record, Source};

    /// Reads a stream in pieces of `piece` bytes.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            let (head, tail) = self.0.split_at(n);
            buf[..n].copy_from_slice(head);
            self.0 = tail;
            Ok(n)
        }
    }

    fn streamed(
        bytes: &[u8],
        piece: usize,
        forced: Option<&'static Encoding>,
    ) -> (Vec<(u64, Vec<String>)>, u8) {
        let mut opened = open(Trickle(bytes, piece), forced).unwrap();
        let mut record = Record::default();
        let mut out = Vec::new();
        while opened.records.read_record(&mut record).unwrap() {
            out.push((record.line, record.fields.iter().map(str::to_owned).collect()));
        }
        (out, opened.records.delimiter())
    }

    fn whole(bytes: &[u8], forced: Option<&'static Encoding>) -> (Vec<(u64, Vec<String>)>, u8) {
        let src = Source::decode(bytes.to_vec(), forced);
        let out = src.records().map(|r| (r.line, r.fields.iter().map(str::to_owned).collect())).collect();
        (out, src.delimiter)
    }

    #[test]
    fn a_stream_reads_as_the_whole_file_does() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a;b\r\nè;\"x\ny\"\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        // Longer than the record buffers start out, in fields and in bytes.
        let wide: Vec<u8> =
            (0..300).map(|i| format!("field number {i}")).collect::<Vec<_>>().join(",").into();
        let wide = [&wide[..], b"\n", &wide[..], b"\n"].concat();
        let cases: [&[u8]; 7] = [
            &wide,
            b"\xEF\xBB\xBFa,b\n\n1,\"q\r\nz\"\r\r3,4",
            b"a,b\r\n   \r\n1,2\r",
            b"a\tb\tc\n1\t2\t3\n",
            b"Nicol\xf2,x\n1,2",
            b"",
            &utf16,
        ];
        for bytes in cases {
            for piece in [1, 2, 3, 7, 1 << 20] {
                assert_eq!(streamed(bytes, piece, None), whole(bytes, None), "{bytes:?} by {piece}");
            }
        }
        let latin = encoding_rs::WINDOWS_1252;
        assert_eq!(streamed(b"Nicol\xf2\n", 1, Some(latin)), whole(b"Nicol\xf2\n", Some(latin)));
    }

    #[test]
    fn the_first_invalid_byte_is_found_as_in_a_whole_file() {
        let bytes = b"a,b\r\n\"x\ny\",1\n2,c\xe8\n3,\xff\n";
        let mut opened = open(Trickle(bytes, 2), None).unwrap();
        let mut record = Record::default();
        while opened.records.read_record(&mut record).unwrap() {}
        let whole = Source::decode(bytes.to_vec(), None);
        assert_eq!(opened.records.invalid_utf8(), whole.invalid_utf8);
        assert!(whole.invalid_utf8.is_some());
    }
}
