//! The text format: rustc-style blocks for people, drawn by
//! [annotate-snippets](https://docs.rs/annotate-snippets) (rustc's own
//! renderer), then one summary line per file.
//!
//! ```text
//! error[E002]: "mario.rossi@" is not a valid email address: nothing after the @
//!  --> users.csv:4:1
//!   |
//! 4 | mario.rossi@,Mario,Rossi,TRUE
//!   | ^^^^^^^^^^^^ column "User ID/Email (Required)" (row 3)
//!   |
//!   = help: write the address as name@domain.tld, e.g. giulia.rossi@acme.example
//!
//! users.csv: 3 rows: 1 add, 1 modify, 0 delete, 0 unchanged, 1 rejected; 1 error, 0 warnings
//! ```
//!
//! The location is `path:line:column`, where the column counts characters of
//! the line as shown; the label under the cell names the column title and the
//! data row. A record spread over several lines (a quoted line break) is shown
//! whole. File findings with no line show only the path.
//!
//! Everything taken from the file — message values, titles, the record
//! itself — goes through [`printable`], so a hostile cell cannot move the
//! cursor or forge lines. Colour is used only when [`RenderOptions::color`]
//! asks for it; the width is [`RenderOptions::width`], so the output is
//! reproducible.

use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::RenderOptions;
use crate::check::FileReport;
use crate::rules::{Diagnostic, Severity};
use crate::text::printable;

/// Writes every file's findings, then its summary; with several files, a
/// total after them.
pub fn write(out: &mut dyn Write, files: &[FileReport], options: &RenderOptions) -> io::Result<()> {
    let renderer =
        if options.color { Renderer::styled() } else { Renderer::plain() }.term_width(options.width);
    for file in files {
        if !options.quiet {
            for d in &file.diagnostics {
                writeln!(out, "{}\n", render(&renderer, file, d))?;
            }
        }
        writeln!(out, "{}", summary_line(file))?;
    }
    if files.len() > 1 {
        let mut total = crate::Summary::default();
        files.iter().for_each(|f| total.merge(&f.summary));
        let rows = files.iter().map(|f| f.rows).sum();
        writeln!(out, "{}", counts(&format!("total ({} files)", files.len()), rows, &total))?;
    }
    Ok(())
}

/// `users.csv: 3 rows: 1 add, …; 1 error, 0 warnings`.
pub fn summary_line(file: &FileReport) -> String {
    counts(&printable(&file.path), file.rows, &file.summary)
}

fn counts(what: &str, rows: u64, s: &crate::Summary) -> String {
    let plural = |n: u64, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!(
        "{what}: {}: {} add, {} modify, {} delete, {} unchanged, {} rejected; {}, {}",
        plural(rows, "row"),
        s.add,
        s.modify,
        s.delete,
        s.unchanged,
        s.rejected,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    )
}

/// One diagnostic as a rustc-style block (no trailing newline).
pub fn render(renderer: &Renderer, file: &FileReport, d: &Diagnostic) -> String {
    let level = match d.severity() {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let message = printable(&d.message);
    let title = level.clone().primary_title(message.as_ref()).id(d.code.as_str());
    let path = printable(&file.path);
    let help = printable(&d.help);
    let shown = d.line.and_then(|line| record_of(file, d).map(|raw| (line, raw)));
    let mut group = match shown {
        Some((line, raw)) => {
            let cell = d.column_index.and_then(|i| field_span(&raw, file.source().delimiter, i));
            let (text, span) = display_record(&raw, cell.clone().unwrap_or(0..raw.len()));
            let label = label(d, cell.as_ref());
            let snippet = Snippet::<Annotation<'_>>::source(text)
                .line_start(usize::try_from(line).unwrap_or(usize::MAX))
                .path(path.as_ref())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(span).label(label));
            Group::with_title(title).element(snippet)
        }
        None => {
            let mut origin = Origin::path(path.as_ref());
            if let Some(line) = d.line {
                origin = origin.line(usize::try_from(line).unwrap_or(usize::MAX));
            }
            Group::with_title(title).element(origin)
        }
    };
    if !help.is_empty() {
        group = group.element(Level::HELP.message(help.as_ref()));
    }
    renderer.render(&[group])
}

/// The raw record a diagnostic points at: its data row, or the header.
fn record_of<'a>(file: &'a FileReport, d: &Diagnostic) -> Option<Cow<'a, str>> {
    let raw = match (d.line, d.row) {
        (Some(_), Some(row)) => file.row_raw(row),
        (Some(line), None) if Some(line) == file.header_line() => file.header_raw(),
        (Some(line), None) => file.line_raw(line),
        _ => None,
    }?;
    // Bytes that are not UTF-8 (F001) are shown lossily rather than not at all.
    Some(String::from_utf8_lossy(raw))
}

/// The text under the carets: the column and the row, as far as they apply.
fn label(d: &Diagnostic, cell: Option<&Range<usize>>) -> String {
    let mut label = match (&d.column, d.row) {
        (Some(column), Some(row)) => format!("column {:?} (row {row})", printable(column)),
        (Some(column), None) => format!("column {:?}", printable(column)),
        (None, Some(row)) => format!("row {row}"),
        (None, None) => "header".to_owned(),
    };
    if cell.is_some_and(|c| c.is_empty()) {
        label.push_str(", empty");
    }
    label
}

/// The byte range of field `index` in a raw record (quote-aware; a record
/// may span several lines).
pub(crate) fn field_span(record: &str, delimiter: u8, index: usize) -> Option<Range<usize>> {
    let bytes = record.as_bytes();
    let (mut field, mut start, mut quoted) = (0, 0, false);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            if field == index {
                return Some(start..i);
            }
            field += 1;
            start = i + 1;
        }
    }
    (field == index).then_some(start..bytes.len())
}

/// The record as shown — every line break (`\r\n`, `\n`, lone `\r`) a `\n`,
/// every other control character escaped — and `span` mapped into it.
fn display_record(raw: &str, span: Range<usize>) -> (String, Range<usize>) {
    let mut shown = String::with_capacity(raw.len() + 8);
    let (mut start, mut end) = (None, None);
    let mut chars = raw.char_indices().peekable();
    let mut mark = |i: usize, at: usize| {
        if i == span.start && start.is_none() {
            start = Some(at);
        }
        if i == span.end && end.is_none() {
            end = Some(at);
        }
    };
    while let Some((i, c)) = chars.next() {
        mark(i, shown.len());
        match c {
            '\r' => {
                if let Some(&(j, '\n')) = chars.peek() {
                    mark(j, shown.len());
                    chars.next();
                }
                shown.push('\n');
            }
            '\n' => shown.push('\n'),
            c => shown.push_str(&printable(c.encode_utf8(&mut [0; 4]))),
        }
    }
    mark(raw.len(), shown.len());
    let start = start.unwrap_or(0);
    let end = end.unwrap_or(shown.len()).max(start);
    (shown, start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_spans_respect_quotes() {
        let line = "a,\"b,c\",,d";
        assert_eq!(field_span(line, b',', 0), Some(0..1));
        assert_eq!(field_span(line, b',', 1), Some(2..7));
        assert_eq!(field_span(line, b',', 2), Some(8..8));
        assert_eq!(field_span(line, b',', 3), Some(9..10));
        assert_eq!(field_span(line, b',', 4), None);
        assert_eq!(field_span("a,\"x\ny\",z", b',', 2), Some(8..9));
    }

    #[test]
    fn display_escapes_controls_and_keeps_the_span_on_the_cell() {
        let raw = "a\u{1b}[31m,target,\"x\r\ny\"";
        let span = field_span(raw, b',', 1).unwrap();
        let (shown, mapped) = display_record(raw, span);
        assert_eq!(shown, "a\\u{1b}[31m,target,\"x\ny\"");
        assert_eq!(&shown[mapped], "target");
        let (shown, mapped) = display_record(raw, field_span(raw, b',', 2).unwrap());
        assert_eq!(&shown[mapped], "\"x\ny\"");
    }

    #[test]
    fn an_empty_cell_maps_to_an_empty_span() {
        let (shown, mapped) = display_record("ab,,ef", 3..3);
        assert_eq!((shown.as_str(), mapped), ("ab,,ef", 3..3));
    }
}
