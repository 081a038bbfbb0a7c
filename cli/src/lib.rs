//! The `cargo bot` developer tool: building contracts, checking them against the deploy rules,
//! and running them on the engine. The binary is a thin layer over these functions, which the
//! integration tests use too.

pub mod build;
pub mod check;
pub mod demo;
