//! Where the SDK's host calls go: to the chain's host functions when the contract runs as wasm,
//! and to the in-memory environment of [`crate::testing`] when its unit tests run natively.
//! Both sides have the same signatures, so every wrapper in this crate is written once.

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::bot::contract::{
    authorization, calls, commands, crypto, devices, env, events, runtime, storage,
};

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::host::{
    authorization, calls, commands, crypto, devices, env, events, runtime, storage,
};
