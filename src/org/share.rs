//! Values that repeat from user to user, given one allocation to share as
//! an org is read.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::swar::word;

/// A value that users of an org may share: one allocation for all the users
/// that have it (see [`OrgUser`](super::OrgUser)), behind a pointer of one
/// word, so that an `Option` of it is one word too (an `Arc<str>` is two).
///
/// `Shared<String>` reads as a `str`, `Shared<Vec<String>>` as a
/// `[String]`: `.as_deref()` of an `Option` of one gives an `Option<&str>`
/// (an `Option<&[String]>`); `.into()` makes one from a `&str` or a
/// `String` (a `Vec<String>`, a `&[String]`). It compares, hashes, prints
/// and is written and read by serde as the value it holds.
///
/// ```
/// use csvcheck::org::Shared;
/// let roma: Shared<String> = "Roma".into();
/// let also = roma.clone(); // the same allocation
/// assert_eq!(&*also, "Roma");
/// assert_eq!(Some(roma).as_deref(), Some("Roma"));
/// ```
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shared<T>(Arc<T>);

impl<T> Clone for Shared<T> {
    /// The same allocation, shared once more.
    fn clone(&self) -> Shared<T> {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Shared<T> {
    /// `value`, in an allocation of its own, to share.
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(value))
    }

    /// Whether `a` and `b` are one allocation (not only equal).
    pub fn ptr_eq(a: &Shared<T>, b: &Shared<T>) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// Where the allocation is: equal for values that are one allocation
    /// (while it lives), and so for equal values.
    pub(super) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0).addr()
    }
}

impl<T: Deref> Deref for Shared<T> {
    type Target = T::Target;

    fn deref(&self) -> &T::Target {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Shared<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Shared<String> {
    fn from(text: &str) -> Shared<String> {
        Shared::new(text.to_owned())
    }
}

impl From<String> for Shared<String> {
    fn from(text: String) -> Shared<String> {
        Shared::new(text)
    }
}

impl From<Vec<String>> for Shared<Vec<String>> {
    fn from(list: Vec<String>) -> Shared<Vec<String>> {
        Shared::new(list)
    }
}

impl From<&[String]> for Shared<Vec<String>> {
    fn from(list: &[String]) -> Shared<Vec<String>> {
        Shared::new(list.to_vec())
    }
}

impl FromIterator<String> for Shared<Vec<String>> {
    fn from_iter<I: IntoIterator<Item = String>>(items: I) -> Shared<Vec<String>> {
        Shared::new(items.into_iter().collect())
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shared<T>, D::Error> {
        T::deserialize(deserializer).map(Shared::new)
    }
}

/// How many values of a field a [`Recent`] keeps: an org's statuses,
/// packages, admin roles and lists of base licences are a handful, and its
/// locations and sites seldom many. More values than that are still read
/// right, each user's then in an allocation of its own.
const KEPT: usize = 16;

/// The values of one field of the users read last, each under the bytes
/// it was read from (its key), to give a user whose value is read from
/// equal bytes the same allocation rather than one more. A value is a
/// function of its key alone (the JSON text of a value; a cell of an
/// export, trimmed), so that sharing never changes a value; and a value
/// found by its key need not be read again.
pub(super) struct Recent<T> {
    /// In the order they were first read, which puts the values most
    /// users have first (they are the ones met first), without moving
    /// values as they are found (moving cost more than it saved); a new one
    /// takes the last place when all are taken. Each with what tells the
    /// keys apart without reading them (see [`Head`]): a search reads this
    /// list alone, rather than a heap block for each key it passes.
    values: Vec<(Head, Box<[u8]>, Shared<T>)>,
}

/// A key's length and, read as words, its first and last eight bytes: all
/// of a key of up to 16 bytes (the usual status, package, location or
/// site), which is then compared in two or three word comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    len: usize,
    /// The first eight bytes (fewer, zero padded, for a shorter key), and
    /// which bits of a word of text are the key's.
    first: u64,
    mask: u64,
    /// The last eight bytes, for a key of eight or more (else 0).
    last: u64,
}

impl Head {
    fn of(key: &[u8]) -> Head {
        let len = key.len();
        match word(key, 0) {
            Some(first) => Head { len, first, mask: u64::MAX, last: word(key, len - 8).unwrap_or(0) },
            // Read in two overlapping pieces (a loop costs more), each byte
            // in its place.
            None => {
                let byte = |i: usize| key.get(i).map_or(0, |&b| u64::from(b) << (8 * i));
                let half = |i: usize| {
                    let half = key.get(i..i + 4).and_then(|h| <[u8; 4]>::try_from(h).ok());
                    half.map_or(0, |h| u64::from(u32::from_le_bytes(h)) << (8 * i))
                };
                let first = match len {
                    0..=3 => byte(0) | byte(len / 2) | byte(len.saturating_sub(1)),
                    _ => half(0) | half(len - 4),
                };
                Head { len, first, mask: (1 << (8 * len)) - 1, last: 0 }
            }
        }
    }

    /// Whether `text`, whose first word is `first`, starts with the key,
    /// as far as the head tells: for a key longer than 16 bytes, the bytes
    /// between its first and last eight are still to be compared.
    #[inline]
    fn starts(&self, text: &[u8], first: u64) -> bool {
        first & self.mask == self.first && (self.len < 8 || word(text, self.len - 8) == Some(self.last))
    }
}

impl<T> Default for Recent<T> {
    fn default() -> Recent<T> {
        Recent { values: Vec::new() }
    }
}

impl<T> Clone for Recent<T> {
    fn clone(&self) -> Recent<T> {
        Recent { values: self.values.clone() }
    }
}

impl<T> Recent<T> {
    /// The value kept at place `i`, and its key's length.
    #[inline]
    fn take(&self, i: usize) -> Option<(usize, Shared<T>)> {
        self.values.get(i).map(|(head, _, value)| (head.len, value.clone()))
    }

    /// `value`, kept under `key`.
    pub(super) fn keep(&mut self, key: &[u8], value: Shared<T>) -> Shared<T> {
        if self.values.len() >= KEPT {
            self.values.pop();
        }
        self.values.push((Head::of(key), key.into(), value.clone()));
        value
    }

    /// The value kept under `key`, else the one `make` gives, kept.
    pub(super) fn share(&mut self, key: &[u8], make: impl FnOnce() -> Shared<T>) -> Shared<T> {
        let head = Head::of(key);
        let found = self.values.iter().position(|(h, k, _)| *h == head && (head.len <= 16 || **k == *key));
        match found.and_then(|i| self.take(i)) {
            Some((_, value)) => value,
            None => self.keep(key, make()),
        }
    }

    /// The value kept whose key `text` starts with (a value of JSON, read
    /// from there, ends where its key does), and the key's length.
    ///
    /// The first value kept (most users': a field often has one value) is
    /// tried where this is called; the others out of line.
    #[inline(always)]
    pub(super) fn at(&self, text: &[u8]) -> Option<(usize, Shared<T>)> {
        if let (Some(first), Some((h, key, value))) = (word(text, 0), self.values.first()) {
            if h.starts(text, first) && (h.len <= 16 || super::json::has_prefix(text, key)) {
                return Some((h.len, value.clone()));
            }
        }
        self.search(text)
    }

    /// [`Recent::at`], out of line (the first value is compared again).
    #[inline(never)]
    fn search(&self, text: &[u8]) -> Option<(usize, Shared<T>)> {
        let found = match word(text, 0) {
            Some(first) => self.values.iter().position(|(h, key, _)| {
                h.starts(text, first) && (h.len <= 16 || super::json::has_prefix(text, key))
            }),
            // The last few bytes of a block.
            None => self.values.iter().position(|(_, key, _)| super::json::has_prefix(text, key)),
        };
        self.take(found?)
    }
}

/// A field whose values users share (see [`Kept`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Repeated {
    Status,
    Package,
    Location,
    Site,
    Admin,
}

/// The [`Recent`] values of each field shared, for one reader (or one part
/// of a file read in parts: the parts share nothing, and a value repeats
/// once per part at most [`KEPT`] times over).
#[derive(Clone, Default)]
pub(super) struct Kept {
    status: Recent<String>,
    package: Recent<String>,
    location: Recent<String>,
    site: Recent<String>,
    admin: Recent<String>,
    /// Lists of base licences.
    pub(super) lists: Recent<Vec<String>>,
}

impl Kept {
    /// The values kept of a text field.
    pub(super) fn texts(&mut self, field: Repeated) -> &mut Recent<String> {
        match field {
            Repeated::Status => &mut self.status,
            Repeated::Package => &mut self.package,
            Repeated::Location => &mut self.location,
            Repeated::Site => &mut self.site,
            Repeated::Admin => &mut self.admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Texts of many lengths up to a few words, in pairs alike in all but
    /// one byte: one in each piece a key's head is made of, and one between
    /// the words of a long key, that its head does not hold.
    const TEXTS: [&str; 16] = [
        "",
        "a",
        "abc",
        "axc",
        "abcd",
        "abxd",
        "abcde",
        "abxde",
        "abcdefg",
        "abcdefgh",
        "abcdefgi",
        "abcdefgh12345678",
        "abcdefgh123x5678",
        "abcdefgh-12345678",
        "abcdefgh+12345678",
        "abcdefgh-12345678-abcdefgh",
    ];

    proptest! {
        /// Sharing never changes a value, and values read one after
        /// another from equal keys share one allocation while few are kept.
        #[test]
        fn shared_values_are_the_values_read(
            texts in prop::collection::vec(prop::sample::select(TEXTS.to_vec()), 0..200),
        ) {
            prop_assert!(TEXTS.len() <= KEPT);
            let mut recent = Recent::<String>::default();
            let mut last: Option<Shared<String>> = None;
            for text in &texts {
                let shared = recent.share(text.as_bytes(), || (*text).into());
                prop_assert_eq!(&*shared, *text);
                if let Some(last) = &last {
                    // (Fewer texts than are kept: all are.)
                    prop_assert_eq!(Shared::ptr_eq(last, &shared), &**last == *text);
                }
                last = Some(shared);
            }
        }

        /// A key is found at the start of a text when the text starts with
        /// it, whatever its length.
        #[test]
        fn keys_are_found_where_the_text_starts_with_them(
            keys in prop::collection::vec("[ab\"]{0,20}", 1..20),
            text in "[ab\"]{0,30}",
        ) {
            let mut recent = Recent::<String>::default();
            for key in &keys {
                recent.keep(key.as_bytes(), key.as_str().into());
            }
            let found = recent.at(text.as_bytes());
            // A new key takes the last place once all are taken.
            let kept: Vec<&String> = match keys.len() > KEPT {
                true => keys.iter().take(KEPT - 1).chain(keys.last()).collect(),
                false => keys.iter().collect(),
            };
            let kept = kept.iter().any(|k| text.starts_with(k.as_str()));
            prop_assert_eq!(found.is_some(), kept);
            if let Some((len, value)) = found {
                prop_assert!(text.starts_with(&*value) && value.len() == len);
            }
        }
    }

    /// The key found at the start of a text is the first kept that the
    /// text starts with, whatever the lengths of both, and however alike
    /// the keys are.
    #[test]
    fn the_first_key_the_text_starts_with_is_found() {
        for reversed in [false, true] {
            let mut keys: Vec<&str> = TEXTS.to_vec();
            if reversed {
                keys.reverse();
            }
            for text in TEXTS {
                for tail in ["", "x", "\\", ", \"next\": \"a value\""] {
                    let text = format!("{text}{tail}");
                    let mut recent = Recent::<String>::default();
                    for key in &keys {
                        recent.keep(key.as_bytes(), (*key).into());
                    }
                    let found = recent.at(text.as_bytes()).map(|(len, value)| (len, value.to_string()));
                    let first = keys.iter().find(|k| text.starts_with(**k));
                    assert_eq!(found, first.map(|k| (k.len(), k.to_string())), "{text:?}");
                }
            }
        }
    }

    /// An optional shared value is one word, as its doc says.
    #[test]
    fn an_optional_shared_value_is_one_word() {
        assert_eq!(std::mem::size_of::<Option<Shared<String>>>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Option<Shared<Vec<String>>>>(), std::mem::size_of::<usize>());
    }

    /// More distinct values than are kept are still read right.
    #[test]
    fn many_values_are_read_right() {
        let mut recent = Recent::<String>::default();
        let texts: Vec<String> = (0..100).map(|i| format!("location {}", i % 40)).collect();
        let shared: Vec<Shared<String>> =
            texts.iter().map(|t| recent.share(t.as_bytes(), || t.as_str().into())).collect();
        assert!(shared.iter().zip(&texts).all(|(s, t)| **s == **t));
    }
}
