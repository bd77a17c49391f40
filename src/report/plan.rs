//! `csvcheck plan`: the operations the upload will perform.
//!
//! For people, grouped: deletes first and loudly — they destroy data — then
//! adds, modifies with their field changes, unchanged and rejected rows.
//! `--format json` prints the SPEC §8 document (whose `operations` array is
//! the plan); `--format jsonl` its `operation` and `summary` messages.

use std::io::{self, Write};

use super::{Format, RenderOptions};
use crate::check::FileReport;
use crate::plan::{ChangeValue, OpKind, Operation};
use crate::text::printable;

/// Writes the plan of each file.
pub fn write(
    out: &mut dyn Write,
    format: Format,
    files: &[FileReport],
    options: &RenderOptions,
) -> io::Result<()> {
    match format {
        Format::Text => files.iter().try_for_each(|f| write_text(out, f, options)),
        other => super::write(out, other, files, options),
    }
}

fn show(v: &ChangeValue) -> String {
    match v {
        ChangeValue::None => "(none)".to_owned(),
        ChangeValue::Text(t) => format!("{:?}", printable(t)),
        ChangeValue::List(l) => format!("[{}]", l.join(", ")),
    }
}

fn write_text(out: &mut dyn Write, file: &FileReport, options: &RenderOptions) -> io::Result<()> {
    let s = &file.summary;
    let (bold, red, reset) = if options.color { ("\x1b[1m", "\x1b[1;31m", "\x1b[0m") } else { ("", "", "") };
    writeln!(out, "{bold}{}{reset}: {} rows", file.path, file.rows)?;
    let of = |kind: OpKind| file.operations.iter().filter(move |o| o.operation.kind() == kind);
    if s.delete > 0 {
        writeln!(
            out,
            "\n{red}DELETE {} user(s): they lose their packages and are removed from the org{reset}",
            s.delete
        )?;
        if !options.quiet {
            for o in of(OpKind::Delete) {
                writeln!(out, "  line {:<6} {}", o.line, printable(&o.email))?;
            }
        }
    }
    if s.add > 0 {
        writeln!(out, "\n{bold}ADD {} user(s){reset}", s.add)?;
        if !options.quiet {
            for o in of(OpKind::Add) {
                if let Operation::Add { package, base_licenses } = &o.operation {
                    writeln!(
                        out,
                        "  line {:<6} {}  {}  [{}]",
                        o.line,
                        printable(&o.email),
                        package.as_deref().unwrap_or("(no package)"),
                        base_licenses.join(", ")
                    )?;
                }
            }
        }
    }
    if s.modify > 0 {
        writeln!(out, "\n{bold}MODIFY {} user(s){reset}", s.modify)?;
        if !options.quiet {
            for o in of(OpKind::Modify) {
                writeln!(out, "  line {:<6} {}", o.line, printable(&o.email))?;
                if let Operation::Modify { changes, .. } = &o.operation {
                    for c in changes {
                        writeln!(out, "      {}: {} -> {}", c.field, show(&c.from), show(&c.to))?;
                    }
                }
            }
        }
    }
    if s.unchanged > 0 {
        writeln!(out, "\nUNCHANGED {} user(s)", s.unchanged)?;
    }
    if s.rejected > 0 {
        writeln!(out, "\n{red}REJECTED {} row(s){reset} (`csvcheck check` shows why)", s.rejected)?;
        if !options.quiet {
            for o in of(OpKind::Rejected) {
                writeln!(out, "  line {:<6} {}", o.line, printable(&o.email))?;
            }
        }
    }
    writeln!(out, "\n{}", super::text::summary_line(file))
}
