//! Read-only rules (O001): columns Control Hub exports but will not take back.

use super::{Cells, Code, Diagnostic, RowContext};
use crate::header::Field;
use crate::text::eq_folded;

/// Runs the read-only rules on one row.
pub(crate) fn check(cx: &RowContext<'_>, cells: &Cells<'_>, out: &mut Vec<Diagnostic>) {
    read_only_changed(cx, cells, out);
}

/// Documentation of O001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const O001: &str = r#"## What it checks
A read-only column (`User Status`, `Last Service Accessed Time`,
`Days since Last Service Accessed`) holds a value that differs from the
org's. Empty cells are no change. Needs `--org`; skipped without it.
Error: rejects the row.

## Why Control Hub cares
Control Hub fills these columns on export and does not take them on upload;
Cisco warns that editing read-only fields "can trigger errors"
(help.webex.com article afv3q8), and the user CSV cannot change a user's
status (ih07j). An edited status is usually an attempt to deactivate a user.

## How to fix
Put back the exported value, or empty the cell. To deactivate a user, use
Control Hub's user actions; in Wholesale, setting every package FALSE
deletes the user.

## Example
Org: giulia.rossi@acme.example has status Active.

    User ID/Email (Required),User Status
    giulia.rossi@acme.example,Inactive

Use instead:

    User ID/Email (Required),User Status
    giulia.rossi@acme.example,Active
"#;
/// O001: a read-only column whose value differs from the org's.
fn read_only_changed(cx: &RowContext<'_>, cells: &Cells<'_>, out: &mut Vec<Diagnostic>) {
    let Some(user) = cx.intent.existing else {
        return;
    };
    // Of the read-only columns, the org state knows only the status.
    let (Some(cell), Some(current)) = (cells.text(Field::Status), user.status.as_deref()) else {
        return;
    };
    if eq_folded(cell, current) {
        return;
    }
    out.push(
        cx.field_diagnostic(
            Code::O001,
            Field::Status,
            format!("User Status is read-only: the file says {cell:?}, Control Hub has {current:?}"),
        )
        .help(format!(
            "put back {current:?} or leave the cell empty; a status changes only through Control Hub"
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::super::testing::lines;
    use super::*;

    #[test]
    fn o001_compares_the_status_with_the_org() {
        let org = r#"{"users": [{"email": "giulia@acme.example", "status": "Active"}, {"email": "marco@acme.example"}]}"#;
        let csv = "User ID/Email (Required),User Status\n\
                   giulia@acme.example,Inactive\ngiulia@acme.example, ACTIVE \ngiulia@acme.example,\n\
                   marco@acme.example,Inactive\nanna@acme.example,Inactive\n";
        assert_eq!(lines(csv, Some(org), Code::O001), [2]);
        assert!(lines(csv, None, Code::O001).is_empty());
    }
}
