//! `csvcheck split`: a file too big for one upload (F004) cut into uploads
//! of at most N data rows each.
//!
//! * Every part starts with the header, and records are copied byte for
//!   byte — quoting, spacing and line breaks inside quoted cells included —
//!   each ended by the file's own line terminator. A record is never cut: a
//!   record spread over several lines goes whole into one part.
//! * Parts are named `<stem>-part-001-of-003.csv`: the numbers are padded
//!   to the same width (at least three digits), so the names sort in upload
//!   order.
//! * A UTF-8 byte-order mark is repeated at the start of each part; UTF-16
//!   input is written as UTF-8. Blank lines are not copied. A file with a
//!   header and no data rows gives one part holding only the header.
//!
//! ```
//! use csvcheck::{read::Source, split::Split};
//! let source = Source::decode(b"Email\na@x.example\nb@x.example\n\"c\nd\"\n".to_vec(), None);
//! let split = Split::new("users", &source, 2).unwrap();
//! let parts = split.parts();
//! assert_eq!(parts.len(), 2);
//! assert_eq!(parts[1].file_name, "users-part-002-of-002.csv");
//! let mut out = Vec::new();
//! split.write(&parts[1], &mut out).unwrap();
//! assert_eq!(out, b"Email\n\"c\nd\"\n");
//! ```

use std::io::{self, Write};
use std::ops::{Range, RangeInclusive};

use crate::error::{Error, Result};
use crate::read::Source;
use crate::report::csv::line_terminator;

/// The default most data rows per part: Control Hub's limit per upload.
pub const DEFAULT_ROWS: u64 = crate::options::DEFAULT_MAX_ROWS;

/// One part of a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// 1-based number of the part.
    pub number: usize,
    /// `<stem>-part-NNN-of-MMM.csv`.
    pub file_name: String,
    /// The data rows of the input it holds (1-based, end exclusive); empty
    /// for the single part of a file without data rows.
    pub rows: Range<u64>,
    /// The input lines its first and last records start on; `None` when it
    /// holds no rows.
    pub lines: Option<RangeInclusive<u64>>,
}

impl Part {
    /// The number of data rows in the part.
    pub fn len(&self) -> u64 {
        self.rows.end - self.rows.start
    }

    /// Whether the part holds no data rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file cut into parts.
#[derive(Debug)]
pub struct Split<'a> {
    source: &'a Source,
    stem: String,
    header: Range<usize>,
    /// (line, byte span) of each data record.
    records: Vec<(u64, Range<usize>)>,
    per_part: usize,
}

impl<'a> Split<'a> {
    /// Cuts `source` into parts of at most `rows` data rows; parts are named
    /// after `stem`. Fails when `rows` is 0 or the file has no header, or
    /// a `sep=;` line stands above it (`fix` removes that line).
    pub fn new(stem: &str, source: &'a Source, rows: u64) -> Result<Split<'a>> {
        let per_part = usize::try_from(rows)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| Error::Usage(format!("--rows must be between 1 and {}", usize::MAX)))?;
        let mut records = source.records();
        let header = records
            .next()
            .ok_or_else(|| Error::Usage("the file has no header record (F003): nothing to split".into()))?;
        if crate::header::is_separator_line(header.fields.iter()) {
            // Each part would start with the line, and only the first would
            // hold the header (as a data row).
            return Err(Error::Usage(format!(
                "line {} is a spreadsheet's `sep=` line, not the header (H001): run `csvcheck fix` \
                 first, which removes it, then split the fixed copy",
                header.line
            )));
        }
        let header = header.span;
        let records = records.map(|r| (r.line, r.span)).collect();
        Ok(Split { source, stem: stem.to_owned(), header, records, per_part })
    }

    /// The parts, in order.
    pub fn parts(&self) -> Vec<Part> {
        let count = self.records.len().div_ceil(self.per_part).max(1);
        let width = count.to_string().len().max(3);
        (0..count)
            .map(|i| {
                let start = i * self.per_part;
                let end = (start + self.per_part).min(self.records.len());
                let first = self.records.get(start).map(|r| r.0);
                let last = end.checked_sub(1).and_then(|j| self.records.get(j)).map(|r| r.0);
                Part {
                    number: i + 1,
                    file_name: format!("{}-part-{:0width$}-of-{count:0width$}.csv", self.stem, i + 1),
                    rows: start as u64 + 1..end as u64 + 1,
                    lines: first.zip(last).map(|(a, b)| a..=b),
                }
            })
            .collect()
    }

    /// Writes one part: BOM when the input had a UTF-8 one, the header, the
    /// part's records.
    pub fn write(&self, part: &Part, out: &mut dyn Write) -> io::Result<()> {
        let terminator = line_terminator(self.source.bytes());
        if self.source.bom && self.source.encoding == "UTF-8" {
            out.write_all("\u{feff}".as_bytes())?;
        }
        out.write_all(self.source.raw(&self.header))?;
        out.write_all(terminator)?;
        let from = usize::try_from(part.rows.start.saturating_sub(1)).unwrap_or(usize::MAX);
        let to = usize::try_from(part.rows.end.saturating_sub(1)).unwrap_or(usize::MAX);
        for (_, span) in self.records.get(from..to).unwrap_or_default() {
            out.write_all(self.source.raw(span))?;
            out.write_all(terminator)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(csv: &str, rows: u64) -> Vec<(String, String)> {
        let source = Source::decode(csv.as_bytes().to_vec(), None);
        let split = Split::new("u", &source, rows).unwrap();
        split
            .parts()
            .iter()
            .map(|p| {
                let mut out = Vec::new();
                split.write(p, &mut out).unwrap();
                (p.file_name.clone(), String::from_utf8(out).unwrap())
            })
            .collect()
    }

    #[test]
    fn parts_hold_at_most_n_rows_and_repeat_the_header() {
        let parts = parts_of("h1,h2\r\n1,a\r\n2,b\r\n\r\n3,c", 2);
        assert_eq!(
            parts,
            [
                ("u-part-001-of-002.csv".to_owned(), "h1,h2\r\n1,a\r\n2,b\r\n".to_owned()),
                ("u-part-002-of-002.csv".to_owned(), "h1,h2\r\n3,c\r\n".to_owned()),
            ]
        );
    }

    #[test]
    fn a_sep_line_above_the_header_is_refused_with_what_to_do() {
        let source = Source::decode(b"sep=;\nEmail;Name\na@x.example;A\n".to_vec(), None);
        let err = Split::new("users", &source, 2).unwrap_err().to_string();
        assert!(
            err.contains("line 1 is a spreadsheet's `sep=` line") && err.contains("csvcheck fix"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_rows_is_one_part_and_one_without_header_is_refused() {
        assert_eq!(parts_of("h1,h2\n", 5), [("u-part-001-of-001.csv".to_owned(), "h1,h2\n".to_owned())]);
        let empty = Source::decode(b"\n\n".to_vec(), None);
        assert!(Split::new("u", &empty, 5).is_err());
        let one = Source::decode(b"h\n1\n".to_vec(), None);
        assert!(Split::new("u", &one, 0).is_err());
    }

    #[test]
    fn names_widen_past_999_parts_and_lines_are_reported() {
        let csv: String =
            std::iter::once("h\n".to_owned()).chain((1..=1001).map(|i| format!("{i}\n"))).collect();
        let source = Source::decode(csv.into_bytes(), None);
        let split = Split::new("big", &source, 1).unwrap();
        let parts = split.parts();
        assert_eq!(parts.len(), 1001);
        assert_eq!(parts[0].file_name, "big-part-0001-of-1001.csv");
        assert_eq!((parts[1000].rows.clone(), parts[1000].lines.clone()), (1001..1002, Some(1002..=1002)));
    }
}
