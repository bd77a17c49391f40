//! Stage 1: bytes → records.
//!
//! [`Source::decode`] turns the raw bytes of a file into text csvcheck can
//! parse, and records the *facts* the file rules need: the encoding, whether a
//! BOM was present, the first line holding bytes that are not UTF-8 (F001), and
//! the delimiter the header is split by (F002). [`Source::records`] then
//! yields RFC 4180 records, each with the line it starts on and its byte
//! range, so that reports can echo or show the raw line without keeping a
//! copy of it.
//!
//! ```
//! use csvcheck::read::Source;
//! let src = Source::decode(b"\xEF\xBB\xBFa;b\n1;2\n".to_vec(), None);
//! assert!(src.bom);
//! assert_eq!(src.delimiter, b';');
//! let records: Vec<_> = src.records().collect();
//! assert_eq!(records[1].line, 2);
//! assert_eq!(records[1].field(1), Some("2"));
//! ```

mod decode;
mod records;
mod sniff;
pub(crate) mod stream;

use std::ops::Range;

pub use decode::{encoding_for_label, InvalidUtf8};
pub use records::RecordReader;

/// A decoded input file and the facts found while decoding it.
#[derive(Clone, Debug)]
pub struct Source {
    /// The text that is parsed: UTF-8, except for the invalid sequences
    /// reported by [`Source::invalid_utf8`], which are kept as they are so
    /// that reports can echo them.
    bytes: Vec<u8>,
    /// Name of the encoding the file was read as (`UTF-8`, `UTF-16LE`, …).
    pub encoding: &'static str,
    /// Whether the file started with a byte-order mark.
    pub bom: bool,
    /// Where the first byte that is not UTF-8 is, when the file was read as
    /// UTF-8 and is not (the fact behind F001).
    pub invalid_utf8: Option<InvalidUtf8>,
    /// The delimiter the records are split by.
    pub delimiter: u8,
}

impl Source {
    /// Decodes `bytes`: BOM removal, UTF-16 by BOM, or the given WHATWG
    /// `encoding`; then finds the delimiter from the first record.
    pub fn decode(bytes: Vec<u8>, encoding: Option<&'static encoding_rs::Encoding>) -> Source {
        let decoded = decode::decode(bytes, encoding);
        let delimiter = sniff::delimiter(&decoded.bytes);
        Source {
            bytes: decoded.bytes,
            encoding: decoded.encoding,
            bom: decoded.bom,
            invalid_utf8: decoded.invalid_utf8,
            delimiter,
        }
    }

    /// The decoded text csvcheck parses (raw records are slices of it).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw text of a record, without its line terminator.
    pub fn raw(&self, span: &Range<usize>) -> &[u8] {
        trim_terminator(self.bytes.get(span.clone()).unwrap_or_default())
    }

    /// The records of the file, header first, blank lines skipped.
    pub fn records(&self) -> Records<'_> {
        Records { reader: self.record_reader() }
    }

    /// A reader of the records of the file that fills records the caller
    /// owns.
    pub fn record_reader(&self) -> RecordReader<'_> {
        RecordReader::from_slice(&self.bytes, self.delimiter)
    }

    /// The facts of a file that was read as a stream, without its text.
    pub(crate) fn facts(
        encoding: &'static str,
        bom: bool,
        invalid_utf8: Option<InvalidUtf8>,
        delimiter: u8,
    ) -> Source {
        Source { bytes: Vec::new(), encoding, bom, invalid_utf8, delimiter }
    }
}

/// `raw` without the line terminators it ends with.
fn trim_terminator(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i + 1);
    raw.get(..end).unwrap_or_default()
}

/// One CSV record with its position.
#[derive(Clone, Debug, Default)]
pub struct Record {
    /// The 1-based line the record starts on.
    pub line: u64,
    /// Byte range of the record in [`Source::bytes`], from its first byte to
    /// the end of its line terminator (the terminator's `\n` may be left
    /// out; [`Source::raw`] trims either).
    pub span: Range<usize>,
    /// The fields, decoded (bytes that are not UTF-8 become U+FFFD here).
    pub fields: Fields,
    /// Whether the record held bytes that are not UTF-8 (its fields are a
    /// lossy decoding): F001 reports the file once, and such a row is not
    /// reported again for what the replacement characters break.
    pub not_utf8: bool,
    /// The record as it is in the text, without its terminator — kept only
    /// by a driver that must quote rows of a stream it does not hold.
    pub(crate) raw: Vec<u8>,
    /// Whether the record was split without csv-core: it is one line, and
    /// each of its quotes opens or closes a field, in pairs (the limits on
    /// quotes need not look at it again).
    pub(crate) one_line: bool,
}

/// The fields of a record: one string and where each field ends in it, so
/// that reading a record into a reused one allocates nothing.
///
/// ```
/// use csvcheck::read::Source;
/// let src = Source::decode(b"a,\"b,c\",\n".to_vec(), None);
/// let record = src.records().next().unwrap();
/// assert_eq!(record.fields.iter().collect::<Vec<_>>(), ["a", "b,c", ""]);
/// assert_eq!(record.fields.get(1), Some("b,c"));
/// assert_eq!(record.fields.get(3), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Fields {
    /// The fields in order, one ASCII byte apart: a record without quotes
    /// is its own line, delimiters and all, copied at once.
    text: String,
    /// Where each field ends in `text`: 32 bits, as a record's text is
    /// never longer (the reader refuses one that would be), and a record's
    /// ends are half its bytes with 64 (they are written on the thread
    /// that reads and read on the one that checks).
    ends: Vec<u32>,
}

impl Fields {
    /// Field `i`, if there are that many.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)? as usize + 1,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The fields in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        (0..self.ends.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

/// Equal when the fields are: what lies between them is not theirs.
impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Fields {}

impl Record {
    /// Field `i`, if the record has that many.
    pub fn field(&self, i: usize) -> Option<&str> {
        self.fields.get(i)
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the record has no fields (never true for records yielded by
    /// [`Records`]).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether the record is a blank line: one field holding only whitespace.
    fn is_blank(&self) -> bool {
        self.fields.len() <= 1 && self.fields.get(0).is_none_or(|f| f.trim().is_empty())
    }
}

/// Iterator over the records of a [`Source`], each in a record of its own
/// (a driver that wants to reuse one uses [`Source::record_reader`]).
pub struct Records<'a> {
    reader: RecordReader<'a>,
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let mut record = Record::default();
        // Reading from memory cannot fail.
        self.reader.read_record(&mut record).ok()?.then_some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(src: &Source) -> Vec<(u64, usize)> {
        src.records().map(|r| (r.line, r.len())).collect()
    }

    #[test]
    fn records_keep_their_starting_line_across_quoted_newlines() {
        let src = Source::decode(b"a,b\n\"x\ny\",1\n\n2,3\n".to_vec(), None);
        assert_eq!(lines(&src), [(1, 2), (2, 2), (5, 2)]);
    }

    #[test]
    fn blank_and_whitespace_lines_are_skipped() {
        let src = Source::decode(b"a,b\n\n   \n1,2\r\n\r\n3,4".to_vec(), None);
        assert_eq!(lines(&src), [(1, 2), (4, 2), (6, 2)]);
    }

    #[test]
    fn raw_spans_echo_the_record_without_terminator() {
        let src = Source::decode(b"a,b\r\n\"q,1\",2\n\n3,4".to_vec(), None);
        let raws: Vec<_> = src.records().map(|r| src.raw(&r.span).to_vec()).collect();
        assert_eq!(raws, [b"a,b".to_vec(), b"\"q,1\",2".to_vec(), b"3,4".to_vec()]);
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let src = Source::decode(b"a,b\r1,2\r\r3,4".to_vec(), None);
        assert_eq!(lines(&src), [(1, 2), (2, 2), (4, 2)]);
    }

    #[test]
    fn ragged_records_are_kept() {
        let src = Source::decode(b"a,b,c\n1,2\n1,2,3,4\n".to_vec(), None);
        assert_eq!(lines(&src), [(1, 3), (2, 2), (3, 4)]);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_in_fields() {
        let src = Source::decode(b"a,b\n1,\xff\n".to_vec(), None);
        let recs: Vec<_> = src.records().collect();
        assert_eq!(recs[1].field(1), Some("\u{fffd}"));
        assert_eq!(src.invalid_utf8.map(|i| i.line), Some(2));
    }
}
