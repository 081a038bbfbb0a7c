//! The contract's state struct, borsh-persisted under one reserved key together with its
//! layout version. Used by the code that `#[bot_sdk::contract]` generates; keys starting with a
//! zero byte are reserved for the SDK.
//!
//! The stored value is the version (u32, little-endian) followed by the borsh state. A call
//! finding another version than its code's fails with [`ContractError::STATE_VERSION`] instead
//! of reading old bytes as the new type; the contract's `#[migrate]` method converts them.

use crate::{ContractError, storage};

/// Where the state struct lives.
pub const STATE_KEY: &[u8] = b"\0bot/state";

/// A state struct and the version of its layout (`#[bot_sdk::contract(version = N)]`, 1 by
/// default).
pub trait Versioned {
    const VERSION: u32;
}

/// The stored version and state bytes, or `NOT_INITIALIZED`.
fn stored() -> Result<(u32, Vec<u8>), ContractError> {
    let Some(mut bytes) = storage::get(STATE_KEY) else {
        return Err(ContractError::new(
            ContractError::NOT_INITIALIZED,
            "the contract is not initialized: call its #[init] method first",
        ));
    };
    if bytes.len() < 4 {
        crate::runtime::abort("the stored state has no version header");
    }
    let body = bytes.split_off(4);
    let version = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    Ok((version, body))
}

fn version_error(message: String) -> ContractError {
    ContractError::new(ContractError::STATE_VERSION, &message)
}

/// Loads the state, or fails if `#[init]` has not run or the state is another version's.
pub fn load<T: Versioned + borsh::BorshDeserialize>() -> Result<T, ContractError> {
    let (version, body) = stored()?;
    if version < T::VERSION {
        return Err(version_error(format!(
            "the stored state is version {version} and this code reads version {}: call the contract's #[migrate] method first",
            T::VERSION
        )));
    }
    if version > T::VERSION {
        return Err(version_error(format!(
            "the stored state is version {version}, newer than this code's version {}",
            T::VERSION
        )));
    }
    match borsh::from_slice(&body) {
        Ok(state) => Ok(state),
        Err(_) => {
            crate::runtime::abort("the stored state does not decode as this version's state struct")
        }
    }
}

/// Loads state an older version stored, as `Old`, for `#[migrate]`.
pub fn load_older<T: Versioned, Old: borsh::BorshDeserialize>() -> Result<Old, ContractError> {
    let (version, body) = stored()?;
    if version >= T::VERSION {
        return Err(version_error(format!(
            "the stored state is already version {version}: #[migrate] converts older state to version {}",
            T::VERSION
        )));
    }
    borsh::from_slice(&body).map_err(|_| {
        version_error(format!(
            "the stored version {version} state does not decode as the #[migrate] method's old-state type"
        ))
    })
}

/// Stores the state with its version.
pub fn save<T: Versioned + borsh::BorshSerialize>(state: &T) {
    let mut bytes = T::VERSION.to_le_bytes().to_vec();
    if state.serialize(&mut bytes).is_err() {
        crate::runtime::abort("the state does not encode");
    }
    storage::set(STATE_KEY, &bytes)
}

/// Fails if the state already exists: `#[init]` runs once.
pub fn require_uninitialized() -> Result<(), ContractError> {
    if storage::has(STATE_KEY) {
        return Err(ContractError::new(
            ContractError::ALREADY_INITIALIZED,
            "the contract is already initialized",
        ));
    }
    Ok(())
}
