//! File rules (F001–F005): problems that make Control Hub refuse the whole
//! upload. An F error turns every row's operation into `rejected`.

use super::{Code, Diagnostic};
use crate::options::MaxDeletes;
use crate::read::Source;

/// Documentation of F001: what it checks, why Control Hub cares, how to fix it.
pub(crate) const F001: &str = r#"## What it checks
The file's bytes are not valid UTF-8 and no `--encoding` was given. It is
reported once, at the first line holding an invalid byte; the rows affected
are not reported again. A UTF-8 BOM is accepted and UTF-16 (LE or BE, with a
BOM) is decoded, so neither fires F001. Error: rejects the whole file.

## Why Control Hub cares
Cisco does not document the encoding of the user CSV; UTF-8 with commas is
the safe assumption (inferred: whether a BOM or UTF-16 is accepted is
uncertain). Excel's plain "CSV (Comma delimited)" saves in the Windows code
page, so an accented name such as "Niccolò" or "Begoña" is written as a single
windows-1252 byte that is not valid UTF-8. Uploaded as is, such names would
arrive garbled or fail (inferred).

## How to fix
- Convert the file: `csvcheck fix --encoding windows-1252 users.csv -o
  users-utf8.csv` decodes it and writes UTF-8 without a BOM.
- To check it without converting: `csvcheck --encoding windows-1252
  users.csv`. Any WHATWG encoding label works (`iso-8859-15`, `macintosh`).
- In Excel, save as "CSV UTF-8 (Comma delimited)" next time.

## Example
Saved by Excel as "CSV (Comma delimited)"; `\xF2` stands for the single byte
that windows-1252 uses for "ò":

    User ID/Email (Required),First Name,Last Name
    niccolo.bianchi@acme.example,Niccol\xF2,Bianchi

Use instead (the same text in UTF-8, where "ò" is the bytes C3 B2):

    User ID/Email (Required),First Name,Last Name
    niccolo.bianchi@acme.example,Niccolò,Bianchi

Org: niccolo.bianchi@acme.example already exists (the row is a modify).
"#;
/// F001: the file is not UTF-8 (and no `--encoding` was given).
pub(crate) fn not_utf8(source: &Source) -> Option<Diagnostic> {
    let bad = source.invalid_utf8?;
    let what = format!(" 0x{:02X}", bad.value);
    Some(
        Diagnostic::new(
            Code::F001,
            format!(
                "the file is not valid UTF-8: the first bad byte{what} is on line {} (byte offset {})",
                bad.line, bad.byte
            ),
        )
        .at_line(bad.line)
        .help(
            "save the file as UTF-8 (\"CSV UTF-8\" in Excel), or pass --encoding with its real \
             encoding, e.g. --encoding windows-1252",
        ),
    )
}

/// Documentation of F002: what it checks, why Control Hub cares, how to fix it.
pub(crate) const F002: &str = r#"## What it checks
The header record is split by `;` or by tab instead of `,`. The file is
still parsed with the delimiter found, so every other check runs and reports
real lines and values. Error: rejects the whole file.

## Why Control Hub cares
The Control Hub user CSV is comma-separated. Excel in Italian, Spanish,
German or French locales uses `;` as its list separator and saves "CSV" files
with it; read with commas, each whole line lands in the first column, the
header matches nothing and the upload fails (inferred). Tab-separated files
usually come from a "Text (Tab delimited)" save, or from the Webex Meetings
site export, which is UTF-16 tab-delimited and belongs to another importer
(help.webex.com article nh17y2u).

## How to fix
`csvcheck fix users.csv -o users-comma.csv` rewrites the file with `,` and
quotes any value that contains a comma. Alternatively set the list separator
to `,` in the operating system's region settings before saving from Excel.

## Example

    User ID/Email (Required);Extension;Location;Webex Calling [Wholesale]
    giulia.rossi@acme.example;1001;Milano HQ;TRUE

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
"#;
/// F002: the header is split by `;` or tab.
pub(crate) fn wrong_delimiter(source: &Source, header_line: u64, header_raw: &[u8]) -> Option<Diagnostic> {
    let name = match source.delimiter {
        b';' => "semicolons",
        b'\t' => "tabs",
        _ => return None,
    };
    Some(
        Diagnostic::new(
            Code::F002,
            format!("the header is split by {name}, but Control Hub reads only commas"),
        )
        .at_line(header_line)
        .value(String::from_utf8_lossy(header_raw).into_owned())
        .help("save the file as \"CSV (Comma delimited)\", or run `csvcheck fix` to rewrite it with commas"),
    )
}

/// Documentation of F003: what it checks, why Control Hub cares, how to fix it.
pub(crate) const F003: &str = r#"## What it checks
The file has no header record: it is zero bytes long, holds only a BOM, or
holds only blank lines. A file with a header and no data rows is not F003.
Error: rejects the whole file.

## Why Control Hub cares
Control Hub needs the header to know which column is which; the old Control
Hub client refused an empty or unparseable file as a whole. An empty file
usually means the step that produced it failed: an interrupted export, a
script that wrote nothing, or an empty standard input (`-`) in a pipeline.

## How to fix
Start again from a fresh file: in Control Hub, Users > Manage users by CSV >
"Generate a new CSV" (or "Download CSV template"), then edit it. In a
pipeline, check the step that writes the file before csvcheck runs.

## Example
The bad file is 0 bytes long (or contains only empty lines).

Use instead:

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    giulia.rossi@acme.example,1001,Milano HQ,TRUE
"#;
/// F003: there is no header record.
pub(crate) fn empty_file() -> Diagnostic {
    Diagnostic::new(Code::F003, "the file is empty: there is no header record")
        .help("start from a Control Hub export (Users > Manage users > Export) so the file has its header")
}

/// Documentation of F004: what it checks, why Control Hub cares, how to fix it.
pub(crate) const F004: &str = r#"## What it checks
The file has more data rows than the limit: 20,000 by default, or the value
of `--max-rows N`. The header and blank lines are not counted; every other
row is, whatever it does. Error: rejects the whole file.

## Why Control Hub cares
Control Hub accepts at most 20,000 users per CSV (help.webex.com articles
e2okky, ih07j); the old client refused a larger file before reading any row.
Only one CSV task runs at a time, so the parts of a split file must be
uploaded one after another, each after the previous task has finished
(nlkiw8e).

## How to fix
- `csvcheck split users.csv --rows 20000 -o parts/` writes files of at most
  20,000 data rows, each with the header; upload them one at a time.
- Use `--max-rows N` to enforce a smaller limit of your own, e.g.
  `--max-rows 5000` for batches that are quicker to retry.

## Example

    User ID/Email (Required),Extension,Location,Webex Calling [Wholesale]
    utente00001@acme.example,10001,Milano HQ,TRUE
    ...                                   (20,001 data rows in all)
    utente20001@acme.example,30001,Roma,TRUE

Use instead: two files from `csvcheck split users.csv --rows 20000 -o
parts/`, the first with data rows 1 to 20,000 and the second with row
20,001, both starting with the same header line.
"#;
/// F004: more data rows than the limit.
pub(crate) fn too_many_rows(rows: u64, max: u64) -> Option<Diagnostic> {
    (rows > max).then(|| {
        Diagnostic::new(Code::F004, format!("the file has {rows} data rows; one upload takes at most {max}"))
            .help(format!(
                "split it with `csvcheck split FILE --rows {max} -o DIR` and upload the parts one at a time"
            ))
    })
}

/// Documentation of F005: what it checks, why Control Hub cares, how to fix it.
pub(crate) const F005: &str = r#"## What it checks
The plan deletes more users than `--max-deletes` allows: `N` is a number of
users, `N%` a share of the org's users (so it needs `--org`). A delete is a
row whose package cells are all FALSE; deletes of emails the org does not
have are planned `unchanged` (P011) and do not count. Without
`--max-deletes` there is no limit. Error: rejects the whole file.

## Why Control Hub cares
Every package FALSE deletes the user, so one drag-filled FALSE column turns
an edit into a mass deletion. This rule is csvcheck's reading of the
Wholesale "add, modify, or delete users through CSV" procedure
(help.webex.com article nil4lpeb); Cisco's text stating it was not found,
and the generic (non-Wholesale) user CSV cannot delete users at all. In an
unattended pipeline nobody reviews the plan, hence this safeguard.

## How to fix
- Review the deletes: `csvcheck plan --org org.json users.csv`.
- Turn unintended FALSE cells back into empty cells (empty = no change).
- If the deletes are intended, raise the limit for this run, e.g.
  `--max-deletes 50` or `--max-deletes 10%`.

## Example
Org: giulia.rossi, marco.bianchi and lucia.ferri @acme.example exist on
Webex Calling; run with `--max-deletes 2`, only marco is to be deleted.

    User ID/Email (Required),Webex Calling [Wholesale]
    giulia.rossi@acme.example,FALSE
    marco.bianchi@acme.example,FALSE
    lucia.ferri@acme.example,FALSE

Use instead:

    User ID/Email (Required),Webex Calling [Wholesale]
    giulia.rossi@acme.example,
    marco.bianchi@acme.example,FALSE
    lucia.ferri@acme.example,
"#;
/// F005: the plan deletes more users than `--max-deletes` allows.
pub(crate) fn too_many_deletes(
    deletes: u64,
    limit: Option<MaxDeletes>,
    org_users: Option<usize>,
) -> Option<Diagnostic> {
    let max = limit?.limit(org_users)?;
    (deletes > max).then(|| {
        let what = match limit {
            Some(MaxDeletes::Percent(p)) => {
                format!("{max} ({p}% of the org's {} users)", org_users.unwrap_or(0))
            }
            _ => max.to_string(),
        };
        Diagnostic::new(Code::F005, format!("the plan deletes {deletes} users; --max-deletes allows {what}"))
            .help(
                "check the rows whose package columns are all FALSE (`csvcheck plan` lists them); \
             if the deletes are intended, raise --max-deletes",
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f004_fires_only_above_the_limit() {
        assert!(too_many_rows(20_000, 20_000).is_none());
        let d = too_many_rows(20_001, 20_000).unwrap();
        assert_eq!((d.code, d.line), (Code::F004, None));
    }

    #[test]
    fn f005_counts_and_percentages() {
        assert!(too_many_deletes(5, None, Some(10)).is_none());
        assert!(too_many_deletes(5, Some(MaxDeletes::Count(5)), None).is_none());
        assert!(too_many_deletes(6, Some(MaxDeletes::Count(5)), None).is_some());
        assert!(too_many_deletes(2, Some(MaxDeletes::Percent(10.0)), Some(10)).is_some());
        assert!(too_many_deletes(1, Some(MaxDeletes::Percent(10.0)), Some(10)).is_none());
        // A percentage of an unknown org cannot be applied.
        assert!(too_many_deletes(100, Some(MaxDeletes::Percent(1.0)), None).is_none());
    }

    #[test]
    fn f001_and_f002_come_from_read_facts() {
        let src = Source::decode(b"a;b\n1;\xff\n".to_vec(), None);
        assert_eq!(not_utf8(&src).unwrap().line, Some(2));
        assert_eq!(wrong_delimiter(&src, 1, b"a;b").unwrap().code, Code::F002);
        let src = Source::decode(b"a,b\n1,2\n".to_vec(), None);
        assert!(not_utf8(&src).is_none() && wrong_delimiter(&src, 1, b"a,b").is_none());
    }

    #[test]
    fn f001_names_the_byte_and_an_explicit_encoding_silences_it() {
        let bytes = b"a,b\nNiccol\xf2,1\n".to_vec();
        let d = not_utf8(&Source::decode(bytes.clone(), None)).unwrap();
        assert!(d.message.contains("0xF2 is on line 2"), "{}", d.message);
        let windows_1252 = crate::read::encoding_for_label("windows-1252");
        assert!(not_utf8(&Source::decode(bytes, windows_1252)).is_none());
    }
}
