//! The rule registry: the only place rule codes exist.
//!
//! Each entry ties a stable code to its kebab-case name, severity, family,
//! one-line summary and documentation. The documentation lives beside the
//! rule's check in its family file (`src/rules/<family>.rs`); `csvcheck
//! rules`, `csvcheck explain CODE`, SARIF's `tool.driver.rules` and the
//! README's table are all generated from this table.
//!
//! Codes are never reused: a retired code goes into [`RETIRED`], and a test
//! keeps the two lists apart.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::{base_licence, email, file, header, location, number, package, read_only, record, text};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Rejects the row (or, for F and H codes, the whole file).
    Error,
    /// Rejects nothing; `--deny-warnings` makes it fail the run.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything known about one rule.
#[derive(Debug)]
pub struct Rule {
    /// The stable code, e.g. `E002`.
    pub code: Code,
    /// The kebab-case name, e.g. `invalid-email`.
    pub name: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The family, named after its source file (`email`, `number`, …).
    pub family: &'static str,
    /// When it fires, in one line.
    pub summary: &'static str,
    /// What it checks, why Control Hub cares, how to fix it, an example.
    pub doc: &'static str,
}

macro_rules! registry {
    ($($code:ident => $family:ident::$doc:ident, $name:literal, $severity:ident, $summary:literal;)+) => {
        /// A stable rule code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $(
                #[doc = concat!("`", $name, "`: ", $summary)]
                $code,
            )+
        }

        /// Every rule, in SPEC §6 order (families in pipeline order, codes ascending).
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: Code::$code,
                name: $name,
                severity: Severity::$severity,
                family: stringify!($family),
                summary: $summary,
                doc: $family::$doc,
            },)+
        ];

        impl Code {
            /// The code as written, e.g. `"E002"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),+ }
            }
        }
    };
}

registry! {
    F001 => file::F001, "not-utf8", Error, "file is not valid UTF-8 (and no --encoding given)";
    F002 => file::F002, "wrong-delimiter", Error, "header is split by ; or tab, not ,";
    F003 => file::F003, "empty-file", Error, "no header record";
    F004 => file::F004, "too-many-rows", Error, "more data rows than the limit (20,000)";
    F005 => file::F005, "too-many-deletes", Error, "the plan deletes more users than --max-deletes allows (a safeguard for unattended pipelines)";
    H001 => header::H001, "missing-email-column", Error, "no User ID/Email (Required) column";
    H002 => header::H002, "duplicate-column", Error, "a title appears twice (same package + subscription counts as twice)";
    H003 => header::H003, "unknown-column", Warning, "a title the profile does not know; suggest the closest known title";
    R001 => record::R001, "field-count", Error, "the record's field count differs from the header's";
    E001 => email::E001, "missing-email", Error, "empty email cell";
    E002 => email::E002, "invalid-email", Error, "not a valid address (email_address rules, and the domain needs a dot)";
    E003 => email::E003, "email-local-too-long", Error, "more than 64 characters before @";
    E004 => email::E004, "duplicate-email", Error, "the same key as an earlier row; names that row's line";
    E005 => email::E005, "foreign-domain", Warning, "an added user's domain is not among the org's domains";
    N001 => number::N001, "invalid-phone", Error, "phone or caller-id number is not E.164 (+, then 8–15 digits, first digit 1–9, nothing else)";
    N002 => number::N002, "phone-missing-plus", Error, "digits only, 8–15 long: the + was probably stripped by a spreadsheet";
    N003 => number::N003, "phone-scientific", Error, "a number mangled into scientific notation, e.g. 3.90212E+11";
    N004 => number::N004, "invalid-extension", Error, "not 2–10 digits";
    N005 => number::N005, "duplicate-phone", Error, "the same phone number as an earlier row";
    N006 => number::N006, "phone-taken", Error, "the number belongs to another user of the org";
    N007 => number::N007, "duplicate-extension", Error, "the same extension in the same location as an earlier row or another org user";
    P001 => package::P001, "invalid-boolean", Error, "a package or base-licence cell that is not TRUE, FALSE or empty";
    P002 => package::P002, "several-packages", Error, "more than one package TRUE";
    P003 => package::P003, "suspended-package", Error, "TRUE in a (Suspended) column";
    P004 => package::P004, "package-not-subscribed", Error, "TRUE for a package the org's packages does not offer";
    P005 => package::P005, "add-without-package", Error, "a new user with no package TRUE";
    P006 => package::P006, "admin-downgrade", Error, "a full admin moved to a package below the org's package tier";
    P007 => package::P007, "calling-needs-location", Error, "a calling package without an effective location";
    P008 => package::P008, "calling-needs-number", Error, "a calling package without an effective phone number or extension";
    P009 => package::P009, "meetings-needs-site", Warning, "a meetings package without an effective Preferred Webex Site";
    P010 => package::P010, "unknown-site", Error, "a Preferred Webex Site the org does not have";
    P011 => package::P011, "delete-unknown-user", Warning, "all packages FALSE for an email the org does not have";
    P012 => package::P012, "delete-admin", Warning, "a delete of a user whose admin is full";
    L001 => location::L001, "unknown-location", Error, "a Location the org does not have";
    L002 => location::L002, "calling-location-change", Error, "a change of Location for a user who has a calling package now";
    O001 => read_only::O001, "read-only-changed", Error, "a read-only column whose value differs from the org's";
    B001 => base_licence::B001, "base-licence-ignored", Warning, "a base-licence FALSE in add-services mode";
    T001 => text::T001, "untrimmed", Warning, "leading or trailing whitespace in a cell";
    T002 => text::T002, "not-nfc", Warning, "text that changes under NFC normalisation";
    T003 => text::T003, "control-character", Error, "a control character (other than tab) in a cell";
    T004 => text::T004, "formula-prefix", Warning, "a name or text cell starting with =, +, - or @ (spreadsheet formula injection)";
    T005 => text::T005, "too-long", Error, "a name over 64 or a display name over 128 characters";
}

/// Codes that existed once and must never be given to another rule.
pub static RETIRED: &[&str] = &[];

impl Code {
    /// The rule's registry entry.
    #[allow(
        clippy::indexing_slicing,
        reason = "the index is the enum's own discriminant, never input: RULES is generated \
                  from the same list in the same order, and the registry tests look up every code"
    )]
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }

    /// The rule's severity.
    pub fn severity(self) -> Severity {
        self.rule().severity
    }

    /// The rule's kebab-case name.
    pub fn name(self) -> &'static str {
        self.rule().name
    }

    /// Whether an error with this code rejects the whole file (F and H codes).
    pub fn is_file_level(self) -> bool {
        matches!(self.as_str().as_bytes().first(), Some(b'F' | b'H'))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The error of parsing a string that is neither a code nor a rule name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule {0:?}: `csvcheck rules` lists them")]
pub struct UnknownRule(pub String);

impl FromStr for Code {
    type Err = UnknownRule;

    /// Accepts a code (`e002`, `E002`) or a name (`invalid-email`).
    fn from_str(s: &str) -> Result<Code, UnknownRule> {
        let s = s.trim();
        RULES
            .iter()
            .find(|r| r.code.as_str().eq_ignore_ascii_case(s) || r.name.eq_ignore_ascii_case(s))
            .map(|r| r.code)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

/// The registry entry for a code or name.
pub fn lookup(code_or_name: &str) -> Option<&'static Rule> {
    code_or_name.parse::<Code>().ok().map(Code::rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_table_is_sorted_and_indexed_by_the_enum() {
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.code as usize, i, "{}", rule.code);
        }
        // SPEC §6 order: families in pipeline order, codes ascending within.
        for w in RULES.windows(2) {
            let (a, b) = (w[0].code.as_str(), w[1].code.as_str());
            assert!(a[..1] != b[..1] || a < b, "{a} before {b}");
        }
        assert_eq!(RULES.len(), 42);
    }

    #[test]
    fn codes_are_well_formed_and_match_their_family() {
        let families = [
            ('F', "file"),
            ('H', "header"),
            ('R', "record"),
            ('E', "email"),
            ('N', "number"),
            ('P', "package"),
            ('L', "location"),
            ('O', "read_only"),
            ('B', "base_licence"),
            ('T', "text"),
        ];
        for rule in RULES {
            let code = rule.code.as_str();
            let bytes = code.as_bytes();
            assert!(
                bytes.len() == 4
                    && bytes[0].is_ascii_uppercase()
                    && bytes[1..].iter().all(u8::is_ascii_digit),
                "{code}"
            );
            let family = families.iter().find(|(l, _)| *l as u8 == bytes[0]).map(|(_, f)| *f);
            assert_eq!(family, Some(rule.family), "{code}");
        }
    }

    #[test]
    fn names_are_unique_kebab_case_problems() {
        let mut names = HashSet::new();
        for rule in RULES {
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert!(
                rule.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                rule.name
            );
            assert!(!rule.name.starts_with("no-") && !rule.name.starts_with("disallow"), "{}", rule.name);
        }
    }

    #[test]
    fn codes_and_names_round_trip() {
        for rule in RULES {
            assert_eq!(rule.code.as_str().parse::<Code>(), Ok(rule.code));
            assert_eq!(rule.code.as_str().to_lowercase().parse::<Code>(), Ok(rule.code));
            assert_eq!(rule.name.parse::<Code>(), Ok(rule.code));
            assert_eq!(rule.code.rule().name, rule.name);
        }
        assert!("Z999".parse::<Code>().is_err());
    }

    #[test]
    fn every_doc_has_the_four_headings_in_order() {
        let headings = ["## What it checks", "## Why Control Hub cares", "## How to fix", "## Example"];
        for rule in RULES {
            let mut at = 0;
            for h in headings {
                let found = rule.doc[at..].find(h);
                assert!(found.is_some(), "{}: missing or misplaced {h:?}", rule.code);
                at += found.unwrap_or(0) + h.len();
            }
            assert!(rule.doc.starts_with("## What it checks"), "{}", rule.code);
            let severity = match rule.severity {
                Severity::Error => "Error:",
                Severity::Warning => "Warning:",
            };
            assert!(rule.doc.contains(severity), "{}: doc does not state its severity", rule.code);
        }
    }

    #[test]
    fn retired_codes_are_never_live() {
        for code in RETIRED {
            assert!(code.parse::<Code>().is_err(), "{code} is retired but live");
        }
    }

    #[test]
    fn file_level_codes() {
        assert!(Code::F001.is_file_level() && Code::H003.is_file_level());
        assert!(!Code::R001.is_file_level() && !Code::E002.is_file_level());
    }
}
