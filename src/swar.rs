//! Eight bytes at a time in a `u64` ("SIMD within a register"): the few
//! tricks the hot loops over cells, emails and JSON strings share, written
//! and tested once.
//!
//! A word is loaded little-endian ([`word`]), so its lowest byte is the
//! first in memory and `trailing_zeros() / 8` of a mask is the index of the
//! first byte it flags. Each mask has the high bit of a byte set for the
//! bytes it flags, and no other bit.

/// `0x01` in every byte.
pub(crate) const ONES: u64 = u64::from_le_bytes([0x01; 8]);

/// `0x80`, the high bit, in every byte.
pub(crate) const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// `b` in every byte.
#[inline]
pub(crate) const fn splat(b: u8) -> u64 {
    ONES * b as u64
}

/// The eight bytes of `bytes` from `at`, little-endian; `None` when fewer
/// are left.
#[inline]
pub(crate) fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let eight = bytes.get(at..at.checked_add(8)?)?;
    <[u8; 8]>::try_from(eight).ok().map(u64::from_le_bytes)
}

/// The bytes of `x` from `lo` to `hi`, for a word of ASCII bytes (each
/// below 0x80): adding `0x80 - lo` sets a byte's high bit from `lo` on,
/// adding `0x7F - hi` from past `hi` on, and neither carries into the next
/// byte. Bytes of 0x80 or more may be flagged or not: test `x & HIGH`
/// first.
#[inline]
pub(crate) const fn within(x: u64, lo: u8, hi: u8) -> u64 {
    x.wrapping_add(splat(0x80 - lo)) & !x.wrapping_add(splat(0x7F - hi)) & HIGH
}

/// The bytes of `x` that are zero, exactly: adding 0x7F to a byte's low
/// seven bits sets its high bit unless they are all zero, and never
/// carries into the next byte.
#[inline]
pub(crate) const fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGH).wrapping_add(!HIGH)) | x) & HIGH
}

/// The bytes of `x` below `n` (at most 0x80), and perhaps some after the
/// first of them: `(x - n…) & !x` borrows from the byte above a flagged
/// one. The lowest flag is exact, which is all a search for the first
/// such byte needs, and cheaper than [`zero_bytes`].
#[inline]
pub(crate) const fn first_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(splat(n)) & !x & HIGH
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that hold `b` in byte `i` and `fill` elsewhere.
    fn words() -> impl Iterator<Item = (u8, usize, u8, u64)> {
        (0..=255u8).flat_map(|b| {
            (0..8).flat_map(move |i| {
                [0x00, 0x41, 0x7F, 0x80, 0xFF].into_iter().map(move |fill| {
                    let mut bytes = [fill; 8];
                    bytes[i] = b;
                    (b, i, fill, u64::from_le_bytes(bytes))
                })
            })
        })
    }

    fn flagged(mask: u64, i: usize) -> bool {
        mask >> (8 * i) & 0x80 != 0
    }

    #[test]
    fn within_flags_exactly_the_ascii_bytes_in_range() {
        for (lo, hi) in [(b'a', b'z'), (b'A', b'Z'), (b'0', b'9'), (b'-', b'.'), (b'@', b'@'), (0x20, 0x7E)] {
            for (b, i, fill, x) in words().filter(|&(b, _, fill, _)| b < 0x80 && fill < 0x80) {
                let mask = within(x, lo, hi);
                assert_eq!(
                    flagged(mask, i),
                    (lo..=hi).contains(&b),
                    "{b:#x} at {i} in {fill:#x}s, {lo}..={hi}"
                );
                assert_eq!(mask & !HIGH, 0);
            }
        }
    }

    #[test]
    fn zero_bytes_flags_exactly_the_zeros() {
        for (b, i, fill, x) in words() {
            let mask = zero_bytes(x);
            assert_eq!(flagged(mask, i), b == 0, "{b:#x} at {i} in {fill:#x}s");
            for j in (0..8).filter(|&j| j != i) {
                assert_eq!(flagged(mask, j), fill == 0);
            }
        }
    }

    #[test]
    fn first_below_finds_the_first_byte_below_n() {
        for n in [1, 0x20, 0x80] {
            for (b, i, fill, x) in words() {
                let first = (0..8).find(|&j| if j == i { b < n } else { fill < n });
                let mask = first_below(x, n);
                let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
                assert_eq!(found, first, "{b:#x} at {i} in {fill:#x}s, below {n:#x}");
            }
        }
    }

    #[test]
    fn words_are_little_endian_and_whole() {
        let bytes = b"abcdefghij";
        assert_eq!(word(bytes, 0), Some(u64::from_le_bytes(*b"abcdefgh")));
        assert_eq!(word(bytes, 2), Some(u64::from_le_bytes(*b"cdefghij")));
        assert_eq!(word(bytes, 3), None);
        assert_eq!(word(bytes, usize::MAX), None);
        assert_eq!(splat(b','), u64::from_le_bytes([b','; 8]));
    }
}
