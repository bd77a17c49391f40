//! Arbitrary bytes as an org file, read both as JSON and as a Control Hub
//! export CSV: a typed error naming the file, or an org whose indexes find
//! every user, read the same way twice, that a check can use. A file that
//! parses as an export is also checked as an upload against itself (export,
//! edit, upload is the usual round trip).
#![no_main]

use std::path::Path;

use csvcheck::{Checker, Error, OrgState};
use libfuzzer_sys::fuzz_target;

const USERS: &[u8] = include_bytes!("../../fixtures/files/users.csv");

fuzz_target!(|data: &[u8]| {
    let profile = csvcheck_fuzz::default_profile();
    for name in ["org.json", "org.csv"] {
        let path = Path::new(name);
        match OrgState::from_bytes(data, path, profile) {
            Ok(org) => {
                let again = OrgState::from_bytes(data, path, profile).expect("the same bytes parse again");
                assert_eq!(
                    serde_json::to_string(&org).expect("orgs serialise"),
                    serde_json::to_string(&again).expect("orgs serialise"),
                    "the same org file read twice differs"
                );
                for user in &org.users {
                    let found = org.user(&user.email).expect("every user is found by its email");
                    assert_eq!(csvcheck::text::email_key(&found.email), csvcheck::text::email_key(&user.email));
                }
                let checker = Checker::builder().org(org).build();
                csvcheck_fuzz::check_everything(&checker, USERS);
                if name == "org.csv" {
                    csvcheck_fuzz::check_everything(&checker, data);
                }
            }
            Err(e) => {
                assert!(
                    matches!(e, Error::Org { .. } | Error::Limit { .. } | Error::Malformed { .. }),
                    "an org file failed with {e:?}"
                );
                assert_eq!(e.path(), Some(path));
                if let Some(at) = e.location() {
                    assert!(at.line >= 1, "an error at line 0: {e}");
                }
                assert!(e.to_string().starts_with(name), "{e}");
            }
        }
    }
});
