//! Events: kept with the call's result if it succeeds, dropped if it fails.

use crate::sys::events as wit;

/// Emits `name` with raw bytes.
pub fn emit_raw(name: &str, data: &[u8]) {
    wit::emit(name, data)
}

/// Emits `name` with a borsh-encoded payload.
pub fn emit<T: borsh::BorshSerialize + ?Sized>(name: &str, data: &T) {
    match borsh::to_vec(data) {
        Ok(bytes) => emit_raw(name, &bytes),
        Err(e) => crate::runtime::abort(&format!("event does not encode: {e}")),
    }
}

/// An event payload declared with `#[bot_sdk::event]`: its name and type are in the ABI, so
/// tools show it as JSON.
pub trait Event: borsh::BorshSerialize {
    const NAME: &'static str;

    fn emit(&self) {
        emit(Self::NAME, self)
    }
}
