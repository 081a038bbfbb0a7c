//! A validator's home directory: `node.json` (addresses, peers, timing), `genesis.json`,
//! `validator.key` (hex secret, owner-only) and `data/` (the store and the consensus WAL).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bot_chain::{Genesis, Keypair};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    pub moniker: String,
    /// Consensus (Malachite) libp2p address, e.g. `/ip4/127.0.0.1/tcp/26656`.
    pub p2p_listen: String,
    pub p2p_peers: Vec<String>,
    /// Transaction gossip libp2p address.
    pub gossip_listen: String,
    pub gossip_peers: Vec<String>,
    /// JSON-RPC over HTTP and WebSocket (same port).
    pub rpc_listen: SocketAddr,
    #[serde(default = "defaults::block_time_ms")]
    pub block_time_ms: u64,
    /// How long a proposer waits for a first transaction before proposing an empty block.
    #[serde(default = "defaults::empty_block_wait_ms")]
    pub empty_block_wait_ms: u64,
    #[serde(default = "defaults::propose_timeout_ms")]
    pub propose_timeout_ms: u64,
    #[serde(default = "defaults::vote_timeout_ms")]
    pub vote_timeout_ms: u64,
    #[serde(default = "defaults::mempool_capacity")]
    pub mempool_capacity: usize,
    /// Transactions one signer may have waiting, and how far ahead of its next nonce.
    #[serde(default = "defaults::mempool_per_signer")]
    pub mempool_per_signer: usize,
    #[serde(default = "defaults::mempool_max_bytes")]
    pub mempool_max_bytes: usize,
    /// Blocks a transaction may wait in the mempool before it is dropped.
    #[serde(default = "defaults::mempool_ttl_blocks")]
    pub mempool_ttl_blocks: u64,
    #[serde(default)]
    pub rpc: RpcConfig,
}

/// Limits of the JSON-RPC server; every one is a bound on what one client can make the node
/// do, so none is unlimited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Connections (HTTP and WebSocket) served at once.
    pub max_connections: u32,
    /// Requests one JSON-RPC batch may hold.
    pub max_batch: u32,
    /// Subscriptions one WebSocket connection may hold.
    pub max_subscriptions_per_connection: u32,
    /// Gas of a `bot_query` that names none, and the most one may ask for.
    pub query_gas: u64,
    pub max_query_gas: u64,
    /// Queries, simulations and other contract runs at once; more wait their turn.
    pub max_concurrent_runs: usize,
    /// Items one list call (`bot_listDevices`, `bot_getCommands`...) returns, and how many
    /// registry entries it may read to find them.
    pub max_list: usize,
    pub max_list_scan: usize,
    /// Origins a browser's WebSocket or HTTP request may come from (`Origin` header), e.g.
    /// `http://localhost:3000`. Empty: only requests without an Origin (non-browser
    /// clients) and from loopback pages.
    pub allowed_origins: Vec<String>,
}

impl Default for RpcConfig {
    fn default() -> RpcConfig {
        RpcConfig {
            max_connections: 128,
            max_batch: 32,
            max_subscriptions_per_connection: 64,
            // 1 billion gas is about 40 ms on the calibration machine.
            query_gas: 1_000_000_000,
            max_query_gas: 10_000_000_000,
            max_concurrent_runs: 2,
            max_list: 1_000,
            max_list_scan: 10_000,
            allowed_origins: Vec::new(),
        }
    }
}

mod defaults {
    pub fn block_time_ms() -> u64 {
        200
    }
    pub fn empty_block_wait_ms() -> u64 {
        1_000
    }
    pub fn propose_timeout_ms() -> u64 {
        3_000
    }
    pub fn vote_timeout_ms() -> u64 {
        1_000
    }
    pub fn mempool_capacity() -> usize {
        100_000
    }
    pub fn mempool_per_signer() -> usize {
        1_000
    }
    pub fn mempool_max_bytes() -> usize {
        256 << 20
    }
    pub fn mempool_ttl_blocks() -> u64 {
        3_000
    }
}

impl NodeConfig {
    /// A loopback configuration with these ports.
    pub fn loopback(moniker: &str, p2p_port: u16, gossip_port: u16, rpc_port: u16) -> NodeConfig {
        NodeConfig {
            moniker: moniker.to_string(),
            p2p_listen: format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
            p2p_peers: Vec::new(),
            gossip_listen: format!("/ip4/127.0.0.1/tcp/{gossip_port}"),
            gossip_peers: Vec::new(),
            rpc_listen: SocketAddr::from(([127, 0, 0, 1], rpc_port)),
            block_time_ms: defaults::block_time_ms(),
            empty_block_wait_ms: defaults::empty_block_wait_ms(),
            propose_timeout_ms: defaults::propose_timeout_ms(),
            vote_timeout_ms: defaults::vote_timeout_ms(),
            mempool_capacity: defaults::mempool_capacity(),
            mempool_per_signer: defaults::mempool_per_signer(),
            mempool_max_bytes: defaults::mempool_max_bytes(),
            mempool_ttl_blocks: defaults::mempool_ttl_blocks(),
            rpc: RpcConfig::default(),
        }
    }
}

/// The files of one validator's home.
#[derive(Clone, Debug)]
pub struct Home {
    pub dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Home {
    pub fn new(dir: impl Into<PathBuf>) -> Home {
        Home { dir: dir.into() }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("node.json")
    }

    pub fn genesis_path(&self) -> PathBuf {
        self.dir.join("genesis.json")
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.join("validator.key")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes a new home (refuses to overwrite a key).
    pub fn init(
        &self,
        config: &NodeConfig,
        genesis: &Genesis,
        key: &Keypair,
    ) -> Result<(), ConfigError> {
        std::fs::create_dir_all(self.data_dir()).map_err(io(&self.dir))?;
        let key_path = self.key_path();
        if key_path.exists() {
            return Err(ConfigError::Invalid {
                path: key_path,
                message: "a validator key is already here; remove the home to start over".into(),
            });
        }
        self.write_config(config)?;
        std::fs::write(self.genesis_path(), genesis.to_json()).map_err(io(&self.dir))?;
        write_secret(&key_path, &format!("{}\n", hex::encode(key.secret())))
    }

    pub fn write_config(&self, config: &NodeConfig) -> Result<(), ConfigError> {
        let path = self.config_path();
        let text = serde_json::to_string_pretty(config).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(io(&path))
    }

    pub fn config(&self) -> Result<NodeConfig, ConfigError> {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        serde_json::from_str(&text).map_err(|e| ConfigError::Invalid {
            path,
            message: e.to_string(),
        })
    }

    pub fn genesis(&self) -> Result<Genesis, ConfigError> {
        let path = self.genesis_path();
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        Genesis::from_json(&text).map_err(|e| ConfigError::Invalid {
            path,
            message: e.to_string(),
        })
    }

    pub fn key(&self) -> Result<Keypair, ConfigError> {
        let path = self.key_path();
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        hex::decode(text.trim())
            .ok()
            .and_then(|b| Keypair::from_secret(&b))
            .ok_or(ConfigError::Invalid {
                path,
                message: "not a hex secp256k1 secret key (64 hex digits)".into(),
            })
    }
}

/// Writes a secret readable by its owner only.
pub fn write_secret(path: &Path, text: &str) -> Result<(), ConfigError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))
}
