//! Splitting decoded text into records, from a slice or a stream.
//!
//! [`RecordReader`] drives `csv-core` itself rather than going through
//! `csv::Reader`, because it needs what `csv::Reader` hides: the raw bytes
//! between records, to count lines the way editors do (`\n`, `\r\n` and a
//! lone `\r` each end one) and to know where each record starts and ends.
//! It fills a caller-owned [`Record`], so a driver that reuses its records
//! allocates nothing per row once the buffers have grown.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

use super::{Fields, InvalidUtf8, Record};

/// How many bytes a stream is read by at a time.
const READ_SIZE: usize = 1 << 16;

/// Where the bytes come from.
enum Input<'a> {
    /// All of it, in memory.
    Slice(&'a [u8]),
    /// Read as needed; `buf[0]` is the byte at offset `base` of the stream.
    /// `buf[..filled]` holds input; the rest is spare room, kept initialised
    /// between reads so that a reader handing out a few bytes at a time
    /// (a slow socket) does not cost a fresh [`READ_SIZE`] fill per call.
    Stream { reader: Box<dyn Read + 'a>, buf: Vec<u8>, filled: usize, base: usize, eof: bool },
}

impl Input<'_> {
    /// The bytes in memory and the stream offset of the first of them.
    fn window(&self) -> (&[u8], usize) {
        match self {
            Input::Slice(bytes) => (bytes, 0),
            Input::Stream { buf, filled, base, .. } => (buf.get(..*filled).unwrap_or_default(), *base),
        }
    }

    /// Reads more bytes, forgetting those before offset `keep`. `false` at
    /// the end of the input.
    fn load(&mut self, keep: usize) -> io::Result<bool> {
        let Input::Stream { reader, buf, filled, base, eof } = self else {
            return Ok(false);
        };
        if *eof {
            return Ok(false);
        }
        let drop = keep.saturating_sub(*base).min(*filled);
        if drop > 0 && drop * 2 >= *filled {
            buf.copy_within(drop..*filled, 0);
            *filled -= drop;
            *base += drop;
        }
        if buf.len() - *filled < READ_SIZE / 4 {
            buf.resize(*filled + READ_SIZE, 0);
        }
        let read = loop {
            match reader.read(buf.get_mut(*filled..).unwrap_or_default()) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        *filled += read;
        *eof = read == 0;
        Ok(read > 0)
    }
}

/// Reads the records of a decoded text one at a time, blank lines skipped,
/// each with the line it starts on and its byte range.
///
/// ```
/// use csvcheck::read::{Record, Source};
/// let src = Source::decode(b"a,b\r\n\r\n1,\"x\ny\"\r3,4".to_vec(), None);
/// let mut reader = src.record_reader();
/// let mut record = Record::default();
/// let mut seen = Vec::new();
/// while reader.read_record(&mut record).unwrap() {
///     seen.push((record.line, record.field(1).unwrap().to_owned()));
/// }
/// assert_eq!(seen, [(1, "b".to_owned()), (3, "x\ny".to_owned()), (5, "4".to_owned())]);
/// ```
pub struct RecordReader<'a> {
    input: Input<'a>,
    core: csv_core::Reader,
    /// Stream offset of the next byte `core` reads.
    consumed: usize,
    /// Where line counting has reached: (offset, line there, whether the
    /// byte before it is `\r`).
    cursor: (usize, u64, bool),
    /// `\n` bytes before the cursor (F001 reports the line of a bad byte
    /// by these alone, as [`Source::decode`](super::Source::decode) does).
    newlines: u64,
    /// Whether to look for the first byte that is not UTF-8 (streams read as
    /// UTF-8; an in-memory source has checked already).
    track_utf8: bool,
    invalid_utf8: Option<InvalidUtf8>,
    delimiter: u8,
    done: bool,
    /// Where csv-core writes a record's fields: kept at its full length
    /// from one record to the next, so that it is never filled again.
    buffer: Vec<u8>,
    /// Where csv-core writes the ends of a record's fields (as `usize`),
    /// kept from one record to the next like `buffer`.
    core_ends: Vec<usize>,
    /// Where the text of the record `read_plain` read last starts and ends
    /// (without its line end, so holding none).
    last_plain: Option<(usize, usize)>,
    /// Whether the next record may be split here rather than by csv-core
    /// (see [`RecordReader::read_plain`]): only once csv-core has read the
    /// first record and stands between two.
    plain: bool,
}

impl<'a> RecordReader<'a> {
    /// Records of text in memory.
    pub(crate) fn from_slice(bytes: &'a [u8], delimiter: u8) -> RecordReader<'a> {
        RecordReader::new(Input::Slice(bytes), delimiter, false)
    }

    /// Records of a stream of UTF-8 text (already decoded, BOM removed);
    /// `prefix` holds its first bytes, already read.
    pub(crate) fn from_stream(
        prefix: Vec<u8>,
        reader: Box<dyn Read + 'a>,
        track_utf8: bool,
    ) -> io::Result<RecordReader<'a>> {
        let filled = prefix.len();
        let mut input = Input::Stream { reader, buf: prefix, filled, base: 0, eof: false };
        // The delimiter is the header's: read until its end is in memory.
        loop {
            let (bytes, _) = input.window();
            if super::sniff::first_line_is_complete(bytes) || !input.load(0)? {
                break;
            }
        }
        let delimiter = super::sniff::delimiter(input.window().0);
        Ok(RecordReader::new(input, delimiter, track_utf8))
    }

    fn new(input: Input<'a>, delimiter: u8, track_utf8: bool) -> RecordReader<'a> {
        let core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        RecordReader {
            input,
            core,
            consumed: 0,
            cursor: (0, 1, false),
            newlines: 0,
            track_utf8,
            invalid_utf8: None,
            delimiter,
            done: false,
            buffer: Vec::new(),
            core_ends: Vec::new(),
            plain: false,
            last_plain: None,
        }
    }

    /// The delimiter the records are split by.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The raw text of a record read last (its span), without its line
    /// terminator; empty once the reader has moved well past it.
    pub(crate) fn raw(&self, span: &std::ops::Range<usize>) -> &[u8] {
        let (bytes, base) = self.input.window();
        let raw = span
            .start
            .checked_sub(base)
            .zip(span.end.checked_sub(base))
            .and_then(|(start, end)| bytes.get(start..end))
            .unwrap_or_default();
        super::trim_terminator(raw)
    }

    /// For a stream read as UTF-8: where its first byte that is not UTF-8
    /// is, among the records read so far.
    pub fn invalid_utf8(&self) -> Option<InvalidUtf8> {
        self.invalid_utf8
    }

    /// Reads the next record that is not a blank line into `record`, reusing
    /// its buffers. `Ok(false)` at the end of the input; errors come only
    /// from reading a stream.
    pub fn read_record(&mut self, record: &mut Record) -> io::Result<bool> {
        loop {
            if !self.read_any(record)? {
                return Ok(false);
            }
            if !record.is_blank() {
                return Ok(true);
            }
        }
    }

    fn read_any(&mut self, record: &mut Record) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        if self.plain && self.read_plain(record) {
            return Ok(true);
        }
        let begin = self.consumed;
        // csv-core writes into the reader's buffer and ends, which keep
        // their size from one record to the next; the ends are copied into
        // the record's (32-bit) once it is read.
        let mut text = std::mem::take(&mut self.buffer);
        let mut ends = std::mem::take(&mut self.core_ends);
        text.resize(text.len().max(FRESH_TEXT), 0);
        ends.resize(ends.capacity().max(FRESH_FIELDS), 0);
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            // An empty input tells csv-core the input has ended: give it one
            // only when that is true.
            let exhausted = self.input.window().0.len() + self.input.window().1 <= self.consumed;
            if exhausted {
                if let Err(e) = self.input.load(self.cursor.0.min(begin)) {
                    record.fields = Fields::default();
                    self.buffer = text;
                    self.core_ends = ends;
                    // csv-core stopped inside a record: only it can go on.
                    self.plain = false;
                    return Err(e);
                }
            }
            let (res, nin, nout, nend) = {
                let (bytes, base) = self.input.window();
                let input = bytes.get(self.consumed - base..).unwrap_or_default();
                let out = text.get_mut(outlen..).unwrap_or_default();
                let ends = ends.get_mut(endlen..).unwrap_or_default();
                self.core.read_record(input, out, ends)
            };
            self.consumed += nin;
            outlen += nout;
            endlen += nend;
            match res {
                // The loop loads more, or at the end finishes the record.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => text.resize(text.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => {
                    self.done = true;
                    self.buffer = text;
                    self.core_ends = ends;
                    record.fields.ends.clear();
                    record.fields.text.clear();
                    return Ok(false);
                }
            }
        }
        ends.truncate(endlen);
        record.one_line = false;
        // csv-core is now between records, where a record's first bytes
        // (with a BOM stripped before the first only) mean the same to it and
        // to `read_plain`. Its state between records holds nothing else
        // that matters: a `\r` or `\n` left over, and any blank lines, are
        // skipped whatever it was.
        self.plain = self.delimiter.is_ascii() && !matches!(self.delimiter, b'"' | b'\r' | b'\n');
        let fields = text.get(..outlen).unwrap_or_default();
        // Fields end to end can make a valid sequence of two broken halves
        // (`a\xC3` and `\xA9` read as "aé"): a field that does not end on a
        // character boundary is not UTF-8. (simdutf8 checks a record's
        // bytes several times faster than `str::from_utf8`; copying them
        // into the record's text costs less than checking them again.)
        match simdutf8::basic::from_utf8(fields) {
            Ok(valid) if ends.iter().all(|&end| valid.is_char_boundary(end)) => {
                let text = &mut record.fields.text;
                text.clear();
                let mut from = 0;
                for end in ends.iter_mut() {
                    text.push_str(valid.get(from..*end).unwrap_or_default());
                    from = *end;
                    *end = text.len();
                    text.push(FIELD_GAP);
                }
                record.not_utf8 = false;
            }
            _ => {
                record.fields.text = lossy(fields, &mut ends);
                record.not_utf8 = true;
            }
        }
        self.buffer = text;
        let narrowed = narrow_ends(&ends, &mut record.fields.ends);
        self.core_ends = ends;
        if !narrowed {
            record.fields = Fields::default();
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a record is longer than 4 GiB"));
        }
        // csv-core consumes a record's terminator at the start of the next
        // call (with any empty lines): the record starts after them.
        let (bytes, base) = self.input.window();
        let skip = bytes
            .get(begin - base..self.consumed - base)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        let start = begin + skip;
        let end = self.consumed;
        record.line = self.line_at(start);
        record.span = start..end;
        if self.track_utf8 && self.invalid_utf8.is_none() {
            // The raw bytes decide, not the fields: removing quotes can
            // mend a broken sequence. Without a quote, the raw record is its
            // fields, delimiters and line ends (all ASCII): valid fields
            // mean valid bytes, already checked.
            let (bytes, base) = self.input.window();
            let raw = bytes.get(start - base..end - base).unwrap_or_default();
            if record.not_utf8 || memchr::memchr(b'"', raw).is_some() {
                self.note_invalid_utf8(start, end);
            }
        }
        Ok(true)
    }

    /// Reads the next record, if it is plain, without csv-core: `true` if it
    /// did. A record is plain when it is valid UTF-8, its line ends in
    /// memory, and its quotes, if any, only wrap whole fields (see
    /// [`push_quoted`]); its fields are then the text between delimiters
    /// (and quotes), found with `memchr` several times faster than
    /// csv-core's byte-by-byte machine. Whatever is not plain is left to
    /// csv-core. Blank lines before the record are skipped, as csv-core
    /// skips them, and the record's span ends after the first byte of its
    /// terminator, where csv-core's does.
    fn read_plain(&mut self, record: &mut Record) -> bool {
        let (bytes, base) = self.input.window();
        let rest = bytes.get(self.consumed - base..).unwrap_or_default();
        let skip = rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        let rest = rest.get(skip..).unwrap_or_default();
        let Some(len) = memchr::memchr2(b'\n', b'\r', rest) else {
            return false;
        };
        let Ok(line) = simdutf8::basic::from_utf8(rest.get(..len).unwrap_or_default()) else {
            return false;
        };
        let Ok(line_len) = u32::try_from(len) else {
            // Its ends would not fit in the record: csv-core reads it, and
            // refuses it.
            return false;
        };
        let Fields { text, ends } = &mut record.fields;
        text.clear();
        ends.clear();
        // A record read into for the first time grows to a row's size at
        // once, not by doubling from nothing (a driver's first chunks are
        // all fresh records).
        text.reserve(line.len().max(FRESH_TEXT));
        ends.reserve(FRESH_FIELDS);
        if memchr::memchr(b'"', line.as_bytes()).is_none() {
            text.push_str(line);
            push_delimiters(line.as_bytes(), self.delimiter, ends);
            ends.push(line_len);
        } else if !push_quoted(line, self.delimiter, text, ends) {
            // What was written of the fields, csv-core writes over.
            return false;
        }
        record.not_utf8 = false;
        record.one_line = true;
        let start = self.consumed + skip;
        let end = start + len + 1;
        // When the line count stands where the record read last by this
        // function starts, it moves over that record's text unread: the
        // text holds no line end.
        if let Some((_, text_end)) = self.last_plain.filter(|&(text_start, _)| text_start == self.cursor.0) {
            self.cursor = (text_end, self.cursor.1, false);
        }
        self.consumed = end;
        record.line = self.line_at(start);
        record.span = start..end;
        self.last_plain = Some((start, start + len));
        true
    }

    /// Records where the first byte that is not UTF-8 in `start..end` is.
    fn note_invalid_utf8(&mut self, start: usize, end: usize) {
        if self.invalid_utf8.is_some() {
            return;
        }
        let (bytes, base) = self.input.window();
        let raw = bytes.get(start - base..end - base).unwrap_or_default();
        let Err(e) = std::str::from_utf8(raw) else {
            return;
        };
        let before = raw.get(..e.valid_up_to()).unwrap_or_default();
        // The cursor sits at `start`: `newlines` counts every `\n` before it.
        let line = self.newlines + before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let value = raw.get(e.valid_up_to()).copied().unwrap_or_default();
        self.invalid_utf8 = Some(InvalidUtf8 { line, byte: (start + e.valid_up_to()) as u64, value });
    }

    /// The line of byte `offset`, counting `\n`, `\r\n` and lone `\r`
    /// (offsets only ever grow, so this is linear over the input).
    fn line_at(&mut self, offset: usize) -> u64 {
        let (from, mut line, mut prev_cr) = self.cursor;
        if offset <= from {
            return line;
        }
        let (bytes, base) = self.input.window();
        let chunk = bytes.get(from - base..offset - base).unwrap_or_default();
        if chunk.len() <= SHORT_CHUNK {
            // The line end between two records read by `read_plain`.
            for &b in chunk {
                match b {
                    b'\n' => {
                        line += u64::from(!prev_cr);
                        self.newlines += 1;
                    }
                    b'\r' => line += 1,
                    _ => {}
                }
                prev_cr = b == b'\r';
            }
            self.cursor = (offset, line, prev_cr);
            return line;
        }
        // One pass finds the `\n`s, and whether there is any `\r`.
        let (mut newlines, mut cr) = (0, false);
        for at in memchr::memchr2_iter(b'\n', b'\r', chunk) {
            match chunk.get(at) {
                Some(b'\r') => cr = true,
                _ => newlines += 1,
            }
        }
        if !cr {
            // The common case: every line ends with `\n`.
            line += newlines - u64::from(prev_cr && chunk.first() == Some(&b'\n'));
            prev_cr = false;
        } else {
            for &b in chunk {
                match b {
                    b'\n' => line += u64::from(!prev_cr),
                    b'\r' => line += 1,
                    _ => {}
                }
                prev_cr = b == b'\r';
            }
        }
        self.newlines += newlines;
        self.cursor = (offset, line, prev_cr);
        line
    }
}

/// The most bytes [`RecordReader::line_at`] counts lines in one by one:
/// the line end between two records, and a few blank lines.
const SHORT_CHUNK: usize = 16;

/// Room made at once for a record's text and its fields' ends, by csv-core
/// or in a fresh record: a user file's row is some 150 bytes in some 20
/// fields.
const FRESH_TEXT: usize = 256;
const FRESH_FIELDS: usize = 32;

/// What [`Fields`] holds between two fields read by csv-core.
const FIELD_GAP: char = ',';

/// Pushes where each `delimiter` is in `line`, eight bytes at a time: a
/// record's fields are a few bytes long, too short for `memchr`'s
/// per-call set-up to pay.
fn push_delimiters(line: &[u8], delimiter: u8, ends: &mut Vec<u32>) {
    let pattern = crate::swar::splat(delimiter);
    let mut chunks = line.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        let mut found = crate::swar::zero_bytes(word ^ pattern);
        while found != 0 {
            ends.push((at + (found.trailing_zeros() / 8) as usize) as u32);
            found &= found - 1;
        }
        at += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == delimiter {
            ends.push((at + i) as u32);
        }
    }
}

/// Splits a `line` with quotes into `text` and `ends`, as csv-core would,
/// when each quote that opens a field closes it just before a delimiter or
/// the line's end (`a,"b, c",d`): the usual quoting of a value with a
/// comma. `false` for anything else — a doubled quote, text after a
/// closing quote, a quoted field that goes on past the line — which
/// csv-core reads.
///
/// A quoted field closed within the line leaves csv-core outside quotes at
/// the line's end as well: the record ends there for both.
fn push_quoted(line: &str, delimiter: u8, text: &mut String, ends: &mut Vec<u32>) -> bool {
    let bytes = line.as_bytes();
    let mut at = 0;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        let (field, after) = if rest.first() == Some(&b'"') {
            let Some(len) = memchr::memchr(b'"', rest.get(1..).unwrap_or_default()) else {
                return false;
            };
            (at + 1..at + 1 + len, at + len + 2)
        } else {
            // A quote inside a field that does not start with one is text.
            let len = memchr::memchr(delimiter, rest).unwrap_or(rest.len());
            (at..at + len, at + len)
        };
        text.push_str(line.get(field).unwrap_or_default());
        ends.push(text.len() as u32);
        match bytes.get(after) {
            None => return true,
            Some(&b) if b == delimiter => {
                text.push(FIELD_GAP);
                at = after + 1;
            }
            Some(_) => return false,
        }
    }
}

/// Copies `ends` into `narrow`; `false` if one is past `u32::MAX`.
fn narrow_ends(ends: &[usize], narrow: &mut Vec<u32>) -> bool {
    narrow.clear();
    narrow.reserve(ends.len().max(FRESH_FIELDS));
    for &end in ends {
        let Ok(end) = u32::try_from(end) else { return false };
        narrow.push(end);
    }
    true
}

/// The fields of `bytes` (ending at `ends`) with each invalid sequence
/// replaced by U+FFFD; `ends` is updated to match.
fn lossy(bytes: &[u8], ends: &mut [usize]) -> String {
    let mut text = String::with_capacity(bytes.len() + 16);
    let mut from = 0;
    for end in ends.iter_mut() {
        text.push_str(&String::from_utf8_lossy(bytes.get(from..*end).unwrap_or_default()));
        from = *end;
        *end = text.len();
        text.push(FIELD_GAP);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ops::Range;

    /// What a reader made of a text: each record as it was read, then where
    /// the first byte that is not UTF-8 is.
    type Read = (Vec<(u64, Range<usize>, Vec<String>, bool)>, Option<InvalidUtf8>);

    /// Reads every record, letting `read_plain` take those it can or not.
    fn read_all(mut reader: RecordReader<'_>, plain: bool) -> Read {
        let mut record = Record::default();
        let mut read = Vec::new();
        loop {
            reader.plain &= plain;
            if !reader.read_record(&mut record).unwrap() {
                break;
            }
            let fields = record.fields.iter().map(str::to_owned).collect();
            read.push((record.line, record.span.clone(), fields, record.not_utf8));
        }
        (read, reader.invalid_utf8())
    }

    /// A reader handing out a few bytes at a time.
    struct Trickle<'a>(&'a [u8], usize);

    impl io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            let (now, later) = self.0.split_at(n);
            buf[..n].copy_from_slice(now);
            self.0 = later;
            Ok(n)
        }
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop::sample::select(vec![
            &b"a"[..],
            b"ab c",
            b"\xC3\xA9",
            b"\xC3",
            b"\xA9",
            b",",
            b";",
            b"\"",
            b"\"\"",
            b"\r",
            b"\n",
            b"\r\n",
            b" ",
            b"\xEF\xBB\xBF",
            b"\t",
        ]);
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Plain records split without csv-core read as csv-core reads them:
        /// the same fields, lines and spans, from memory or from a stream
        /// however it is cut; and a stream's first byte that is not UTF-8
        /// is found where it is.
        #[test]
        fn plain_records_read_as_csv_core_reads_them(text in text(), step in 1..9usize, delimiter in prop::sample::select(vec![b',', b';', b'\t'])) {
            let by_core = read_all(RecordReader::from_slice(&text, delimiter), false);
            prop_assert_eq!(&read_all(RecordReader::from_slice(&text, delimiter), true), &by_core);
            let stream = |plain| {
                let reader = RecordReader::from_stream(Vec::new(), Box::new(Trickle(&text, step)), true).unwrap();
                read_all(reader, plain)
            };
            let streamed = stream(true);
            prop_assert_eq!(&streamed, &stream(false));
            // The first byte that is not UTF-8, on the line its `\n`s say.
            let invalid = std::str::from_utf8(&text).err().map(|e| {
                let at = e.valid_up_to();
                let line = text[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                InvalidUtf8 { line, byte: at as u64, value: text[at] }
            });
            prop_assert_eq!(streamed.1, invalid);
        }
    }

    /// A record's field ends are kept in 32 bits: ends that do not fit
    /// (a record of more than 4 GiB, which csv-core alone reads) are
    /// refused, not cut short.
    #[test]
    fn field_ends_past_32_bits_are_refused() {
        let mut narrow = vec![9];
        assert!(narrow_ends(&[0, 3, u32::MAX as usize], &mut narrow));
        assert_eq!(narrow, [0, 3, u32::MAX]);
        assert!(!narrow_ends(&[3, u32::MAX as usize + 1], &mut narrow));
    }

    /// Two halves of a character in two fields are two broken fields, not
    /// one character: csv-core writes the fields end to end, where they
    /// would read as valid UTF-8 (found by a property test comparing readers).
    #[test]
    fn a_character_split_across_fields_is_not_utf8() {
        for csv in [&b"\"a\xC3\",\xA9\n"[..], b"a\xC3,\xA9\n", b"a\xC3,\"\xA9\"\n"] {
            let mut reader = RecordReader::from_slice(csv, b',');
            let mut record = Record::default();
            assert!(reader.read_record(&mut record).unwrap());
            assert!(record.not_utf8, "{csv:?}");
            assert_eq!(record.fields.iter().collect::<Vec<_>>(), ["a\u{FFFD}", "\u{FFFD}"], "{csv:?}");
        }
    }

    /// The reader's buffer keeps the length of the longest record: a record
    /// after a longer one, or after one that is not UTF-8, is read as it is.
    #[test]
    fn each_record_is_its_own_whatever_came_before() {
        let long = "é".repeat(300);
        let mut csv = format!("{long},x\n").into_bytes();
        csv.extend_from_slice(b"b\xC3,c\nd,e\n\"f\ng\",h\n");
        let mut reader = RecordReader::from_slice(&csv, b',');
        let mut record = Record::default();
        let mut read = Vec::new();
        while reader.read_record(&mut record).unwrap() {
            read.push((record.fields.iter().map(str::to_owned).collect::<Vec<_>>(), record.not_utf8));
        }
        let row =
            |fields: &[&str], not_utf8| (fields.iter().map(|f| f.to_string()).collect::<Vec<_>>(), not_utf8);
        assert_eq!(
            read,
            [
                row(&[&long, "x"], false),
                row(&["b\u{FFFD}", "c"], true),
                row(&["d", "e"], false),
                row(&["f\ng", "h"], false)
            ]
        );
    }
}
