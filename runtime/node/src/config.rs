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
    #[serde(default = "defaults::mempool_per_signer")]
    pub mempool_per_signer: usize,
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
        10_000
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
