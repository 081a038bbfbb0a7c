//! The contract's own error: a code and a message, returned from `invoke`.

pub use crate::bindings::bot::contract::types::ContractError;

impl ContractError {
    /// The method name is not one the contract knows.
    pub const UNKNOWN_METHOD: u32 = 1;
    /// The arguments did not decode.
    pub const INVALID_ARGS: u32 = 2;
    /// The caller is not allowed to do this.
    pub const UNAUTHORIZED: u32 = 3;
    /// The contract failed to encode its own result.
    pub const INTERNAL: u32 = 4;
    /// A method ran before the contract's `#[init]`.
    pub const NOT_INITIALIZED: u32 = 5;
    /// `#[init]` ran a second time.
    pub const ALREADY_INITIALIZED: u32 = 6;
    /// The stored state is another version than the code reads (see `#[migrate]`).
    pub const STATE_VERSION: u32 = 7;
    /// What the method needs does not exist (a device, say).
    pub const NOT_FOUND: u32 = 8;
    /// Codes from here up are the contract's own.
    pub const FIRST_CUSTOM: u32 = 100;

    pub fn new(code: u32, message: &str) -> ContractError {
        ContractError {
            code,
            message: message.to_string(),
        }
    }

    pub fn unknown_method(method: &str) -> ContractError {
        ContractError::new(Self::UNKNOWN_METHOD, &format!("unknown method `{method}`"))
    }

    pub fn invalid_args(detail: &str) -> ContractError {
        ContractError::new(Self::INVALID_ARGS, &format!("invalid arguments: {detail}"))
    }

    pub fn unauthorized(detail: &str) -> ContractError {
        ContractError::new(Self::UNAUTHORIZED, &format!("unauthorized: {detail}"))
    }
}
