//! Calls to other contracts.

use crate::Address;
use crate::bindings::bot::contract::calls as wit;

pub use wit::{CallError, CallErrorKind};

/// Calls `method` on `contract` with borsh `args`; the callee may write. `gas` caps what it
/// may use (default: all that is left).
pub fn call<A: borsh::BorshSerialize + ?Sized>(
    contract: &Address,
    method: &str,
    args: &A,
    gas: Option<u64>,
) -> Result<Vec<u8>, CallError> {
    let args = borsh::to_vec(args).unwrap_or_default();
    wit::call(&contract.0, method, &args, gas)
}

/// Like [`call`], but the callee may not write.
pub fn query<A: borsh::BorshSerialize + ?Sized>(
    contract: &Address,
    method: &str,
    args: &A,
    gas: Option<u64>,
) -> Result<Vec<u8>, CallError> {
    let args = borsh::to_vec(args).unwrap_or_default();
    wit::query(&contract.0, method, &args, gas)
}
