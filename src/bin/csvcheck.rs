//! The `csvcheck` binary: a thin layer over the library's [`csvcheck::cli`].

/// Rows are checked on worker threads and handed over on another: mimalloc
/// frees across threads without the contention of the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(csvcheck::cli::main() as u8)
}
