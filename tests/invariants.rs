//! What every report must satisfy, whatever the input: nothing lost, nothing
//! altered, in order, and consistent with itself. Shared by the property and
//! hostile-input tests and by the fuzz targets (`fuzz/` includes this file),
//! so that "nothing is lost" has one definition.
#![allow(dead_code)]

use csvcheck::{FileReport, OpKind, Severity};

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
