//! csvcheck checks a Webex Control Hub user CSV before it is uploaded: it
//! tells exactly what the upload will do — which users are added, modified,
//! deleted or left alone — and every reason Control Hub would refuse a row,
//! with the line, the column, the value and how to fix it.
//!
//! # The pipeline
//!
//! ```text
//! bytes ──read──▶ records ──header──▶ typed rows ──plan (vs org state)──▶ operations
//!                                          └──────rules (parallel)──▶ diagnostics ──▶ report
//! ```
//!
//! Each stage is a module: [`read`], [`header`], [`row`], [`plan`],
//! [`rules`], [`report`]. [`Checker`] runs them all.
//!
//! # Check a file
//!
//! ```
//! use csvcheck::{Checker, OpKind};
//!
//! let csv = "User ID/Email (Required),First Name,Webex Meetings [Wholesale]\n\
//!            anna.bianchi@acme.example,Anna,TRUE\n\
//!            mario.rossi@,Mario,TRUE\n";
//! let report = Checker::builder().build().check_bytes("users.csv", csv.as_bytes().to_vec());
//!
//! assert_eq!(report.operations[0].operation.kind(), OpKind::Add);
//! let e = &report.diagnostics.iter().find(|d| d.is_error()).unwrap();
//! assert_eq!((e.code.as_str(), e.line), ("E002", Some(3)));
//! assert_eq!(report.summary.rejected, 1);
//! ```
//!
//! # Act on the plan
//!
//! ```
//! use csvcheck::{Checker, Operation, OrgState, OrgUser};
//!
//! let mut org = OrgState::default();
//! org.users.push(OrgUser { package: Some("webex_meetings".into()), ..OrgUser::new("giulia@acme.example") });
//! let checker = Checker::builder().org(org).build();
//! let csv = "User ID/Email (Required),Display Name,Webex Meetings\ngiulia@acme.example,Giulia R.,\n";
//! let report = checker.check_bytes("users.csv", csv.as_bytes().to_vec());
//! match &report.operations[0].operation {
//!     Operation::Modify { changes, .. } => assert_eq!(changes[0].field, "display_name"),
//!     other => panic!("expected a modify, got {other:?}"),
//! }
//! ```
//!
//! The JSON report of SPEC §8 is the [`Serialize`](serde::Serialize) form of
//! [`report::Report`].

#![deny(missing_docs)]
// One exception, measured and explained where it is: `prefetch`.
#![deny(unsafe_code)]
// Bad input never panics: library code may not unwrap, expect or index, since
// what it would unwrap or index usually comes from a file. (Tests may: see
// clippy.toml.) `get`, `?`, `unwrap_or` and iterators say what happens instead.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod check;
pub mod cli;
pub mod error;
pub mod fix;
pub mod guard;
pub mod header;
pub mod limits;
pub mod options;
pub mod org;
pub mod plan;
mod prefetch;
pub mod profile;
pub mod read;
pub mod report;
pub mod row;
pub mod rules;
pub mod split;
mod swar;
pub mod text;

/// The README's examples, compiled and run as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use check::{Checker, CheckerBuilder, FileReport, RowOutcome, StreamReport, Summary};
pub use error::{Error, Result};
pub use options::{ImportMode, MaxDeletes, Options};
pub use org::{OrgState, OrgUser};
pub use plan::{Change, ChangeValue, OpKind, Operation, PlannedRow};
pub use profile::Profile;
pub use rules::{Code, Diagnostic, Rule, Severity};
