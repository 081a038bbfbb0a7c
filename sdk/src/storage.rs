//! The contract's own key-value store.

use crate::sys::storage as wit;

pub use crate::bindings::bot::contract::storage::{Entry, Order, Page};

pub fn get(key: &[u8]) -> Option<Vec<u8>> {
    wit::get(key)
}

pub fn set(key: &[u8], value: &[u8]) {
    wit::set(key, value)
}

pub fn remove(key: &[u8]) {
    wit::remove(key)
}

pub fn has(key: &[u8]) -> bool {
    wit::has(key)
}

/// Entries whose key starts with `prefix` and lies in [`start`, `end`), at most `limit`
/// (capped at 1024 by the host). Pass `page.next` back as `start` (ascending) or `end`
/// (descending) to read on.
pub fn scan(
    prefix: &[u8],
    start: Option<&[u8]>,
    end: Option<&[u8]>,
    order: Order,
    limit: u32,
) -> Page {
    wit::scan(prefix, start, end, order, limit)
}

/// The borsh value at `key`; `None` if absent. A value that does not decode aborts the call,
/// since it means the contract's own state is not what its code expects.
pub fn read<T: borsh::BorshDeserialize>(key: &[u8]) -> Option<T> {
    let bytes = get(key)?;
    match borsh::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => crate::runtime::abort(&format!("stored value does not decode: {e}")),
    }
}

/// Stores `value` borsh-encoded at `key`.
pub fn write<T: borsh::BorshSerialize + ?Sized>(key: &[u8], value: &T) {
    match borsh::to_vec(value) {
        Ok(bytes) => set(key, &bytes),
        Err(e) => crate::runtime::abort(&format!("value does not encode: {e}")),
    }
}
