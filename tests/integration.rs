//! csvcheck's integration tests, compiled into one binary.

// Shared helpers: running the binary, temp dirs, library checks.
#[macro_use]
mod util;

// The command line: subcommands, stdin, exit statuses.
mod cli;

// The library embedded as a service would: org in code, plan acted on.
mod library;

// The plan: operations, changes, import modes, applying a plan.
mod plan;

// Properties of the plan on generated orgs and files (proptest).
mod properties;

// Every rule against fixtures/rules/<CODE>/, and the README's rule table.
mod rules;

// The same report whatever the thread count; diagnostics in total order.
mod determinism;

// Machine formats: JSON/JSONL typed and strict, SARIF shape, CSV echo.
mod formats;

// The text report, rendered and compared with snapshots.
mod text;

// `csvcheck fix` and `csvcheck split`.
mod fix_split;

// What every report must satisfy (shared with the fuzz targets).
mod invariants;

// Hostile input: limits, broken encodings and quotes, huge files (issue 7).
mod hostile;

// No data lost: arbitrary rows are echoed byte for byte, in order (issue 7).
mod no_data_lost;

// The org index follows an org changed in code after loading (issue 6).
mod org_index;
