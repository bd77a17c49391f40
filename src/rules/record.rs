//! Record rules (R001): the shape of a data record.

use super::{Code, RowContext};
use crate::rules::Diagnostic;

/// Documentation of R001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const R001: &str = r#"## What it checks
A record has more or fewer fields than the header. Quoting follows RFC
4180: a comma or line break inside double quotes belongs to the value, and
a record's line is the line it starts on. The rest of the file is still
checked. Error: rejects the row.

## Why Control Hub cares
The header fixes the order and number of columns; Cisco's bulk CSV guidance
says a row with a different field count is rejected (help.webex.com article
nu0oia0, written for Calling CSVs). The usual cause is an unquoted comma in a
value, such as a department "Vendite, Nord" or an address, which shifts
every later cell into the wrong column. Webex Calling's own bulk CSVs escape
commas as `\,`; the user CSV uses RFC 4180 double quotes (seen in the old
client, not documented).

## How to fix
Put double quotes around any value containing a comma, a double quote or a
line break, and double the embedded quotes: `"Sala ""Duomo"""`. Remove stray
trailing commas. Saving from a spreadsheet quotes values for you.

## Example
Org: giulia.rossi@acme.example exists.

    User ID/Email (Required),Department,Title
    giulia.rossi@acme.example,Vendite, Nord,Responsabile

Use instead:

    User ID/Email (Required),Department,Title
    giulia.rossi@acme.example,"Vendite, Nord",Responsabile
"#;
/// R001: the record's field count differs from the header's. Returns
/// whether the record is well formed (the other rules run only then).
pub(crate) fn check(cx: &RowContext<'_>, out: &mut Vec<Diagnostic>) -> bool {
    if cx.row.is_well_formed() {
        return true;
    }
    let (got, want) = (cx.row.record.len(), cx.row.header.len());
    let help = if got < want {
        "a field is missing: every row needs one value (possibly empty) per column; \
         check for a lost comma or a value that should be quoted"
    } else {
        "there are extra fields: a value containing a comma must be quoted, \
         e.g. \"Sales, South\""
    };
    let mut message = format!("the record has {got} fields but the header has {want}");
    let last = cx.row.record.field(got.saturating_sub(1)).unwrap_or_default();
    if last.contains('\n') {
        // A quote that never closes swallows the following lines into one
        // field: say where it opened, not where the file ends.
        message.push_str(&format!(
            "; a quoted field opened on line {} runs across {} line breaks, probably an unclosed quote",
            cx.row.line,
            last.matches('\n').count()
        ));
    }
    out.push(cx.row_diagnostic(Code::R001, message).help(help));
    false
}
