//! Checks a file as a stream with `Checker::check_stream`: rows are handed
//! over in order as they are checked, and the file is never held whole.
//! Prints one JSON line per row with an error, then the summary.
//!
//! ```text
//! cargo run --release --example stream -- target/gen/users.csv target/gen/org.json
//! ```

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use csvcheck::{Checker, OrgState, Profile};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(csv) = args.first() else {
        eprintln!("usage: stream USERS.csv [ORG.json]");
        return ExitCode::from(2);
    };
    match run(Path::new(csv), args.get(1).map(Path::new)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("stream: {e}");
            ExitCode::from(2)
        }
    }
}

/// Checks `csv`; `Ok(false)` when it has errors.
fn run(csv: &Path, org: Option<&Path>) -> Result<bool, Box<dyn std::error::Error>> {
    let mut builder = Checker::builder();
    if let Some(org) = org {
        builder.org(OrgState::from_path(org, &Profile::default())?);
    }
    let checker = builder.build();
    let file = std::fs::File::open(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = None;
    let report = checker.check_stream(&csv.display().to_string(), file, |row| {
        if failed.is_none() && row.diagnostics.iter().any(|d| d.is_error()) {
            let codes: Vec<&str> = row.diagnostics.iter().map(|d| d.code.as_str()).collect();
            let line =
                serde_json::json!({"line": row.planned.line, "email": row.planned.email, "codes": codes});
            failed = writeln!(out, "{line}").err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    serde_json::to_writer(&mut out, &report)?;
    writeln!(out)?;
    out.flush()?;
    Ok(report.summary.errors == 0)
}
