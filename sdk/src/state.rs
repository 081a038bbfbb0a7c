//! The contract's state struct, borsh-persisted under one reserved key. Used by the code that
//! `#[bot_sdk::contract]` generates; keys starting with a zero byte are reserved for the SDK.

use crate::{ContractError, storage};

/// Where the state struct lives.
pub const STATE_KEY: &[u8] = b"\0bot/state";

/// Loads the state, or fails if `#[init]` has not run.
pub fn load<T: borsh::BorshDeserialize>() -> Result<T, ContractError> {
    storage::read(STATE_KEY).ok_or_else(|| {
        ContractError::new(
            ContractError::NOT_INITIALIZED,
            "the contract is not initialized: call its #[init] method first",
        )
    })
}

/// Stores the state.
pub fn save<T: borsh::BorshSerialize>(state: &T) {
    storage::write(STATE_KEY, state)
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
