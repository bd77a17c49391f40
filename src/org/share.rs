//! Values that repeat from user to user, given one allocation to share as
//! an org is read.

use std::sync::Arc;

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
pub(super) struct Recent<T: ?Sized> {
    /// The values most users have come first: a value found moves one
    /// place to the front, and a new one takes the last place when all
    /// are taken.
    values: Vec<(Box<[u8]>, Arc<T>)>,
}

impl<T: ?Sized> Default for Recent<T> {
    fn default() -> Recent<T> {
        Recent { values: Vec::new() }
    }
}

impl<T: ?Sized> Clone for Recent<T> {
    fn clone(&self) -> Recent<T> {
        Recent { values: self.values.clone() }
    }
}

impl<T: ?Sized> Recent<T> {
    /// The value kept under the first key `is` accepts, and the key's
    /// length.
    pub(super) fn find(&mut self, is: impl Fn(&[u8]) -> bool) -> Option<(usize, Arc<T>)> {
        let i = self.values.iter().position(|(key, _)| is(key))?;
        let to = i.saturating_sub(1);
        self.values.swap(to, i);
        self.values.get(to).map(|(key, value)| (key.len(), Arc::clone(value)))
    }

    /// `value`, kept under `key`.
    pub(super) fn keep(&mut self, key: &[u8], value: Arc<T>) -> Arc<T> {
        if self.values.len() >= KEPT {
            self.values.pop();
        }
        self.values.push((key.into(), Arc::clone(&value)));
        value
    }

    /// The value kept under `key`, else the one `make` gives, kept.
    pub(super) fn share(&mut self, key: &[u8], make: impl FnOnce() -> Arc<T>) -> Arc<T> {
        match self.find(|k| k == key) {
            Some((_, value)) => value,
            None => self.keep(key, make()),
        }
    }

    /// The value kept whose key `text` starts with (a value of JSON, read
    /// from there, ends where its key does), and the key's length.
    pub(super) fn at(&mut self, text: &[u8]) -> Option<(usize, Arc<T>)> {
        self.find(|key| starts_with(text, key))
    }
}

/// `text.starts_with(prefix)`, a word at a time: keys are short, and
/// `memcmp` costs more than the comparing.
fn starts_with(text: &[u8], prefix: &[u8]) -> bool {
    let Some(head) = text.get(..prefix.len()) else { return false };
    let word = |b: &[u8]| b.try_into().map_or(0, u64::from_ne_bytes);
    if prefix.len() < 8 {
        return head == prefix;
    }
    let last = prefix.len() - 8;
    head.chunks_exact(8).zip(prefix.chunks_exact(8)).all(|(a, b)| word(a) == word(b))
        && head.get(last..).map(word) == prefix.get(last..).map(word)
}

/// The [`Recent`] values of each field shared, for one reader (or one part
/// of a file read in parts: the parts share nothing, and a value repeats
/// once per part at most [`KEPT`] times over).
#[derive(Clone, Default)]
pub(super) struct Shared {
    /// The user fields of [`TEXTS`]'s places, in its order.
    texts: [Recent<str>; 5],
    /// Lists of base licences.
    pub(super) lists: Recent<[String]>,
}

/// Which text fields are shared, by their places in
/// [`USER_FIELDS`](super::json::USER_FIELDS): status, package, location,
/// site, admin.
const TEXTS: [usize; 5] = [4, 5, 7, 10, 11];

impl Shared {
    /// The values kept of the field at `field` in
    /// [`USER_FIELDS`](super::json::USER_FIELDS), if it is shared.
    pub(super) fn texts(&mut self, field: usize) -> Option<&mut Recent<str>> {
        let i = TEXTS.iter().position(|&f| f == field)?;
        self.texts.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Sharing never changes a value, and values read one after
        /// another from equal keys share one allocation while few are kept.
        #[test]
        fn shared_values_are_the_values_read(texts in prop::collection::vec("[ab]{0,2}", 0..200)) {
            let mut recent = Recent::<str>::default();
            let mut last: Option<Arc<str>> = None;
            for text in &texts {
                let shared = recent.share(text.as_bytes(), || Arc::from(text.as_str()));
                prop_assert_eq!(&*shared, text.as_str());
                if let Some(last) = &last {
                    // (Seven texts at most: all are kept.)
                    prop_assert_eq!(Arc::ptr_eq(last, &shared), **last == *text.as_str());
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
            let mut recent = Recent::<str>::default();
            for key in &keys {
                recent.keep(key.as_bytes(), Arc::from(key.as_str()));
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

    /// More distinct values than are kept are still read right.
    #[test]
    fn many_values_are_read_right() {
        let mut recent = Recent::<str>::default();
        let texts: Vec<String> = (0..100).map(|i| format!("location {}", i % 40)).collect();
        let shared: Vec<Arc<str>> =
            texts.iter().map(|t| recent.share(t.as_bytes(), || Arc::from(t.as_str()))).collect();
        assert!(shared.iter().zip(&texts).all(|(s, t)| **s == **t));
        // Only shared fields are kept.
        assert!(Shared::default().texts(4).is_some() && Shared::default().texts(1).is_none());
    }
}
