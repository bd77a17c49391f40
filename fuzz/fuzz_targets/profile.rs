//! Arbitrary bytes as a package profile (`--profile`): a typed error, or a
//! valid profile that reads back the same through TOML, whose every title
//! the header reads as what the profile says it is, and that a check can
//! use with the invariants holding.
#![no_main]

use std::path::Path;

use csvcheck::header::{ColumnKind, Field, Header};
use csvcheck::{Checker, Error, Profile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `Profile::from_path` refuses bytes that are not UTF-8 before parsing.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("profile.toml");
    let profile = match Profile::from_toml(text, path) {
        Ok(profile) => profile,
        Err(e) => {
            assert!(matches!(e, Error::Profile { .. }), "a profile failed with {e:?}");
            assert_eq!(e.path(), Some(path));
            if let Some(at) = e.location() {
                assert!(at.line >= 1, "an error at line 0: {e}");
            }
            return;
        }
    };
    assert_eq!(profile.validate(), Ok(()));
    let written = toml::to_string(&profile).expect("profiles serialise");
    let again = Profile::from_toml(&written, path).expect("a written profile reads back");
    assert_eq!(profile, again, "the profile changed through TOML");

    // Every title is read back as what the profile says it is.
    let mut titles = vec![Field::Email.title().to_owned()];
    titles.extend(profile.packages.iter().map(|p| p.title.clone()));
    titles.extend(profile.base_licences.iter().map(|b| b.title.clone()));
    titles.extend(profile.text_columns.iter().cloned());
    let header = Header::parse(&titles, 1, &profile);
    let packages = profile.packages.len();
    let bases = profile.base_licences.len();
    for i in 0..packages {
        assert_eq!(header.package_column(1 + i).map(|c| c.package), Some(i), "package {i} misread");
    }
    for j in 0..bases {
        assert_eq!(header.base_licence_column(1 + packages + j), Some(j), "base licence {j} misread");
    }
    for (k, column) in header.columns.iter().enumerate().skip(1 + packages + bases) {
        assert_eq!(column.kind, ColumnKind::Text, "text column {k} misread");
    }

    // A file with every column, one row per package, checks cleanly enough
    // to hold the invariants.
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&titles).expect("write to memory");
    for i in 0..packages.min(8) {
        let mut row = vec![format!("user{i}@acme.example")];
        row.extend((0..packages).map(|p| if p == i { "TRUE" } else { "" }.to_owned()));
        row.extend((0..bases).map(|_| "FALSE".to_owned()));
        row.extend(profile.text_columns.iter().map(|_| "x".to_owned()));
        out.write_record(&row).expect("write to memory");
    }
    let csv = out.into_inner().expect("flush to memory");
    let checker = Checker::builder().profile(profile).org(csvcheck_fuzz::acme()).build();
    csvcheck_fuzz::check_everything(&checker, &csv);
});
