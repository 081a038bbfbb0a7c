//! The integration tests: one binary, a module per area.

mod abi;
mod adversarial;
mod cache;
mod contracts;
mod fixtures;
mod macros;
