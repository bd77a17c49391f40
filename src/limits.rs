//! Hard limits that keep memory and time bounded on hostile input.
//!
//! Partner files are untrusted. Without limits, a file can make csvcheck
//! exhaust memory long before any rule runs: every record costs a fixed
//! overhead (its position, its field bounds, its planned operation), so a
//! 128 MiB file of two-byte records would need tens of gigabytes, and a reader
//! that never ends (`/dev/zero`, a stuck pipe) would be read forever.
//! [`Limits`] are data, like the profile: each has a documented default and a
//! command-line option to raise it, and exceeding one is a typed
//! [`Error::Limit`] naming the file, the place and the option — never an abort.
//!
//! [`Limits::read`] stops reading one byte past the file limit (a stream is
//! cut there too). The checker then checks each record as it parses it —
//! the records so far, its fields, its cells, a quote never closed or left
//! open on its line — and the findings after each batch of rows: rows are
//! read a few thousand at a time, so a limit stops the check before more
//! than that is held. [`Limits::check_bytes`] / [`Limits::check_source`]
//! make the same checks in one allocation-free pass over a whole text
//! ([`scan`]), for a caller that wants the verdict before any parse.
//!
//! ```
//! use csvcheck::limits::Limits;
//! use std::path::Path;
//!
//! let limits = Limits::default().with_max_columns(3);
//! let err = limits.check_bytes(Path::new("users.csv"), b"a,b,c,d\n1,2,3,4\n", None).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "users.csv:1:1: 4 columns, more than the limit of 3 (raise it with --max-columns)"
//! );
//! ```

use std::io::Read;
use std::path::Path;

use encoding_rs::{DecoderResult, Encoding, UTF_8};

use crate::error::{Error, Location, Result};
use crate::read::Source;

/// Default [`Limits::max_file_bytes`]: 256 MiB.
///
/// Control Hub takes at most 20,000 rows per upload, 3–10 MB of CSV; the
/// largest files anyone checks before splitting them into uploads are
/// exports of the biggest organisations: a million users is about 140 MB.
/// Realistic rows cost csvcheck about their own size again in memory; the
/// worst case, a file of empty cells, costs up to about eight times, which
/// [`DEFAULT_MAX_RECORDS`] and [`DEFAULT_MAX_CELL_BYTES`] bound further. So
/// 256 MiB admits a million-user file with room to spare and keeps the
/// worst case near 2 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Default [`Limits::max_records`]: 1,048,576 records (header included).
///
/// This is Excel's row limit: a longer file was never opened in a
/// spreadsheet, and it is 52 uploads of 20,000 rows. It is the limit that
/// bounds memory when records are tiny (each record costs a few hundred bytes
/// of bookkeeping whatever its length), where the file limit cannot.
pub const DEFAULT_MAX_RECORDS: u64 = 1_048_576;

/// Default [`Limits::max_columns`]: 16,384 fields in a record.
///
/// This is Excel's column limit (`XFD`). A Control Hub export has a few dozen
/// fixed columns plus one per package and subscription, so this leaves ample
/// room, while a header of 100,000 columns is refused before each of its
/// titles is classified and before every row is checked cell by cell.
pub const DEFAULT_MAX_COLUMNS: u64 = 16_384;

/// Default [`Limits::max_cell_bytes`]: 128 KiB.
///
/// A spreadsheet cell holds at most 32,767 characters (Excel), which is at
/// most 131,068 bytes of UTF-8; every Control Hub value is far shorter (names
/// 64 characters, display names 128). A longer cell is corruption (a quote
/// that swallowed half the file) or an attack, and every rule, report and
/// message would otherwise copy it.
pub const DEFAULT_MAX_CELL_BYTES: u64 = 128 * 1024;

/// Default [`Limits::max_findings`]: 200,000 findings in one file.
///
/// Ten for every row of a full 20,000-row upload. A finding costs several
/// hundred bytes (its message, help, value and column), far more than the
/// cell it is about, so a file of 5 MB with a finding in every cell would
/// otherwise take gigabytes; past this many, the findings say nothing new.
pub const DEFAULT_MAX_FINDINGS: u64 = 200_000;

/// The limits a file must stay within to be checked.
///
/// `Limits::default()` is what the command line uses unless an option
/// raises a limit (`--max-file-size`, `--max-records`, `--max-columns`,
/// `--max-cell-size`, `--max-findings`). `u64::MAX` disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Limits {
    /// Largest input, in bytes as read (before decoding).
    pub max_file_bytes: u64,
    /// Most non-blank records, header included.
    pub max_records: u64,
    /// Most fields in any one record.
    pub max_columns: u64,
    /// Largest field, in bytes of the decoded text (quotes included).
    pub max_cell_bytes: u64,
    /// Most findings (diagnostics) in one file.
    pub max_findings: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            max_columns: DEFAULT_MAX_COLUMNS,
            max_cell_bytes: DEFAULT_MAX_CELL_BYTES,
            max_findings: DEFAULT_MAX_FINDINGS,
        }
    }
}

/// What one pass over a CSV text found: the facts the limits are checked
/// against. Offsets are byte offsets into the scanned text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Non-blank records, header included: exactly what
    /// [`Source::records`] yields.
    pub records: u64,
    /// The most fields in one record, and where that record starts.
    pub widest: (u64, usize),
    /// The largest field in bytes, where it starts, and its 0-based index.
    pub largest_cell: (u64, usize, usize),
    /// Where a quote opens that is never closed: the rest of the file after
    /// it is one field.
    pub open_quote: Option<usize>,
    /// The first quoted field that runs over a line end and whose closing
    /// quote is followed by more text — the mark of a quote left open
    /// mid-file, closed by accident by the next field's opening quote:
    /// (where it opens, where it closes).
    pub runaway_quote: Option<(usize, usize)>,
}

/// States of RFC 4180 parsing, as `csv-core` has them (quoting on, doubled
/// quotes, no escape character, no comments, `\r`, `\n` or `\r\n` ends a
/// record).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: either the first of `""` or the close.
    QuoteInQuoted,
}

/// Scans CSV text split by `delimiter` without allocating.
///
/// It follows the `csv` crate's reader exactly (so that [`Shape::records`]
/// equals the number of records csvcheck will hold), including its two
/// quirks: a UTF-8 byte-order mark at the very start is skipped, and a quote
/// opens a quoted field only as a field's first byte (elsewhere it is text).
pub fn scan(bytes: &[u8], delimiter: u8) -> Shape {
    scan_from(bytes, delimiter, true)
}

/// [`scan`] of text that starts a file (`at_start`: a byte-order mark
/// first is skipped) or that starts a line within one, where the reader
/// reads a byte-order mark as a character of the first cell.
fn scan_from(bytes: &[u8], delimiter: u8, at_start: bool) -> Shape {
    let start = if at_start && bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let mut shape = Shape::default();
    let mut state = State::StartRecord;
    let (mut record_start, mut field_start, mut fields) = (start, start, 0u64);
    // Whether the record's single field, so far, is only whitespace (such a
    // record is a blank line, and skipped); tracked for the first field only.
    let mut blank = true;
    let mut non_ascii = false;
    // Whether the current quoted field holds a line end.
    let mut multiline = false;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        let is_term = b == b'\n' || b == b'\r';
        match state {
            State::StartRecord => {
                if is_term {
                    i += 1;
                    continue;
                }
                record_start = i;
                field_start = i;
                fields = 0;
                blank = true;
                non_ascii = false;
                state = State::StartField;
                continue;
            }
            State::StartField => {
                field_start = i;
                if b == b'"' {
                    multiline = false;
                    state = State::InQuoted;
                } else if b == delimiter {
                    end_field(&mut shape, &mut fields, field_start, i, &mut blank);
                } else if is_term {
                    end_field(&mut shape, &mut fields, field_start, i, &mut blank);
                    end_record(&mut shape, bytes, fields, record_start, field_start, i, blank, non_ascii);
                    state = State::StartRecord;
                } else {
                    content(b, fields, &mut blank, &mut non_ascii);
                    state = State::InField;
                }
            }
            State::InField => {
                // Fast path: skip ordinary bytes of an unquoted field.
                let rest = bytes.get(i..).unwrap_or_default();
                let run = rest.iter().position(|&c| c == delimiter || c == b'\n' || c == b'\r');
                let stop = run.unwrap_or(rest.len());
                if fields == 0 && blank {
                    first_field(rest.get(..stop).unwrap_or_default(), &mut blank, &mut non_ascii);
                }
                i += stop;
                let Some(&c) = bytes.get(i) else { break };
                end_field(&mut shape, &mut fields, field_start, i, &mut blank);
                if c != delimiter {
                    end_record(&mut shape, bytes, fields, record_start, field_start, i, blank, non_ascii);
                    state = State::StartRecord;
                } else {
                    state = State::StartField;
                }
            }
            State::InQuoted => {
                let rest = bytes.get(i..).unwrap_or_default();
                let stop = rest.iter().position(|&c| c == b'"').unwrap_or(rest.len());
                let run = rest.get(..stop).unwrap_or_default();
                if fields == 0 && blank {
                    first_field(run, &mut blank, &mut non_ascii);
                }
                if !multiline && shape.runaway_quote.is_none() {
                    multiline = run.iter().any(|&c| c == b'\n' || c == b'\r');
                }
                i += stop;
                if i >= bytes.len() {
                    break;
                }
                state = State::QuoteInQuoted;
            }
            State::QuoteInQuoted => {
                if b == b'"' {
                    // `""`: a literal quote, which is not whitespace.
                    content(b, fields, &mut blank, &mut non_ascii);
                    state = State::InQuoted;
                } else if b == delimiter {
                    end_field(&mut shape, &mut fields, field_start, i, &mut blank);
                    state = State::StartField;
                } else if is_term {
                    end_field(&mut shape, &mut fields, field_start, i, &mut blank);
                    end_record(&mut shape, bytes, fields, record_start, field_start, i, blank, non_ascii);
                    state = State::StartRecord;
                } else {
                    // Text after a closing quote: lenient readers keep it,
                    // but after a line break it means the quote was not
                    // meant to close here.
                    if multiline && shape.runaway_quote.is_none() {
                        shape.runaway_quote = Some((field_start, i.saturating_sub(1)));
                    }
                    content(b, fields, &mut blank, &mut non_ascii);
                    state = State::InField;
                }
            }
        }
        i += 1;
    }
    let end = bytes.len();
    match state {
        State::StartRecord => {}
        State::InQuoted => {
            shape.open_quote = Some(field_start);
            end_field(&mut shape, &mut fields, field_start, end, &mut blank);
            end_record(&mut shape, bytes, fields, record_start, field_start, end, blank, non_ascii);
        }
        State::StartField | State::InField | State::QuoteInQuoted => {
            end_field(&mut shape, &mut fields, field_start, end, &mut blank);
            end_record(&mut shape, bytes, fields, record_start, field_start, end, blank, non_ascii);
        }
    }
    shape
}

/// Notes a content byte of field `fields` (only the first field matters for
/// blankness).
#[inline]
fn content(b: u8, fields: u64, blank: &mut bool, non_ascii: &mut bool) {
    if fields != 0 {
        return;
    }
    if !b.is_ascii() {
        *non_ascii = true;
    } else if !b.is_ascii_whitespace() && b != b'\x0B' {
        *blank = false;
    }
}

/// Notes a run of content bytes of a record's first field, stopping at the
/// first byte that makes it non-blank (a 50 MB first cell costs nothing).
#[inline]
fn first_field(run: &[u8], blank: &mut bool, non_ascii: &mut bool) {
    for &c in run {
        content(c, 0, blank, non_ascii);
        if !*blank {
            return;
        }
    }
}

#[inline]
fn end_field(shape: &mut Shape, fields: &mut u64, start: usize, end: usize, blank: &mut bool) {
    let len = end.saturating_sub(start) as u64;
    if len > shape.largest_cell.0 {
        shape.largest_cell = (len, start, *fields as usize);
    }
    *fields += 1;
    if *fields > 1 {
        *blank = false;
    }
}

/// Counts a finished record unless it is blank: one field that holds only
/// whitespace once parsed (as `Record::is_blank` decides, with Unicode
/// whitespace and lossy UTF-8).
#[allow(clippy::too_many_arguments)]
#[inline]
fn end_record(
    shape: &mut Shape,
    bytes: &[u8],
    fields: u64,
    start: usize,
    field_start: usize,
    end: usize,
    blank: bool,
    non_ascii: bool,
) {
    let is_blank = fields <= 1 && blank && (!non_ascii || unicode_blank(bytes.get(field_start..end)));
    if is_blank {
        return;
    }
    shape.records += 1;
    if fields > shape.widest.0 {
        shape.widest = (fields, start);
    }
}

/// Whether a single raw field whose ASCII content is only whitespace is
/// blank once parsed: every `"` in it is then structural (a literal quote
/// would have made it non-blank), and its text must be valid UTF-8 (else the
/// reader substitutes U+FFFD, which is not whitespace).
fn unicode_blank(raw: Option<&[u8]>) -> bool {
    raw.unwrap_or_default()
        .split(|&b| b == b'"')
        .all(|piece| std::str::from_utf8(piece).is_ok_and(|s| s.trim().is_empty()))
}

/// Line and column (1-based, in characters) of byte `offset` of `text`,
/// counting `\n`, `\r\n` and a lone `\r` as line ends, as the reader does.
pub fn location(text: &[u8], offset: usize) -> Location {
    let before = text.get(..offset.min(text.len())).unwrap_or_default();
    let mut line = 1u64;
    let mut line_start = 0;
    let mut prev_cr = false;
    for (i, &b) in before.iter().enumerate() {
        match b {
            b'\n' if prev_cr => line_start = i + 1,
            b'\n' | b'\r' => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    let mut prefix = before.get(line_start..).unwrap_or_default();
    if line == 1 {
        prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    }
    let column = prefix.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64 + 1;
    Location { line, column }
}

/// `1234567` → `"1,234,567"`, for messages.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Limits {
    /// Limits that never trigger (for callers that bound input themselves).
    pub const UNLIMITED: Limits = Limits {
        max_file_bytes: u64::MAX,
        max_records: u64::MAX,
        max_columns: u64::MAX,
        max_cell_bytes: u64::MAX,
        max_findings: u64::MAX,
    };

    fn error(path: &Path, location: Option<Location>, message: String) -> Error {
        Error::Limit { path: path.to_owned(), location, message }
    }

    /// These limits with [`max_file_bytes`](Limits::max_file_bytes) set.
    pub const fn with_max_file_bytes(mut self, n: u64) -> Limits {
        self.max_file_bytes = n;
        self
    }

    /// These limits with [`max_records`](Limits::max_records) set.
    pub const fn with_max_records(mut self, n: u64) -> Limits {
        self.max_records = n;
        self
    }

    /// These limits with [`max_columns`](Limits::max_columns) set.
    pub const fn with_max_columns(mut self, n: u64) -> Limits {
        self.max_columns = n;
        self
    }

    /// These limits with [`max_cell_bytes`](Limits::max_cell_bytes) set.
    pub const fn with_max_cell_bytes(mut self, n: u64) -> Limits {
        self.max_cell_bytes = n;
        self
    }

    /// These limits with [`max_findings`](Limits::max_findings) set.
    pub const fn with_max_findings(mut self, n: u64) -> Limits {
        self.max_findings = n;
        self
    }

    /// Checks one record as it is read, for input that is streamed and never
    /// held whole (where [`check_source`](Limits::check_source) cannot run):
    /// its number of fields and the size of each. `line` is the line the
    /// record starts on, `records` how many records have been read so far
    /// (this one included).
    pub fn check_record<'a>(
        &self,
        path: &Path,
        line: u64,
        records: u64,
        fields: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        let at = |column: u64| Some(Location { line, column });
        if records > self.max_records {
            return Err(Limits::error(
                path,
                at(0),
                format!(
                    "more than {} records (raise the limit with --max-records)",
                    thousands(self.max_records)
                ),
            ));
        }
        let mut count = 0u64;
        for field in fields {
            count += 1;
            if field.len() as u64 > self.max_cell_bytes {
                return Err(Limits::error(
                    path,
                    at(0),
                    format!(
                        "field {count} holds {} bytes, more than the limit of {} (raise it with --max-cell-size)",
                        thousands(field.len() as u64),
                        thousands(self.max_cell_bytes)
                    ),
                ));
            }
        }
        if count > self.max_columns {
            return Err(self.too_many_columns(path, at(0), count));
        }
        Ok(())
    }

    /// Checks one record as the reader yields it, so that a file is checked
    /// against the limits in the same pass that parses it: the records read
    /// so far (`records`, this one included), its columns, its largest cell,
    /// and a quote that is never closed or that runs over a line end.
    ///
    /// `raw` is the record as it is in the text, without its terminator, and
    /// `title` names a column for messages. The structural scan ([`scan`])
    /// runs only on a record that spans lines or holds an odd number of
    /// quotes: a quote left open makes one of the two, so an ordinary record
    /// costs two counts over its bytes.
    pub(crate) fn check_read(
        &self,
        path: &Path,
        record: &crate::read::Record,
        raw: &[u8],
        delimiter: u8,
        records: u64,
        title: &dyn Fn(usize) -> Option<String>,
    ) -> Result<()> {
        // Where offset `at` of the record is in the file: the record starts
        // a line, so only the line moves.
        let at = |offset: usize| {
            let local = location(raw, offset);
            Location { line: local.line + record.line.saturating_sub(1), column: local.column }
        };
        // Most records hold neither a quote nor a line end (one pass says
        // so), or were split as one line whose quotes pair up.
        let plain = record.one_line || memchr::memchr3(b'"', b'\n', b'\r', raw).is_none();
        let odd_quotes = || memchr::memchr_iter(b'"', raw).count() % 2 == 1;
        let multiline = || memchr::memchr2(b'\n', b'\r', raw).is_some();
        // Only the first record starts the text, where the reader skips a
        // byte-order mark; elsewhere one is text, and a quote after it too.
        let scan = || scan_from(raw, delimiter, record.span.start == 0);
        let shape = (!plain && (multiline() || odd_quotes())).then(scan);
        // The cause first: an unclosed quote also makes a huge last cell.
        if let Some(open) = shape.and_then(|s| s.open_quote) {
            let lines = location(raw, raw.len()).line.saturating_sub(location(raw, open).line);
            return Err(never_closed(path, at(open), lines));
        }
        if let Some((open, close)) = shape.and_then(|s| s.runaway_quote) {
            return Err(runaway_quote(path, at(open), at(close)));
        }
        if record.len() as u64 > self.max_columns {
            return Err(self.too_many_columns(path, Some(at(0)), record.len() as u64));
        }
        // No cell is longer than its record.
        if raw.len() as u64 > self.max_cell_bytes {
            let (len, start, index) = shape.unwrap_or_else(scan).largest_cell;
            if len > self.max_cell_bytes {
                return Err(self.too_large_cell(path, at(start), len, title(index)));
            }
        }
        if records > self.max_records {
            return Err(Limits::error(
                path,
                Some(at(0)),
                format!(
                    "more than {} records (raise the limit with --max-records; `csvcheck split` needs \
                     the file to fit too)",
                    thousands(self.max_records)
                ),
            ));
        }
        Ok(())
    }

    /// A record of `columns` fields, over the limit.
    fn too_many_columns(&self, path: &Path, at: Option<Location>, columns: u64) -> Error {
        Limits::error(
            path,
            at,
            format!(
                "{} columns, more than the limit of {} (raise it with --max-columns)",
                thousands(columns),
                thousands(self.max_columns)
            ),
        )
    }

    /// A cell of `len` bytes in the column titled `title`, over the limit.
    fn too_large_cell(&self, path: &Path, at: Location, len: u64, title: Option<String>) -> Error {
        let column = match title {
            Some(t) => format!(" (column {:?})", crate::text::printable(&t)),
            None => String::new(),
        };
        Limits::error(
            path,
            Some(at),
            format!(
                "a cell of {} bytes{column}, more than the limit of {} (raise it with --max-cell-size)",
                thousands(len),
                thousands(self.max_cell_bytes)
            ),
        )
    }

    /// Checks the number of findings made so far, `line` being the last
    /// line checked: the place to call it is after each batch of rows, so
    /// that a file with a finding in every cell stops before the findings
    /// fill memory.
    pub fn check_findings(&self, path: &Path, findings: u64, line: u64) -> Result<()> {
        if findings > self.max_findings {
            return Err(Limits::error(
                path,
                None,
                format!(
                    "more than {} findings by line {}: fix what the first ones say (`csvcheck fix` \
                     trims and normalises every cell), or raise the limit with --max-findings",
                    thousands(self.max_findings),
                    thousands(line)
                ),
            ));
        }
        Ok(())
    }

    /// Checks a file's size in bytes (before reading it, from its metadata).
    pub fn check_len(&self, path: &Path, len: u64) -> Result<()> {
        if len > self.max_file_bytes {
            return Err(Limits::error(
                path,
                None,
                format!(
                    "{} bytes, more than the limit of {} (raise it with --max-file-size)",
                    thousands(len),
                    thousands(self.max_file_bytes)
                ),
            ));
        }
        Ok(())
    }

    /// Reads all of `reader`, but never more than one byte past
    /// [`max_file_bytes`](Limits::max_file_bytes): a reader that never ends
    /// is an error, not an out-of-memory abort.
    pub fn read(&self, path: &Path, reader: impl Read) -> Result<Vec<u8>> {
        self.read_into(path, reader, Vec::new())
    }

    /// [`read`](Limits::read) into `bytes`, whose capacity may be the size
    /// the input is expected to have.
    fn read_into(&self, path: &Path, reader: impl Read, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
        reader
            .take(self.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if bytes.len() as u64 > self.max_file_bytes {
            return Err(Limits::error(
                path,
                None,
                format!(
                    "more than the limit of {} bytes (raise it with --max-file-size)",
                    thousands(self.max_file_bytes)
                ),
            ));
        }
        Ok(bytes)
    }

    /// Reads a file within the limits: its size is checked from its metadata
    /// first, so that a huge file is refused without reading it.
    pub fn read_path(&self, path: &Path) -> Result<Vec<u8>> {
        let file = self.open_path(path)?;
        // Sized from the metadata, the buffer is filled once: grown by
        // doubling, a 35 MB org file was copied about twice over and left
        // up to twice its size in memory. (A file that grows meanwhile is
        // still read whole; the size limit still holds.)
        let expected = file.metadata().map_or(0, |m| m.len().min(self.max_file_bytes));
        let bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0).saturating_add(1));
        self.read_into(path, file, bytes)
    }

    /// Opens a file to be read within the limits, refusing a regular file
    /// over the size limit from its metadata, before reading it.
    pub(crate) fn open_path(&self, path: &Path) -> Result<std::fs::File> {
        let file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if let Ok(meta) = file.metadata() {
            if meta.is_file() {
                self.check_len(path, meta.len())?;
            }
        }
        Ok(file)
    }

    /// Checks the raw bytes of a CSV file as csvcheck will decode them
    /// (`encoding` as for [`Source::decode`]): size, encoding, then the
    /// structure of the decoded text (records, columns, cells, a quote that
    /// is never closed).
    ///
    /// This decodes a copy of `bytes`; inside the checker, call
    /// [`check_encoding`](Limits::check_encoding) before decoding and
    /// [`check_source`](Limits::check_source) after, which costs no copy.
    pub fn check_bytes(
        &self,
        path: &Path,
        bytes: &[u8],
        encoding: Option<&'static Encoding>,
    ) -> Result<Shape> {
        self.check_len(path, bytes.len() as u64)?;
        self.check_encoding(path, bytes, encoding)?;
        self.check_source(path, &Source::decode(bytes.to_vec(), encoding))
    }

    /// Refuses a file that is not valid in the encoding it is decoded from,
    /// when that is not UTF-8 (invalid UTF-8 is F001, a finding): an odd
    /// trailing byte in UTF-16 is a truncated file, and decoding would hide
    /// it behind a replacement character. The error names the line and
    /// column where the text breaks.
    pub fn check_encoding(
        &self,
        path: &Path,
        bytes: &[u8],
        encoding: Option<&'static Encoding>,
    ) -> Result<()> {
        let (encoding, bom_len) = match Encoding::for_bom(bytes) {
            Some((enc, len)) => (enc, len),
            None => (encoding.unwrap_or(UTF_8), 0),
        };
        if encoding == UTF_8 {
            return Ok(());
        }
        decode_strict(path, encoding, bytes.get(bom_len..).unwrap_or_default())
    }

    /// Checks a decoded [`Source`]: records, columns, cells and unclosed
    /// quotes, in one pass that allocates nothing. The place to call it is
    /// right after [`Source::decode`], before [`Source::records`] allocates
    /// a record per line.
    pub fn check_source(&self, path: &Path, source: &Source) -> Result<Shape> {
        self.check_text(path, source.bytes(), source.delimiter)
    }

    /// Scans decoded text and turns the first limit it exceeds into an error.
    fn check_text(&self, path: &Path, text: &[u8], delimiter: u8) -> Result<Shape> {
        let shape = scan(text, delimiter);
        // The cause first: an unclosed quote also makes a huge last cell.
        if let Some(at) = shape.open_quote {
            let mut last_line = location(text, text.len()).line;
            if text.ends_with(b"\n") || text.ends_with(b"\r") {
                last_line -= 1;
            }
            let lines = last_line.saturating_sub(location(text, at).line);
            return Err(never_closed(path, location(text, at), lines));
        }
        if let Some((open, close)) = shape.runaway_quote {
            return Err(runaway_quote(path, location(text, open), location(text, close)));
        }
        let (fields, at) = shape.widest;
        if fields > self.max_columns {
            return Err(self.too_many_columns(path, Some(location(text, at)), fields));
        }
        let (len, at, index) = shape.largest_cell;
        if len > self.max_cell_bytes {
            return Err(self.too_large_cell(
                path,
                location(text, at),
                len,
                header_title(text, delimiter, index),
            ));
        }
        if shape.records > self.max_records {
            return Err(Limits::error(
                path,
                None,
                format!(
                    "{} records, more than the limit of {} (raise it with --max-records; \
                     `csvcheck split` needs the file to fit too)",
                    thousands(shape.records),
                    thousands(self.max_records)
                ),
            ));
        }
        Ok(shape)
    }
}

/// A quote opened at `at` and never closed, `lines` lines before the end.
fn never_closed(path: &Path, at: Location, lines: u64) -> Error {
    Error::Malformed {
        path: path.to_owned(),
        location: at,
        message: format!(
            "this quote is never closed, so everything after it ({} more lines) is one cell; \
             close it with `\"` or double it (`\"\"`) if it is part of the value",
            thousands(lines)
        ),
    }
}

/// A quote opened at `open`, over a line end, and closed by accident at
/// `closed` by a quote followed by more text.
fn runaway_quote(path: &Path, open: Location, closed: Location) -> Error {
    Error::Malformed {
        path: path.to_owned(),
        location: open,
        message: format!(
            "this quote is not closed on its line: the cell runs on to line {}, column {}, where a quote \
             followed by more text ends it; close the quote here, or double it (`\"\"`) if it is part \
             of the value",
            closed.line, closed.column
        ),
    }
}

/// A reader that fails once its input runs past a limit: what a stream
/// reads (a pipe, a socket, `/dev/zero`) stays within
/// [`Limits::max_file_bytes`] although it is never held whole.
pub(crate) struct Bounded<R> {
    inner: R,
    max: u64,
    left: u64,
}

impl<R> Bounded<R> {
    pub(crate) fn new(inner: R, max: u64) -> Bounded<R> {
        Bounded { inner, max, left: max }
    }
}

/// The error a [`Bounded`] reader fails with (inside an [`std::io::Error`]).
#[derive(Debug)]
pub(crate) struct TooLong(pub(crate) u64);

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than the limit of {} bytes (raise it with --max-file-size)", thousands(self.0))
    }
}

impl std::error::Error for TooLong {}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => Err(std::io::Error::other(TooLong(self.max))),
        }
    }
}

impl Limits {
    /// The error for a failed read: [`Error::Limit`] when a [`Bounded`]
    /// reader ran past the file limit, else [`Error::Io`].
    pub(crate) fn read_error(path: &Path, source: std::io::Error) -> Error {
        match source.get_ref().and_then(|e| e.downcast_ref::<TooLong>()) {
            Some(too_long) => Limits::error(path, None, too_long.to_string()),
            None => Error::Io { path: path.to_owned(), source },
        }
    }
}

/// The title of header column `index`, when the cell's record is not the
/// header itself (for messages only).
fn header_title(text: &[u8], delimiter: u8, index: usize) -> Option<String> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text);
    let mut record = csv::ByteRecord::new();
    // The first record may be the culprit: do not copy a huge title.
    let bounded = DEFAULT_MAX_CELL_BYTES as usize;
    if reader.read_byte_record(&mut record).ok()? {
        let title = record.get(index)?;
        if title.len() <= bounded {
            return Some(String::from_utf8_lossy(title).into_owned());
        }
    }
    None
}

/// Decodes `body` (without BOM) from `encoding`, refusing malformed input
/// with its line and column: an odd trailing byte in UTF-16 is a truncated
/// file, and the replacement character would hide it.
fn decode_strict(path: &Path, encoding: &'static Encoding, body: &[u8]) -> Result<()> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .unwrap_or(body.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(body, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(()),
        DecoderResult::Malformed(bad, _) => {
            let what = if encoding.name().starts_with("UTF-16") && body.len() % 2 == 1 && read == body.len() {
                "ends in half a character (an odd number of bytes): the file was probably cut short"
                    .to_owned()
            } else {
                format!("has {bad} byte(s) that are not valid {}", encoding.name())
            };
            Err(Error::Malformed {
                path: path.to_owned(),
                location: location(text.as_bytes(), text.len()),
                message: format!("the file is {} but {what}", encoding.name()),
            })
        }
        // The buffer is sized for the worst case, so this does not happen;
        // refuse rather than check a truncated text.
        DecoderResult::OutputFull => Err(Error::Malformed {
            path: path.to_owned(),
            location: location(text.as_bytes(), text.len()),
            message: format!("could not decode the file as {}", encoding.name()),
        }),
    }
}

/// The limits as command-line options, for `#[command(flatten)]` into the
/// arguments of a subcommand that reads input files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Limits (raise them for unusually large files)")]
pub struct LimitArgs {
    /// Largest input file, e.g. 512MiB or 1G; `none` for no limit.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Most records in a file, header included; `none` for no limit.
    #[arg(long, value_name = "N", default_value = "1048576", value_parser = parse_count)]
    pub max_records: u64,
    /// Most columns (fields) in a record; `none` for no limit.
    #[arg(long, value_name = "N", default_value = "16384", value_parser = parse_count)]
    pub max_columns: u64,
    /// Largest cell, e.g. 1MiB; `none` for no limit.
    #[arg(long, value_name = "SIZE", default_value = "128KiB", value_parser = parse_size)]
    pub max_cell_size: u64,
    /// Most findings in a file; `none` for no limit.
    #[arg(long, value_name = "N", default_value = "200000", value_parser = parse_count)]
    pub max_findings: u64,
}

impl LimitArgs {
    /// The limits these options set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_file_bytes: self.max_file_size,
            max_records: self.max_records,
            max_columns: self.max_columns,
            max_cell_bytes: self.max_cell_size,
            max_findings: self.max_findings,
        }
    }
}

/// Parses a count: digits (`_` and `,` allowed between them), or `none`.
pub fn parse_count(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("unlimited") {
        return Ok(u64::MAX);
    }
    let digits: String = s.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    digits.parse().map_err(|_| format!("invalid number {s:?}: expected digits, or `none`"))
}

/// Parses a size in bytes: a count with an optional unit — `K`, `M`, `G`
/// (or `KiB`, `MiB`, `GiB`) for powers of 1024, `KB`, `MB`, `GB` for powers
/// of 1000 — or `none`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.trim().is_empty() {
        return parse_count(t);
    }
    let scale: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("invalid size {s:?}: expected e.g. 512MiB, 1G, 300MB or `none`")),
    };
    parse_count(number)?.checked_mul(scale).ok_or_else(|| format!("invalid size {s:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the reader yields: (records, widest).
    fn reader_shape(text: &[u8]) -> (u64, u64) {
        let src = Source::decode(text.to_vec(), None);
        let records: Vec<_> = src.records().collect();
        (records.len() as u64, records.iter().map(|r| r.len() as u64).max().unwrap_or(0))
    }

    #[test]
    fn scan_counts_what_the_reader_yields() {
        let cases: &[&[u8]] = &[
            b"",
            b"\n\n\r\n",
            b"a,b\n1,2\n",
            b"a,b\r\n1,2",
            b"a,b\r1,2\r\r3,4",
            b"a\n   \n\t\n\"\"\n\"  \"\n b\n",
            b"a,b\n\"x\ny\",1\n\n2,3\n",
            b"a,\"b\"\"c\",d\n",
            b"a\"b,c\n",
            b"\"a\"b\"c,d\n",
            b"\xEF\xBB\xBF\n",
            b"\xEF\xBB\xBFa,b\n",
            b"a\n\xC2\xA0\n\xE3\x80\x80\n",
            b"a\n\xff\n",
            b"a\n\"\xC2\xA0\"\"\"\n",
            b",\n,,,\n",
            b"\"unclosed,\n1,2\n",
        ];
        for &case in cases {
            let shape = scan(case, b',');
            assert_eq!(
                (shape.records, shape.widest.0),
                reader_shape(case),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn scan_finds_the_largest_cell_and_the_open_quote() {
        let text = b"a,b\n1,\"22\"\"2\"\n3,\"4\n5\n";
        let shape = scan(text, b',');
        assert_eq!(shape.largest_cell, (7, 6, 1));
        assert_eq!(shape.open_quote, Some(16));
        assert_eq!(location(text, 16), Location { line: 3, column: 3 });
        assert_eq!(scan(b"a,\"b\"\n", b',').open_quote, None);
        assert_eq!(scan(b"a,b\"\n", b',').open_quote, None);
        // Text after a closing quote is a runaway only across a line end.
        assert_eq!(scan(b"a,\"b\"c\n", b',').runaway_quote, None);
        assert_eq!(scan(b"a,\"b\nc\",d\n", b',').runaway_quote, None);
        assert_eq!(scan(b"a,\"b\n1,\"c\",d\n", b',').runaway_quote, Some((2, 7)));
    }

    #[test]
    fn locations_count_every_line_end_and_characters() {
        let text = "ab\r\ncd\ré,\"x".as_bytes();
        assert_eq!(location(text, 0), Location { line: 1, column: 1 });
        assert_eq!(location(text, 4), Location { line: 2, column: 1 });
        assert_eq!(location(text, 7), Location { line: 3, column: 1 });
        // 'é' is two bytes, one column.
        assert_eq!(location(text, 10), Location { line: 3, column: 3 });
        assert_eq!(location(b"\xEF\xBB\xBFab", 4), Location { line: 1, column: 2 });
    }

    #[test]
    fn each_limit_names_its_option() {
        let path = Path::new("f.csv");
        let tight = Limits::UNLIMITED.with_max_file_bytes(10);
        let err =
            |bytes: &[u8], limits: Limits| limits.check_bytes(path, bytes, None).unwrap_err().to_string();
        assert!(err(&[b'a'; 11], tight).contains("--max-file-size"));
        assert_eq!(
            err(b"a,b,c\n", Limits::default().with_max_columns(2)),
            "f.csv:1:1: 3 columns, more than the limit of 2 (raise it with --max-columns)"
        );
        assert_eq!(
            err(b"N,b\nxx,abcd\n", Limits::default().with_max_cell_bytes(3)),
            "f.csv:2:4: a cell of 4 bytes (column \"b\"), more than the limit of 3 (raise it with --max-cell-size)"
        );
        assert!(err(b"a\nb\n\nc\n", Limits::default().with_max_records(2)).contains("3 records"));
        assert!(Limits::default().with_max_records(3).check_bytes(path, b"a\nb\n\nc\n", None).is_ok());
    }

    #[test]
    fn streamed_records_are_checked_one_by_one() {
        let limits = Limits::default().with_max_columns(3).with_max_cell_bytes(4).with_max_records(10);
        let path = Path::new("s.csv");
        assert!(limits.check_record(path, 7, 10, ["a", "bcde", ""]).is_ok());
        let err = |records, fields: &[&str]| {
            limits.check_record(path, 7, records, fields.iter().copied()).unwrap_err().to_string()
        };
        assert_eq!(
            err(3, &["a", "b", "c", "d"]),
            "s.csv:7: 4 columns, more than the limit of 3 (raise it with --max-columns)"
        );
        assert!(err(3, &["abcde"]).starts_with("s.csv:7: field 1 holds 5 bytes"));
        assert!(err(11, &["a"]).contains("more than 10 records"));
    }

    #[test]
    fn findings_past_the_limit_stop_the_check() {
        let limits = Limits::default().with_max_findings(10);
        assert!(limits.check_findings(Path::new("f.csv"), 10, 7).is_ok());
        let err = limits.check_findings(Path::new("f.csv"), 11, 1234).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv: more than 10 findings by line 1,234: fix what the first ones say (`csvcheck fix` \
             trims and normalises every cell), or raise the limit with --max-findings"
        );
    }

    #[test]
    fn reading_stops_past_the_limit() {
        let limits = Limits::default().with_max_file_bytes(1000);
        let err = limits.read(Path::new("-"), std::io::repeat(b'x')).unwrap_err();
        assert!(matches!(err, Error::Limit { .. }), "{err}");
        assert_eq!(limits.read(Path::new("-"), &[b'x'; 1000][..]).unwrap().len(), 1000);
    }

    #[test]
    fn an_unclosed_quote_is_located_where_it_opens() {
        let err = Limits::default()
            .check_bytes(Path::new("f.csv"), b"a,b\n1,2\n3,\"4\n5,6\n7,8\n", None)
            .unwrap_err();
        assert_eq!(err.location(), Some(Location { line: 3, column: 3 }));
        assert!(err.to_string().contains("never closed"), "{err}");
        assert!(err.to_string().contains("2 more lines"), "{err}");
    }

    #[test]
    fn truncated_utf16_is_refused_where_it_breaks() {
        let mut bytes = vec![0xFF, 0xFE];
        for c in "a,b\n1,2\n".encode_utf16() {
            bytes.extend(c.to_le_bytes());
        }
        bytes.push(b'3');
        let err = Limits::default().check_bytes(Path::new("f.csv"), &bytes, None).unwrap_err();
        assert_eq!(err.location(), Some(Location { line: 3, column: 1 }));
        assert!(err.to_string().contains("odd number of bytes"), "{err}");
        bytes.pop();
        assert_eq!(Limits::default().check_bytes(Path::new("f.csv"), &bytes, None).unwrap().records, 2);
    }

    #[test]
    fn sizes_and_counts_parse() {
        assert_eq!(parse_size("256MiB"), Ok(DEFAULT_MAX_FILE_BYTES));
        assert_eq!(parse_size("128k"), Ok(DEFAULT_MAX_CELL_BYTES));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size(" 1_000 "), Ok(1000));
        assert_eq!(parse_size("none"), Ok(u64::MAX));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert_eq!(parse_count("1,048,576"), Ok(DEFAULT_MAX_RECORDS));
        assert!(parse_count("-1").is_err());
    }

    #[test]
    fn option_defaults_are_the_default_limits() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            limits: LimitArgs,
        }
        assert_eq!(Cli::parse_from(["csvcheck"]).limits.limits(), Limits::default());
        let raised = Cli::parse_from(["csvcheck", "--max-cell-size", "2MiB", "--max-columns", "none"]);
        assert_eq!(
            raised.limits.limits(),
            Limits::default().with_max_cell_bytes(2 << 20).with_max_columns(u64::MAX)
        );
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(52_428_800), "52,428,800");
    }
}
