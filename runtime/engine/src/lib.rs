//! Validate, instrument, compile, cache and run wasm contracts under gas.
//!
//! The engine runs core wasm modules built against the `bot:contract` WIT world
//! (`sdk/wit/bot.wit`) on wasmer with Cranelift (or Singlepass, which must agree with it).
//! It knows nothing of blocks, disks or networks: committed state reaches it through the
//! [`Host`] trait, and every call's writes, events and gas come back in an [`Outcome`].
//!
//! Two kinds of failure are kept apart: `Err(EngineError)` is the engine or its host failing
//! (not deterministic, never in a block); `Ok(Outcome { result: Err(Failure), .. })` is the
//! contract failing, which every node computes identically.

pub mod abi;
pub mod cache;
mod compile;
pub mod config;
mod execute;
pub mod gas;
mod host;
mod instrument;
pub mod iot;
mod memory_host;
mod overlay;
pub mod primitives;
pub mod validate;

pub use compile::{CompileError, WASMER_VERSION};
pub use config::{Compiler, EngineConfig, HostLimits, Limits};
pub use execute::{CacheStats, Engine, EngineError, Failure, FailureKind, Outcome};
pub use gas::{COST_TABLE_VERSION, COSTS, CostTable, GasBreakdown, HostCost, HostUse, MemoryPrice};
pub use host::{Host, HostError};
pub use memory_host::MemoryHost;
pub use primitives::{
    Address, BlockContext, CallRequest, Entries, Event, HostScan, KeyRange, Order, Writes,
};
pub use validate::{CodeHash, Declared, ValidatedModule, ValidationError};
