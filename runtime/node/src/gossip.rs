//! Transaction gossip: signed transactions spread between nodes on a gossipsub topic of the
//! chain's own, over the same libp2p as consensus. A message is a batch (borsh `Vec<Vec<u8>>`
//! of encoded transactions a node accepted within 10 ms, up to the size of one largest
//! transaction); every transaction in it is checked (size, signature, chain id, nonce,
//! permission) before this node forwards it; a peer that sends garbage is scored down and,
//! past the threshold, no longer heard.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bot_chain::{Chain, SignedTx};
use libp2p::futures::StreamExt as _;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, TopicScoreParams};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, noise, tcp, yamux};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use crate::mempool::Mempool;

#[derive(libp2p::swarm::NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
}

/// Handle to the gossip task: publish transactions this node accepted from its clients.
#[derive(Clone)]
pub struct Gossip {
    publish: mpsc::Sender<Vec<u8>>,
    peers: watch::Receiver<usize>,
    rejected: Arc<AtomicU64>,
}

impl Gossip {
    /// Queues an accepted transaction for the other nodes (dropped if the queue is full: the
    /// transaction is still in this node's mempool and reaches a block from here).
    pub fn publish(&self, tx: Vec<u8>) {
        let _ = self.publish.try_send(tx);
    }

    pub fn peers(&self) -> usize {
        *self.peers.borrow()
    }

    /// Messages refused as invalid (and held against their sender) since the node started.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
}

/// A received message waiting for validation.
struct Received {
    id: gossipsub::MessageId,
    from: PeerId,
    data: Vec<u8>,
}

/// Transactions in one gossip message, at most.
pub const MAX_BATCH: usize = 1024;
/// How long a node collects accepted transactions before gossiping them as one message.
const BATCH_DELAY: Duration = Duration::from_millis(10);

/// A gossip message carrying `txs` (encoded transactions).
pub fn encode_batch(txs: &[Vec<u8>]) -> Vec<u8> {
    borsh::to_vec(txs).unwrap_or_default()
}

pub fn topic(chain_id: &str) -> IdentTopic {
    IdentTopic::new(format!("/bot/{chain_id}/txs/1"))
}

/// Starts the gossip swarm on `listen`, dialing `peers` (and again every few seconds while
/// they are away).
pub fn start(
    keypair: libp2p::identity::Keypair,
    listen: Multiaddr,
    peers: Vec<Multiaddr>,
    chain: Arc<Chain>,
    mempool: Arc<Mempool>,
) -> eyre::Result<Gossip> {
    let max_tx = chain.params().max_tx_bytes;
    let topic = topic(chain.chain_id());
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|key| {
            let config = gossipsub::ConfigBuilder::default()
                .max_transmit_size(max_tx + 4 * MAX_BATCH + 4096)
                .validation_mode(gossipsub::ValidationMode::Strict)
                .validate_messages()
                .message_id_fn(|m| gossipsub::MessageId::from(Sha256::digest(&m.data).to_vec()))
                .heartbeat_interval(Duration::from_millis(700))
                .build()
                .map_err(|e| e.to_string())?;
            let mut gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                config,
            )?;
            let mut params = gossipsub::PeerScoreParams::default();
            params.topics.insert(
                topic.hash(),
                TopicScoreParams {
                    invalid_message_deliveries_weight: -100.0,
                    invalid_message_deliveries_decay: 0.9,
                    ..TopicScoreParams::default()
                },
            );
            gossipsub.with_peer_score(params, gossipsub::PeerScoreThresholds::default())?;
            Ok(Behaviour { gossipsub })
        })
        .map_err(|e| eyre::eyre!("gossip: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
    swarm.listen_on(listen)?;
    let (publish, mut to_publish) = mpsc::channel::<Vec<u8>>(65_536);
    let (peer_count, peers_rx) = watch::channel(0usize);
    let rejected = Arc::new(AtomicU64::new(0));
    // Checking a transaction (signature, account) runs on a blocking thread, in batches, so
    // the swarm keeps serving connections while a burst is verified.
    let (to_check, mut checking) = mpsc::channel::<Received>(65_536);
    let (verdicts, mut verdict) =
        mpsc::unbounded_channel::<(gossipsub::MessageId, PeerId, MessageAcceptance)>();
    let counter = rejected.clone();
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while checking.recv_many(&mut batch, 1024).await > 0 {
            let work = std::mem::take(&mut batch);
            let (chain, mempool, verdicts, counter) = (
                chain.clone(),
                mempool.clone(),
                verdicts.clone(),
                counter.clone(),
            );
            let done = tokio::task::spawn_blocking(move || {
                for m in work {
                    let acceptance = check(&chain, &mempool, &m.data, max_tx, &m.from);
                    if matches!(acceptance, MessageAcceptance::Reject) {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = verdicts.send((m.id, m.from, acceptance));
                }
            })
            .await;
            if done.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut redial = tokio::time::interval(Duration::from_secs(3));
        // What this node accepted in the last few milliseconds goes out as one message (one
        // signature and one id for the batch, not per transaction).
        let (mut batch, mut size) = (Vec::<Vec<u8>>::new(), 0usize);
        let flush = tokio::time::sleep(BATCH_DELAY);
        tokio::pin!(flush);
        loop {
            tokio::select! {
                _ = redial.tick() => {
                    if swarm.connected_peers().count() < peers.len() {
                        for addr in &peers {
                            let _ = swarm.dial(addr.clone());
                        }
                    }
                }
                Some(tx) = to_publish.recv() => {
                    if batch.is_empty() {
                        flush.as_mut().reset(tokio::time::Instant::now() + BATCH_DELAY);
                    }
                    if !batch.is_empty() && size + tx.len() > max_tx {
                        publish_batch(&mut swarm, &topic, &mut batch);
                        size = 0;
                    }
                    size += tx.len();
                    batch.push(tx);
                    if batch.len() >= MAX_BATCH {
                        publish_batch(&mut swarm, &topic, &mut batch);
                        size = 0;
                    }
                }
                _ = &mut flush, if !batch.is_empty() => {
                    publish_batch(&mut swarm, &topic, &mut batch);
                    size = 0;
                }
                Some((id, from, acceptance)) = verdict.recv() => {
                    swarm.behaviour_mut().gossipsub.report_message_validation_result(&id, &from, acceptance);
                }
                event = swarm.select_next_some() => match event {
                    SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                        propagation_source,
                        message_id,
                        message,
                    })) => {
                        let received = Received { id: message_id, from: propagation_source, data: message.data };
                        if let Err(mpsc::error::TrySendError::Full(m)) = to_check.try_send(received) {
                            // Overloaded: drop it unforwarded, without blaming the sender.
                            swarm.behaviour_mut().gossipsub.report_message_validation_result(
                                &m.id, &m.from, MessageAcceptance::Ignore);
                        }
                    }
                    SwarmEvent::ConnectionEstablished { .. } | SwarmEvent::ConnectionClosed { .. } => {
                        let _ = peer_count.send(swarm.connected_peers().count());
                    }
                    SwarmEvent::NewListenAddr { address, .. } => info!(%address, "transaction gossip listening"),
                    _ => {}
                },
            }
        }
    });
    Ok(Gossip {
        publish,
        peers: peers_rx,
        rejected,
    })
}

fn publish_batch(
    swarm: &mut libp2p::Swarm<Behaviour>,
    topic: &IdentTopic,
    batch: &mut Vec<Vec<u8>>,
) {
    if let Err(e) = swarm
        .behaviour_mut()
        .gossipsub
        .publish(topic.clone(), encode_batch(batch))
    {
        debug!("gossip publish: {e}");
    }
    batch.clear();
}

/// A batch is rejected (its sender penalized) if it is not a batch or holds any transaction
/// that is provably garbage (an honest node forwards only what it checked); forwarded if it
/// brought at least one new transaction; else ignored.
fn check(
    chain: &Chain,
    mempool: &Mempool,
    data: &[u8],
    max_tx: usize,
    from: &PeerId,
) -> MessageAcceptance {
    let txs: Vec<Vec<u8>> = match borsh::from_slice(data) {
        Ok(txs) => txs,
        Err(e) => {
            warn!(peer = %from, "gossiped bytes are not a transaction batch: {e}");
            return MessageAcceptance::Reject;
        }
    };
    if txs.is_empty() || txs.len() > MAX_BATCH {
        warn!(peer = %from, count = txs.len(), "gossiped batch of a size out of bounds");
        return MessageAcceptance::Reject;
    }
    let mut outcome = MessageAcceptance::Ignore;
    for tx in &txs {
        match check_one(chain, mempool, tx, max_tx, from) {
            MessageAcceptance::Reject => return MessageAcceptance::Reject,
            MessageAcceptance::Accept => outcome = MessageAcceptance::Accept,
            MessageAcceptance::Ignore => {}
        }
    }
    outcome
}

/// Accept a valid new transaction, ignore one this node already has or that is valid but no
/// longer applicable, reject bytes that are not a correctly signed transaction for this chain.
fn check_one(
    chain: &Chain,
    mempool: &Mempool,
    data: &[u8],
    max_tx: usize,
    from: &PeerId,
) -> MessageAcceptance {
    if data.len() > max_tx {
        warn!(peer = %from, size = data.len(), "gossiped transaction over the size limit");
        return MessageAcceptance::Reject;
    }
    let tx = match SignedTx::decode(data, chain.params()) {
        Ok(tx) => tx,
        Err(e) => {
            warn!(peer = %from, "gossiped bytes are not a transaction: {e}");
            return MessageAcceptance::Reject;
        }
    };
    let hash = tx.hash();
    if mempool.contains(&hash) {
        return MessageAcceptance::Ignore;
    }
    match chain.check_tx(&tx) {
        Ok(admitted) => match mempool.insert(tx, hash, admitted.signer, admitted.next_nonce) {
            Ok(()) => MessageAcceptance::Accept,
            Err(_) => MessageAcceptance::Ignore,
        },
        // A signer who may not transact: an honest node forwards only what it admitted, so
        // a peer sending these (a stranger flooding signed garbage) is penalized; the one
        // race, a permission revoked while the transaction travelled, is rare.
        Err(
            e @ (bot_chain::ChainError::WrongChain { .. }
            | bot_chain::ChainError::BadSignature
            | bot_chain::ChainError::Malformed(_)
            | bot_chain::ChainError::TxTooLarge { .. }
            | bot_chain::ChainError::GasLimitTooHigh { .. }
            | bot_chain::ChainError::GasLimitTooLow { .. }
            | bot_chain::ChainError::NotPermitted(_)),
        ) => {
            warn!(peer = %from, "gossiped transaction is invalid: {e}");
            MessageAcceptance::Reject
        }
        // A nonce used meanwhile: valid when sent, not worth forwarding.
        Err(_) => MessageAcceptance::Ignore,
    }
}
