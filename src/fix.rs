//! `csvcheck fix`: an upload-ready copy of a file, and the list of what was
//! changed, cell by cell.
//!
//! Fixes come in two kinds (ruff's "applicability"):
//!
//! * **Safe** fixes change how a value is written, never what it means, and
//!   are always applied: the file becomes UTF-8 without a byte-order mark
//!   and `,`-delimited (F001 aside, see below; F002), every cell is trimmed
//!   (T001) and in Unicode NFC (T002), and package and base-licence cells
//!   are written `TRUE`/`FALSE` in capitals.
//! * **Unsafe** fixes are guesses about what the author meant, applied only
//!   with [`FixOptions::unsafe_fixes`] (`--unsafe-fixes`) and otherwise
//!   listed as suggestions: a phone or caller-id number whose `+` a
//!   spreadsheet stripped gets it back (N002), separators are removed from a
//!   number that is E.164 without them (N001), and `yes`/`no` in a package
//!   or base-licence cell become `TRUE`/`FALSE` (P001).
//!
//! The email cell is the user's identity: it is only ever trimmed and
//! NFC-normalised, which leave its key unchanged, and every such change is
//! listed with [`Edit::email`] set. Records without changes keep their exact
//! bytes when the delimiter was already `,`, so `diff` shows only what
//! changed. Blank lines are dropped. A file that is not valid UTF-8 is not
//! fixed: which encoding it is in is for the user to say (`--encoding`).
//!
//! ```
//! use csvcheck::{fix::{fix, FixOptions}, read::Source, Profile};
//! let source = Source::decode(b"User ID/Email (Required);First Name;Webex Calling\nanna@acme.example ;Anna;true\n".to_vec(), None);
//! let fixed = fix("users.csv", &source, &Profile::default(), &FixOptions::default()).unwrap();
//! assert_eq!(fixed.bytes, b"User ID/Email (Required),First Name,Webex Calling\nanna@acme.example,Anna,TRUE\n");
//! assert_eq!(fixed.edits.len(), 2);
//! assert!(fixed.edits[0].email);
//! ```

use std::fmt;

use csv::{QuoteStyle, Terminator, WriterBuilder};

use crate::error::{Error, Result};
use crate::header::{ColumnKind, Field, Header};
use crate::profile::Profile;
use crate::read::Source;
use crate::report::csv::line_terminator;
use crate::row::{classify_phone, NumberCell, PhoneClass};
use crate::rules::Code;
use crate::text::printable;

/// What `fix` may do.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct FixOptions {
    /// Apply the unsafe fixes too (default: only list them).
    pub unsafe_fixes: bool,
}

impl FixOptions {
    /// Options that apply the unsafe fixes as well.
    pub fn with_unsafe_fixes(unsafe_fixes: bool) -> FixOptions {
        FixOptions { unsafe_fixes }
    }
}

/// Whether a fix only changes how a value is written, or guesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Changes the spelling, never the meaning; always applied.
    Safe,
    /// A guess at what was meant; applied only when asked.
    Unsafe,
}

/// One reason a cell changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Leading or trailing whitespace removed (T001).
    Trimmed,
    /// Converted to Unicode NFC (T002).
    Nfc,
    /// `true`/`False` written `TRUE`/`FALSE`.
    FlagCase,
    /// `yes`/`no` read as `TRUE`/`FALSE` (P001).
    YesNo,
    /// A `+` a spreadsheet stripped put back (N002).
    RestoredPlus,
    /// Spaces, dashes, dots or brackets removed from a number (N001).
    Separators,
}

impl Reason {
    /// The rule the fix addresses, when there is one.
    pub fn code(self) -> Option<Code> {
        match self {
            Reason::Trimmed => Some(Code::T001),
            Reason::Nfc => Some(Code::T002),
            Reason::FlagCase => None,
            Reason::YesNo => Some(Code::P001),
            Reason::RestoredPlus => Some(Code::N002),
            Reason::Separators => Some(Code::N001),
        }
    }

    /// Whether the fix is safe.
    pub fn safety(self) -> Safety {
        match self {
            Reason::Trimmed | Reason::Nfc | Reason::FlagCase => Safety::Safe,
            Reason::YesNo | Reason::RestoredPlus | Reason::Separators => Safety::Unsafe,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Reason::Trimmed => "trimmed",
            Reason::Nfc => "NFC",
            Reason::FlagCase => "TRUE/FALSE in capitals",
            Reason::YesNo => "yes/no read as TRUE/FALSE",
            Reason::RestoredPlus => "+ restored",
            Reason::Separators => "separators removed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code() {
            Some(code) => write!(f, "{} {}", code.as_str(), self.describe()),
            None => f.write_str(self.describe()),
        }
    }
}

/// A change to one cell (or, for an unsafe fix not applied, a suggestion).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The line the record starts on.
    pub line: u64,
    /// The 1-based data row; `None` for the header.
    pub row: Option<u64>,
    /// The 0-based column.
    pub column: usize,
    /// The column's title as written in the file.
    pub title: String,
    /// The cell before.
    pub from: String,
    /// The cell after.
    pub to: String,
    /// Why; all of one [`Safety`].
    pub reasons: Vec<Reason>,
    /// Whether the edit is in the output (always for safe fixes).
    pub applied: bool,
    /// Whether the cell is the user's email (only trimmed or NFC-normalised:
    /// the user's key is unchanged).
    pub email: bool,
}

impl Edit {
    /// Whether the edit is a safe fix.
    pub fn safety(&self) -> Safety {
        match self.reasons.iter().any(|r| r.safety() == Safety::Unsafe) {
            true => Safety::Unsafe,
            false => Safety::Safe,
        }
    }
}

impl fmt::Display for Edit {
    /// `line 4, column "First Name": "Anna " -> "Anna" (T001 trimmed)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, ", self.line)?;
        if self.title.is_empty() {
            write!(f, "column {}", self.column + 1)?;
        } else {
            write!(f, "column {:?}", printable(&self.title))?;
        }
        write!(f, ": {:?} -> {:?} (", printable(&self.from), printable(&self.to))?;
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        if self.email {
            f.write_str("; email cell: the user's key is unchanged")?;
        }
        if !self.applied {
            f.write_str("; not applied: unsafe, use --unsafe-fixes")?;
        }
        f.write_str(")")
    }
}

/// A change to the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileFix {
    /// Transcoded to UTF-8 from this encoding.
    Encoding(&'static str),
    /// The byte-order mark removed.
    Bom,
    /// Records now split by `,` instead of this delimiter (F002).
    Delimiter(u8),
    /// A `sep=;` line above the header removed (H001: Control Hub reads it
    /// as the header).
    SeparatorLine,
}

impl fmt::Display for FileFix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileFix::Encoding(from) => write!(f, "encoding: {from} -> UTF-8"),
            FileFix::Bom => f.write_str("byte-order mark removed"),
            FileFix::Delimiter(d) => {
                let d = if *d == b'\t' { "tab".to_owned() } else { format!("{:?}", char::from(*d)) };
                write!(f, "delimiter: {d} -> ',' (F002)")
            }
            FileFix::SeparatorLine => f.write_str("`sep=` line above the header removed (H001)"),
        }
    }
}

/// The fixed file and what changed.
#[derive(Clone, Debug, Default)]
pub struct Fixed {
    /// The upload-ready file.
    pub bytes: Vec<u8>,
    /// Changes to the file as a whole.
    pub file_fixes: Vec<FileFix>,
    /// Changes to cells, in file order; unsafe fixes not applied are listed
    /// with [`Edit::applied`] false.
    pub edits: Vec<Edit>,
    /// Data rows written.
    pub rows: u64,
}

impl Fixed {
    /// The edits that are in the output.
    pub fn applied(&self) -> impl Iterator<Item = &Edit> {
        self.edits.iter().filter(|e| e.applied)
    }

    /// The unsafe fixes that were only suggested.
    pub fn suggested(&self) -> impl Iterator<Item = &Edit> {
        self.edits.iter().filter(|e| !e.applied)
    }
}

/// What a column holds, as far as fixing goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Flag,
    Phone,
    Other,
}

fn kind(header: &Header, index: usize) -> Kind {
    match header.columns.get(index).map(|c| &c.kind) {
        Some(ColumnKind::Field(Field::Email)) => Kind::Email,
        Some(ColumnKind::Field(Field::PhoneNumber | Field::CallerIdNumber)) => Kind::Phone,
        Some(ColumnKind::Package(_) | ColumnKind::BaseLicence(_)) => Kind::Flag,
        _ => Kind::Other,
    }
}

/// The safe spelling of a cell, and why it differs.
fn safe_fix(cell: &str, kind: Kind) -> (String, Vec<Reason>) {
    let mut reasons = Vec::new();
    let trimmed = cell.trim();
    if trimmed.len() != cell.len() {
        reasons.push(Reason::Trimmed);
    }
    let mut value = crate::text::nfc(trimmed).into_owned();
    if value != trimmed {
        reasons.push(Reason::Nfc);
    }
    if kind == Kind::Flag {
        for canonical in ["TRUE", "FALSE"] {
            if value.eq_ignore_ascii_case(canonical) && value != canonical {
                value = canonical.to_owned();
                reasons.push(Reason::FlagCase);
            }
        }
    }
    (value, reasons)
}

/// The guess for an already safely fixed cell, if there is one.
fn unsafe_fix(value: &str, kind: Kind) -> Option<(String, Reason)> {
    match kind {
        Kind::Flag if value.eq_ignore_ascii_case("yes") => Some(("TRUE".into(), Reason::YesNo)),
        Kind::Flag if value.eq_ignore_ascii_case("no") => Some(("FALSE".into(), Reason::YesNo)),
        Kind::Phone => match classify_phone(NumberCell::parse(value).value()?) {
            PhoneClass::MissingPlus { suggestion: Some(s) } => Some((s, Reason::RestoredPlus)),
            PhoneClass::Invalid { suggestion: Some(s) } => Some((s, Reason::Separators)),
            _ => None,
        },
        _ => None,
    }
}

/// Fixes a decoded file; `name` names it in errors.
///
/// Fails only when the file holds bytes that are not UTF-8 (F001): csvcheck
/// does not guess the encoding; decode with `--encoding` instead.
pub fn fix(name: &str, source: &Source, profile: &Profile, options: &FixOptions) -> Result<Fixed> {
    if let Some(bad) = source.invalid_utf8 {
        return Err(Error::Usage(format!(
            "{name}:{}: the file is not valid UTF-8, so its encoding is unknown; \
             name it with --encoding (e.g. --encoding windows-1252) and run fix again",
            bad.line
        )));
    }
    let mut fixed = Fixed::default();
    if source.encoding != "UTF-8" {
        fixed.file_fixes.push(FileFix::Encoding(source.encoding));
    }
    if source.bom {
        fixed.file_fixes.push(FileFix::Bom);
    }
    let same_delimiter = source.delimiter == b',';
    if !same_delimiter {
        fixed.file_fixes.push(FileFix::Delimiter(source.delimiter));
    }
    let mut out = Vec::with_capacity(source.bytes().len());
    let mut records = source.records();
    let Some(mut first) = records.next() else { return Ok(fixed) };
    if crate::header::is_separator_line(first.fields.iter()) {
        fixed.file_fixes.push(FileFix::SeparatorLine);
        let Some(header) = records.next() else { return Ok(fixed) };
        first = header;
    }
    // The line end of the header's line, not of a `sep=` line above it:
    // the copy is the rest of the file, and keeps its lines' ends.
    let lines = source.bytes().get(first.span.start..).unwrap_or_default();
    let terminator = terminator_bytes(line_terminator(lines));
    let titles: Vec<&str> = first.fields.iter().collect();
    let header = Header::parse(&titles, first.line, profile);
    let mut cells: Vec<String> = Vec::new();
    for (i, record) in std::iter::once(first.clone()).chain(records).enumerate() {
        let row = (i > 0).then_some(i as u64);
        let before = fixed.edits.len();
        let mut quote_all = false;
        cells.clear();
        for (column, cell) in record.fields.iter().enumerate() {
            // Header titles are not values: they are only trimmed and NFC'd.
            let kind = if row.is_some() { kind(&header, column) } else { Kind::Other };
            let (mut value, mut reasons) = safe_fix(cell, kind);
            if row.is_none() && column == 0 && value.starts_with('\u{feff}') {
                // A U+FEFF at the start of the copy is a byte-order mark to
                // its reader, which drops it. Such marks before the first
                // title (left by a blank line or a second mark) are
                // invisible and ignored in titles, so they are trimmed like
                // whitespace; but a header of nothing else would then be a
                // blank line, and the first row would become the header: that
                // one is kept, and quoted so that no reader takes it for a
                // byte-order mark.
                let title = value.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
                if title.is_empty() && record.fields.len() == 1 {
                    quote_all = true;
                } else {
                    value = title.to_owned();
                    if !reasons.contains(&Reason::Trimmed) {
                        reasons.insert(0, Reason::Trimmed);
                    }
                }
            }
            let edit = |from: &str, to: &str, reasons: Vec<Reason>, applied: bool| Edit {
                line: record.line,
                row,
                column,
                title: header.title(column).to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
                reasons,
                applied,
                email: kind == Kind::Email,
            };
            if !reasons.is_empty() {
                fixed.edits.push(edit(cell, &value, reasons, true));
            }
            if let Some((guess, reason)) = unsafe_fix(&value, kind) {
                fixed.edits.push(edit(&value, &guess, vec![reason], options.unsafe_fixes));
                if options.unsafe_fixes {
                    value = guess;
                }
            }
            cells.push(value);
        }
        let changed = fixed.edits.get(before..).is_some_and(|e| e.iter().any(|e| e.applied));
        if same_delimiter && !changed && !quote_all {
            // Unchanged records keep their exact bytes (quoting included),
            // but for a second byte-order mark, which the reader dropped
            // from the first record and the copy must not start with.
            let raw = source.raw(&record.span);
            let raw = if i == 0 { raw.strip_prefix("\u{feff}".as_bytes()).unwrap_or(raw) } else { raw };
            out.extend_from_slice(raw);
            out.extend_from_slice(terminator);
        } else {
            write_record(&mut out, &cells, terminator, quote_all)
                .map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        }
        if row.is_some() {
            fixed.rows += 1;
        }
    }
    fixed.bytes = out;
    Ok(fixed)
}

/// Appends one record to `out`, quoted where RFC 4180 needs it, or every
/// cell when `quote_all`.
fn write_record(out: &mut Vec<u8>, cells: &[String], terminator: &[u8], quote_all: bool) -> csv::Result<()> {
    let mut writer = WriterBuilder::new()
        .flexible(true)
        .quote_style(if quote_all { QuoteStyle::Always } else { QuoteStyle::Necessary })
        .terminator(if terminator == b"\n" { Terminator::Any(b'\n') } else { Terminator::CRLF })
        .from_writer(out);
    writer.write_record(cells)?;
    writer.flush()?;
    Ok(())
}

/// The terminator written for a file's own: `\n` stays, `\r\n` and a lone
/// `\r` become `\r\n`.
fn terminator_bytes(file: &[u8]) -> &'static [u8] {
    if file == b"\n" {
        b"\n"
    } else {
        b"\r\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(csv: &str, unsafe_fixes: bool) -> Fixed {
        let source = Source::decode(csv.as_bytes().to_vec(), None);
        fix("t.csv", &source, &Profile::default(), &FixOptions::with_unsafe_fixes(unsafe_fixes)).unwrap()
    }

    const HEAD: &str = "User ID/Email (Required),First Name,Phone Number,Webex Calling,Basic Calling\n";

    #[test]
    fn safe_fixes_trim_compose_and_capitalise() {
        let f = run(&format!("{HEAD} Anna@acme.example ,Nicolo\u{300} ,+390212345678,true,False\n"), false);
        let out = String::from_utf8(f.bytes.clone()).unwrap();
        assert_eq!(out, format!("{HEAD}Anna@acme.example,Nicolò,+390212345678,TRUE,FALSE\n"));
        let reasons: Vec<_> = f.edits.iter().map(|e| e.reasons.clone()).collect();
        assert_eq!(
            reasons,
            [
                vec![Reason::Trimmed],
                vec![Reason::Trimmed, Reason::Nfc],
                vec![Reason::FlagCase],
                vec![Reason::FlagCase]
            ]
        );
        assert!(f.edits[0].email && !f.edits[1].email);
        assert_eq!(f.edits[0].to, "Anna@acme.example", "the email keeps its case");
    }

    #[test]
    fn unsafe_fixes_are_suggested_unless_asked_for() {
        let csv = format!("{HEAD}anna@acme.example,Anna,390212345678,yes,no\n");
        let f = run(&csv, false);
        assert_eq!(String::from_utf8(f.bytes.clone()).unwrap(), csv, "nothing applied, bytes kept");
        assert_eq!(f.suggested().count(), 3);
        assert_eq!(f.applied().count(), 0);
        let f = run(&csv, true);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            format!("{HEAD}anna@acme.example,Anna,+390212345678,TRUE,FALSE\n")
        );
        assert!(f.edits.iter().all(|e| e.applied && e.safety() == Safety::Unsafe));
    }

    #[test]
    fn unchanged_records_keep_their_bytes_and_terminators() {
        let csv = "User ID/Email (Required),Display Name\r\n\"anna@acme.example\",\"Bianchi, Anna\"\r\nb@acme.example ,B\r\n";
        let f = run(csv, false);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "User ID/Email (Required),Display Name\r\n\"anna@acme.example\",\"Bianchi, Anna\"\r\nb@acme.example,B\r\n"
        );
    }

    #[test]
    fn marks_before_the_first_title_are_trimmed_so_no_row_becomes_the_header() {
        // A blank line, then a header of only a stray byte-order mark:
        // copied as it is or trimmed, the copy's reader would skip it as a
        // blank line and take the first row for the header.
        let f = run("\u{feff}\n\n\u{feff}\nanna@acme.example\n", false);
        assert_eq!(String::from_utf8(f.bytes.clone()).unwrap(), "\"\u{feff}\"\nanna@acme.example\n");
        assert_eq!(f.rows, 1);
        let copy = Source::decode(f.bytes, None);
        assert_eq!(copy.records().count(), 2, "the header and the row");

        // Marks and whitespace before a title go; the title is kept.
        let f = run("\n\u{feff} \u{feff}User ID/Email (Required),Display Name\na@acme.example,A\n", false);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "User ID/Email (Required),Display Name\na@acme.example,A\n"
        );
        assert_eq!(f.edits.len(), 1);
        assert_eq!(
            (f.edits[0].row, f.edits[0].column, f.edits[0].reasons.as_slice()),
            (None, 0, &[Reason::Trimmed][..])
        );

        // A second byte-order mark is one to the reader too, and is not
        // copied.
        let f = run("\u{feff}\u{feff}User ID/Email (Required)\na@acme.example\n", false);
        assert_eq!(String::from_utf8(f.bytes).unwrap(), "User ID/Email (Required)\na@acme.example\n");

        // A mark inside a cell of a row is data, and stays.
        let csv = "User ID/Email (Required),Display Name\na@acme.example,\u{feff}\n";
        assert_eq!(String::from_utf8(run(csv, false).bytes).unwrap(), csv);
    }

    #[test]
    fn a_sep_line_above_the_header_is_removed() {
        // Written for Excel, which splits the file by what it names; to
        // Control Hub (and the checker: H001) it is the header.
        let f = run("sep=;\nUser ID/Email (Required);Display Name\na@acme.example;\" Anna \"\n", false);
        assert_eq!(f.file_fixes, [FileFix::Delimiter(b';'), FileFix::SeparatorLine]);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "User ID/Email (Required),Display Name\na@acme.example,Anna\n"
        );
        assert_eq!(f.rows, 1);
        // The edits keep the lines of the input.
        assert_eq!(f.edits.iter().map(|e| (e.line, e.row)).collect::<Vec<_>>(), [(3, Some(1))]);
        let f = run("SEP=,\n", false);
        assert_eq!((f.file_fixes, f.bytes.len(), f.rows), (vec![FileFix::SeparatorLine], 0, 0));
        // A header that only starts the same way stays.
        let csv = "sep=,Display Name\na@acme.example,Anna\n";
        let f = run(csv, false);
        assert!(f.file_fixes.is_empty());
        assert_eq!(String::from_utf8(f.bytes).unwrap(), csv);
    }

    #[test]
    fn delimiter_encoding_and_bom_are_file_fixes() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "User ID/Email (Required);Display Name\na@acme.example;\"x;y\"\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let source = Source::decode(bytes, None);
        let f = fix("t.csv", &source, &Profile::default(), &FixOptions::default()).unwrap();
        assert_eq!(f.file_fixes, [FileFix::Encoding("UTF-16LE"), FileFix::Bom, FileFix::Delimiter(b';')]);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "User ID/Email (Required),Display Name\na@acme.example,x;y\n"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_with_its_line() {
        let source = Source::decode(b"a,b\nNicol\xf2,x\n".to_vec(), None);
        let e = fix("t.csv", &source, &Profile::default(), &FixOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:2: "), "{e}");
    }

    #[test]
    fn edits_print_line_column_old_and_new() {
        let f = run(&format!("{HEAD}anna@acme.example,Anna ,390212345678,,\n"), false);
        let lines: Vec<String> = f.edits.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                r#"line 2, column "First Name": "Anna " -> "Anna" (T001 trimmed)"#,
                r#"line 2, column "Phone Number": "390212345678" -> "+390212345678" (N002 + restored; not applied: unsafe, use --unsafe-fixes)"#,
            ]
        );
    }
}
