//! csvcheck's integration tests, compiled into one binary.

// Shared helpers: running the binary, temp dirs, library checks.
#[macro_use]
mod util;

// The command line: subcommands, stdin, exit statuses.
mod cli;

// Every rule against fixtures/rules/<CODE>/, and the README's rule table.
mod rules;

// The same report whatever the thread count; diagnostics in total order.
mod determinism;
