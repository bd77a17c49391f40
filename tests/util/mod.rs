//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The generator of realistic files (shared with the benches and examples).
#[path = "../../benches/gen/mod.rs"]
pub mod gen;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The built `csvcheck` binary.
pub fn csvcheck() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_csvcheck"));
    cmd.current_dir(root()).env_remove("NO_COLOR");
    cmd
}

/// Runs `csvcheck` with `args`, feeding `stdin`.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = csvcheck();
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("csvcheck runs");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("csvcheck finishes")
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `target/test-tmp/<name>-<pid>-<n>`.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = root().join("target").join("test-tmp").join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file in the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks `csv` with the library, against `org_json` when given.
pub fn check(csv: &str, org_json: Option<&str>) -> csvcheck::FileReport {
    let mut b = csvcheck::Checker::builder();
    if let Some(json) = org_json {
        b.org(csvcheck::OrgState::from_json(json.as_bytes(), Path::new("org.json")).expect("org parses"));
    }
    b.build().check_bytes("test.csv", csv.as_bytes().to_vec())
}

/// Asserts two texts are equal, printing both between rulers on failure.
#[macro_export]
macro_rules! assert_text_eq {
    ($expected:expr, $got:expr) => {{
        let (expected, got): (&str, &str) = (&$expected, &$got);
        if expected != got {
            panic!("\n{:-^80}\n{}\n{:-^80}\n{}\n{:-^80}\n", " expected ", expected, " got ", got, "");
        }
    }};
}
