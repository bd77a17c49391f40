//! Which delimiter splits the header.
//!
//! Control Hub reads only commas, but spreadsheets in many European locales
//! save "CSV" with semicolons, and some tools write tabs. csvcheck parses such
//! a file with the delimiter it really has, so every other check still runs,
//! and F002 tells the user the upload would fail.

/// The delimiter that splits the first record: `,` unless `;` or tab occur
/// more often outside quotes.
pub(super) fn delimiter(bytes: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut tabs) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if commas >= semicolons.max(tabs) {
        b','
    } else if semicolons >= tabs {
        b';'
    } else {
        b'\t'
    }
}

/// Whether `bytes` hold the whole first record: an unquoted line feed.
pub(super) fn first_line_is_complete(bytes: &[u8]) -> bool {
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{delimiter, first_line_is_complete};

    #[test]
    fn picks_the_most_frequent_unquoted_separator() {
        assert_eq!(delimiter(b"a,b,c\n"), b',');
        assert_eq!(delimiter(b"a;b;c\n1,2,3,4,5"), b';');
        assert_eq!(delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(delimiter(b"\"x;y;z\",b\n"), b',');
        assert_eq!(delimiter(b"single\n"), b',');
        assert_eq!(delimiter(b"Street, City;Dept;Name\n"), b';');
    }

    #[test]
    fn a_quoted_line_feed_does_not_end_the_first_line() {
        assert!(!first_line_is_complete(b"a,\"b\nc"));
        assert!(first_line_is_complete(b"a,\"b\nc\"\n"));
        assert!(!first_line_is_complete(b""));
    }
}
