//! One finding: a code at a place, with the value, what is wrong and what to do.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::registry::{Code, Severity};

/// A finding in a file. Every output format renders this one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule's code.
    pub code: Code,
    /// The line the offending record starts on; `None` where no single
    /// line applies (F003, F004, F005).
    pub line: Option<u64>,
    /// The 1-based index of the data record; `None` for file and header
    /// findings.
    pub row: Option<u64>,
    /// The column title as written in the file, when one column applies.
    pub column: Option<String>,
    /// The 0-based index of that column (for ordering and underlining).
    pub column_index: Option<usize>,
    /// The offending value as written.
    pub value: Option<String>,
    /// What is wrong, naming the value.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl Diagnostic {
    /// A finding with a code and a message; the rest is filled in with the
    /// builder methods.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            line: None,
            row: None,
            column: None,
            column_index: None,
            value: None,
            message: elide_quoted(message.into()),
            help: String::new(),
        }
    }

    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = elide_quoted(help.into());
        self
    }

    /// Sets the line.
    pub fn at_line(mut self, line: u64) -> Diagnostic {
        self.line = Some(line);
        self
    }

    /// Sets the column (index and title).
    pub fn in_column(mut self, index: usize, title: &str) -> Diagnostic {
        self.column_index = Some(index);
        self.column = Some(title.to_owned());
        self
    }

    /// Sets the offending value.
    pub fn value(mut self, value: impl Into<String>) -> Diagnostic {
        self.value = Some(value.into());
        self
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this finding is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// The total order of reports: by line (findings without one first),
    /// then code, then column.
    pub fn sort_key(&self) -> (u64, &'static str, usize) {
        (self.line.unwrap_or(0), self.code.as_str(), self.column_index.map_or(0, |c| c + 1))
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Diagnostic", 9)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("name", self.code.name())?;
        st.serialize_field("severity", &self.severity())?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("row", &self.row)?;
        st.serialize_field("column", &self.column)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("help", &self.help)?;
        st.end()
    }
}

/// Longest quoted value kept whole inside a message, in characters.
const MAX_QUOTED: usize = 60;

/// Shortens every `"…"`-quoted value longer than [`MAX_QUOTED`] characters
/// to its start and end around a `…`, so that a message stays one readable
/// line whatever the cell holds (the whole value is in [`Diagnostic::value`]).
fn elide_quoted(text: String) -> String {
    if text.len() <= MAX_QUOTED {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len().min(4 * MAX_QUOTED));
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        out.push(c);
        i += 1;
        if c != '"' {
            continue;
        }
        // Find the closing quote, skipping escaped characters.
        let start = i;
        let mut end = None;
        let mut j = i;
        while let Some(&d) = chars.get(j) {
            match d {
                '\\' => j += 2,
                '"' => {
                    end = Some(j);
                    break;
                }
                _ => j += 1,
            }
        }
        let Some(end) = end else {
            continue;
        };
        let inner = chars.get(start..end).unwrap_or_default();
        if inner.len() > MAX_QUOTED {
            let keep = MAX_QUOTED / 2;
            out.extend(inner.iter().take(keep));
            out.push('…');
            out.extend(inner.iter().skip(inner.len() - keep));
        } else {
            out.extend(inner);
        }
        out.push('"');
        i = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_elided_short_ones_kept() {
        let long = "x".repeat(200);
        let d = Diagnostic::new(
            Code::E003,
            format!("the part of {long:?} before the @ is too long; see \"short\""),
        );
        assert!(d.message.chars().count() < 120, "{}", d.message);
        assert!(d.message.contains('…') && d.message.ends_with("see \"short\""), "{}", d.message);
        let escaped = format!("{:?} and more", format!("{}\"{}", "a".repeat(70), "b".repeat(70)));
        let d = Diagnostic::new(Code::T001, escaped);
        assert!(d.message.ends_with("\" and more"), "{}", d.message);
        let plain = "no quotes but a rather long message that goes on and on for more than sixty characters";
        assert_eq!(Diagnostic::new(Code::T001, plain).message, plain);
    }
}
