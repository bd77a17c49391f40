//! The `csvcheck` binary: a thin layer over the library's [`csvcheck::cli`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(csvcheck::cli::main() as u8)
}
