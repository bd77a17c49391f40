//! Base-licence rules (B001): `Basic Messaging`, `Basic Meetings`,
//! `Basic Calling` and the import mode.

use super::{Code, Diagnostic, RowContext};
use crate::options::ImportMode;
use crate::row::{Flag, LicenceCells};

/// Runs the base-licence rules on one row, whose licence cells `cells`
/// sums up.
pub(crate) fn check(cx: &RowContext<'_>, cells: &LicenceCells<'_>, out: &mut Vec<Diagnostic>) {
    if cells.false_base {
        base_licence_ignored(cx, out);
    }
}

/// Documentation of B001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const B001: &str = r#"## What it checks
A base-licence cell (`Basic Messaging`, `Basic Meetings`, `Basic Calling`)
is `FALSE` while the import mode is add-services, the default. The cell is
ignored: the user keeps that base licence, and an added user gets it anyway.
Warning: rejects nothing.

## Why Control Hub cares
At upload Control Hub asks whether to "Add services only" or "Add and remove
services"; only the latter turns a FALSE licence cell into a removal
(help.webex.com article nlkiw8e; the mechanics are seen in the old client).
The Wholesale procedure says to choose "Add and remove services" (nil4lpeb).
csvcheck cannot see what you will pick, so `--mode` must match it.

## How to fix
- To remove the licence: check with `--mode add-remove-services` and choose
  "Add and remove services" when uploading.
- Otherwise empty the cell, so the file says what will happen.

## Example
Org: marco.bianchi@acme.example is on Webex Voice with base licences
messaging, meetings and calling; checked in the default mode.

    User ID/Email (Required),Basic Meetings
    marco.bianchi@acme.example,FALSE

Use instead (nothing to remove in add-services mode):

    User ID/Email (Required),Basic Meetings
    marco.bianchi@acme.example,
"#;
/// B001: a base-licence FALSE in add-services mode.
fn base_licence_ignored(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) {
    if cx.options.mode != ImportMode::AddServices {
        return;
    }
    for (index, licence, flag) in cx.row.base_licences() {
        if flag != Flag::False {
            continue;
        }
        let title = cx.profile.base_licences.get(licence).map_or("", |b| b.title.as_str());
        out.push(
            cx.cell_diagnostic(
                Code::B001,
                index,
                format!("FALSE in {title} is ignored in \"Add services only\" mode: the licence is not removed"),
            )
            .help("to remove the licence, upload with \"Add and remove services\" (--mode add-remove-services); otherwise leave the cell empty"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_in, found};
    use super::*;

    #[test]
    fn b001_only_in_add_services_mode() {
        let csv = "User ID/Email (Required),Basic Messaging,Basic Calling,Webex Meetings\n\
                   anna@acme.example,FALSE,false,TRUE\nbruna@acme.example,TRUE,,TRUE\n";
        let report = check_in(csv, None, ImportMode::AddServices);
        let at: Vec<_> = found(&report, Code::B001).iter().map(|d| (d.line, d.column.clone())).collect();
        assert_eq!(at, [(Some(2), Some("Basic Messaging".into())), (Some(2), Some("Basic Calling".into()))]);
        assert!(found(&check_in(csv, None, ImportMode::AddRemoveServices), Code::B001).is_empty());
    }
}
