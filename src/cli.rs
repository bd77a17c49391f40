//! The command line: arguments as clap parses them, and [`run`], which
//! turns them into a check and a report. The binary only calls [`main`].
//!
//! ```text
//! csvcheck [check] [OPTIONS] FILE...     check files (default subcommand)
//! csvcheck plan    [OPTIONS] FILE        the operations, one per row
//! csvcheck fix     [OPTIONS] FILE -o OUT write an upload-ready copy (safe fixes)
//! csvcheck split   FILE --rows N -o DIR  split into uploads of at most N rows
//! csvcheck rules | explain CODE
//! ```

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;

use crate::check::Keep;
use crate::error::Error;
use crate::options::{ImportMode, MaxDeletes, Options, DEFAULT_MAX_ROWS};
use crate::report::{self, Format, RenderOptions};
use crate::rules::{registry, RULES};
use crate::text::printable;
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
    /// Write an upload-ready copy of FILE: UTF-8, comma-separated, cells
    /// trimmed and in NFC, TRUE/FALSE in capitals; print every change.
    Fix(FixArgs),
    /// Split FILE into uploads of at most N data rows, each with the header.
    Split(SplitArgs),
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
    /// Hard limits on the input.
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,
}

/// Options of `fix`.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// The CSV file to fix; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the fixed copy (may be FILE itself; `-` is standard
    /// output, and the changes then go to standard error).
    #[arg(short = 'o', long = "output", value_name = "OUT", required = true)]
    pub output: PathBuf,
    /// Also apply the guesses: restore a stripped `+` on phone numbers,
    /// remove separators from numbers, read yes/no as TRUE/FALSE.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Decode input with this WHATWG encoding label (e.g. windows-1252).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Package profile (TOML) replacing the built-in one.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Print only the summary, not each change.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Options of `split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The CSV file to split; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Most data rows per part.
    #[arg(long, value_name = "N", default_value_t = crate::split::DEFAULT_ROWS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rows: u64,
    /// The directory to write the parts to (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR", required = true)]
    pub output: PathBuf,
    /// Print only the summary, not each part.
    #[arg(short, long)]
    pub quiet: bool,
}

const SUBCOMMANDS: &[&str] = &["check", "plan", "fix", "split", "rules", "explain", "help"];

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
        Command::Fix(args) => fix(args),
        Command::Split(args) => split(args),
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
    if matches!(args.max_deletes, Some(MaxDeletes::Percent(_))) && args.org.is_none() {
        // A percentage of an unknown org would silently be no limit at all:
        // an unattended pipeline asking for a safeguard must get one.
        return Err(Error::Usage("--max-deletes N% is a share of the org's users: it needs --org".into()));
    }
    let mut builder = Checker::builder();
    if let Some(path) = &args.org {
        builder.org(OrgState::from_path(path, &profile)?);
    }
    builder.options(Options {
        mode: args.mode,
        max_rows: args.max_rows,
        max_deletes: args.max_deletes,
        limits: args.limits.limits(),
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
    if args.format == Format::Csv && args.files.len() != 1 {
        // One CSV stream cannot hold several files with different headers.
        return Err(Error::Usage("`--format csv` reports one FILE at a time".into()));
    }
    // The reports that need only the findings, the counts and the lines the
    // findings are about are made from a stream: a large file is never held
    // whole, and the operations wait on disk.
    let keep = if plan { None } else { Keep::for_report(args.format, args.quiet) };
    let results: Vec<Result<FileReport, Error>> = args
        .files
        .par_iter()
        .map(|p| match keep {
            Some(keep) => crate::guard::check_file(&checker, p, keep),
            None => crate::guard::check_path(&checker, p),
        })
        .collect();
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
    let terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = use_color(terminal, std::env::var_os("NO_COLOR").as_deref());
    let width = if terminal { terminal_width() } else { report::DEFAULT_WIDTH };
    with_output_file(args.output.as_deref(), |out, output_file| {
        let options = RenderOptions { color, quiet: args.quiet, width, output_file };
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
    // The process ends next: freeing the org state and the reports one
    // allocation at a time would cost more than a tenth of a run (the
    // operating system takes the memory back at once).
    std::mem::forget(checker);
    std::mem::forget(reports);
    Ok(status)
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
fn use_color(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// The terminal's width as the shell exports it (`COLUMNS`), else the default.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w >= 40)
        .unwrap_or(report::DEFAULT_WIDTH)
}

/// Reads a whole input file, or standard input for `-`; returns the name to
/// show for it.
/// Reading stops at the file-size limit, so `fix` and `split` are as safe
/// on hostile input as `check`.
fn read_input(path: &Path) -> Result<(String, Vec<u8>), Error> {
    let limits = crate::limits::Limits::default();
    if path == Path::new("-") {
        let bytes = limits.read(Path::new("<stdin>"), io::stdin().lock())?;
        return Ok(("<stdin>".into(), bytes));
    }
    let bytes = limits.read_path(path)?;
    Ok((path.display().to_string(), bytes))
}

/// Writes `bytes` to `path` all at once: to a temporary file beside it, then
/// renamed, so a reader never sees half a file and `-o` may name the input.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io_error = |source| Error::Io { path: path.to_owned(), source };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".csvcheck-{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_error)
}

fn fix(args: FixArgs) -> Result<ExitStatus, Error> {
    let profile = match &args.profile {
        Some(path) => Profile::from_path(path)?,
        None => Profile::default(),
    };
    let encoding = match &args.encoding {
        Some(label) => Some(
            crate::read::encoding_for_label(label).ok_or_else(|| Error::Encoding { label: label.clone() })?,
        ),
        None => None,
    };
    let (name, bytes) = read_input(&args.file)?;
    let source = crate::read::Source::decode(bytes, encoding);
    let options = crate::fix::FixOptions::with_unsafe_fixes(args.unsafe_fixes);
    let fixed = crate::fix::fix(&name, &source, &profile, &options)?;
    let to_stdout = args.output == Path::new("-");
    if to_stdout {
        with_output(None, |out| out.write_all(&fixed.bytes))?;
    } else {
        write_atomically(&args.output, &fixed.bytes)?;
    }
    let print = |out: &mut dyn Write| -> io::Result<()> {
        if !args.quiet {
            for f in &fixed.file_fixes {
                writeln!(out, "{f}")?;
            }
            for e in &fixed.edits {
                writeln!(out, "{e}")?;
            }
        }
        let applied = fixed.applied().count();
        let rows = {
            let mut lines: Vec<u64> = fixed.applied().map(|e| e.line).collect();
            lines.dedup();
            lines.len()
        };
        let target = if to_stdout { "<stdout>".to_owned() } else { args.output.display().to_string() };
        write!(
            out,
            "wrote {}: {} {}; {applied} {} changed in {rows} {}",
            printable(&target),
            fixed.rows,
            plural(fixed.rows as usize, "row", "rows"),
            if applied == 1 { "cell" } else { "cells" },
            if rows == 1 { "record" } else { "records" },
        )?;
        if !fixed.file_fixes.is_empty() {
            write!(
                out,
                "; {} file-level {}",
                fixed.file_fixes.len(),
                plural(fixed.file_fixes.len(), "fix", "fixes")
            )?;
        }
        let suggested = fixed.suggested().count();
        if suggested > 0 {
            write!(
                out,
                "; {suggested} unsafe {} not applied (--unsafe-fixes applies them)",
                plural(suggested, "fix", "fixes")
            )?;
        }
        writeln!(out)
    };
    if to_stdout {
        let stderr = io::stderr();
        print(&mut stderr.lock()).map_err(|source| Error::Io { path: "<stderr>".into(), source })?;
    } else {
        with_output(None, print)?;
    }
    Ok(ExitStatus::Clean)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn split(args: SplitArgs) -> Result<ExitStatus, Error> {
    let (name, bytes) = read_input(&args.file)?;
    let stem = if args.file == Path::new("-") {
        "stdin".to_owned()
    } else {
        args.file.file_stem().map_or_else(|| "part".to_owned(), |s| s.to_string_lossy().into_owned())
    };
    let source = crate::read::Source::decode(bytes, None);
    let split = crate::split::Split::new(&stem, &source, args.rows).map_err(|e| match e {
        Error::Usage(m) => Error::Usage(format!("{name}: {m}")),
        e => e,
    })?;
    std::fs::create_dir_all(&args.output)
        .map_err(|source| Error::Io { path: args.output.clone(), source })?;
    let parts = split.parts();
    let mut written = Vec::with_capacity(parts.len());
    for part in &parts {
        let path = args.output.join(&part.file_name);
        let mut bytes = Vec::new();
        split.write(part, &mut bytes).map_err(|source| Error::Io { path: path.clone(), source })?;
        write_atomically(&path, &bytes)?;
        written.push(path);
    }
    with_output(None, |out| {
        if !args.quiet {
            for (part, path) in parts.iter().zip(&written) {
                let n = part.len();
                write!(
                    out,
                    "{}: {n} {}",
                    printable(&path.display().to_string()),
                    plural(n as usize, "row", "rows")
                )?;
                if let Some(lines) = &part.lines {
                    write!(
                        out,
                        " (rows {}-{}, lines {}-{})",
                        part.rows.start,
                        part.rows.end - 1,
                        lines.start(),
                        lines.end()
                    )?;
                }
                writeln!(out)?;
            }
        }
        if source.encoding != "UTF-8" {
            writeln!(out, "note: {} input; the parts are written in UTF-8", source.encoding)?;
        }
        let rows: u64 = parts.iter().map(crate::split::Part::len).sum();
        writeln!(
            out,
            "split {} into {} {} of at most {} rows ({rows} rows in all)",
            printable(&name),
            parts.len(),
            plural(parts.len(), "part", "parts"),
            args.rows
        )
    })?;
    Ok(ExitStatus::Clean)
}

/// Runs `write` on standard output or the `-o` file, buffered.
fn with_output(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Error> {
    with_output_file(path, |out, _| write(out))
}

/// [`with_output`], `write` given a second handle to the file written to
/// when there is one (see [`RenderOptions::output_file`]).
fn with_output_file(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write, Option<Arc<File>>) -> io::Result<()>,
) -> Result<(), Error> {
    let name = path.map_or_else(|| PathBuf::from("<stdout>"), Path::to_path_buf);
    let io_error = |source| Error::Io { path: name.clone(), source };
    match path {
        Some(path) => {
            let file = File::create(path).map_err(io_error)?;
            let twin = file.try_clone().ok().map(Arc::new);
            let mut out = BufWriter::with_capacity(1 << 16, file);
            write(&mut out, twin).and_then(|()| out.flush()).map_err(io_error)
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
            write(&mut out, stdout_file()).and_then(|()| out.flush()).map_err(io_error)
        }
    }
}

/// Standard output as a file of its own (a duplicate of its descriptor).
#[cfg(unix)]
fn stdout_file() -> Option<Arc<File>> {
    use std::os::fd::AsFd;
    io::stdout().as_fd().try_clone_to_owned().ok().map(|fd| Arc::new(File::from(fd)))
}

/// Standard output as a file of its own: not here.
#[cfg(not(unix))]
fn stdout_file() -> Option<Arc<File>> {
    None
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
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }

    #[test]
    fn fix_and_split_parse() {
        let cli = Cli::try_parse_from(args(&["csvcheck", "fix", "a.csv", "-o", "b.csv", "--unsafe-fixes"]))
            .unwrap();
        let Command::Fix(a) = cli.command else { panic!() };
        assert!(a.unsafe_fixes);
        assert!(Cli::try_parse_from(args(&["csvcheck", "fix", "a.csv"])).is_err(), "-o is required");
        let cli = Cli::try_parse_from(args(&["csvcheck", "split", "a.csv", "-o", "parts"])).unwrap();
        let Command::Split(a) = cli.command else { panic!() };
        assert_eq!(a.rows, 20_000);
        assert!(Cli::try_parse_from(args(&["csvcheck", "split", "a.csv", "--rows", "0", "-o", "p"])).is_err());
        assert_eq!(with_default_subcommand(args(&["csvcheck", "fix", "a.csv"]))[1], "fix");
        assert_eq!(with_default_subcommand(args(&["csvcheck", "split", "a.csv"]))[1], "split");
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
