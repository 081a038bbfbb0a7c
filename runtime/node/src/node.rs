//! Starts a node from its home: the store and chain, Malachite (consensus, WAL, value sync),
//! the transaction gossip and the JSON-RPC server, then drives consensus until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bot_chain::{Chain, StateDb};
use bot_engine::{Engine, EngineConfig};
use malachitebft_app_channel::app::config::{
    ConsensusConfig, DiscoveryConfig, P2pConfig, ValueSyncConfig,
};
use malachitebft_app_channel::app::types::Keypair as P2pKeypair;
use malachitebft_app_channel::app::types::codec::Codec as _;
use malachitebft_app_channel::app::types::core::LinearTimeouts;
use malachitebft_app_channel::{
    ConsensusContext, NetworkContext, NetworkIdentity, RequestContext, Signer as _, SyncContext,
    WalContext,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use tracing::info;

use crate::app::{App, Settings};
use crate::codec::BorshCodec;
use crate::config::Home;
use crate::context::{BotContext, ValidatorAddress, ValidatorSet};
use crate::lane::Lane;
use crate::mempool::Mempool;
use crate::rpc::{self, RpcState};
use crate::signing::ConsensusSigner;

#[derive(Clone, Debug)]
struct MalachiteConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl malachitebft_app_channel::app::config::NodeConfig for MalachiteConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// A running node.
pub struct Running {
    pub rpc: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<eyre::Result<()>>,
}

impl Running {
    /// Stops consensus and the RPC; the store is closed when the last handle drops.
    pub async fn stop(self) -> eyre::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

fn parse_multiaddr(what: &str, text: &str) -> eyre::Result<libp2p::Multiaddr> {
    text.parse().map_err(|e| {
        eyre::eyre!("{what} `{text}` is not a multiaddr (e.g. /ip4/127.0.0.1/tcp/26656): {e}")
    })
}

/// A libp2p identity derived from the validator key (so a home has one secret to keep).
fn p2p_keypair(secret: &[u8; 32], purpose: &str) -> eyre::Result<P2pKeypair> {
    let mut h = Sha256::new();
    h.update(b"bot/p2p-key/");
    h.update(purpose.as_bytes());
    h.update(secret);
    let bytes: [u8; 32] = h.finalize().into();
    Ok(P2pKeypair::ed25519_from_bytes(bytes)?)
}

/// What a value sync response holds besides one block: its commit certificate and framing
/// (a signature per validator: a few KiB for a consortium).
const SYNC_OVERHEAD_BYTES: usize = 1 << 20;

/// Starts the node in `home`.
pub async fn start(home: &Home) -> eyre::Result<Running> {
    let config = home.config()?;
    let genesis = home.genesis()?;
    let key = home.key()?;
    let data = home.data_dir();
    std::fs::create_dir_all(&data)?;

    let db = StateDb::open(&data.join("state.redb"))?;
    let engine = Engine::new(EngineConfig {
        disk_cache: Some(data.join("wasm-cache")),
        ..EngineConfig::default()
    })?;
    let chain = Arc::new(Chain::open(db, &genesis, engine)?);
    let validators = ValidatorSet::from_genesis(&genesis.validators);
    let address = ValidatorAddress(key.address());
    let is_validator = validators.validators().iter().any(|v| v.address == address);
    info!(
        chain_id = %genesis.chain_id,
        height = chain.height()?,
        %address,
        validator = is_validator,
        "starting node `{}`",
        config.moniker
    );

    let mempool = Arc::new(Mempool::new(crate::mempool::Limits {
        capacity: config.mempool_capacity,
        max_bytes: config.mempool_max_bytes,
        per_signer: config.mempool_per_signer,
        ttl_blocks: config.mempool_ttl_blocks,
    }));
    let (events, _) = broadcast::channel(1024);

    let consensus_key = p2p_keypair(&key.secret(), "consensus")?;
    let signer = ConsensusSigner::new(&genesis.chain_id, Some(key.clone()));
    let proof = signer
        .sign_validator_proof(
            key.public_key(),
            consensus_key.public().to_peer_id().to_bytes(),
        )
        .await?;
    let proof = BorshCodec.encode(&proof)?;
    let identity = NetworkIdentity::new_validator(
        config.moniker.clone(),
        consensus_key,
        address.to_string(),
        proof,
    );
    // Value sync must carry the largest block genesis allows, with its certificate.
    let sync_limit =
        bytesize::ByteSize::b((genesis.params.max_block_bytes + SYNC_OVERHEAD_BYTES) as u64);
    let p2p = P2pConfig {
        listen_addr: parse_multiaddr("p2p_listen", &config.p2p_listen)?,
        persistent_peers: config
            .p2p_peers
            .iter()
            .map(|p| parse_multiaddr("p2p_peers", p))
            .collect::<eyre::Result<_>>()?,
        discovery: DiscoveryConfig {
            enabled: false,
            ..DiscoveryConfig::default()
        },
        rpc_max_size: sync_limit.max(P2pConfig::default().rpc_max_size),
        ..P2pConfig::default()
    };
    let malachite = MalachiteConfig {
        moniker: config.moniker.clone(),
        consensus: ConsensusConfig {
            p2p,
            ..ConsensusConfig::default()
        },
        value_sync: ValueSyncConfig {
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            // A response carries at least one block, whatever size genesis allows.
            max_response_size: sync_limit.max(ValueSyncConfig::default().max_response_size),
            ..ValueSyncConfig::default()
        },
    };
    let consensus_ctx = if is_validator {
        ConsensusContext::new_validator(address, Box::new(signer.clone()), Box::new(signer.clone()))
    } else {
        ConsensusContext::new_full_node(address, Box::new(signer.clone()))
    };
    let (mut channels, engine_handle) = malachitebft_app_channel::start_engine(
        BotContext,
        malachite,
        WalContext::new(data.join("wal").join("consensus.wal"), BorshCodec),
        NetworkContext::new(identity, BorshCodec),
        consensus_ctx,
        SyncContext::new(BorshCodec),
        RequestContext::new(100),
    )
    .await?;

    let gossip = crate::gossip::start(
        p2p_keypair(&key.secret(), "gossip")?,
        parse_multiaddr("gossip_listen", &config.gossip_listen)?,
        config
            .gossip_peers
            .iter()
            .map(|p| parse_multiaddr("gossip_peers", p))
            .collect::<eyre::Result<_>>()?,
        chain.clone(),
        mempool.clone(),
    )?;

    let validators_json = json!(
        genesis
            .validators
            .iter()
            .zip(validators.validators().iter())
            .map(|(g, v)| json!({
                "name": g.name,
                "address": v.address.to_string(),
                "public_key": rpc::hex0x(&g.public_key),
                "power": g.power,
            }))
            .collect::<Vec<_>>()
    );
    let app = App::new(
        chain.clone(),
        mempool.clone(),
        events.clone(),
        signer,
        address,
        validators,
        Settings {
            block_time: Duration::from_millis(config.block_time_ms),
            empty_block_wait: Duration::from_millis(config.empty_block_wait_ms),
            timeouts: LinearTimeouts {
                propose: Duration::from_millis(config.propose_timeout_ms),
                prevote: Duration::from_millis(config.vote_timeout_ms),
                precommit: Duration::from_millis(config.vote_timeout_ms),
                rebroadcast: Duration::from_millis(
                    config.propose_timeout_ms + 2 * config.vote_timeout_ms,
                ),
                ..LinearTimeouts::default()
            },
        },
    )?;
    let (rpc_addr, rpc_handle) = rpc::serve(
        config.rpc_listen,
        RpcState {
            chain: chain.clone(),
            mempool: mempool.clone(),
            gossip: Some(gossip),
            events: events.clone(),
            validator: is_validator.then_some(key.address()),
            validators: validators_json,
            runs: Lane::new("rpc", config.rpc.max_concurrent_runs)?,
            limits: config.rpc.clone(),
            refused_streams: app.refused_streams(),
        },
    )
    .await?;
    info!(rpc = %rpc_addr, "JSON-RPC (HTTP and WebSocket) listening");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let result = tokio::select! {
            r = app.run(&mut channels) => r,
            _ = stopped => Ok(()),
        };
        let _ = rpc_handle.stop();
        engine_handle.actor.stop(None);
        let _ = engine_handle.handle.await;
        result
    });
    Ok(Running {
        rpc: rpc_addr,
        stop,
        task,
    })
}
