//! Throughput of each stage of csvcheck and of the whole check, beside the
//! floor: a bare `csv::Reader` loop over byte records of the same bytes.
//!
//! ```text
//! cargo bench --bench pipeline                          # 20,000 rows
//! CSVCHECK_BENCH_LARGE=1 cargo bench --bench pipeline   # and 1,000,000 rows
//! ```
//!
//! Inputs come from the generator (`benches/gen`): 2% of rows with a fault,
//! an org of half the rows (100,000 users for the large group). Every group
//! starts with `baseline`; after a group, a table gives each function's
//! rows/s, MB/s and its time as a multiple of the baseline's.
//!
//! The checkers have no row limit (`--max-rows`), so that every row of the
//! large file is planned rather than rejected by F004.
//!
//! The stage functions run on one thread, each doing what the stage before
//! it does plus its own work: `read` (decode and split records), `header_rows`
//! (+ header and typed cells), `plan` (+ the operation against the org).
//! `rules_*`, `report_json` and `end_to_end` go through the library's
//! `Checker`, which checks rows on every core.

#[path = "gen/mod.rs"]
mod gen;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use csvcheck::header::{Field, Header};
use csvcheck::plan::{plan_row, PlanContext};
use csvcheck::read::{Record, Source};
use csvcheck::report::{json, RenderOptions};
use csvcheck::row::{Flag, Row};
use csvcheck::text::email_key;
use csvcheck::{Checker, FileReport, ImportMode, OrgState, Profile};

/// Where criterion writes its estimates (read back for the ratio table).
const OUT: &str = "target/criterion";

/// One generated data set.
struct Input {
    label: &'static str,
    rows: u64,
    csv: Vec<u8>,
    org: OrgState,
}

fn input(label: &'static str, rows: usize) -> Input {
    let cfg = gen::GenConfig { rows, org_users: (rows / 2).min(100_000), error_pct: 2.0, seed: 42 };
    let g = gen::generate(&cfg);
    let org =
        OrgState::from_json(g.org_json.as_bytes(), Path::new("org.json")).expect("generated org parses");
    Input { label, rows: rows as u64, csv: g.csv, org }
}

/// The floor: csv's own reader over the same bytes, one record reused.
fn baseline(csv: &[u8]) -> u64 {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv);
    let mut record = csv::ByteRecord::new();
    let mut fields = 0;
    while reader.read_byte_record(&mut record).expect("in memory") {
        fields += record.len() as u64;
    }
    fields
}

/// Decodes and reads every record into one reused record.
fn read(bytes: Vec<u8>) -> u64 {
    let source = Source::decode(bytes, None);
    let mut reader = source.record_reader();
    let mut record = Record::default();
    let mut fields = 0;
    while reader.read_record(&mut record).expect("in memory") {
        fields += record.len() as u64;
    }
    fields
}

/// Reads, parses the header, and types each row's cells; with `plan`, also
/// plans each row against the org.
fn rows(bytes: Vec<u8>, profile: &Profile, plan: Option<&OrgState>) -> u64 {
    let source = Source::decode(bytes, None);
    let mut reader = source.record_reader();
    let mut record = Record::default();
    if !reader.read_record(&mut record).expect("in memory") {
        return 0;
    }
    let titles: Vec<&str> = record.fields.iter().collect();
    let header = Header::parse(&titles, record.line, profile);
    let cx = PlanContext { profile, org: plan, mode: ImportMode::AddServices };
    let (mut row_index, mut seen) = (0, 0);
    while reader.read_record(&mut record).expect("in memory") {
        row_index += 1;
        let row = Row { line: record.line, row: row_index, record: &record, header: &header };
        let key = row.raw(Field::Email).map(email_key).unwrap_or_default();
        seen += row.packages().filter(|(_, _, f)| *f == Flag::True).count() as u64;
        seen += u64::from(row.number(Field::PhoneNumber).value().is_some());
        seen += u64::from(row.text(Field::Location).is_some());
        if plan.is_some() {
            seen += plan_row(&row, &key, &cx).operation.kind() as u64;
        }
    }
    seen
}

fn json_report(report: &FileReport) -> io::Result<()> {
    json::write_document(&mut io::sink(), std::slice::from_ref(report), &RenderOptions::default())
}

fn group(c: &mut Criterion, input: &Input, large: bool) {
    let profile = Profile::default();
    let plain = Checker::builder().max_rows(u64::MAX).build();
    let with_org = Checker::builder().org(input.org.clone()).max_rows(u64::MAX).build();
    let report = with_org.check_bytes("users.csv", input.csv.clone());
    let csv = &input.csv;

    let name = format!("pipeline-{}", input.label);
    let mut g = c.benchmark_group(&name);
    g.throughput(Throughput::Elements(input.rows));
    if large {
        g.sample_size(10).measurement_time(Duration::from_secs(30)).warm_up_time(Duration::from_secs(1));
    }
    let batched = if large { BatchSize::PerIteration } else { BatchSize::LargeInput };
    g.bench_function("baseline", |b| b.iter(|| baseline(black_box(csv))));
    g.bench_function("read", |b| b.iter_batched(|| csv.clone(), read, batched));
    g.bench_function("header_rows", |b| b.iter_batched(|| csv.clone(), |v| rows(v, &profile, None), batched));
    g.bench_function("plan", |b| {
        b.iter_batched(|| csv.clone(), |v| rows(v, &profile, Some(with_org.org().expect("org"))), batched)
    });
    g.bench_function("rules_no_org", |b| {
        b.iter_batched(|| csv.clone(), |v| plain.check_bytes("users.csv", v), batched)
    });
    g.bench_function("rules_org", |b| {
        b.iter_batched(|| csv.clone(), |v| with_org.check_bytes("users.csv", v), batched)
    });
    g.bench_function("report_json", |b| b.iter(|| json_report(black_box(&report))));
    g.bench_function("end_to_end", |b| {
        b.iter_batched(|| csv.clone(), |v| json_report(&with_org.check_bytes("users.csv", v)), batched)
    });
    g.bench_function("stream_org", |b| {
        b.iter(|| with_org.check_stream("users.csv", black_box(&csv[..]), |row| drop(black_box(row))))
    });
    g.finish();
    ratios(&name, input);
}

/// Prints rows/s, MB/s and the ratio to the baseline of each function of a
/// group, from the estimates criterion saved (nothing when it saved none,
/// as under `cargo bench -- --test`).
fn ratios(group: &str, input: &Input) {
    let mean = |function: &str| -> Option<f64> {
        let path: PathBuf = [OUT, group, function, "new", "estimates.json"].iter().collect();
        let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        estimates["mean"]["point_estimate"].as_f64()
    };
    let Some(floor) = mean("baseline") else { return };
    let mb = input.csv.len() as f64 / 1e6;
    println!("\n{group}: {} rows, {mb:.1} MB", input.rows);
    println!("{:<14} {:>10} {:>12} {:>8} {:>8}", "function", "time", "rows/s", "MB/s", "ratio");
    let functions = [
        "baseline",
        "read",
        "header_rows",
        "plan",
        "rules_no_org",
        "rules_org",
        "report_json",
        "end_to_end",
        "stream_org",
    ];
    for function in functions {
        let Some(ns) = mean(function) else { continue };
        let s = ns / 1e9;
        println!(
            "{function:<14} {:>8.1}ms {:>12.0} {:>8.1} {:>7.2}x",
            s * 1e3,
            input.rows as f64 / s,
            mb / s,
            ns / floor
        );
    }
}

fn pipeline(c: &mut Criterion) {
    group(c, &input("20k", 20_000), false);
    if std::env::var_os("CSVCHECK_BENCH_LARGE").is_some_and(|v| v != "0") {
        group(c, &input("1m", 1_000_000), true);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().output_directory(Path::new(OUT));
    targets = pipeline
}
criterion_main!(benches);
