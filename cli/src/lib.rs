//! The `cargo bot` developer tool: building contracts, checking them against the deploy rules,
//! and running them on the engine. The binary is a thin layer over these functions, which the
//! integration tests use too.

pub use bot_build as build;
pub mod bench_gas;
pub mod bench_tps;
pub mod chain_cmds;
pub mod check;
pub mod client;
pub mod demo;
pub mod demo_iot;
pub mod demo_sociability;
pub mod device_keys;
pub mod devnet;
pub mod gateway_sim;
pub mod iot_cmds;
pub mod new;
pub mod run;
pub mod sandbox_server;
pub mod watch;
