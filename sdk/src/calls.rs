//! Calls to other contracts.

use crate::Address;
use crate::sys::calls as wit;

pub use crate::bindings::bot::contract::calls::{CallError, CallErrorKind};

/// Encodes call arguments; a value that cannot be encoded aborts rather than calling with
/// arguments the callee never meant to receive.
fn encode<A: borsh::BorshSerialize + ?Sized>(args: &A) -> Vec<u8> {
    borsh::to_vec(args)
        .unwrap_or_else(|e| crate::runtime::abort(&format!("call arguments do not encode: {e}")))
}

/// Calls `method` on `contract` with borsh `args`; the callee may write. `gas` caps what it
/// may use (default: all that is left).
pub fn call<A: borsh::BorshSerialize + ?Sized>(
    contract: &Address,
    method: &str,
    args: &A,
    gas: Option<u64>,
) -> Result<Vec<u8>, CallError> {
    wit::call(&contract.0, method, &encode(args), gas)
}

/// Like [`call`], but the callee may not write.
pub fn query<A: borsh::BorshSerialize + ?Sized>(
    contract: &Address,
    method: &str,
    args: &A,
    gas: Option<u64>,
) -> Result<Vec<u8>, CallError> {
    wit::query(&contract.0, method, &encode(args), gas)
}
