//! Text normalisation shared by every stage.
//!
//! Control Hub compares titles and keys after its own normalisation; csvcheck
//! mirrors it here once, so that the header, the rows, the org state and the
//! rules all agree on what "the same" means.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// `s` without leading and trailing whitespace: [`str::trim`], after a look
/// at the first and the last character — a cell that neither starts nor
/// ends with whitespace (nearly every one) has nothing to trim, and
/// `str::trim` would search both ends character by character to find so.
///
/// ```
/// assert_eq!(csvcheck::text::trim("\u{a0} Rossi\t"), "Rossi");
/// assert_eq!(csvcheck::text::trim("Rossi"), "Rossi");
/// ```
#[inline]
pub fn trim(s: &str) -> &str {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        (Some(_), Some(_)) => trim_decoded(s),
        _ => s,
    }
}

/// [`trim`] of a string that starts or ends with a byte that is not a
/// visible ASCII character: a space, or a name that ends in an accented
/// letter (decoded, and kept whole, without a search).
#[inline(never)]
fn trim_decoded(s: &str) -> &str {
    let starts_visible = s.chars().next().is_some_and(|c| !c.is_whitespace());
    if starts_visible && s.chars().next_back().is_some_and(|c| !c.is_whitespace()) {
        s
    } else {
        s.trim()
    }
}

/// Whether `s` is in Unicode Normalization Form C.
///
/// Uses the quick check first, so plain ASCII and ordinary accented text cost
/// one pass and no allocation.
pub fn is_nfc(s: &str) -> bool {
    // Every character below U+0300 (the first combining mark) is NFC on its
    // own and has canonical combining class 0, so text made only of them is
    // NFC; their UTF-8 bytes are all below 0xCC, the lead byte of U+0300.
    // (`is_ascii` goes a word at a time: most cells stop there.)
    if s.is_ascii() || s.bytes().all(|b| b < 0xCC) {
        return true;
    }
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => s.nfc().eq(s.chars()),
    }
}

/// `s` in NFC, borrowed when it already is.
pub fn nfc(s: &str) -> Cow<'_, str> {
    if is_nfc(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// A value as Control Hub stores it: trimmed, then NFC.
pub fn clean(s: &str) -> Cow<'_, str> {
    nfc(trim(s))
}

/// The key of a user: the email trimmed, NFC-normalised and lowercased.
///
/// ```
/// assert_eq!(csvcheck::text::email_key("  Giulia.Rossi@ACME.example "), "giulia.rossi@acme.example");
/// ```
pub fn email_key(s: &str) -> String {
    let s = trim(s);
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        nfc(s).to_lowercase()
    }
}

/// A column title reduced for matching: trimmed, NFC, inner whitespace
/// collapsed to one space, lowercased, and without the invisible U+FEFF and
/// U+200B — a byte-order mark that was not at the very start of the file
/// (after a blank line, or a second one) would otherwise hide the email
/// column.
pub fn title_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let visible: Cow<'_, str> = if s.contains(['\u{feff}', '\u{200b}']) {
        Cow::Owned(s.replace(['\u{feff}', '\u{200b}'], ""))
    } else {
        Cow::Borrowed(s)
    };
    for word in nfc(&visible).split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.to_lowercase()
}

/// `s` trimmed, in NFC and lowercased — the form in which [`eq_folded`]
/// compares, and the org keys its locations — written to `out`.
///
/// Unlike `clean(s).to_lowercase()` it allocates nothing for ASCII, nor for
/// NFC text without a capital sigma (whose lowercase depends on the letters
/// around it): a location key per row stays off the heap.
///
/// ```
/// let mut key = String::new();
/// csvcheck::text::write_folded(" Bucure\u{15f}ti HQ ", &mut key).unwrap();
/// assert_eq!(key, "bucure\u{15f}ti hq");
/// ```
pub fn write_folded(s: &str, out: &mut impl std::fmt::Write) -> std::fmt::Result {
    let s = trim(s);
    if s.is_ascii() {
        let mut lower = [0u8; 32];
        for part in s.as_bytes().chunks(lower.len()) {
            let lower = lower.get_mut(..part.len()).unwrap_or_default();
            lower.copy_from_slice(part);
            lower.make_ascii_lowercase();
            out.write_str(std::str::from_utf8(lower).unwrap_or_default())?;
        }
        Ok(())
    } else if !s.contains('\u{3a3}') && is_nfc(s) {
        // `str::to_lowercase` is `char::to_lowercase` of each character
        // but for the capital sigma, excluded above. Written a bufferful
        // at a time rather than a character at a time.
        let mut buffer = [0u8; 64];
        let mut len = 0;
        for c in s.chars().flat_map(char::to_lowercase) {
            if len + c.len_utf8() > buffer.len() {
                out.write_str(
                    std::str::from_utf8(buffer.get(..len).unwrap_or_default()).unwrap_or_default(),
                )?;
                len = 0;
            }
            len += buffer.get_mut(len..).map_or(0, |free| c.encode_utf8(free).len());
        }
        out.write_str(std::str::from_utf8(buffer.get(..len).unwrap_or_default()).unwrap_or_default())
    } else {
        out.write_str(&nfc(s).to_lowercase())
    }
}

/// Case-insensitive equality after trimming and NFC (locations, sites, statuses).
pub fn eq_folded(a: &str, b: &str) -> bool {
    let (a, b) = (trim(a), trim(b));
    if a == b {
        // Most often the value is written as the org has it.
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    nfc(a).to_lowercase() == nfc(b).to_lowercase()
}

/// Case-sensitive equality after trimming and NFC (names).
pub fn eq_clean(a: &str, b: &str) -> bool {
    let (a, b) = (trim(a), trim(b));
    // Most often the value is written as the org has it.
    a == b || nfc(a) == nfc(b)
}

/// Edit distance between two strings, by characters (for "did you mean").
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the edit-distance table at a time: `prev` is row i-1, and
    // `cur` is filled left to right from its own left neighbour.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.chars().enumerate() {
        cur.clear();
        let mut left = i + 1;
        cur.push(left);
        for ((cb, diag), up) in b.iter().zip(&prev).zip(prev.iter().skip(1)) {
            let cost = usize::from(ca != *cb);
            left = (diag + cost).min(up + 1).min(left + 1);
            cur.push(left);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

/// The edit distance between `a` and `b` if it is at most `max`.
///
/// For "did you mean" on hostile input: strings whose lengths differ by more
/// than `max` are rejected without comparing them, and the comparison stops
/// as soon as a whole row of the table exceeds `max`, so a 100 KiB title
/// costs one pass over its characters, not a quadratic table.
pub fn levenshtein_within(a: &str, b: &str, max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max.saturating_mul(4) {
        // Byte lengths bound character counts within a factor of four.
        return None;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        let mut left = i + 1;
        let mut row_min = left;
        cur.push(left);
        for ((cb, diag), up) in b.iter().zip(&prev).zip(prev.iter().skip(1)) {
            left = (diag + usize::from(ca != cb)).min(up + 1).min(left + 1);
            row_min = row_min.min(left);
            cur.push(left);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().filter(|&d| d <= max)
}

/// A cell value made safe to show in a terminal or a report: control
/// characters become visible escapes (`\n`, `\u{1b}`), so a hostile cell
/// cannot move the cursor or forge lines.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether a spreadsheet would evaluate text starting like `s` as a
/// formula: `=`, `@`, tab or carriage return first (some spreadsheets skip
/// the last two), or `+` or `-` followed by anything but a plain number (a
/// signed number such as a phone number evaluates to itself, so it is left
/// readable).
pub fn starts_formula(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => {
            !chars.as_str().chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '(' | ')' | '-'))
        }
        _ => false,
    }
}

/// Text csvcheck writes into a spreadsheet cell of its own (the `Errors`
/// column of the CSV report), made inert: where the text, an entry after a
/// ` | ` separator, or a value quoted in it (`"…"`) starts like a formula
/// ([`starts_formula`]), a `'` is put in front — spreadsheets read a leading
/// `'` as "this is text" and do not show it. So a hostile value quoted in a
/// message is never evaluated, even when the column is split into cells.
///
/// Only csvcheck's own text goes through this: cells echoed from the input
/// stay byte-identical (T004 warns about them instead).
///
/// ```
/// use csvcheck::text::defuse_formula;
/// assert_eq!(defuse_formula("T004: \"=HYPERLINK(\"x\")\" starts with ="), "T004: \"'=HYPERLINK(\"x\")\" starts with =");
/// assert_eq!(defuse_formula("@SUM(A1)"), "'@SUM(A1)");
/// assert_eq!(defuse_formula("N002: \"+390212345678\" has no +"), "N002: \"+390212345678\" has no +");
/// ```
pub fn defuse_formula(s: &str) -> Cow<'_, str> {
    // Places where a cell could begin: the start, after ` | `, after a `"`.
    let starts = std::iter::once(0)
        .chain(s.match_indices(" | ").map(|(i, sep)| i + sep.len()))
        .chain(s.match_indices('"').map(|(i, _)| i + 1));
    // Each such cell would run to the next quote or separator.
    let cell = |i: usize| {
        let rest = s.get(i..).unwrap_or_default();
        let end = [rest.find('"'), rest.find(" | ")].into_iter().flatten().min().unwrap_or(rest.len());
        rest.get(..end).unwrap_or_default()
    };
    let mut at: Vec<usize> = starts.filter(|&i| starts_formula(cell(i))).collect();
    if at.is_empty() {
        return Cow::Borrowed(s);
    }
    at.sort_unstable();
    at.dedup();
    let mut out = String::with_capacity(s.len() + at.len());
    let mut from = 0;
    for i in at {
        out.push_str(s.get(from..i).unwrap_or_default());
        out.push('\'');
        from = i;
    }
    out.push_str(s.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_is_detected_and_composed() {
        let nfd = "Nicol\u{6f}\u{300}";
        assert!(!is_nfc(nfd));
        assert_eq!(nfc(nfd), "Nicolò");
        assert!(is_nfc("Nicolò"));
        assert!(matches!(nfc("Nicolò"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_byte_shortcut_agrees_with_the_quick_check() {
        use unicode_normalization::{is_nfc_quick, IsNormalized};
        for c in (0..0x300).filter_map(char::from_u32) {
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
        }
        assert!(!is_nfc("a\u{301}\u{300}"));
        assert!(is_nfc("Ǆ ÿ Ŀ ɐ ˿"));
    }

    #[test]
    fn titles_match_loosely() {
        assert_eq!(title_key("  User ID/Email\u{a0} (Required) "), "user id/email (required)");
        assert_eq!(title_key("FIRST   name"), "first name");
        assert_eq!(title_key("\u{feff}User ID/Email (Required)"), "user id/email (required)");
        assert_eq!(title_key("First\u{200b} Name"), "first name");
    }

    #[test]
    fn keys_fold_case_and_form() {
        assert_eq!(email_key("ÉLISE@Acme.example"), "élise@acme.example");
        assert_eq!(email_key("E\u{301}lise@acme.example"), "élise@acme.example");
    }

    proptest::proptest! {
        /// Folding into a buffer gives what trimming, NFC and lowercasing
        /// give, for ASCII, accented, decomposed and Greek text.
        #[test]
        fn write_folded_is_clean_then_lowercase(s in "[ a-zA-Z\u{a0}\u{c0}-\u{17f}\u{300}\u{301}\u{391}-\u{3c9}\u{130}İ\u{10400}]{0,80}") {
            let mut folded = String::new();
            write_folded(&s, &mut folded).unwrap();
            proptest::prop_assert_eq!(folded, clean(&s).to_lowercase());
        }

        /// The equal-bytes shortcut changes nothing.
        #[test]
        fn eq_folded_is_equality_of_folded_text(a in "[ aAéÉ\u{301}Σσς]{0,6}", b in "[ aAéÉ\u{301}Σσς]{0,6}") {
            proptest::prop_assert_eq!(eq_folded(&a, &b), clean(&a).to_lowercase() == clean(&b).to_lowercase());
            proptest::prop_assert!(eq_folded(&a, &a));
        }
    }

    proptest::proptest! {
        /// The shortcut trims what `str::trim` trims.
        #[test]
        fn trim_is_str_trim(s in "[ \t\n\r\u{b}\u{c}\u{85}\u{a0}\u{2028}\u{2029}\u{3000}a-z!~éş\u{301}\u{a9}]{0,8}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    #[test]
    fn sigma_is_lowercased_by_its_place() {
        let mut folded = String::new();
        write_folded("ΟΔΟΣ Σ", &mut folded).unwrap();
        assert_eq!(folded, clean("ΟΔΟΣ Σ").to_lowercase());
        assert!(folded.contains('\u{3c2}') && folded.ends_with('\u{3c3}'), "{folded}");
    }

    #[test]
    fn levenshtein_within_agrees_with_levenshtein() {
        let long = "x".repeat(40);
        let words =
            ["", "a", "ab", "kitten", "sitting", "first name", "frist name", "nicolò", "nicolo", &long];
        for a in words {
            for b in words {
                let d = levenshtein(a, b);
                for max in 0..8 {
                    assert_eq!(levenshtein_within(a, b, max), (d <= max).then_some(d), "{a:?} {b:?} {max}");
                }
            }
        }
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn formulas_are_told_from_numbers() {
        for f in ["=1+1", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3*A1", "\tx", "\r=1"] {
            assert!(starts_formula(f), "{f:?}");
        }
        for n in ["+390212345678", "-5", "+39 02 1234-5678", "+(39) 02", "Anna", "", "'=1"] {
            assert!(!starts_formula(n), "{n:?}");
        }
    }

    proptest::proptest! {
        /// Defusing only inserts quotes, and afterwards no place where a
        /// cell could begin starts a formula.
        #[test]
        fn defused_text_never_starts_a_formula(s in "[=@+\\-\t\r\"| a-z0-9'()]{0,24}") {
            let d = defuse_formula(&s);
            proptest::prop_assert_eq!(d.replace('\'', ""), s.replace('\'', ""));
            let cell = |i: usize| {
                let rest = &d[i..];
                let end = [rest.find('"'), rest.find(" | ")].into_iter().flatten().min().unwrap_or(rest.len());
                &rest[..end]
            };
            proptest::prop_assert!(!starts_formula(cell(0)));
            for (i, _) in d.match_indices(" | ").chain(d.match_indices('"')) {
                let next = if d[i..].starts_with(" | ") { i + 3 } else { i + 1 };
                proptest::prop_assert!(!starts_formula(cell(next)), "{:?} at {}", d, next);
            }
            if !starts_formula(&s) && !s.contains('"') && !s.contains(" | ") {
                proptest::prop_assert_eq!(d.as_ref(), s.as_str());
            }
        }
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
