//! Write bot smart contracts in Rust: guest bindings to the `bot:contract` WIT world, and a
//! thin idiomatic layer over them.
//!
//! A contract is a `cdylib` built for `wasm32-unknown-unknown` that implements [`Contract`]
//! and names its type with [`export!`]:
//!
//! ```no_run
//! struct Counter;
//!
//! impl bot_sdk::Contract for Counter {
//!     fn invoke(method: String, args: Vec<u8>) -> Result<Vec<u8>, bot_sdk::ContractError> {
//!         bot_sdk::guard();
//!         match method.as_str() {
//!             "get" => bot_sdk::ok(&bot_sdk::storage::read::<u64>(b"count").unwrap_or(0)),
//!             other => Err(bot_sdk::ContractError::unknown_method(other)),
//!         }
//!     }
//! }
//!
//! bot_sdk::export!(Counter);
//! ```
//!
//! Arguments and results are borsh-encoded. This crate never depends on the runtime: it is the
//! guest side only.

/// The generated bindings to `wit/bot.wit`; the modules below wrap them.
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "contract",
        pub_export_macro: true,
        default_bindings_module: "bot_sdk::bindings",
        generate_all,
        additional_derives: [PartialEq, Eq],
    });
}

pub mod access;
pub mod authorization;
pub mod calls;
pub mod collections;
pub mod commands;
pub mod crypto;
pub mod devices;
pub mod env;
pub mod error;
pub mod events;
pub mod key;
pub mod runtime;
pub mod state;
pub mod storage;
mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use bindings::Guest as Contract;
pub use bindings::export;
pub use borsh;
pub use bot_sdk_macros::{contract, data, error, event};
pub use error::ContractError;

/// A `#[bot_sdk::contract]` state struct, linked to the entry point the macro generated for it
/// (used by [`testing::invoke`] to call methods the way a transaction does).
pub trait ContractState {
    type Entry: Contract;
}

#[doc(hidden)]
pub mod __private {
    pub use std::string::String;
    pub use std::vec::Vec;

    /// Held while a `#[view]` runs: natively, the test environment refuses its writes; on the
    /// chain the engine does.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn view_scope() -> crate::testing::ReadOnly {
        crate::testing::ReadOnly::enter()
    }

    #[cfg(target_arch = "wasm32")]
    pub fn view_scope() {}
}

/// A 20-byte account or contract address.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Address(pub [u8; 20]);

impl core::fmt::Display for Address {
    /// `0x` and 40 lowercase hex digits.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Address {
    /// From the host's bytes, which are always 20 long for addresses it hands out.
    pub(crate) fn from_host(bytes: Vec<u8>) -> Address {
        let mut a = [0u8; 20];
        let n = bytes.len().min(20);
        a[..n].copy_from_slice(&bytes[..n]);
        Address(a)
    }
}

/// Decodes borsh arguments, or fails with [`ContractError::INVALID_ARGS`].
pub fn args<T: borsh::BorshDeserialize>(bytes: &[u8]) -> Result<T, ContractError> {
    borsh::from_slice(bytes).map_err(|e| ContractError::invalid_args(&e.to_string()))
}

/// Encodes a successful result.
pub fn ok<T: borsh::BorshSerialize + ?Sized>(value: &T) -> Result<Vec<u8>, ContractError> {
    borsh::to_vec(value).map_err(|e| ContractError::new(ContractError::INTERNAL, &e.to_string()))
}

/// Routes panics to [`runtime::abort`], so a panic's message reaches the caller instead of a
/// bare `unreachable` trap. Call it first in `invoke`; repeated calls are cheap. Natively (in
/// unit tests) panics stay panics.
pub fn guard() {
    #[cfg(target_arch = "wasm32")]
    guard_panics();
}

#[cfg(target_arch = "wasm32")]
fn guard_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = match info.payload().downcast_ref::<&str>() {
                Some(s) => (*s).to_string(),
                None => match info.payload().downcast_ref::<String>() {
                    Some(s) => s.clone(),
                    None => "panic".to_string(),
                },
            };
            runtime::abort(&format!("panicked: {message}"));
        }));
    });
}
