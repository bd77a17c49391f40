//! The command line: arguments as clap parses them, and [`run`], which
//! turns them into a check and a report. The binary only calls [`main`].
//!
//! ```text
//! csvcheck [check] [OPTIONS] FILE...     check files (default subcommand)
//! csvcheck plan    [OPTIONS] FILE        the operations, one per row
//! csvcheck rules | explain CODE
//! ```

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;

use crate::error::Error;
use crate::options::{ImportMode, MaxDeletes, Options, DEFAULT_MAX_ROWS};
use crate::report::{self, Format, RenderOptions};
use crate::rules::{registry, RULES};
use crate::{Checker, FileReport, OrgState, Profile};

/// Exit status: 0 clean (warnings allowed), 1 findings, 2 usage or I/O failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// No errors (warnings allowed unless `--deny-warnings`).
    Clean = 0,
    /// At least one error, or a warning with `--deny-warnings`.
    Findings = 1,
    /// A usage error, or a file that could not be read.
    Failure = 2,
}

/// Checks Webex Control Hub user CSV files before upload.
#[derive(Debug, Parser)]
#[command(name = "csvcheck", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check files (the default when no subcommand is given).
    Check(CheckArgs),
    /// Show the operations the upload will perform, one per row.
    Plan(CheckArgs),
    /// List every rule.
    Rules {
        /// Output format: text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Explain a rule: what it checks, why Control Hub cares, how to fix it.
    Explain {
        /// A code (E002) or name (invalid-email).
        code: String,
        /// Output format: text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
}

/// Options shared by `check` and `plan`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// CSV files to check; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Current state of the organisation: JSON (SPEC §4) or a Control Hub export CSV.
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Import behaviour chosen at upload: add-services or add-remove-services.
    #[arg(long, default_value = "add-services", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<ImportMode>()))]
    pub mode: ImportMode,
    /// Output format: text, json, jsonl, sarif or csv.
    #[arg(long, default_value = "text", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Format>()))]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Most data rows per upload.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_ROWS)]
    pub max_rows: u64,
    /// Most users the plan may delete: N, or N% of the org's users.
    #[arg(long, value_name = "N|N%", value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<MaxDeletes>()))]
    pub max_deletes: Option<MaxDeletes>,
    /// Decode input with this WHATWG encoding label (e.g. windows-1252).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Package profile (TOML) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Print only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

const SUBCOMMANDS: &[&str] = &["check", "plan", "rules", "explain", "help"];

/// Inserts the default `check` subcommand when none is given.
pub fn with_default_subcommand(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first = args.get(1).and_then(|a| a.to_str());
    let explicit = match first {
        None => true,
        Some(a) => SUBCOMMANDS.contains(&a) || matches!(a, "-h" | "--help" | "-V" | "--version"),
    };
    if explicit {
        return args;
    }
    let mut out = args;
    out.insert(1.min(out.len()), "check".into());
    out
}

/// Parses the process arguments, runs, and returns the exit status.
pub fn main() -> ExitStatus {
    let args = with_default_subcommand(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitStatus::Clean
                }
                _ => ExitStatus::Failure,
            };
        }
    };
    match run(cli) {
        Ok(status) => status,
        // `csvcheck … | head` closes the pipe: that is the reader's choice,
        // not a failure.
        Err(e) if is_broken_pipe(&e) => ExitStatus::Clean,
        Err(e) => {
            eprintln!("csvcheck: {e}");
            ExitStatus::Failure
        }
    }
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus, Error> {
    match cli.command {
        Command::Check(args) => check(args, false),
        Command::Plan(args) => check(args, true),
        Command::Rules { format } => print_rules(&format),
        Command::Explain { code, format } => explain(&code, &format),
    }
}

/// Builds the checker from the options: profile, org, encoding.
pub fn checker(args: &CheckArgs) -> Result<Checker, Error> {
    let profile = match &args.profile {
        Some(path) => Profile::from_path(path)?,
        None => Profile::default(),
    };
    let mut builder = Checker::builder();
    if let Some(path) = &args.org {
        builder.org(OrgState::from_path(path, &profile)?);
    }
    builder.options(Options {
        mode: args.mode,
        max_rows: args.max_rows,
        max_deletes: args.max_deletes,
        ..Options::default()
    });
    if let Some(label) = &args.encoding {
        builder.encoding(label)?;
    }
    builder.profile(profile);
    Ok(builder.build())
}

fn check(args: CheckArgs, plan: bool) -> Result<ExitStatus, Error> {
    let checker = checker(&args)?;
    if plan && args.files.len() != 1 {
        return Err(Error::Usage("`csvcheck plan` takes exactly one FILE".into()));
    }
    let results: Vec<Result<FileReport, Error>> =
        args.files.par_iter().map(|p| checker.check_path(p)).collect();
    let mut status = ExitStatus::Clean;
    let mut reports = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(report) => reports.push(report),
            Err(e) => {
                eprintln!("csvcheck: {e}");
                status = ExitStatus::Failure;
            }
        }
    }
    let color = args.output.is_none()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && io::stdout().is_terminal();
    let options = RenderOptions { color, quiet: args.quiet };
    with_output(args.output.as_deref(), |out| {
        if plan {
            report::plan::write(out, args.format, &reports, &options)
        } else {
            report::write(out, args.format, &reports, &options)
        }
    })?;
    for r in &reports {
        if r.has_errors() || (args.deny_warnings && r.has_warnings()) {
            status = status.max(ExitStatus::Findings);
        }
    }
    Ok(status)
}

/// Runs `write` on standard output or the `-o` file, buffered.
fn with_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    let name = path.map_or_else(|| PathBuf::from("<stdout>"), Path::to_path_buf);
    let io_error = |source| Error::Io { path: name.clone(), source };
    match path {
        Some(path) => {
            let file = File::create(path).map_err(io_error)?;
            let mut out = BufWriter::with_capacity(1 << 16, file);
            write(&mut out).and_then(|()| out.flush()).map_err(io_error)
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            write(&mut out).and_then(|()| out.flush()).map_err(io_error)
        }
    }
}

fn text_or_json(format: &str) -> Result<bool, Error> {
    match format {
        "text" => Ok(false),
        "json" => Ok(true),
        other => Err(Error::Usage(format!("unknown format {other:?}: expected text or json"))),
    }
}

#[derive(serde::Serialize)]
struct RuleJson {
    code: &'static str,
    name: &'static str,
    severity: crate::Severity,
    family: &'static str,
    summary: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc: Option<&'static str>,
}

impl RuleJson {
    fn new(rule: &'static registry::Rule, doc: bool) -> RuleJson {
        RuleJson {
            code: rule.code.as_str(),
            name: rule.name,
            severity: rule.severity,
            family: rule.family,
            summary: rule.summary,
            doc: doc.then_some(rule.doc),
        }
    }
}

fn print_rules(format: &str) -> Result<ExitStatus, Error> {
    let json = text_or_json(format)?;
    with_output(None, |out| {
        if json {
            let rules: Vec<RuleJson> = RULES.iter().map(|r| RuleJson::new(r, false)).collect();
            serde_json::to_writer_pretty(&mut *out, &rules)?;
            writeln!(out)
        } else {
            for r in RULES {
                writeln!(out, "{}  {:<8} {:<26} {}", r.code, r.severity.as_str(), r.name, r.summary)?;
            }
            Ok(())
        }
    })?;
    Ok(ExitStatus::Clean)
}

fn explain(code: &str, format: &str) -> Result<ExitStatus, Error> {
    let json = text_or_json(format)?;
    let rule = registry::lookup(code)
        .ok_or_else(|| Error::Usage(format!("unknown rule {code:?}: `csvcheck rules` lists them")))?;
    with_output(None, |out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, &RuleJson::new(rule, true))?;
            writeln!(out)
        } else {
            writeln!(out, "{} ({}, {})\n", rule.code, rule.name, rule.severity)?;
            write!(out, "{}", rule.doc)
        }
    })?;
    Ok(ExitStatus::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<std::ffi::OsString> {
        a.iter().map(Into::into).collect()
    }

    #[test]
    fn check_is_the_default_subcommand() {
        assert_eq!(
            with_default_subcommand(args(&["csvcheck", "a.csv"])),
            args(&["csvcheck", "check", "a.csv"])
        );
        assert_eq!(with_default_subcommand(args(&["csvcheck", "--org", "o.json", "a.csv"]))[1], "check");
        assert_eq!(
            with_default_subcommand(args(&["csvcheck", "plan", "a.csv"])),
            args(&["csvcheck", "plan", "a.csv"])
        );
        assert_eq!(with_default_subcommand(args(&["csvcheck", "--help"])), args(&["csvcheck", "--help"]));
    }

    #[test]
    fn options_parse() {
        let cli = Cli::try_parse_from(args(&[
            "csvcheck",
            "check",
            "--mode",
            "add-remove-services",
            "--format",
            "json",
            "--max-deletes",
            "5%",
            "a.csv",
            "b.csv",
        ]))
        .unwrap();
        let Command::Check(a) = cli.command else { panic!() };
        assert_eq!(a.mode, ImportMode::AddRemoveServices);
        assert_eq!(a.format, Format::Json);
        assert_eq!(a.max_deletes, Some(MaxDeletes::Percent(5.0)));
        assert_eq!(a.files.len(), 2);
        assert!(Cli::try_parse_from(args(&["csvcheck", "check", "--format", "xml", "a.csv"])).is_err());
    }
}
