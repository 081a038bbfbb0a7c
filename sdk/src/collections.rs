//! Typed storage: [`Item`] (one value), [`Map`] (keyed values, iterated in key order, with
//! pagination and prefix reads) and [`Log`] (an append-only list). Declare them as constants
//! with a namespace each:
//!
//! ```
//! use bot_sdk::collections::{Item, Log, Map};
//! use bot_sdk::storage::Order;
//!
//! const ADMIN: Item<String> = Item::new("admin");
//! const READINGS: Map<(String, u64), i32> = Map::new("readings");
//! const AUDIT: Log<String> = Log::new("audit");
//!
//! # bot_sdk::testing::reset();
//! READINGS.insert(&("dev-1".to_string(), 20), &-3);
//! READINGS.insert(&("dev-1".to_string(), 10), &5);
//! READINGS.insert(&("dev-2".to_string(), 15), &7);
//! // One device's readings, in time order:
//! let dev1 = READINGS.prefix(&"dev-1".to_string()).range(None, None, Order::Ascending, 100);
//! assert_eq!(dev1, vec![(10, 5), (20, -3)]);
//! AUDIT.push(&"read dev-1".to_string());
//! assert_eq!(AUDIT.len(), 1);
//! ```
//!
//! Each collection's keys are its namespace, length-prefixed, then the encoded key, so two
//! collections never share a key and none collides with the SDK's own (which start with a
//! zero byte). Values are borsh; a stored value that no longer decodes aborts the call (see
//! `#[migrate]` for changing a stored type).

use core::marker::PhantomData;

use borsh::{BorshDeserialize, BorshSerialize};

use crate::key::Key;
use crate::storage::{self, Order};

/// How many entries an iterator fetches from the host at a time.
const BATCH: u32 = 64;

const fn check_namespace(namespace: &str) {
    assert!(
        !namespace.is_empty() && namespace.len() < 256,
        "a collection's namespace is 1 to 255 bytes"
    );
}

fn namespaced(namespace: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + namespace.len() + 16);
    key.push(namespace.len() as u8);
    key.extend_from_slice(namespace.as_bytes());
    key
}

/// One value of type `T` under a name.
pub struct Item<T> {
    namespace: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T: BorshSerialize + BorshDeserialize> Item<T> {
    /// `namespace` names the value in storage; changing it loses the value.
    pub const fn new(namespace: &'static str) -> Item<T> {
        check_namespace(namespace);
        Item {
            namespace,
            _value: PhantomData,
        }
    }

    fn key(&self) -> Vec<u8> {
        namespaced(self.namespace)
    }

    pub fn get(&self) -> Option<T> {
        storage::read(&self.key())
    }

    pub fn set(&self, value: &T) {
        storage::write(&self.key(), value)
    }

    pub fn exists(&self) -> bool {
        storage::has(&self.key())
    }

    pub fn remove(&self) {
        storage::remove(&self.key())
    }

    /// Replaces the value with `f(current)`; `None` removes it. Returns the new value.
    pub fn update(&self, f: impl FnOnce(Option<T>) -> Option<T>) -> Option<T> {
        let new = f(self.get());
        match &new {
            Some(v) => self.set(v),
            None => self.remove(),
        }
        new
    }
}

/// Values of type `V` by key `K`, in key order (see [`crate::key`] for how keys sort).
pub struct Map<K, V> {
    namespace: &'static str,
    _entries: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: BorshSerialize + BorshDeserialize> Map<K, V> {
    pub const fn new(namespace: &'static str) -> Map<K, V> {
        check_namespace(namespace);
        Map {
            namespace,
            _entries: PhantomData,
        }
    }

    fn key(&self, key: &K) -> Vec<u8> {
        let mut bytes = namespaced(self.namespace);
        key.encode_last(&mut bytes);
        bytes
    }

    fn all(&self) -> Prefix<K, V> {
        Prefix::new(namespaced(self.namespace))
    }

    pub fn get(&self, key: &K) -> Option<V> {
        storage::read(&self.key(key))
    }

    pub fn contains(&self, key: &K) -> bool {
        storage::has(&self.key(key))
    }

    pub fn insert(&self, key: &K, value: &V) {
        storage::write(&self.key(key), value)
    }

    pub fn remove(&self, key: &K) {
        storage::remove(&self.key(key))
    }

    /// Replaces the value at `key` with `f(current)`; `None` removes it. Returns the new value.
    pub fn update(&self, key: &K, f: impl FnOnce(Option<V>) -> Option<V>) -> Option<V> {
        let new = f(self.get(key));
        match &new {
            Some(v) => self.insert(key, v),
            None => self.remove(key),
        }
        new
    }

    /// Entries with `from <= key < to` (either bound optional), in `order`, at most `limit`.
    pub fn range(&self, from: Option<&K>, to: Option<&K>, order: Order, limit: u32) -> Vec<(K, V)> {
        self.all().range(from, to, order, limit)
    }

    /// One page in ascending order: up to `limit` entries after the key `after` (the last key
    /// of the previous page), or from the start.
    pub fn page(&self, after: Option<&K>, limit: u32) -> Vec<(K, V)> {
        self.all().page(after, limit)
    }

    /// One page in descending order: up to `limit` entries before the key `before`.
    pub fn page_rev(&self, before: Option<&K>, limit: u32) -> Vec<(K, V)> {
        self.all().page_rev(before, limit)
    }

    /// Every entry in `order`, fetched from the host a batch at a time. Each batch is charged
    /// gas, so a view that walks a large map should page instead.
    pub fn iter(&self, order: Order) -> Iter<K, V> {
        self.all().iter(order)
    }
}

impl<A: Key, B: Key, V: BorshSerialize + BorshDeserialize> Map<(A, B), V> {
    /// The entries whose key starts with `first`, keyed by the rest.
    pub fn prefix(&self, first: &A) -> Prefix<B, V> {
        let mut bytes = namespaced(self.namespace);
        first.encode_part(&mut bytes);
        Prefix::new(bytes)
    }
}

/// The part of a map under a key prefix, keyed by what follows it.
pub struct Prefix<K, V> {
    prefix: Vec<u8>,
    _entries: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: BorshSerialize + BorshDeserialize> Prefix<K, V> {
    pub(crate) fn new(prefix: Vec<u8>) -> Prefix<K, V> {
        Prefix {
            prefix,
            _entries: PhantomData,
        }
    }

    fn full(&self, key: &K) -> Vec<u8> {
        let mut bytes = self.prefix.clone();
        key.encode_last(&mut bytes);
        bytes
    }

    fn decode(&self, entry: storage::Entry) -> (K, V) {
        decode_entry(&self.prefix, entry)
    }

    fn scan(
        &self,
        start: Option<Vec<u8>>,
        end: Option<Vec<u8>>,
        order: Order,
        limit: u32,
    ) -> storage::Page {
        storage::scan(&self.prefix, start.as_deref(), end.as_deref(), order, limit)
    }

    /// Entries with `from <= key < to`, in `order`, at most `limit`.
    pub fn range(&self, from: Option<&K>, to: Option<&K>, order: Order, limit: u32) -> Vec<(K, V)> {
        let page = self.scan(
            from.map(|k| self.full(k)),
            to.map(|k| self.full(k)),
            order,
            limit,
        );
        page.entries.into_iter().map(|e| self.decode(e)).collect()
    }

    /// Up to `limit` entries after `after`, ascending.
    pub fn page(&self, after: Option<&K>, limit: u32) -> Vec<(K, V)> {
        let start = after.map(|k| {
            let mut bytes = self.full(k);
            bytes.push(0);
            bytes
        });
        let page = self.scan(start, None, Order::Ascending, limit);
        page.entries.into_iter().map(|e| self.decode(e)).collect()
    }

    /// Up to `limit` entries before `before`, descending.
    pub fn page_rev(&self, before: Option<&K>, limit: u32) -> Vec<(K, V)> {
        let page = self.scan(None, before.map(|k| self.full(k)), Order::Descending, limit);
        page.entries.into_iter().map(|e| self.decode(e)).collect()
    }

    pub fn get(&self, key: &K) -> Option<V> {
        storage::read(&self.full(key))
    }

    /// Every entry in `order`, a batch at a time.
    pub fn iter(&self, order: Order) -> Iter<K, V> {
        Iter {
            prefix: self.prefix.clone(),
            order,
            buffered: Vec::new().into_iter(),
            cursor: Some(None),
            _entries: PhantomData,
        }
    }
}

/// A stored entry under `prefix` as its key and value; aborts if either no longer decodes.
fn decode_entry<K: Key, V: BorshDeserialize>(prefix: &[u8], entry: storage::Entry) -> (K, V) {
    let key = entry
        .key
        .strip_prefix(prefix)
        .and_then(K::decode_last)
        .unwrap_or_else(|| crate::runtime::abort("a stored map key does not decode"));
    let value = borsh::from_slice(&entry.value).unwrap_or_else(|e| {
        crate::runtime::abort(&format!("a stored map value does not decode: {e}"))
    });
    (key, value)
}

/// Iterates a map or a prefix of one; see [`Map::iter`].
pub struct Iter<K, V> {
    prefix: Vec<u8>,
    order: Order,
    buffered: std::vec::IntoIter<storage::Entry>,
    /// Where the next batch starts: `Some(None)` before the first, `None` after the last.
    cursor: Option<Option<Vec<u8>>>,
    _entries: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: BorshSerialize + BorshDeserialize> Iterator for Iter<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            if let Some(entry) = self.buffered.next() {
                return Some(decode_entry(&self.prefix, entry));
            }
            let cursor = self.cursor.take()?;
            let (start, end) = match self.order {
                Order::Ascending => (cursor, None),
                Order::Descending => (None, cursor),
            };
            let page = storage::scan(
                &self.prefix,
                start.as_deref(),
                end.as_deref(),
                self.order,
                BATCH,
            );
            self.cursor = page.next.map(Some);
            self.buffered = page.entries.into_iter();
        }
    }
}

/// An append-only list: entries are numbered from 0 and never rewritten, which is what an
/// audit trail or a reading history wants.
pub struct Log<T> {
    namespace: &'static str,
    _entries: PhantomData<fn() -> T>,
}

impl<T: BorshSerialize + BorshDeserialize> Log<T> {
    pub const fn new(namespace: &'static str) -> Log<T> {
        check_namespace(namespace);
        Log {
            namespace,
            _entries: PhantomData,
        }
    }

    /// Entries live under namespace + `01` + 8-byte index, the length under namespace + `00`.
    fn entries(&self) -> Prefix<u64, T> {
        let mut prefix = namespaced(self.namespace);
        prefix.push(1);
        Prefix::new(prefix)
    }

    fn len_key(&self) -> Vec<u8> {
        let mut key = namespaced(self.namespace);
        key.push(0);
        key
    }

    pub fn len(&self) -> u64 {
        storage::read(&self.len_key()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `value`, returning its index.
    pub fn push(&self, value: &T) -> u64 {
        let index = self.len();
        storage::write(&self.entries().full(&index), value);
        storage::write(&self.len_key(), &(index + 1));
        index
    }

    pub fn get(&self, index: u64) -> Option<T> {
        self.entries().get(&index)
    }

    pub fn last(&self) -> Option<T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// Up to `limit` entries from index `from`, with their indices.
    pub fn page(&self, from: u64, limit: u32) -> Vec<(u64, T)> {
        self.entries()
            .range(Some(&from), None, Order::Ascending, limit)
    }

    /// Up to `limit` of the newest entries, newest first.
    pub fn latest(&self, limit: u32) -> Vec<(u64, T)> {
        self.entries().range(None, None, Order::Descending, limit)
    }

    pub fn iter(&self, order: Order) -> Iter<u64, T> {
        self.entries().iter(order)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const COUNT: Item<u64> = Item::new("count");
    const BY_DEVICE: Map<(String, u64), u32> = Map::new("by-device");
    const NUMBERS: Map<i32, String> = Map::new("numbers");
    const LOG: Log<String> = Log::new("log");

    #[test]
    fn item_get_set_update_remove() {
        assert_eq!(COUNT.get(), None);
        COUNT.set(&3);
        assert_eq!(COUNT.update(|c| c.map(|c| c + 1)), Some(4));
        assert!(COUNT.exists());
        COUNT.remove();
        assert_eq!(COUNT.get(), None);
    }

    #[test]
    fn map_iterates_in_key_order_across_batches() {
        for i in (-150..150).rev() {
            NUMBERS.insert(&i, &i.to_string());
        }
        let keys: Vec<i32> = NUMBERS.iter(Order::Ascending).map(|(k, _)| k).collect();
        assert_eq!(keys, (-150..150).collect::<Vec<_>>());
        let keys: Vec<i32> = NUMBERS.iter(Order::Descending).map(|(k, _)| k).collect();
        assert_eq!(keys, (-150..150).rev().collect::<Vec<_>>());
        assert_eq!(
            NUMBERS
                .range(Some(&-2), Some(&1), Order::Ascending, 10)
                .len(),
            3
        );
    }

    #[test]
    fn map_pages_resume_after_the_last_key() {
        for i in 0..10 {
            NUMBERS.insert(&i, &format!("v{i}"));
        }
        let first = NUMBERS.page(None, 4);
        assert_eq!(
            first.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        let second = NUMBERS.page(first.last().map(|(k, _)| k), 4);
        assert_eq!(
            second.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [4, 5, 6, 7]
        );
        let back = NUMBERS.page_rev(Some(&4), 3);
        assert_eq!(back.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [3, 2, 1]);
    }

    #[test]
    fn prefix_reads_one_component_in_order() {
        BY_DEVICE.insert(&("a".into(), 20), &2);
        BY_DEVICE.insert(&("a".into(), 10), &1);
        BY_DEVICE.insert(&("ab".into(), 5), &9);
        BY_DEVICE.insert(&("b".into(), 1), &3);
        let a = BY_DEVICE.prefix(&"a".to_string());
        assert_eq!(
            a.range(None, None, Order::Ascending, 10),
            vec![(10, 1), (20, 2)]
        );
        assert_eq!(
            a.range(Some(&15), None, Order::Ascending, 10),
            vec![(20, 2)]
        );
        assert_eq!(a.get(&10), Some(1));
        assert_eq!(BY_DEVICE.iter(Order::Ascending).count(), 4);
    }

    #[test]
    fn collections_do_not_share_keys() {
        const A: Item<u8> = Item::new("ab");
        const B: Map<String, u8> = Map::new("a");
        A.set(&1);
        B.insert(&"b".to_string(), &2);
        assert_eq!(A.get(), Some(1));
        assert_eq!(B.iter(Order::Ascending).count(), 1);
    }

    #[test]
    fn log_appends_and_reads_back() {
        assert!(LOG.is_empty());
        for s in ["x", "y", "z"] {
            LOG.push(&s.to_string());
        }
        assert_eq!(LOG.len(), 3);
        assert_eq!(LOG.last().as_deref(), Some("z"));
        assert_eq!(
            LOG.page(1, 10),
            vec![(1, "y".to_string()), (2, "z".to_string())]
        );
        assert_eq!(LOG.latest(1), vec![(2, "z".to_string())]);
        assert_eq!(LOG.iter(Order::Ascending).count(), 3);
    }
}
