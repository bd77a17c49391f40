//! The parse floor csvcheck is measured against: a bare `csv::Reader` loop
//! over byte records, reusing one record, counting records and fields.
//!
//! ```text
//! cargo run --release --example baseline -- target/gen/users.csv
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: baseline FILE.csv");
        return ExitCode::from(2);
    };
    let mut reader = match csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(&path) {
        Ok(reader) => reader,
        Err(e) => {
            eprintln!("baseline: {}: {e}", path.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let mut record = csv::ByteRecord::new();
    let (mut records, mut fields) = (0u64, 0u64);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                records += 1;
                fields += record.len() as u64;
            }
            Ok(false) => break,
            Err(e) => {
                eprintln!("baseline: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{records} records, {fields} fields");
    ExitCode::SUCCESS
}
