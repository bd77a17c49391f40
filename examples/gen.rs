//! Writes a large, realistic Control Hub user CSV, its org state and an org
//! export, deterministically for a seed (for benchmarks and tests).
//!
//! ```text
//! cargo run --release --example gen -- --rows 1000000 --errors 2 --out target/gen
//! ```

#[path = "../benches/gen/mod.rs"]
mod gen;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage: gen [--rows N] [--org-users M] [--errors PCT] [--seed S] [--out DIR]

Writes DIR/users.csv, DIR/org.json and DIR/org-export.csv.

  --rows N        data rows of users.csv            (default 20000)
  --org-users M   users of the organisation         (default rows / 2)
  --errors PCT    percentage of rows with a fault   (default 2)
  --seed S        seed; same options, same bytes    (default 42)
  --out DIR       output directory                  (default target/gen)";

/// Parsed command line.
struct Options {
    rows: usize,
    org_users: Option<usize>,
    errors: f64,
    seed: u64,
    out: PathBuf,
}

/// Parses the arguments; `Ok(None)` means `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut opts =
        Options { rows: 20_000, org_users: None, errors: 2.0, seed: 42, out: PathBuf::from("target/gen") };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value =
            || inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match name.as_str() {
            "--rows" => opts.rows = number(&name, &value()?)?,
            "--org-users" => opts.org_users = Some(number(&name, &value()?)?),
            "--seed" => opts.seed = number(&name, &value()?)?,
            "--out" => opts.out = PathBuf::from(value()?),
            "--errors" => {
                let v = value()?;
                opts.errors = v
                    .trim_end_matches('%')
                    .parse()
                    .ok()
                    .filter(|p: &f64| (0.0..=100.0).contains(p))
                    .ok_or_else(|| format!("--errors: {v:?} is not a percentage 0-100"))?;
            }
            _ => return Err(format!("unknown argument {name:?}")),
        }
    }
    Ok(Some(opts))
}

/// A whole number; `_` separators are allowed (`1_000_000`).
fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.replace('_', "").parse().map_err(|_| format!("{name}: {v:?} is not a whole number"))
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn main() -> ExitCode {
    let opts = match parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("gen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cfg = gen::GenConfig {
        rows: opts.rows,
        org_users: opts.org_users.unwrap_or(opts.rows / 2),
        error_pct: opts.errors,
        seed: opts.seed,
    };
    let start = Instant::now();
    let g = gen::generate(&cfg);
    let generated = start.elapsed();
    let files: [(&str, &[u8]); 3] =
        [("users.csv", &g.csv), ("org.json", g.org_json.as_bytes()), ("org-export.csv", &g.org_export_csv)];
    let written = std::fs::create_dir_all(&opts.out)
        .and_then(|()| files.iter().try_for_each(|(name, bytes)| std::fs::write(opts.out.join(name), bytes)));
    if let Err(e) = written {
        eprintln!("gen: cannot write to {}: {e}", opts.out.display());
        return ExitCode::from(2);
    }
    let s = &g.stats;
    let faults: Vec<String> = gen::Fault::ALL
        .iter()
        .zip(s.faults)
        .filter(|(_, n)| *n > 0)
        .map(|(f, n)| format!("{} {n}", f.name()))
        .collect();
    eprintln!(
        "gen: {} rows ({} add, {} unchanged, {} modify, {} delete; {} with a fault{}{}), \
         {} org users, seed {} -> {} (users.csv {:.1} MB, org.json {:.1} MB, \
         org-export.csv {:.1} MB); generated in {} ms, total {} ms",
        cfg.rows,
        s.adds,
        s.unchanged,
        s.modified,
        s.deleted,
        s.faulty_rows(),
        if faults.is_empty() { "" } else { ": " },
        faults.join(", "),
        cfg.org_users,
        cfg.seed,
        opts.out.display(),
        mb(g.csv.len()),
        mb(g.org_json.len()),
        mb(g.org_export_csv.len()),
        generated.as_millis(),
        start.elapsed().as_millis(),
    );
    ExitCode::SUCCESS
}
