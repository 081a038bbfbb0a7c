//! Where the chain keeps things in the flat state key space (every key is under the state root).
//!
//! | key                          | value                          |
//! |------------------------------|--------------------------------|
//! | `a` ‖ address                | borsh [`AccountState`]         |
//! | `w` ‖ code hash              | wasm bytes                     |
//! | `c` ‖ address                | the contract's code hash       |
//! | `s` ‖ address ‖ key          | a contract's storage entry     |
//! | `o` ‖ address                | the contract's creator         |
//! | `id` ‖ device                | borsh [`crate::iot::Device`]   |
//! | `io` ‖ owner ‖ device        | empty: devices by owner        |
//! | `ie` ‖ gateway ‖ device      | empty: devices by gateway      |
//! | `ir` ‖ device ‖ stream ‖ n   | borsh [`crate::iot::Reading`] (n: counter, big endian) |
//! | `is` ‖ device ‖ stream       | the stream's reading count (u32 LE) |
//! | `iv` ‖ contract              | borsh [`crate::iot::Service`]  |
//! | `ig` ‖ target ‖ grantee ‖ right | borsh [`crate::iot::Grant`] |
//! | `ia` ‖ target ‖ n            | borsh [`crate::iot::AccessRecord`] (n: big endian) |
//! | `iA` ‖ target                | the target's next record number (u64 LE) |
//! | `ic` ‖ device ‖ id           | borsh [`crate::iot::Command`] (id: big endian) |
//! | `iq` ‖ deadline ‖ id         | the device of a pending command (both big endian): timeouts in order |
//! | `iN`                         | the next command's id (u64 LE) |
//!
//! A stream is written as its length (one byte) and its name, so one stream's keys are never a
//! prefix of another's.
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

pub fn creator(address: &Address) -> Vec<u8> {
    key(b'o', &[&address.0])
}

fn iot(tag: &[u8; 2], parts: &[&[u8]]) -> Vec<u8> {
    let mut k = tag.to_vec();
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub const DEVICES: &[u8; 2] = b"id";
pub const SERVICES: &[u8; 2] = b"iv";

pub fn device(id: &Address) -> Vec<u8> {
    iot(DEVICES, &[&id.0])
}

pub fn devices_of_owner(owner: &Address) -> Vec<u8> {
    iot(b"io", &[&owner.0])
}

pub fn devices_of_gateway(gateway: &Address) -> Vec<u8> {
    iot(b"ie", &[&gateway.0])
}

/// The prefix of every reading of `stream` of `device`.
pub fn stream(device: &Address, stream: &str) -> Vec<u8> {
    iot(
        b"ir",
        &[&device.0, &[stream.len() as u8], stream.as_bytes()],
    )
}

pub fn reading(device: &Address, name: &str, counter: u64) -> Vec<u8> {
    let mut k = stream(device, name);
    k.extend_from_slice(&counter.to_be_bytes());
    k
}

pub fn stream_count(device: &Address, stream: &str) -> Vec<u8> {
    iot(
        b"is",
        &[&device.0, &[stream.len() as u8], stream.as_bytes()],
    )
}

pub fn service(contract: &Address) -> Vec<u8> {
    iot(SERVICES, &[&contract.0])
}

/// The prefix of every grant over `target` (to `grantee`, if given).
pub fn grants(target: &Address, grantee: Option<&Address>) -> Vec<u8> {
    iot(b"ig", &[&target.0, grantee.map_or(&[][..], |g| &g.0[..])])
}

pub fn grant(right: &crate::iot::Right, grantee: &Address) -> Vec<u8> {
    let mut k = grants(&right.target(), Some(grantee));
    k.extend_from_slice(&borsh::to_vec(right).unwrap_or_default());
    k
}

pub fn audit_trail(target: &Address) -> Vec<u8> {
    iot(b"ia", &[&target.0])
}

pub fn audit_record(target: &Address, seq: u64) -> Vec<u8> {
    iot(b"ia", &[&target.0, &seq.to_be_bytes()])
}

pub fn audit_next(target: &Address) -> Vec<u8> {
    iot(b"iA", &[&target.0])
}

pub fn commands(device: &Address) -> Vec<u8> {
    iot(b"ic", &[&device.0])
}

pub fn command(device: &Address, id: u64) -> Vec<u8> {
    iot(b"ic", &[&device.0, &id.to_be_bytes()])
}

/// The prefix of the pending commands' deadlines.
pub const DEADLINES: &[u8; 2] = b"iq";

pub fn deadline(height: u64, id: u64) -> Vec<u8> {
    iot(DEADLINES, &[&height.to_be_bytes(), &id.to_be_bytes()])
}

pub const NEXT_COMMAND: &[u8] = b"iN";
