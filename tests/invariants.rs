//! What every report must satisfy, whatever the input: nothing lost, nothing
//! altered, in order, and consistent with itself. Shared by the property and
//! hostile-input tests and by the fuzz targets (`fuzz/` includes this file),
//! so that "nothing is lost" has one definition.
#![allow(dead_code)]

use csvcheck::{Checker, FileReport, OpKind, Severity, StreamReport};

/// A record as a plain `csv` reader sees it, independently of csvcheck's
/// reader: where its text is (line end excluded) and its fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Expected {
    /// The record's text in the input, without its line end.
    pub span: std::ops::Range<usize>,
    /// Its fields, as bytes.
    pub fields: Vec<Vec<u8>>,
}

/// The non-blank records of `text` (those csvcheck must report).
pub fn records(text: &[u8], delimiter: u8) -> Vec<Expected> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text);
    let mut record = csv::ByteRecord::new();
    let mut out = Vec::new();
    while reader.read_byte_record(&mut record).expect("a reader over bytes in flexible mode does not fail") {
        let blank =
            record.len() <= 1 && record.get(0).is_none_or(|f| String::from_utf8_lossy(f).trim().is_empty());
        if blank {
            continue;
        }
        // The record's position is where the reader stood, before the line
        // ends (and blank lines) it skips; its end is where the reader
        // stands now, after the one line-end byte it consumed.
        let reported = record.position().map_or(0, |p| p.byte() as usize);
        let skipped = text[reported..].iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
        let after = reader.position().byte() as usize;
        let end = match text[..after].last() {
            Some(b'\n' | b'\r') => after - 1,
            _ => after,
        };
        out.push(Expected {
            span: reported + skipped..end,
            fields: record.iter().map(<[u8]>::to_vec).collect(),
        });
    }
    out
}

/// Byte offset of `part` inside `whole` (it must be a sub-slice).
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    let offset = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    assert!(offset + part.len() <= whole.len(), "a raw record is not a slice of the source");
    offset
}

/// Asserts that the report holds every record of its input, unaltered and in
/// order, that its counts agree with its contents, and that its findings are
/// ordered and point at rows that exist.
pub fn assert_report_invariants(report: &FileReport) {
    let source = report.source();
    let text = source.bytes();
    let expected = records(text, source.delimiter);

    // One operation per data record, in input order.
    assert_eq!(report.operations.len() as u64, report.rows, "operations != rows");
    match report.header_raw() {
        None => assert!(expected.is_empty() && report.rows == 0, "records but no header"),
        Some(_) => assert_eq!(expected.len() as u64, report.rows + 1, "data records lost or invented"),
    }
    let mut last_line = report.header_line().unwrap_or(0);
    for (i, op) in report.operations.iter().enumerate() {
        assert_eq!(op.row, i as u64 + 1, "operations out of order");
        assert!(op.line > last_line, "line {} does not follow line {last_line}", op.line);
        last_line = op.line;
        assert_eq!(report.line_raw(op.line), report.row_raw(op.row), "line_raw disagrees with row_raw");
    }

    // Every record's raw text is exactly the text the independent reader
    // parsed its fields from: nothing dropped, added or altered, in order.
    // (When the file ends inside an open quote, the reader's last record
    // holds the final line ends, which the raw text leaves out.)
    let open_quote = csvcheck::limits::scan(text, source.delimiter).open_quote.is_some();
    let raws: Vec<&[u8]> = report
        .header_raw()
        .into_iter()
        .chain((1..=report.rows).map(|r| report.row_raw(r).expect("every row has its raw text")))
        .collect();
    for (i, (raw, expected)) in raws.iter().zip(&expected).enumerate() {
        let at = offset_in(text, raw);
        if i + 1 == raws.len() && open_quote {
            assert_eq!(at, expected.span.start, "record {i} starts elsewhere");
            let rest = &text[at + raw.len()..expected.span.end.max(at + raw.len())];
            assert!(rest.iter().all(|&b| b == b'\n' || b == b'\r'), "record {i} cut short");
        } else {
            assert_eq!(at..at + raw.len(), expected.span, "record {i} altered: {raw:?}");
        }
    }

    // Counts agree with contents.
    let s = &report.summary;
    assert_eq!(s.add + s.modify + s.delete + s.unchanged + s.rejected, report.rows);
    let count = |kind: OpKind| report.operations.iter().filter(|o| o.operation.kind() == kind).count() as u64;
    assert_eq!(
        (s.add, s.modify, s.delete, s.unchanged, s.rejected),
        (
            count(OpKind::Add),
            count(OpKind::Modify),
            count(OpKind::Delete),
            count(OpKind::Unchanged),
            count(OpKind::Rejected)
        )
    );
    let errors = report.diagnostics.iter().filter(|d| d.severity() == Severity::Error).count() as u64;
    assert_eq!((s.errors, s.warnings), (errors, report.diagnostics.len() as u64 - errors));

    // Findings are in report order and point at rows that exist; a row is
    // rejected exactly when it or the file has an error.
    assert!(
        report.diagnostics.windows(2).all(|w| w[0].sort_key() <= w[1].sort_key()),
        "findings out of order"
    );
    let file_error = report.diagnostics.iter().any(|d| d.row.is_none() && d.is_error());
    for d in &report.diagnostics {
        if let Some(row) = d.row {
            let op = report.operations.get(row as usize - 1).expect("a finding on a row that exists");
            assert_eq!(d.line, Some(op.line), "{} on row {row} has the wrong line", d.code);
        }
    }
    let mut row_errors = vec![false; report.operations.len()];
    for d in report.diagnostics.iter().filter(|d| d.is_error()) {
        if let Some(row) = d.row {
            row_errors[row as usize - 1] = true;
        }
    }
    for (op, &row_error) in report.operations.iter().zip(&row_errors) {
        assert_eq!(
            op.operation.kind() == OpKind::Rejected,
            row_error || file_error,
            "row {} rejected without an error, or an error that rejects nothing",
            op.row
        );
    }
}

/// The JSON form of a report, for comparing runs byte for byte.
pub fn json(report: &FileReport) -> String {
    serde_json::to_string(report).expect("reports serialise")
}

/// `rest` without its leading `prefix`, which it must start with.
fn eat<'a>(rest: &'a [u8], prefix: &[u8], what: &str) -> &'a [u8] {
    match rest.strip_prefix(prefix) {
        Some(after) => after,
        None => panic!(
            "{what}: expected {:?}, found {:?}",
            String::from_utf8_lossy(prefix),
            String::from_utf8_lossy(&rest[..rest.len().min(prefix.len() + 20)])
        ),
    }
}

/// `rest` without the line end it must start with, which must be `end`
/// (the first line end found decides it).
fn eat_line_end<'a>(rest: &'a [u8], end: &mut Option<&'static [u8]>, what: &str) -> &'a [u8] {
    let found: &'static [u8] = if rest.starts_with(b"\r\n") {
        b"\r\n"
    } else if rest.starts_with(b"\n") {
        b"\n"
    } else if rest.starts_with(b"\r") {
        b"\r"
    } else {
        panic!("{what}: no line end at {:?}", String::from_utf8_lossy(&rest[..rest.len().min(20)]))
    };
    assert_eq!(*end.get_or_insert(found), found, "{what}: line ends change within the file");
    &rest[found.len()..]
}

/// One RFC 4180 cell at the start of `rest` (up to a line end), unquoted,
/// and what follows it.
fn read_cell(rest: &[u8]) -> (String, &[u8]) {
    if let Some(quoted) = rest.strip_prefix(b"\"") {
        let mut cell = Vec::new();
        let mut i = 0;
        loop {
            match (quoted.get(i), quoted.get(i + 1)) {
                (Some(b'"'), Some(b'"')) => {
                    cell.push(b'"');
                    i += 2;
                }
                (Some(b'"'), _) => return (String::from_utf8(cell).expect("UTF-8"), &quoted[i + 1..]),
                (Some(&b), _) => {
                    cell.push(b);
                    i += 1;
                }
                (None, _) => panic!("an unclosed quote in the Errors cell"),
            }
        }
    }
    let end = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
    (String::from_utf8(rest[..end].to_vec()).expect("UTF-8"), &rest[end..])
}

/// Asserts that the CSV report (SPEC §8) is the input written back record
/// for record, byte for byte, each record followed by the delimiter and its
/// `Errors` cell: the file's errors, then the row's own findings, as
/// `CODE: message` joined by ` | `; and that no such cell starts a formula.
pub fn assert_csv_report(report: &FileReport) {
    use csvcheck::report::{Format, RenderOptions};
    let mut out = Vec::new();
    csvcheck::report::write(&mut out, Format::Csv, std::slice::from_ref(report), &RenderOptions::default())
        .expect("the CSV report renders");
    let source = report.source();
    let delimiter = [source.delimiter];
    let mut end = None;
    let mut rest: &[u8] = &out;
    if source.bom {
        rest = eat(rest, "\u{feff}".as_bytes(), "the byte-order mark");
    }
    // The report closes a quote a record leaves open (it can only be the
    // last record, the header when it is the only one). `scan` reads a
    // whole file and skips a byte-order mark at its start; a record is
    // scanned after a line break, where those bytes are text and a quote
    // after them opens nothing, as the reader sees it.
    let closes = |raw: &[u8]| {
        let after_a_line = [&b"\n"[..], raw].concat();
        csvcheck::limits::scan(&after_a_line, source.delimiter).open_quote.is_some()
    };
    if let Some(header) = report.header_raw() {
        rest = eat(rest, header, "the header");
        if closes(header) {
            rest = eat(rest, b"\"", "the header's closing quote");
        }
        rest = eat(rest, &delimiter, "the header's delimiter");
    }
    rest = eat(rest, b"Errors", "the Errors title");
    rest = eat_line_end(rest, &mut end, "the header");
    let file_errors: Vec<&csvcheck::Diagnostic> =
        report.diagnostics.iter().filter(|d| d.row.is_none() && d.is_error()).collect();
    for row in 1..=report.rows {
        let raw = report.row_raw(row).expect("every row has its raw text");
        rest = eat(rest, raw, &format!("row {row}"));
        if closes(raw) {
            rest = eat(rest, b"\"", &format!("row {row}'s closing quote"));
        }
        rest = eat(rest, &delimiter, &format!("row {row}'s delimiter"));
        let (cell, after) = read_cell(rest);
        let expected = file_errors
            .iter()
            .copied()
            .chain(report.diagnostics.iter().filter(|d| d.row == Some(row)))
            .map(|d| format!("{}: {}", d.code, csvcheck::text::printable(&d.message)))
            .collect::<Vec<_>>()
            .join(" | ");
        // Apostrophes aside: a spreadsheet-safe rendering may prefix values.
        assert_eq!(cell.replace('\'', ""), expected.replace('\'', ""), "row {row}'s Errors cell");
        assert!(!csvcheck::text::starts_formula(&cell), "row {row}'s Errors cell starts a formula: {cell:?}");
        rest = eat_line_end(after, &mut end, &format!("row {row}"));
    }
    assert!(rest.is_empty(), "the CSV report has more than the input: {:?}", String::from_utf8_lossy(rest));
}

/// Asserts that `csvcheck split` into parts of at most `per_part` rows
/// covers every row once, in order, and that each part is the header and
/// its rows, byte for byte.
pub fn assert_split(report: &FileReport, per_part: u64) {
    let source = report.source();
    let split = match csvcheck::split::Split::new("users", source, per_part) {
        Ok(split) => split,
        Err(e) => {
            // Only a file without a header, or with a `sep=` line above it.
            let sep_line =
                report.diagnostics.iter().any(|d| d.code.as_str() == "H001" && d.message.contains("sep="));
            assert!(report.header_raw().is_none() || sep_line, "a file with a header did not split: {e}");
            return;
        }
    };
    let parts = split.parts();
    assert!(!parts.is_empty());
    let mut next = 1;
    for part in &parts {
        assert_eq!(part.rows.start, next, "part {} does not follow on", part.number);
        assert!(
            part.len() <= per_part && (!part.is_empty() || report.rows == 0),
            "part {} size",
            part.number
        );
        next = part.rows.end;
        let mut out = Vec::new();
        split.write(part, &mut out).expect("parts write to memory");
        let mut rest: &[u8] = &out;
        if source.bom && source.encoding == "UTF-8" {
            rest = eat(rest, "\u{feff}".as_bytes(), "the byte-order mark");
        }
        let mut end = None;
        rest = eat(rest, report.header_raw().expect("a header"), "the part's header");
        rest = eat_line_end(rest, &mut end, "the part's header");
        for row in part.rows.clone() {
            rest =
                eat(rest, report.row_raw(row).expect("a row"), &format!("row {row} in part {}", part.number));
            rest = eat_line_end(rest, &mut end, &format!("row {row}"));
        }
        assert!(rest.is_empty(), "part {} holds more than its rows", part.number);
    }
    assert_eq!(next, report.rows + 1, "the parts do not reach the last row");
}

/// Asserts that `csvcheck fix` keeps every record and every cell but those
/// it reports changing, which change exactly as reported (a `sep=;` line
/// above the header aside, which it reports removing); that an email keeps
/// its key; and that unsafe fixes apply only when asked.
pub fn assert_fix(report: &FileReport, profile: &csvcheck::Profile, unsafe_fixes: bool) {
    use csvcheck::fix::{fix, FileFix, FixOptions, Safety};
    let source = report.source();
    let fixed = match fix("users.csv", source, profile, &FixOptions::with_unsafe_fixes(unsafe_fixes)) {
        Ok(fixed) => fixed,
        Err(e) => {
            assert!(source.invalid_utf8.is_some(), "fix failed on a UTF-8 file: {e}");
            return;
        }
    };
    // The line removed was the header to the check: the real header, if
    // any, was its first data row.
    let removed = usize::from(fixed.file_fixes.contains(&FileFix::SeparatorLine));
    assert_eq!(fixed.rows, report.rows.saturating_sub(removed as u64));
    for e in &fixed.edits {
        if e.email {
            assert_eq!(
                csvcheck::text::email_key(&e.from),
                csvcheck::text::email_key(&e.to),
                "an email's key changed"
            );
        }
        assert_eq!(e.applied, e.safety() == Safety::Safe || unsafe_fixes, "{e:?}");
    }
    // A file that ends inside an open quote is not one fix can round-trip.
    if csvcheck::limits::scan(source.bytes(), source.delimiter).open_quote.is_some() {
        return;
    }
    // Both files are read as csvcheck reads them: the copy decoded afresh.
    // A U+FEFF that starts the copy would be taken for a byte-order mark and
    // dropped, so `fix` must never write one there; compared this way, such
    // a loss shows as a cell changed without an edit, or as a lost record.
    let input: Vec<csvcheck::read::Record> = source.records().skip(removed).collect();
    let mut copy = csvcheck::read::Source::decode(fixed.bytes.clone(), None);
    assert!(!copy.bom, "the copy starts with a byte-order mark");
    copy.delimiter = b',';
    let output: Vec<csvcheck::read::Record> = copy.records().collect();
    assert_eq!(input.len(), output.len(), "fix lost or added records");
    for (index, (before, after)) in input.iter().zip(&output).enumerate() {
        assert_eq!(before.len(), after.len(), "record {index} changed shape");
        let row = (index > 0).then_some(index as u64);
        for (column, (a, b)) in before.fields.iter().zip(after.fields.iter()).enumerate() {
            let edits: Vec<_> = fixed.applied().filter(|e| e.row == row && e.column == column).collect();
            match (edits.first(), edits.last()) {
                (Some(first), Some(last)) => {
                    assert_eq!(a, first.from, "record {index}, column {column}: from");
                    assert_eq!(b, last.to, "record {index}, column {column}: to");
                }
                _ => assert_eq!(a, b, "record {index}, column {column} changed without an edit"),
            }
        }
    }
}

/// A reader that hands out at most seven bytes a call, as a slow pipe
/// does: records and UTF-8 sequences are cut anywhere.
pub struct Trickle<'a>(pub &'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(7);
        let (now, rest) = self.0.split_at(n);
        buf[..n].copy_from_slice(now);
        self.0 = rest;
        Ok(n)
    }
}

/// Checks `data` as a stream read a few bytes at a time, and asserts that
/// it gives what the whole-file check (`whole`) gave: the counts, every
/// finding, and every row's operation (its place and email when the file
/// is rejected). `None` when the stream refuses the input (it applies the
/// limits as it reads, where the whole-file check trusts its input).
pub fn assert_stream_same(checker: &Checker, data: &[u8], whole: &FileReport) -> Option<StreamReport> {
    let mut rows = Vec::new();
    let streamed = checker.check_stream("users.csv", Trickle(data), |row| rows.push(row)).ok()?;
    assert_eq!((streamed.rows, streamed.summary), (whole.rows, whole.summary), "the stream counts otherwise");
    assert_eq!(rows.len() as u64, whole.rows, "the stream hands over another number of rows");
    let mut diagnostics = streamed.diagnostics.clone();
    diagnostics.extend(rows.iter().flat_map(|r| r.diagnostics.iter().cloned()));
    diagnostics.sort_by_key(csvcheck::Diagnostic::sort_key);
    assert_eq!(diagnostics, whole.diagnostics, "the stream finds otherwise");
    for (row, planned) in rows.iter().zip(&whole.operations) {
        if streamed.rejects_file() {
            assert_eq!((row.planned.line, &row.planned.email), (planned.line, &planned.email));
        } else {
            assert_eq!(&row.planned, planned, "the stream plans a row otherwise");
        }
    }
    Some(streamed)
}
