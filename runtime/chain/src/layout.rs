//! Where the chain keeps things in the flat state key space (every key is under the state root).
//!
//! | key                          | value                          |
//! |------------------------------|--------------------------------|
//! | `a` ‖ address                | borsh [`AccountState`]         |
//! | `w` ‖ code hash              | wasm bytes                     |
//! | `c` ‖ address                | the contract's code hash       |
//! | `s` ‖ address ‖ key          | a contract's storage entry     |
//! | `g/access`                   | borsh [`crate::genesis::Access`] |
//! | `g/params`, `g/chain_id`     | borsh params, the chain id     |

use bot_engine::{Address, CodeHash};

/// An account's nonce and balance.
#[derive(Clone, Debug, Default, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct AccountState {
    pub nonce: u64,
    pub balance: u128,
}

pub const ACCESS: &[u8] = b"g/access";
pub const PARAMS: &[u8] = b"g/params";
pub const CHAIN_ID: &[u8] = b"g/chain_id";

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub fn account(address: &Address) -> Vec<u8> {
    key(b'a', &[&address.0])
}

pub fn code(hash: &CodeHash) -> Vec<u8> {
    key(b'w', &[&hash.0])
}

pub fn contract(address: &Address) -> Vec<u8> {
    key(b'c', &[&address.0])
}

/// The prefix of all of `address`'s storage keys.
pub fn storage_prefix(address: &Address) -> Vec<u8> {
    key(b's', &[&address.0])
}

pub fn storage(address: &Address, k: &[u8]) -> Vec<u8> {
    key(b's', &[&address.0, k])
}
