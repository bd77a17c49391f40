//! Text normalisation shared by every stage.
//!
//! Control Hub compares titles and keys after its own normalisation; csvcheck
//! mirrors it here once, so that the header, the rows, the org state and the
//! rules all agree on what "the same" means.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

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
    nfc(s.trim())
}

/// The key of a user: the email trimmed, NFC-normalised and lowercased.
///
/// ```
/// assert_eq!(csvcheck::text::email_key("  Giulia.Rossi@ACME.example "), "giulia.rossi@acme.example");
/// ```
pub fn email_key(s: &str) -> String {
    let s = s.trim();
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        nfc(s).to_lowercase()
    }
}

/// A column title reduced for matching: trimmed, NFC, inner whitespace
/// collapsed to one space, lowercased.
pub fn title_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in nfc(s).split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.to_lowercase()
}

/// Case-insensitive equality after trimming and NFC (locations, sites, statuses).
pub fn eq_folded(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    nfc(a).to_lowercase() == nfc(b).to_lowercase()
}

/// Case-sensitive equality after trimming and NFC (names).
pub fn eq_clean(a: &str, b: &str) -> bool {
    clean(a) == clean(b)
}

/// Edit distance between two strings, by characters (for "did you mean").
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
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
    }

    #[test]
    fn keys_fold_case_and_form() {
        assert_eq!(email_key("ÉLISE@Acme.example"), "élise@acme.example");
        assert_eq!(email_key("E\u{301}lise@acme.example"), "élise@acme.example");
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }
}
