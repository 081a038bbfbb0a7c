//! The integration tests: one binary, a module per area.

mod abi;
mod adversarial;
mod cache;
mod chain;
mod contracts;
mod fixtures;
mod gas;
mod iot;
mod macros;
