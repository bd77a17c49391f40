//! csvcheck's integration tests, compiled into one binary.

// Shared helpers: running the binary, temp dirs, library checks.
#[macro_use]
mod util;

// The command line: subcommands, stdin, exit statuses.
mod cli;

// What every report must satisfy (shared with the fuzz targets).
mod invariants;

// Hostile input: limits, broken encodings and quotes, huge files (issue 7).
mod hostile;

// No data lost: arbitrary rows are echoed byte for byte, in order (issue 7).
mod no_data_lost;
