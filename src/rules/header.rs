//! Header rules (H001–H003): the column titles. An H error rejects the
//! whole file, since Control Hub refuses a header it cannot map.

use super::{Code, Diagnostic};
use crate::header::{ColumnKind, Field, Header};

/// Runs every header rule.
pub(crate) fn check(header: &Header, out: &mut Vec<Diagnostic>) {
    missing_email_column(header, out);
    duplicate_column(header, out);
    unknown_column(header, out);
}

/// Documentation of H001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const H001: &str = r#"## What it checks
No header title is `User ID/Email (Required)`. Titles match ignoring case,
surrounding spaces and repeated inner spaces (after NFC), but the words and
punctuation must be the same: `Email`, `User ID/Email` and
`UserID/Email (Required)` do not count. Error: rejects the whole file.

## Why Control Hub cares
The email is each row's identity and the one column Control Hub always
requires (help.webex.com article afv3q8). The old Control Hub client refused
a file without this exact header ("Missing required headers in CSV") before
reading any row, and matched titles case-sensitively. Typical causes: a
script writing `UserID/Email (Required)` without the space, a header renamed
for readability, a UTF-8 BOM glued to the first title by a tool that
does not strip it, or a `sep=;` line above the header (written for Excel,
which reads it as the delimiter; Control Hub reads it as the header).

## How to fix
Rename the key column to exactly `User ID/Email (Required)`, with the same
capitals as the export, or start from a fresh export (Users > Manage users
by CSV > "Generate a new CSV"). Delete a `sep=;` line above the header.

## Example

    Email,Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
"#;
/// H001: no `User ID/Email (Required)` column.
fn missing_email_column(header: &Header, out: &mut Vec<Diagnostic>) {
    if header.field(Field::Email).is_some() {
        return;
    }
    let near = header.columns.iter().enumerate().find_map(|(i, c)| match &c.kind {
        ColumnKind::Unknown { suggestion: Some(s) } if s == Field::Email.title() => Some(i),
        _ => None,
    });
    let mut d = Diagnostic::new(Code::H001, "the header has no `User ID/Email (Required)` column")
        .at_line(header.line)
        .help("add the column `User ID/Email (Required)` exactly as Control Hub exports it: it identifies every row");
    if header.is_separator_line() {
        d.message = format!(
            "the header has no `User ID/Email (Required)` column: line {} is a spreadsheet's \
             `sep=` line, which Control Hub reads as the header",
            header.line
        );
        d.help = "delete the `sep=` line (`csvcheck fix` does), so that the column titles are the first line"
            .into();
    } else if let Some(i) = near {
        d = d.in_column(i, header.title(i)).value(header.title(i));
        d.message = format!(
            "the header has no `User ID/Email (Required)` column; column {} {:?} comes close",
            i + 1,
            header.title(i)
        );
        d.help = format!(
            "rename the column {:?} to `User ID/Email (Required)`: Control Hub needs that exact title",
            header.title(i)
        );
    }
    out.push(d);
}

/// Documentation of H002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const H002: &str = r#"## What it checks
The same column title appears twice in the header, compared the way titles
are matched (ignoring case and extra spaces). Package columns are compared
by package and subscription, so `Webex Suite [Wholesale]` and
`webex suite [Wholesale]` are the same column, while one package under two
different subscriptions is two columns. Error: rejects the whole file.

## Why Control Hub cares
With two columns for one field it is undefined which cell Control Hub
applies; the old client mapped each title to one field of the org and
refused files it could not map (inferred that a duplicate title is refused
as a whole). The bracketed subscription is what lets one service appear
once per subscription (help.webex.com article nlkiw8e). Duplicates usually
come from pasting columns from another file into an export.

## How to fix
Merge the values you need into one of the two columns and delete the other.

## Example
Org: giulia.rossi@acme.example exists on Webex Calling (Milano HQ,
extension 1001, site acme.webex.com); the org offers Webex Suite.

    User ID/Email (Required),Webex Suite [Wholesale],Webex Suite [Wholesale]
    giulia.rossi@acme.example,TRUE,FALSE

Use instead:

    User ID/Email (Required),Webex Suite [Wholesale]
    giulia.rossi@acme.example,TRUE
"#;
/// H002: a title (or a package + subscription) appears twice.
fn duplicate_column(header: &Header, out: &mut Vec<Diagnostic>) {
    for (i, column) in header.columns.iter().enumerate() {
        let Some(first) = column.duplicate_of else {
            continue;
        };
        let what = if matches!(column.kind, ColumnKind::Package(_)) {
            "the same package and subscription as"
        } else {
            "the same title as"
        };
        out.push(
            Diagnostic::new(
                Code::H002,
                format!(
                    "column {} {:?} has {what} column {} {:?}",
                    i + 1,
                    column.title,
                    first + 1,
                    header.title(first)
                ),
            )
            .at_line(header.line)
            .in_column(i, &column.title)
            .value(column.title.clone())
            .help("keep one of the two columns and delete the other"),
        );
    }
}

/// Documentation of H003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const H003: &str = r#"## What it checks
A header title that the profile does not know: not a known field, package,
base-licence or read-only column. The diagnostic suggests the closest known
title. The column is kept, but csvcheck cannot check what it means.
Warning: rejects nothing.

## Why Control Hub cares
The old Control Hub client rejected the whole file for any title it did not
recognise ("unrecognized column name ... use the latest template"), matching
titles exactly. Columns also disappear: `UC Manager Profile` and
`Calling Behavior` were removed from the user CSV (help.webex.com article
nlkiw8e), so an old template fails. csvcheck only warns because real orgs
carry service columns its profile does not list (hybrid services, Contact
Center, meeting-site licences).

## How to fix
- Correct a typo to the suggested title.
- Delete columns Control Hub no longer has; re-export to get the current
  header set.
- If it is a package or base licence of your offer, describe it in a
  `--profile FILE`.
- Use `--deny-warnings` to make warnings fail a pipeline.

## Example
The misspelt column is not read, so the extension is missing and P008 fires
as well:

    User ID/Email (Required),Extention,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
"#;
/// H003: a title the profile does not know.
fn unknown_column(header: &Header, out: &mut Vec<Diagnostic>) {
    for (i, column) in header.columns.iter().enumerate() {
        let ColumnKind::Unknown { suggestion } = &column.kind else {
            continue;
        };
        if column.duplicate_of.is_some() {
            continue;
        }
        let help = match suggestion {
            Some(s) => format!("did you mean {s:?}? Control Hub rejects titles it does not know"),
            None => "delete the column, or re-export from Control Hub to get the current titles \
                     (use --profile if your subscription has packages csvcheck does not know)"
                .to_owned(),
        };
        out.push(
            Diagnostic::new(Code::H003, format!("unknown column {:?}", column.title))
                .at_line(header.line)
                .in_column(i, &column.title)
                .value(column.title.clone())
                .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Profile;

    fn codes(titles: &[&str]) -> Vec<(Code, Option<usize>)> {
        let mut out = Vec::new();
        check(&Header::parse(titles, 1, &Profile::default()), &mut out);
        out.iter().map(|d| (d.code, d.column_index)).collect()
    }

    #[test]
    fn h001_fires_without_the_email_column_and_points_at_a_near_miss() {
        assert_eq!(codes(&["First Name"]), [(Code::H001, None)]);
        assert_eq!(codes(&["UserID/Email (Required)"]), [(Code::H001, Some(0)), (Code::H003, Some(0))]);
        assert!(codes(&["User ID/Email (Required)"]).is_empty());
    }

    #[test]
    fn h001_names_the_near_miss() {
        let mut out = Vec::new();
        check(&Header::parse(&["First Name", "User ID/E-mail (Required)"], 1, &Profile::default()), &mut out);
        let h001 = out.iter().find(|d| d.code == Code::H001).unwrap();
        assert!(h001.message.contains("column 2 \"User ID/E-mail (Required)\""), "{}", h001.message);
        assert!(h001.help.starts_with("rename the column \"User ID/E-mail (Required)\""), "{}", h001.help);
    }

    #[test]
    fn h001_names_a_sep_line_above_the_header() {
        let h001 = |titles: &[&str]| {
            let mut out = Vec::new();
            check(&Header::parse(titles, 1, &Profile::default()), &mut out);
            out.into_iter().find(|d| d.code == Code::H001).unwrap()
        };
        // `sep=;` split by commas, and `sep=,` (or `sep=;` sniffed as
        // semicolons) split in two.
        for titles in [&["sep=;"][..], &["sep=", ""], &[" SEP=|"]] {
            let d = h001(titles);
            assert!(d.message.contains("line 1 is a spreadsheet's `sep=` line"), "{titles:?}: {}", d.message);
            assert!(d.help.starts_with("delete the `sep=` line"), "{}", d.help);
        }
        // A header that only starts the same way is not one.
        for titles in [&["sep=;", "Name"][..], &["sep=;;"], &["separator"]] {
            let d = h001(titles);
            assert!(!d.message.contains("sep="), "{titles:?}: {}", d.message);
        }
    }

    #[test]
    fn h002_fires_on_the_repeat_only() {
        assert_eq!(
            codes(&[
                "User ID/Email (Required)",
                "Webex Calling [A]",
                "Webex Calling [a]",
                "Webex Calling [B]"
            ]),
            [(Code::H002, Some(2))]
        );
    }

    #[test]
    fn h003_fires_on_unknown_titles() {
        assert_eq!(codes(&["User ID/Email (Required)", "Colour"]), [(Code::H003, Some(1))]);
    }
}
