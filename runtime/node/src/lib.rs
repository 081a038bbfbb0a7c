//! The BoT peer (Y.4464 clauses 10.1–10.2): validators agree on blocks with Malachite BFT over
//! libp2p, execute them with `bot-chain` and keep them in `bot-state`; transactions arrive over
//! JSON-RPC and spread on a gossipsub topic of their own.

pub mod app;
pub mod codec;
pub mod config;
pub mod context;
pub mod gossip;
pub mod lane;
pub mod mempool;
pub mod node;
pub mod rpc;
pub mod rpc_iot;
pub mod rpc_origin;
pub mod signing;

pub use config::{Home, NodeConfig};
pub use node::{Running, start};
