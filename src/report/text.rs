//! The text format: rustc-style blocks for people.
//!
//! ```text
//! error[E002]: "mario.rossi@" is not a valid email address: nothing after the @
//!  --> users.csv:4, column "User ID/Email (Required)" (row 3)
//!   |
//! 4 | mario.rossi@,Mario,Rossi,TRUE
//!   | ^^^^^^^^^^^^
//!   = help: write the address as name@domain.tld, e.g. giulia.rossi@acme.example
//!
//! users.csv: 3 rows: 1 add, 1 modify, 0 delete, 0 unchanged, 1 rejected; 1 error, 0 warnings
//! ```
//!
//! Cells are shown through [`printable`](crate::text::printable), so a
//! hostile value cannot move the cursor; colour is used only when asked.

use std::io::{self, Write};
use std::ops::Range;

use super::RenderOptions;
use crate::check::FileReport;
use crate::rules::{Diagnostic, Severity};
use crate::text::printable;

/// Widest source excerpt shown, in characters.
const MAX_EXCERPT: usize = 100;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Writes every file's findings, then its summary.
pub fn write(out: &mut dyn Write, files: &[FileReport], options: &RenderOptions) -> io::Result<()> {
    let style = Style { color: options.color };
    for file in files {
        if !options.quiet {
            for d in &file.diagnostics {
                write_diagnostic(out, file, d, &style)?;
            }
        }
        writeln!(out, "{}", summary_line(file))?;
    }
    Ok(())
}

/// `users.csv: 3 rows: 1 add, …; 1 error, 0 warnings`.
pub fn summary_line(file: &FileReport) -> String {
    let s = &file.summary;
    let plural = |n: u64, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!(
        "{}: {}: {} add, {} modify, {} delete, {} unchanged, {} rejected; {}, {}",
        file.path,
        plural(file.rows, "row"),
        s.add,
        s.modify,
        s.delete,
        s.unchanged,
        s.rejected,
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
    )
}

fn write_diagnostic(out: &mut dyn Write, file: &FileReport, d: &Diagnostic, style: &Style) -> io::Result<()> {
    let (level, color) = match d.severity() {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    writeln!(
        out,
        "{}{}",
        style.paint(color, &format!("{level}[{}]", d.code)),
        style.paint("1", &format!(": {}", printable(&d.message)))
    )?;
    let mut location = format!(" --> {}", file.path);
    if let Some(line) = d.line {
        location.push_str(&format!(":{line}"));
    }
    if let Some(column) = &d.column {
        location.push_str(&format!(", column {:?}", printable(column)));
    }
    if let Some(row) = d.row {
        location.push_str(&format!(" (row {row})"));
    }
    writeln!(out, "{}", style.paint("34", &location))?;
    let raw = match (d.line, d.row) {
        (Some(_), Some(row)) => file.row_raw(row),
        (Some(line), None) if Some(line) == file.header_line() => file.header_raw(),
        (Some(line), None) => file.line_raw(line),
        _ => None,
    };
    if let (Some(raw), Some(line)) = (raw, d.line) {
        let text = String::from_utf8_lossy(raw);
        let first_line = text.split('\n').next().unwrap_or_default();
        let span = d.column_index.and_then(|i| field_span(first_line, file.source().delimiter, i));
        let (excerpt, underline) = excerpt(first_line, span);
        let gutter = " ".repeat(line.to_string().len());
        writeln!(out, "{gutter} {}", style.paint("34", "|"))?;
        writeln!(out, "{} {} {excerpt}", style.paint("34", &line.to_string()), style.paint("34", "|"))?;
        if let Some(underline) = underline {
            writeln!(out, "{gutter} {} {}", style.paint("34", "|"), style.paint(color, &underline))?;
        }
        if !d.help.is_empty() {
            writeln!(out, "{gutter} = {}: {}", style.paint("1", "help"), printable(&d.help))?;
        }
    } else if !d.help.is_empty() {
        writeln!(out, "  = {}: {}", style.paint("1", "help"), printable(&d.help))?;
    }
    writeln!(out)
}

/// The byte range of field `index` in one physical line (quote-aware).
pub(crate) fn field_span(line: &str, delimiter: u8, index: usize) -> Option<Range<usize>> {
    let bytes = line.as_bytes();
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

/// The line as shown (escaped, cut to [`MAX_EXCERPT`] around the span) and
/// the carets under the span.
fn excerpt(line: &str, span: Option<Range<usize>>) -> (String, Option<String>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let to_char = |byte: usize| chars.iter().position(|(b, _)| *b >= byte).unwrap_or(chars.len());
    let (start, end) = span.as_ref().map_or((0, 0), |s| (to_char(s.start), to_char(s.end)));
    let window_start = if chars.len() <= MAX_EXCERPT {
        0
    } else {
        start.saturating_sub(20).min(chars.len().saturating_sub(MAX_EXCERPT))
    };
    let window_end = (window_start + MAX_EXCERPT).min(chars.len());
    let mut shown = String::new();
    let mut underline = String::new();
    if window_start > 0 {
        shown.push('…');
        underline.push(' ');
    }
    for (i, (_, c)) in chars.iter().enumerate().take(window_end).skip(window_start) {
        let piece = printable(&c.to_string()).into_owned();
        let mark = if (start..end).contains(&i) { '^' } else { ' ' };
        underline.extend(std::iter::repeat_n(mark, piece.chars().count()));
        shown.push_str(&piece);
    }
    if window_end < chars.len() {
        shown.push('…');
    }
    let underline = underline.trim_end().to_owned();
    let underline = match span {
        Some(_) if start == end => Some(format!(
            "{}^ (empty)",
            " ".repeat(start.saturating_sub(window_start) + usize::from(window_start > 0))
        )),
        Some(_) if !underline.is_empty() => Some(underline),
        _ => None,
    };
    (shown, underline)
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
    }

    #[test]
    fn excerpt_underlines_the_cell() {
        let (shown, under) = excerpt("ab,cd,ef", Some(3..5));
        assert_eq!(shown, "ab,cd,ef");
        assert_eq!(under.as_deref(), Some("   ^^"));
        let (_, under) = excerpt("ab,,ef", Some(3..3));
        assert_eq!(under.as_deref(), Some("   ^ (empty)"));
    }

    #[test]
    fn long_lines_are_windowed_around_the_cell() {
        let line = format!("{},target,{}", "x".repeat(300), "y".repeat(300));
        let (shown, under) = excerpt(&line, Some(301..307));
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert!(shown.chars().count() <= MAX_EXCERPT + 2);
        let under = under.unwrap();
        let caret = under.find('^').unwrap();
        assert_eq!(&shown.chars().skip(caret).take(6).collect::<String>(), "target");
    }
}
