//! Hashes and signature checks, run natively by the host.

pub use crate::bindings::bot::contract::crypto::CryptoError;
pub use crate::sys::crypto::{
    ed25519_verify, keccak256, p256_verify, secp256k1_recover, secp256k1_verify, sha256,
};
