//! Embedding csvcheck in a provisioning service.
//!
//! The service keeps its own picture of the customer organisation (here built
//! in code), checks a partner's CSV before forwarding it to Control Hub, and
//! acts on the plan: it refuses the file when Control Hub would, asks for a
//! confirmation when users would be deleted, and otherwise queues the changes.
//!
//! ```sh
//! cargo run --example embed -- fixtures/files/users.csv
//! ```

use std::process::ExitCode;

use csvcheck::{Checker, ImportMode, MaxDeletes, Operation, OrgState, OrgUser};

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "fixtures/files/users.csv".into());

    // 1. The org as the service knows it (from its own database, say).
    let mut org = OrgState::default();
    org.package = Some("webex_calling".into());
    org.packages = Some(vec!["webex_calling".into(), "webex_suite".into(), "webex_meetings".into()]);
    org.domains = Some(vec!["acme.example".into()]);
    org.locations = Some(vec!["Milano HQ".into(), "Roma".into()]);
    org.sites = Some(vec!["acme.webex.com".into()]);
    org.users.push(OrgUser {
        package: Some("webex_calling".into()),
        location: Some("Milano HQ".into()),
        phone_number: Some("+390212345678".into()),
        extension: Some("1001".into()),
        admin: Some("full".into()),
        ..OrgUser::new("giulia.rossi@acme.example")
    });
    org.users.push(OrgUser {
        package: Some("webex_meetings".into()),
        site: Some("acme.webex.com".into()),
        ..OrgUser::new("luca.verdi@acme.example")
    });

    // 2. One checker, shared by every request.
    let checker = Checker::builder()
        .org(org)
        .mode(ImportMode::AddRemoveServices)
        .max_deletes(Some(MaxDeletes::Percent(10.0)))
        .build();

    // 3. Check the partner's file.
    let report = match checker.check_path(&path) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("cannot check the file: {e}");
            return ExitCode::from(2);
        }
    };

    // 4. Act on the result.
    if report.has_errors() {
        println!("refused: Control Hub would reject {} row(s)", report.summary.rejected);
        for d in report.diagnostics.iter().filter(|d| d.is_error()) {
            println!("  line {:>4} {} {}: {}", d.line.unwrap_or(0), d.code, d.code.name(), d.message);
        }
    }
    for op in &report.operations {
        match &op.operation {
            Operation::Add { package, .. } => {
                println!("queue add    {} with {}", op.email, package.as_deref().unwrap_or("?"))
            }
            Operation::Modify { changes, .. } => {
                let fields: Vec<&str> = changes.iter().map(|c| c.field).collect();
                println!("queue modify {} ({})", op.email, fields.join(", "));
            }
            Operation::Delete => println!("CONFIRM delete {}", op.email),
            _ => {}
        }
    }
    // The same report, as the JSON a web service would return (SPEC §8).
    let json = serde_json::to_string(&csvcheck::report::Report::new(std::slice::from_ref(&report)));
    println!("{} bytes of JSON", json.map_or(0, |j| j.len()));
    if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
