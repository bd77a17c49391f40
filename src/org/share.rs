//! Values that repeat from user to user, given one allocation to share as
//! an org is read.

use std::sync::Arc;

/// How many values of a field a [`Recent`] keeps: an org's statuses,
/// packages, admin roles and lists of base licences are a handful, and its
/// locations and sites seldom many. More values than that are still read
/// right, each user's then in an allocation of its own.
const KEPT: usize = 16;

/// The values of one field of the users read last, to give a user whose
/// value is equal (byte for byte) the same allocation rather than one more.
pub(super) struct Recent<T: ?Sized> {
    /// The values most users have come first: a value found moves one
    /// place to the front, and a new one takes the last place when all
    /// are taken.
    values: Vec<Arc<T>>,
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
    /// The value kept that `is` finds equal to the value read, shared; else
    /// the one `make` allocates, kept.
    pub(super) fn share(&mut self, is: impl Fn(&T) -> bool, make: impl FnOnce() -> Arc<T>) -> Arc<T> {
        if let Some(i) = self.values.iter().position(|v| is(v)) {
            let to = i.saturating_sub(1);
            self.values.swap(to, i);
            if let Some(value) = self.values.get(to) {
                return Arc::clone(value);
            }
        }
        let value = make();
        if self.values.len() >= KEPT {
            self.values.pop();
        }
        self.values.push(Arc::clone(&value));
        value
    }
}

impl Recent<str> {
    /// `text` shared.
    pub(super) fn text(&mut self, text: &str) -> Arc<str> {
        self.share(|v| v == text, || Arc::from(text))
    }
}

impl Recent<[String]> {
    /// The list of the `items` given shared (allocated at its length when
    /// new).
    pub(super) fn list<'s, I: Iterator<Item = &'s str>>(&mut self, items: impl Fn() -> I) -> Arc<[String]> {
        self.share(|v| v.iter().map(String::as_str).eq(items()), || items().map(str::to_owned).collect())
    }
}

/// The [`Recent`] values of each field shared, for one reader (or one part
/// of a file read in parts: the parts share nothing, and a value repeats
/// once per part at most [`KEPT`] times over).
#[derive(Clone, Default)]
pub(super) struct Shared {
    /// The user fields of [`TEXTS`]'s places, in its order.
    pub(super) texts: [Recent<str>; 5],
    /// Lists of base licences.
    pub(super) lists: Recent<[String]>,
}

/// Which text fields are shared, by their places in
/// [`USER_FIELDS`](super::json::USER_FIELDS): status, package, location,
/// site, admin.
pub(super) const TEXTS: [usize; 5] = [4, 5, 7, 10, 11];

impl Shared {
    /// `text` shared with the values of the field at `field` in
    /// [`USER_FIELDS`](super::json::USER_FIELDS) (a field not shared gets
    /// an allocation of its own).
    pub(super) fn text(&mut self, field: usize, text: &str) -> Arc<str> {
        match TEXTS.iter().position(|&f| f == field).and_then(|i| self.texts.get_mut(i)) {
            Some(recent) => recent.text(text),
            None => Arc::from(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Sharing never changes a value, and equal values read one after
        /// another share one allocation while few are kept.
        #[test]
        fn shared_values_are_the_values_read(texts in prop::collection::vec("[ab]{0,2}", 0..200)) {
            let mut recent = Recent::<str>::default();
            let mut last: Option<Arc<str>> = None;
            for text in &texts {
                let shared = recent.text(text);
                prop_assert_eq!(&*shared, text.as_str());
                if let Some(last) = &last {
                    // (Seven texts at most: all are kept.)
                    prop_assert_eq!(Arc::ptr_eq(last, &shared), **last == *text.as_str());
                }
                last = Some(shared);
            }
        }

        /// Lists too, item by item: `["ab"]` is not `["a", "b"]`.
        #[test]
        fn shared_lists_are_the_lists_read(
            lists in prop::collection::vec(prop::collection::vec("[ab]{0,2}", 0..3), 0..100),
        ) {
            let mut recent = Recent::<[String]>::default();
            for list in &lists {
                let shared = recent.list(|| list.iter().map(String::as_str));
                prop_assert_eq!(&*shared, list.as_slice());
            }
        }
    }

    /// More distinct values than are kept are still read right.
    #[test]
    fn many_values_are_read_right() {
        let mut recent = Recent::<str>::default();
        let texts: Vec<String> = (0..100).map(|i| format!("location {}", i % 40)).collect();
        let shared: Vec<Arc<str>> = texts.iter().map(|t| recent.text(t)).collect();
        assert!(shared.iter().zip(&texts).all(|(s, t)| **s == **t));
        // A field not shared is still the text read.
        assert_eq!(&*Shared::default().text(1, "Giulia"), "Giulia");
    }
}
