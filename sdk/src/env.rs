//! Facts about the call, the transaction and the block, the same on every validator.

use crate::Address;
use crate::sys::env as wit;

/// Who called: the transaction signer, or the contract that called this one.
pub fn caller() -> Address {
    Address::from_host(wit::caller())
}

/// The transaction's signer.
pub fn origin() -> Address {
    Address::from_host(wit::origin())
}

/// This contract's own address.
pub fn self_address() -> Address {
    Address::from_host(wit::self_address())
}

pub fn block_height() -> u64 {
    wit::block_height()
}

/// Milliseconds since the Unix epoch, as the block's proposer set it.
pub fn block_time() -> u64 {
    wit::block_time()
}

/// The transaction hash; all zero in a query.
pub fn tx_hash() -> [u8; 32] {
    let mut h = [0u8; 32];
    let bytes = wit::tx_hash();
    let n = bytes.len().min(32);
    h[..n].copy_from_slice(&bytes[..n]);
    h
}

pub fn chain_id() -> String {
    wit::chain_id()
}

pub fn gas_left() -> u64 {
    wit::gas_left()
}
