//! Text rules (T001–T005): hygiene of every cell — whitespace, Unicode form,
//! control characters, formula injection, length.

use super::{Code, Diagnostic, RowContext};
use crate::header::{Field, TextRole};
use crate::text::{is_nfc, nfc};

/// Runs the text rules on one cell (not empty) of a row, column `index`,
/// whose column is `role` to them. The row's cells are read once, in
/// `rules::read_cells`, for these and the other rules.
#[inline]
pub(crate) fn check_cell(
    cx: &RowContext<'_>,
    index: usize,
    cell: &str,
    role: TextRole,
    out: &mut Vec<Diagnostic>,
) {
    let (name, text) = match role {
        TextRole::Name(field) => (Some(field), true),
        TextRole::Text => (None, true),
        TextRole::Other => (None, false),
    };
    if is_printable_ascii(cell) {
        plain_cell(cx, index, cell, name, text, out);
    } else {
        any_cell(cx, index, cell, name, text, out);
    }
}

/// The text rules on one cell: T001-T003 on every cell, T004 on name
/// (`name`) and other text (`text`) cells, T005 on names.
///
/// A rule is skipped where one look at the bytes shows it cannot fire
/// (an accented name is mostly ASCII); otherwise it decides on characters.
fn any_cell(
    cx: &RowContext<'_>,
    index: usize,
    cell: &str,
    name: Option<Field>,
    text: bool,
    out: &mut Vec<Diagnostic>,
) {
    let bytes = cell.as_bytes();
    // An ASCII letter, digit or sign at an end is no whitespace there.
    let graphic = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    if !graphic(bytes.first()) || !graphic(bytes.last()) {
        untrimmed(cx, index, cell, out);
    }
    let (marks, maybe_control) = marks_and_controls(bytes);
    if marks {
        not_nfc(cx, index, cell, out);
    }
    if maybe_control {
        control_character(cx, index, cell, out);
    }
    if text && (!graphic(bytes.first()) || bytes.first().is_some_and(|b| b"=+-@".contains(b))) {
        formula_prefix(cx, index, cell, out);
    }
    if let Some(field) = name {
        // Within the smaller limit in bytes and NFC: within it in characters.
        if marks || cell.len() > NAME_MAX {
            too_long(cx, index, field, cell, out);
        }
    }
}

/// What one look at a cell's bytes, eight at a time, tells the text
/// rules: whether it holds a character from U+0300 on (a lead byte from
/// 0xCC on), the only characters NFC may change; and whether it may hold a
/// control character: a byte below 0x20, 0x7F, or 0xC2 (the lead byte of
/// U+0080-U+009F). A tab, which T003 allows, counts too: such a cell is
/// only looked at closer.
fn marks_and_controls(bytes: &[u8]) -> (bool, bool) {
    use crate::swar::{splat, HIGH, ONES};
    // A byte of 0xCC or more: the high bit, and the low seven bits from
    // 0x4C on, which adding 0x34 carries into the high bit. Below 0x20,
    // 0x7F, 0xC2: a subtraction that borrows, from a byte that is not
    // 0x80 or more (for 0x20), or that was zero once xored with the
    // value. A borrow spreads only upward from a byte that is flagged
    // rightly, which is all an "any" needs.
    let look = |(marks, controls): (u64, u64), x: u64| {
        let (del, c2) = (x ^ splat(0x7F), x ^ splat(0xC2));
        let below_space = x.wrapping_sub(splat(0x20)) & !x;
        let equal = del.wrapping_sub(ONES) & !del | c2.wrapping_sub(ONES) & !c2;
        (marks | x & (x & !HIGH).wrapping_add(splat(0x34)), controls | below_space | equal)
    };
    // Spaces, which flag nothing, widen a short cell to a word; a longer
    // one is its whole words, then its last eight bytes (overlapping them).
    let word = |w: Option<&[u8; 8]>| u64::from_le_bytes(w.copied().unwrap_or([b' '; 8]));
    let (marks, controls) = match bytes.last_chunk::<8>() {
        Some(last) => {
            let words = bytes.chunks_exact(8).map(|w| word(w.try_into().ok()));
            words.fold(look((0, 0), word(Some(last))), look)
        }
        None => {
            let mut short = [b' '; 8];
            short.iter_mut().zip(bytes).for_each(|(to, &b)| *to = b);
            look((0, 0), u64::from_le_bytes(short))
        }
    };
    (marks & HIGH != 0, controls & HIGH != 0)
}

/// Whether every byte of `cell` is printable ASCII (space to `~`).
///
/// Nearly every cell is; such a cell is NFC, holds no control character,
/// and its only whitespace is the space, so the text rules need little
/// more than its first and last bytes ([`plain_cell`]). Eight bytes at a
/// time, instead of the general checks' several passes over characters.
fn is_printable_ascii(cell: &str) -> bool {
    // In each byte the high bit of: `x`, set from 0x80; `!(x + 0x60)`, set
    // below 0x20; `x + 1`, set from 0x7F. A carry between bytes comes only
    // from a byte of 0x80 or more, which `x` flags already.
    fn unprintable(x: u64) -> u64 {
        use crate::swar::{splat, HIGH, ONES};
        (x | !x.wrapping_add(splat(0x60)) | x.wrapping_add(ONES)) & HIGH
    }
    let bytes = cell.as_bytes();
    let word = |w: Option<&[u8; 8]>| unprintable(u64::from_ne_bytes(w.copied().unwrap_or([0x80; 8])));
    match bytes.len() {
        0..4 => bytes.iter().all(|b| (b' '..=b'~').contains(b)),
        // Two overlapping halves, each widened with spaces.
        4..8 => {
            let half = |h: Option<&[u8; 4]>| {
                let [a, b, c, d] = h.copied().unwrap_or([0x80; 4]);
                unprintable(u64::from_ne_bytes([a, b, c, d, b' ', b' ', b' ', b' ']))
            };
            half(bytes.first_chunk()) | half(bytes.last_chunk()) == 0
        }
        // Whole words, then the last eight bytes (overlapping the words).
        _ => {
            let words = bytes.chunks_exact(8).map(|w| w.try_into().ok());
            words.fold(word(bytes.last_chunk()), |found, w| found | word(w)) == 0
        }
    }
}

/// The text rules on a cell of printable ASCII: what [`any_cell`] finds,
/// decided on bytes. Each rule still makes its own finding, so the
/// messages are the same whichever way a cell went.
#[inline]
fn plain_cell(
    cx: &RowContext<'_>,
    index: usize,
    cell: &str,
    name: Option<Field>,
    text: bool,
    out: &mut Vec<Diagnostic>,
) {
    let bytes = cell.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        untrimmed(cx, index, cell, out);
    }
    // T002 and T003 cannot fire: ASCII is NFC, and control characters are
    // not printable.
    if text && bytes.iter().find(|&&b| b != b' ').is_some_and(|b| b"=+-@".contains(b)) {
        formula_prefix(cx, index, cell, out);
    }
    if let Some(field) = name {
        // One byte is one character: within the smaller limit nothing to count.
        if cell.len() > NAME_MAX {
            too_long(cx, index, field, cell, out);
        }
    }
}

/// Documentation of T001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const T001: &str = r#"## What it checks
A cell with leading or trailing whitespace. csvcheck trims every value
before its other checks and before comparing with the org, so this is only
a warning. Warning: rejects nothing.

## Why Control Hub cares
Control Hub may store a value exactly as written (it does not normalise the
numbers it stores, help.webex.com article nvjt3ce), so "Rossi " can reach the
directory or stop matching the existing value (inferred). Trailing spaces in
user names are a known cause of failed imports in other directories
(Microsoft Entra ID). They usually come from copy-paste out of email or
another spreadsheet.

## How to fix
`csvcheck fix users.csv -o users-fixed.csv` trims every cell.

## Example
Org: giulia.rossi@acme.example exists.

    User ID/Email (Required),First Name,Last Name
    giulia.rossi@acme.example , Giulia,Rossi

Use instead:

    User ID/Email (Required),First Name,Last Name
    giulia.rossi@acme.example,Giulia,Rossi
"#;
/// T001: leading or trailing whitespace.
fn untrimmed(cx: &RowContext<'_>, index: usize, cell: &str, out: &mut Vec<Diagnostic>) {
    if crate::text::trim(cell).len() == cell.len() {
        return;
    }
    let (lead, trail) = (cell.len() - cell.trim_start().len(), cell.len() - cell.trim_end().len());
    let r#where = match (lead > 0, trail > 0) {
        (true, true) => "leading and trailing",
        (true, false) => "leading",
        _ => "trailing",
    };
    out.push(
        cx.cell_diagnostic(Code::T001, index, format!("{cell:?} has {where} whitespace"))
            .help(format!("remove the spaces: {:?} (`csvcheck fix` trims every cell)", cell.trim())),
    );
}

/// Documentation of T002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const T002: &str = r#"## What it checks
A cell whose text changes under Unicode NFC normalisation: typically an
accented letter written as a base letter plus a combining accent (NFD)
instead of one precomposed character. csvcheck compares NFC values, so this
is only a warning. Warning: rejects nothing.

## Why Control Hub cares
macOS and some tools produce NFD text. "Niccolò" then looks the same but
differs byte for byte from the NFC spelling already stored, which causes
false "changed" diffs and failed matches in tools that compare bytes
(inferred for Control Hub, seen in other software).

## How to fix
`csvcheck fix users.csv -o users-fixed.csv` converts every cell to NFC.

## Example
Org: niccolo.bianchi@acme.example exists with First Name "Niccolò". Below,
`o\u0300` stands for the letter o followed by U+0300 COMBINING GRAVE ACCENT:

    User ID/Email (Required),First Name,Last Name
    niccolo.bianchi@acme.example,Niccolo\u0300,Bianchi

Use instead (ò as the single character U+00F2):

    User ID/Email (Required),First Name,Last Name
    niccolo.bianchi@acme.example,Niccolò,Bianchi
"#;
/// T002: text that changes under NFC normalisation.
fn not_nfc(cx: &RowContext<'_>, index: usize, cell: &str, out: &mut Vec<Diagnostic>) {
    if is_nfc(cell) {
        return;
    }
    out.push(
        cx.cell_diagnostic(
            Code::T002,
            index,
            format!("{cell:?} is not in Unicode NFC form: accents are stored as separate marks"),
        )
        .help(format!(
            "write it composed, {:?} (`csvcheck fix` does it); macOS tools often save decomposed text",
            nfc(cell)
        )),
    );
}

/// Documentation of T003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const T003: &str = r#"## What it checks
A cell contains a control character other than tab: NUL, carriage return,
line feed, escape or any other character of Unicode category Cc. A line
break inside a quoted cell parses correctly but still fires.
Error: rejects the row.

## Why Control Hub cares
Names, titles and departments are shown in Webex apps, the directory and
caller ID, where a line break or an invisible control character has no
sensible rendering. They come from Alt+Enter in an Excel cell, copy-paste
from PDFs or web pages, or a broken export. Cisco does not document how
Control Hub handles them; rejecting the row is csvcheck's safe choice
(inferred).

## How to fix
Delete the character; join multi-line values onto one line. In Excel,
`=CLEAN(A2)` removes control characters, and Find & Replace with Ctrl+J
finds line breaks.

## Example
Org: giulia.rossi@acme.example exists.

    User ID/Email (Required),Title
    giulia.rossi@acme.example,"Responsabile
    Acquisti"

Use instead:

    User ID/Email (Required),Title
    giulia.rossi@acme.example,Responsabile Acquisti
"#;
/// T003: a control character other than tab.
fn control_character(cx: &RowContext<'_>, index: usize, cell: &str, out: &mut Vec<Diagnostic>) {
    let Some(c) = cell.chars().find(|&c| c.is_control() && c != '\t') else {
        return;
    };
    let what = match c {
        '\n' | '\r' => "a line break".to_owned(),
        '\0' => "a NUL byte".to_owned(),
        c => format!("the control character U+{:04X}", u32::from(c)),
    };
    out.push(
        cx.cell_diagnostic(Code::T003, index, format!("{cell:?} contains {what}"))
            .help("remove the character; values must be one line of printable text"),
    );
}

/// Documentation of T004: what it checks, why Control Hub cares, how to fix it.
pub(crate) const T004: &str = r#"## What it checks
A name or other text cell (names, Title, Department, address and other
free-text columns) starts with `=`, `+`, `-` or `@`. Email, phone number
and extension cells are not text cells here. Warning: rejects nothing.

## Why Control Hub cares
Exports are usually opened in a spreadsheet, which reads a cell starting
with these characters as a formula and may run it (CSV or formula
injection); a value stored in Control Hub comes back in every later export.
Even harmless values suffer: a `-` placeholder or `+Milano` can turn into a
formula error when the file is edited. This is general spreadsheet
behaviour; Cisco's documentation does not discuss it.

## How to fix
Remove the leading character or reword the value. Leave a cell empty rather
than writing `-` as a placeholder: empty means no change.

## Example
Org: giulia.rossi@acme.example and marco.bianchi@acme.example exist.

    User ID/Email (Required),Title,Department
    giulia.rossi@acme.example,=SUM(A2:A9),Vendite
    marco.bianchi@acme.example,-,-

Use instead:

    User ID/Email (Required),Title,Department
    giulia.rossi@acme.example,Responsabile Vendite,Vendite
    marco.bianchi@acme.example,,
"#;
/// T004: a name or text cell starting with `=`, `+`, `-` or `@`.
fn formula_prefix(cx: &RowContext<'_>, index: usize, cell: &str, out: &mut Vec<Diagnostic>) {
    let Some(first) = cell.trim_start().chars().next() else {
        return;
    };
    if !matches!(first, '=' | '+' | '-' | '@') {
        return;
    }
    out.push(
        cx.cell_diagnostic(
            Code::T004,
            index,
            format!("{cell:?} starts with {first:?}: a spreadsheet would run it as a formula"),
        )
        .help("remove the leading character, or if it is really part of the value, make sure nobody opens the file in a spreadsheet"),
    );
}

/// Documentation of T005: what it checks, why Control Hub cares, how to fix it.
pub(crate) const T005: &str = r#"## What it checks
A First Name or Last Name longer than 64 characters, or a Display Name
longer than 128. Characters are counted after trimming and NFC
normalisation, so an accented letter counts once. Error: rejects the row.

## Why Control Hub cares
Names appear in Webex apps, meeting rosters, the directory and caller ID,
and directory services cap their length (Google Workspace: 60 characters
for first and last names). Cisco does not publish a limit for the user CSV;
64 and 128 are csvcheck's limits (inferred). Overlong names are almost
always a mistake: a note, an address or several cells pasted into one.

## How to fix
Shorten the value to the person's actual name; move any other information
to Title or Department, or out of the file.

## Example
Org: lucia.ferri@acme.example exists.

    User ID/Email (Required),Last Name
    lucia.ferri@acme.example,Ferri - trasferita da Roma a Milano HQ dal 1 marzo 2025 (chiedere a HR)

Use instead:

    User ID/Email (Required),Last Name
    lucia.ferri@acme.example,Ferri
"#;
/// The longest First Name or Last Name, in characters.
const NAME_MAX: usize = 64;
/// The longest Display Name, in characters.
const DISPLAY_NAME_MAX: usize = 128;

/// T005: a name over 64 or a display name over 128 characters.
fn too_long(cx: &RowContext<'_>, index: usize, field: Field, cell: &str, out: &mut Vec<Diagnostic>) {
    let max = if field == Field::DisplayName { DISPLAY_NAME_MAX } else { NAME_MAX };
    let trimmed = crate::text::trim(cell);
    // Characters below U+0300 are NFC whatever surrounds them, and take at
    // least a byte each: within the limit in bytes, within it in characters.
    if trimmed.len() <= max && trimmed.bytes().all(|b| b < 0xCC) {
        return;
    }
    let len = nfc(trimmed).chars().count();
    if len <= max {
        return;
    }
    out.push(
        cx.cell_diagnostic(
            Code::T005,
            index,
            format!("{} {cell:?} is {len} characters long; Control Hub allows {max}", field.title()),
        )
        .help(format!("shorten it to at most {max} characters")),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, found};
    use super::*;

    fn at(csv: &str, code: Code) -> Vec<(u64, String)> {
        found(&check(csv, None), code)
            .iter()
            .map(|d| (d.line.unwrap_or(0), d.column.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn t001_sees_every_kind_of_whitespace_but_not_inner_spaces() {
        let csv = "User ID/Email (Required),First Name,Department,Webex Meetings\n\
                   anna@acme.example,Anna Maria,\u{a0}Vendite, TRUE\n";
        let got = at(csv, Code::T001);
        assert_eq!(got, [(2, "Department".to_owned()), (2, "Webex Meetings".to_owned())]);
        let report = check(csv, None);
        assert_eq!(found(&report, Code::T001)[0].message, "\"\\u{a0}Vendite\" has leading whitespace");
    }

    #[test]
    fn t003_allows_tabs_and_escapes_what_it_shows() {
        let csv = "User ID/Email (Required),Title,Department\n\
                   anna@acme.example,\"Capo\r\nUfficio\",IT\tNord\n\
                   bruna@acme.example,Capo\u{1b}[2J,\u{0}\n";
        assert_eq!(
            at(csv, Code::T003),
            [(2, "Title".to_owned()), (4, "Title".to_owned()), (4, "Department".to_owned())]
        );
        let report = check(csv, None);
        let t003 = found(&report, Code::T003);
        assert_eq!(t003[0].message, "\"Capo\\r\\nUfficio\" contains a line break");
        assert_eq!(t003[1].message, "\"Capo\\u{1b}[2J\" contains the control character U+001B");
        assert_eq!(t003[2].message, "\"\\0\" contains a NUL byte");
    }

    #[test]
    fn t004_only_on_name_and_text_columns() {
        let csv = "User ID/Email (Required),Display Name,Department,Phone Number,Extension,Location,Notes,Webex Meetings\n\
                   anna@acme.example,=1+1,@ops,+390212345678,1001,-Roma,=HYPERLINK(1),TRUE\n\
                   bruna@acme.example,Bruna -,  -Ufficio,,,,,\n";
        // Phone, extension, location and unknown columns are not text.
        assert_eq!(
            at(csv, Code::T004),
            [(2, "Display Name".to_owned()), (2, "Department".to_owned()), (3, "Department".to_owned())]
        );
    }

    /// Every rule that applies, none skipped: what the fast paths must find.
    fn every_rule(
        cx: &RowContext<'_>,
        index: usize,
        cell: &str,
        name: Option<Field>,
        text: bool,
        out: &mut Vec<Diagnostic>,
    ) {
        untrimmed(cx, index, cell, out);
        not_nfc(cx, index, cell, out);
        control_character(cx, index, cell, out);
        if text {
            formula_prefix(cx, index, cell, out);
        }
        if let Some(field) = name {
            too_long(cx, index, field, cell, out);
        }
    }

    /// What the general path and, for printable ASCII, the fast path find
    /// in `cell` as the only cell of a `title` column (the general path
    /// checked against every rule).
    fn both_paths(title: &str, cell: &str) -> (Vec<Diagnostic>, Option<Vec<Diagnostic>>) {
        let csv = format!(
            "User ID/Email (Required),{title}\nanna@acme.example,\"{}\"\n",
            cell.replace('"', "\"\"")
        );
        super::super::testing::with_row(&csv, |cx| {
            let (name, text) = match cx.row.header.roles().get(1).map(|r| r.text) {
                Some(TextRole::Name(field)) => (Some(field), true),
                Some(TextRole::Text) => (None, true),
                _ => (None, false),
            };
            let cell = cx.row.cell(1).unwrap();
            let (mut every, mut general, mut plain) = (Vec::new(), Vec::new(), Vec::new());
            every_rule(cx, 1, cell, name, text, &mut every);
            any_cell(cx, 1, cell, name, text, &mut general);
            assert_eq!(every, general, "{cell:?}");
            let plain = is_printable_ascii(cell).then(|| {
                plain_cell(cx, 1, cell, name, text, &mut plain);
                plain
            });
            (general, plain)
        })
    }

    proptest::proptest! {
        /// Eight bytes at a time, as one at a time.
        #[test]
        fn printable_ascii_word_by_word(
            before in "[ -~]{0,24}",
            odd in "[\u{0}-\u{1f}\u{7f}-\u{a0}é\u{fffd}\u{1f600}]",
            after in "[ -~]{0,24}",
        ) {
            let plain = format!("{before}{after}");
            proptest::prop_assert!(is_printable_ascii(&plain), "{:?}", plain);
            let odd = format!("{before}{odd}{after}");
            proptest::prop_assert!(!is_printable_ascii(&odd), "{:?}", odd);
        }
    }

    proptest::proptest! {
        /// The look eight bytes at a time finds what one at a time does.
        #[test]
        fn marks_and_controls_are_found_as_byte_by_byte(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                proptest::num::u8::ANY,
                proptest::sample::select(vec![0x09, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xC2, 0xCB, 0xCC, 0xFF]),
            ], 0..40),
        ) {
            let marks = bytes.iter().any(|&b| b >= 0xCC);
            let controls = bytes.iter().any(|&b| b < 0x20 || b == 0x7F || b == 0xC2);
            proptest::prop_assert_eq!(marks_and_controls(&bytes), (marks, controls), "{:x?}", bytes);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

        /// Any cell — spaces of every kind, marks, controls, formula
        /// characters, long names — gets what every rule finds.
        #[test]
        fn the_general_path_skips_only_rules_that_cannot_fire(
            cell in "[ \t\u{a0}\u{3000}=+@-]{0,2}[a-zé\u{300}\u{301}\u{1b}\u{85}\u{9f}\u{a0}«ș\u{fffd}]{0,8}([a-zè]{60,70}|[a-zè]{125,135}|)[ \u{a0}\u{2009}\rx]{0,2}",
            title in proptest::sample::select(vec!["First Name", "Display Name", "Title", "Extension", "Location", "Notes"]),
        ) {
            // `both_paths` compares the general path with every rule.
            both_paths(title, &cell);
        }
    }

    #[test]
    fn printable_ascii_is_told_from_the_rest() {
        assert!(is_printable_ascii(" Anna Maria = ~!@#$%^&*()_+{}|:<>?"));
        for other in ["Anna\tMaria", "x\u{7f}", "\u{1f}", "è", "\u{a0}", "Nicolo\u{300}", "\n"] {
            assert!(!is_printable_ascii(other), "{other:?}");
        }
    }

    #[test]
    fn the_fast_path_finds_what_the_general_one_finds() {
        let long = "x".repeat(70);
        let very_long = format!(" {} ", "y".repeat(130));
        for cell in ["Anna", " Anna", "Anna ", "  ", "=1+1", " -x", "@ops", "+39", "a=b", &long, &very_long] {
            for title in ["First Name", "Display Name", "Department", "Phone Number", "Unknown"] {
                let (general, fast) = both_paths(title, cell);
                assert_eq!(Some(&general), fast.as_ref(), "{title}: {cell:?}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, ..Default::default() })]

        /// Cells of printable ASCII (spaces, formula characters and long
        /// values likely) get the same findings either way.
        #[test]
        fn fast_and_general_paths_agree(
            cell in "[ =+@a-z-]{0,3}[ -~]{0,12}( {0,2}|[a-z]{60,70}|[a-z]{125,135})",
            title in proptest::sample::select(vec!["First Name", "Display Name", "Title", "Extension", "Location", "Notes"]),
        ) {
            let (general, fast) = both_paths(title, &cell);
            proptest::prop_assert_eq!(Some(general), fast);
        }
    }

    #[test]
    fn t005_counts_characters_not_bytes() {
        let row = |first: &str, display: &str| {
            format!("User ID/Email (Required),First Name,Display Name\nanna@acme.example,{first},{display}\n")
        };
        // 64 two-byte letters, 64 decomposed letters (128 code points) and a
        // 128-letter display name are all within the limits.
        assert!(at(&row(&"è".repeat(64), &"è".repeat(128)), Code::T005).is_empty());
        assert!(at(&row(&"e\u{300}".repeat(64), "Anna"), Code::T005).is_empty());
        assert!(at(&row(&format!(" {} ", "a".repeat(64)), "Anna"), Code::T005).is_empty());
        assert_eq!(
            at(&row(&"è".repeat(65), &"è".repeat(129)), Code::T005),
            [(2, "First Name".to_owned()), (2, "Display Name".to_owned())]
        );
        let report = check(&row(&"è".repeat(65), "Anna"), None);
        assert!(found(&report, Code::T005)[0]
            .message
            .ends_with("is 65 characters long; Control Hub allows 64"));
    }
}
