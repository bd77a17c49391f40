//! Checking a file as a stream: rows handed over as they are settled, and
//! the reports the command line makes without holding a file whole.

use super::*;

/// What reading a stream found besides its rows.
pub(super) struct Streamed {
    pub(super) rows: u64,
    /// Rows that delete a user unless the file is refused (F005 counts them).
    pub(super) deletes: u64,
    /// Counts of the rows' operations and findings.
    pub(super) summary: Summary,
    /// Findings about the file and its header (F005 aside).
    pub(super) file_diags: Vec<Diagnostic>,
    /// The facts about the text (encoding, BOM, bytes not UTF-8, delimiter).
    pub(super) facts: Source,
    pub(super) header_raw: Option<Vec<u8>>,
    pub(super) header_line: u64,
}

impl Checker {
    /// Checks what `reader` yields as it arrives, without holding the whole
    /// file: `sink` gets every data row in input order, once its findings
    /// are settled; the findings about the file as a whole and the counts
    /// come last, in the returned [`StreamReport`]. `name` names the input.
    ///
    /// The rows and findings are those [`check_bytes`](Checker::check_bytes)
    /// gives, except that a row's operation reflects only its own errors: a
    /// file-level error ([`StreamReport::rejects_file`]) rejects every row on
    /// top of that, as the counts in [`StreamReport::summary`] do.
    ///
    /// The input is checked against the checker's [`Limits`] as it is read
    /// (its size, records, columns, cells, unclosed quotes and findings):
    /// the first limit exceeded is the error.
    ///
    /// Memory: rows are read and checked a few thousand at a time. What is
    /// kept is what the cross-row rules compare — the valid emails, phone
    /// numbers and extensions seen — and rows whose findings are not settled:
    /// whether a number that belongs to another org user blocks a row (N006,
    /// N007) depends on whether a later row gives it up, so such a row, and
    /// the rows after it, wait until the owner's row does or the input ends.
    ///
    /// Speed: the thread that calls this reads the rows and hands them over
    /// in order while rayon's pool checks them. Called on a thread of the
    /// pool (inside `rayon::scope`, say), that thread checks rows too
    /// whenever it would wait; called from outside the pool, it is one busy
    /// thread more than there are cores. (The other `check_*` methods move
    /// to the pool themselves; this one cannot, as `reader` need not be
    /// `Send`.)
    ///
    /// ```
    /// use csvcheck::{Checker, OpKind};
    ///
    /// let csv = "User ID/Email (Required),Preferred Webex Site,Webex Meetings\n\
    ///            anna@acme.example,acme.webex.com,TRUE\n\
    ///            mario.rossi@,acme.webex.com,TRUE\n\
    ///            Anna@acme.example,acme.webex.com,TRUE\n";
    /// let mut rows = Vec::new();
    /// let report = Checker::builder()
    ///     .build()
    ///     .check_stream("users.csv", csv.as_bytes(), |row| {
    ///         let codes: Vec<_> = row.diagnostics.iter().map(|d| d.code.as_str()).collect();
    ///         rows.push((row.planned.line, row.planned.operation.kind(), codes.join(" ")));
    ///     })
    ///     .unwrap();
    /// assert_eq!(
    ///     rows,
    ///     [(2, OpKind::Add, String::new()), (3, OpKind::Rejected, "E002".into()), (4, OpKind::Rejected, "E004".into())]
    /// );
    /// assert_eq!((report.rows, report.summary.add, report.summary.rejected), (3, 1, 2));
    /// assert!(!report.rejects_file());
    /// ```
    pub fn check_stream(
        &self,
        name: &str,
        reader: impl Read,
        mut sink: impl FnMut(RowOutcome),
    ) -> Result<StreamReport> {
        let mut emit = |checked: &mut Checked<'_>| {
            sink(RowOutcome {
                planned: std::mem::replace(checked.planned, PlannedRow::none()),
                diagnostics: std::mem::take(checked.diagnostics),
            })
        };
        let streamed = self.stream_rows(name, reader, Rows::default(), false, &mut emit)?;
        Ok(self.stream_report(name, &streamed))
    }

    /// Checks a file as a stream, as [`check_stream`](Checker::check_stream)
    /// does, for a report: what it keeps besides the findings and counts is
    /// what `keep` asks for, so that a file of a million rows is reported
    /// in a fraction of its own size in memory. The report's
    /// [`operations`](FileReport::operations) stay empty: they are spooled
    /// to disk ([`FileReport::spooled`]) when kept. Rows past the row limit
    /// are rejected as they are checked (F004 rejects the file anyway).
    /// `input_bytes`: the input's size, when known.
    pub(crate) fn check_streamed(
        &self,
        name: &str,
        reader: impl Read,
        input_bytes: Option<u64>,
        keep: Keep,
    ) -> Result<FileReport> {
        let io_error = |source| Error::Io { path: name.into(), source };
        let mut spool = if keep.operations { Some(Spool::new().map_err(io_error)?) } else { None };
        let mut spool_error = None;
        let mut quoted = Quoted::default();
        let mut row_diags = Vec::new();
        let mut emit = |checked: &mut Checked<'_>| {
            if let Some(spool) = spool.as_mut().filter(|_| spool_error.is_none()) {
                let rejected = checked.planned.operation.kind() == OpKind::Rejected;
                spool_error = match checked.json {
                    Some(json) if checked.rejected_since => spool.push_rejected(json),
                    // Made rejected: past the row limit, or by its own check.
                    Some(json) if rejected => spool.push_json_rejected(json),
                    Some(json) => spool.push_json(json),
                    None => spool.push(checked.planned),
                }
                .err();
            }
            // Only the lines a report quotes are kept (a row that waited on a
            // later row may have no finding after all).
            let quoted_line = !checked.diagnostics.is_empty() || checked.not_utf8;
            if let Some(raw) = checked.raw.filter(|_| keep.lines && quoted_line) {
                quoted.rows.push((checked.planned.row, checked.planned.line, raw.into()));
            }
            row_diags.append(checked.diagnostics);
        };
        let operations = if keep.operations { RowOps::Json } else { RowOps::Kind };
        let mode = Rows { limit: true, operations, input_bytes, ..Rows::default() };
        let streamed = self.stream_rows(name, reader, mode, keep.lines, &mut emit)?;
        if let Some(e) = spool_error {
            return Err(io_error(e));
        }
        let report = self.stream_report(name, &streamed);
        let spooled = spool.map(|s| s.finish(report.rejects_file())).transpose().map_err(io_error)?;
        let mut diagnostics = report.diagnostics;
        diagnostics.extend(row_diags);
        diagnostics.sort_by_key(Diagnostic::sort_key);
        quoted.header = streamed.header_raw.filter(|_| keep.lines).map(Vec::into_boxed_slice);
        Ok(FileReport {
            path: name.to_owned(),
            rows: streamed.rows,
            summary: report.summary,
            diagnostics,
            operations: Vec::new(),
            source: Arc::new(streamed.facts),
            spans: Vec::new(),
            header_line: streamed.header_line,
            quoted: Some(Arc::new(quoted)),
            spooled,
        })
    }

    /// Reads and checks a stream, handing every row to `emit` in order once
    /// its findings are settled, as `mode` says; `keep_raw`: keep the raw
    /// text of rows with findings.
    fn stream_rows(
        &self,
        name: &str,
        reader: impl Read,
        mode: Rows,
        keep_raw: bool,
        emit: &mut dyn FnMut(&mut Checked<'_>),
    ) -> Result<Streamed> {
        let limits = &self.options.limits;
        let reader = crate::limits::Bounded::new(reader, limits.max_file_bytes);
        let io_error = |source| Limits::read_error(Path::new(name), source);
        let opened = read::stream::open(reader, self.options.encoding).map_err(io_error)?;
        let mut reader = opened.records;
        let mut header_record = Record::default();
        let facts = |reader: &RecordReader<'_>| {
            Source::facts(opened.encoding, opened.bom, reader.invalid_utf8(), reader.delimiter())
        };
        let mut watch = Watch::new(Path::new(name), Some(limits));
        watch.keep_raw = keep_raw;
        if !watch.read(&mut reader, &mut header_record, None)? {
            return Ok(Streamed {
                rows: 0,
                deletes: 0,
                summary: Summary::default(),
                file_diags: vec![rules::file::empty_file()],
                facts: facts(&reader),
                header_raw: None,
                header_line: 0,
            });
        }
        let titles: Vec<&str> = header_record.fields.iter().collect();
        let header = Header::parse(&titles, header_record.line, &self.profile);
        let header_raw = reader.raw(&header_record.span).to_vec();
        let (mut summary, mut deletes) = (Summary::default(), 0);
        let mut count = |checked: &mut Checked<'_>| {
            summary.count(checked.planned.operation.kind());
            for d in checked.diagnostics.iter() {
                summary.count_finding(d);
            }
            let own_error = checked.diagnostics.iter().any(Diagnostic::is_error);
            deletes += u64::from(checked.kind == OpKind::Delete && !own_error);
            emit(checked);
        };
        let mode = Rows { most_rows: limits.max_records, ..mode };
        let rows = self.drive(&header, &mut reader, mode, &mut watch, &mut count)?;
        let facts = facts(&reader);
        let file_diags = self.file_findings(&facts, &header, &header_raw, rows as usize);
        Ok(Streamed {
            rows,
            deletes,
            summary,
            file_diags,
            facts,
            header_raw: Some(header_raw),
            header_line: header.line,
        })
    }

    /// Adds the verdicts that need every row (F005) to a streamed file's
    /// findings and counts.
    fn stream_report(&self, name: &str, streamed: &Streamed) -> StreamReport {
        let (rows, mut summary, mut diagnostics) =
            (streamed.rows, streamed.summary, streamed.file_diags.clone());
        diagnostics.extend(self.too_many_deletes(streamed.deletes));
        diagnostics.sort_by_key(Diagnostic::sort_key);
        for d in &diagnostics {
            summary.count_finding(d);
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            summary = Summary {
                rejected: rows,
                errors: summary.errors,
                warnings: summary.warnings,
                ..Summary::default()
            };
        }
        StreamReport { path: name.to_owned(), rows, summary, diagnostics }
    }
}
