//! The one hint csvcheck gives the processor about memory: fetch this line
//! now, it is read soon.
//!
//! This is the crate's only `unsafe`. Stable Rust has no safe prefetch yet
//! (`std::hint::prefetch_read` is unstable), and the alternative — reading
//! the memory — costs more than it saves where it matters: a read that
//! misses the cache holds its place in the processor's queue of work until
//! the line comes, and a few dozen of them stall the thread that hands rows
//! over in order, where a prefetch is issued and forgotten. At a million
//! rows, fetching the cross-row tables' lines for the next rows this way
//! took 4% off the wall time, against reading their first slots; fetching
//! the fields of the org user a row names, before its plan compares them,
//! 2 to 5% of the CPU time.

/// Whether [`line()`] fetches anything on this target: where it does not, a
/// caller that must have the line in the cache reads it instead.
pub(crate) const FETCHES: bool = cfg!(target_arch = "x86_64");

/// Asks the processor to fetch the cache line that holds `at` into all
/// its caches, and goes on without waiting: nothing is read, and any
/// address will do (out of bounds, or of memory that is not the
/// program's). Where there is no such instruction, it does nothing.
#[inline(always)]
pub(crate) fn line<T>(at: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `prefetcht0` reads nothing the program sees and never faults,
    // whatever the address (it is a hint the processor may drop); the SSE
    // it needs is part of x86-64 itself.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
