//! csvcheck's integration tests, compiled into one binary.

// Shared helpers: running the binary, temp dirs, library checks.
#[macro_use]
mod util;

// The command line: subcommands, stdin, exit statuses.
mod cli;

// Machine formats: JSON/JSONL typed and strict, SARIF shape, CSV echo.
mod formats;

// The text report, rendered and compared with snapshots.
mod text;

// `csvcheck fix` and `csvcheck split`.
mod fix_split;
