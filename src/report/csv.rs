//! The CSV format: the input written back, every row unchanged and in order,
//! with one more last column, `Errors`.
//!
//! ```text
//! User ID/Email (Required),First Name,Webex Calling [Wholesale],Errors
//! anna@acme.example,Anna,TRUE,
//! mario.rossi@,Mario,TRUE,"E002: ""mario.rossi@"" is not a valid email address: nothing after the @"
//! ```
//!
//! * Each record's bytes are echoed exactly as they are in the file (quotes,
//!   spacing, embedded line breaks), then the file's own delimiter and the
//!   `Errors` cell; records end with the file's own line terminator. A UTF-8
//!   byte-order mark is kept; UTF-16 input is written as UTF-8 (with a BOM,
//!   so spreadsheets still read it as Unicode). Blank lines, which are not
//!   rows, are not written.
//! * The `Errors` cell of a row holds that row's errors and warnings as
//!   `CODE: message` entries joined by ` | `, by line, then code, then
//!   column; it is empty when the row has none. It is quoted per RFC 4180
//!   when it needs to be.
//! * File and header **errors** (F and H codes) reject every row, so they
//!   are listed first on every row. File and header **warnings** (H003) are
//!   about the header, not any row, and appear on none.
//! * The cell always starts with a code (a letter), never with `=`, `+`, `-`
//!   or `@`, so a spreadsheet never evaluates a value quoted in a message.
//!   Control characters in messages are escaped, so one row stays one line.
//! * A record with more or fewer fields than the header (R001) still gets
//!   `Errors` as its last field, so the cell may not sit under the title.
//! * A record that ends inside an open quote (an unterminated quoted cell)
//!   gets the closing quote before the `Errors` cell, so the report stays
//!   parseable; that is the only byte csvcheck adds to a record.
//!
//! Several files are written one after another, each with its header (the
//! command line accepts only one file with `--format csv`).

use std::io::{self, Write};

use super::RenderOptions;
use crate::check::FileReport;
use crate::rules::Diagnostic;
use crate::text::printable;

/// The title of the column the report adds.
pub const ERRORS_TITLE: &str = "Errors";

/// Writes the CSV report of each file.
pub fn write(out: &mut dyn Write, files: &[FileReport], _options: &RenderOptions) -> io::Result<()> {
    files.iter().try_for_each(|f| write_file(out, f))
}

fn write_file(out: &mut dyn Write, file: &FileReport) -> io::Result<()> {
    let source = file.source();
    let delimiter = source.delimiter;
    let terminator = line_terminator(source.bytes());
    if source.bom {
        out.write_all("\u{feff}".as_bytes())?;
    }
    if let Some(header) = file.header_raw() {
        write_record(out, header, delimiter)?;
        out.write_all(&[delimiter])?;
    }
    out.write_all(ERRORS_TITLE.as_bytes())?;
    out.write_all(terminator)?;

    let whole_file: Vec<&Diagnostic> =
        file.diagnostics.iter().filter(|d| d.row.is_none() && d.is_error()).collect();
    let mut per_row: Vec<Vec<&Diagnostic>> = vec![Vec::new(); file.operations.len()];
    for d in &file.diagnostics {
        let slot =
            d.row.and_then(|r| usize::try_from(r).ok()).and_then(|r| per_row.get_mut(r.checked_sub(1)?));
        if let Some(slot) = slot {
            slot.push(d);
        }
    }
    let mut cell = String::new();
    for (i, own) in per_row.iter().enumerate() {
        let Some(raw) = file.row_raw(i as u64 + 1) else { continue };
        write_record(out, raw, delimiter)?;
        out.write_all(&[delimiter])?;
        cell.clear();
        for d in whole_file.iter().chain(own) {
            if !cell.is_empty() {
                cell.push_str(" | ");
            }
            cell.push_str(d.code.as_str());
            cell.push_str(": ");
            cell.push_str(&printable(&d.message));
        }
        write_cell(out, &cell, delimiter)?;
        out.write_all(terminator)?;
    }
    Ok(())
}

/// Echoes a raw record, closing a quote it leaves open.
fn write_record(out: &mut dyn Write, raw: &[u8], delimiter: u8) -> io::Result<()> {
    out.write_all(raw)?;
    if ends_inside_quotes(raw, delimiter) {
        out.write_all(b"\"")?;
    }
    Ok(())
}

/// Writes one cell, quoted per RFC 4180 when it needs to be.
fn write_cell(out: &mut dyn Write, cell: &str, delimiter: u8) -> io::Result<()> {
    let needs_quotes = cell.bytes().any(|b| b == delimiter || matches!(b, b'"' | b'\n' | b'\r'))
        || cell.starts_with(' ')
        || cell.ends_with(' ');
    if !needs_quotes {
        return out.write_all(cell.as_bytes());
    }
    out.write_all(b"\"")?;
    out.write_all(cell.replace('"', "\"\"").as_bytes())?;
    out.write_all(b"\"")
}

/// Whether a raw record ends inside a quoted field, the way the CSV reader
/// sees it: a quote opens a field only at its start, and `""` inside is a
/// literal quote.
pub(crate) fn ends_inside_quotes(raw: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &b in raw {
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => State::Quoted,
            (_, b) if b == delimiter => State::FieldStart,
            _ => State::Unquoted,
        };
    }
    state == State::Quoted
}

/// The file's line terminator: the first line break outside quotes
/// (`\r\n`, `\n` or a lone `\r`); `\r\n` (RFC 4180) when it has none.
pub fn line_terminator(bytes: &[u8]) -> &'static [u8] {
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return b"\n",
            b'\r' if !quoted => {
                return if bytes.get(i + 1) == Some(&b'\n') { b"\r\n" } else { b"\r" };
            }
            _ => {}
        }
    }
    b"\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminators_are_found_outside_quotes() {
        assert_eq!(line_terminator(b"a,b\r\n1,2\n"), b"\r\n");
        assert_eq!(line_terminator(b"\"a\nb\",c\n"), b"\n");
        assert_eq!(line_terminator(b"a,b\r1,2"), b"\r");
        assert_eq!(line_terminator(b"a,b"), b"\r\n");
    }

    #[test]
    fn open_quotes_are_detected_like_the_reader_does() {
        assert!(!ends_inside_quotes(b"a,\"b,c\",d", b','));
        assert!(ends_inside_quotes(b"a,\"b,c", b','));
        assert!(!ends_inside_quotes(b"a,\"say \"\"hi\"\"\"", b','));
        assert!(ends_inside_quotes(b"a,\"say \"\"", b','));
        assert!(!ends_inside_quotes(b"a,b\"c", b','));
        assert!(ends_inside_quotes(b"a;\"b", b';'));
    }

    #[test]
    fn cells_are_quoted_only_when_needed() {
        let cell = |s: &str| {
            let mut out = Vec::new();
            write_cell(&mut out, s, b',').unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(cell(""), "");
        assert_eq!(cell("E001: empty email cell"), "E001: empty email cell");
        assert_eq!(cell("E002: \"x@\" is bad, really"), "\"E002: \"\"x@\"\" is bad, really\"");
    }
}
