//! The integration tests: one binary, a module per area.

mod contracts;
mod fixtures;
