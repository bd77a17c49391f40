//! Arbitrary bytes checked as a user CSV against a fixed org (acme): no
//! panic, every data record reported unaltered and in order, the same
//! report every time, and the guard and the scan agree with the reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    csvcheck_fuzz::check_everything(csvcheck_fuzz::acme_checker(), data);
});
