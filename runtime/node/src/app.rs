//! The application side of consensus: answers Malachite's requests with the chain's rules.
//! Proposing builds a block from the mempool; a received proposal is re-executed before this
//! validator votes for it; a decided block commits with its certificate in one durable write.
//! Proposals not yet decided are kept on disk, so a restarted validator re-proposes the same
//! block and can still commit what it voted for.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bot_chain::{Block, Chain, ChainError, Executed, Hash};
use bytes::Bytes;
use eyre::eyre;
use malachitebft_app_channel::app::engine::host::{Next, SyncedValueOutcome};
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, Context as _, Height as _, HeightParams, LinearTimeouts, Round, Validity,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{
    LocallyProposedValue, MisbehaviorEvidence, PeerId, ProposedValue,
};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use tokio::sync::broadcast;
use tracing::{debug, error, info, warn};

use crate::codec::{self, BorshCodec};
use crate::context::{
    BlockId, BotContext, Height, ProposalFin, ProposalInit, ProposalPart, ValidatorAddress,
    ValidatorSet,
};
use crate::lane::Lane;
use crate::mempool::Mempool;
use crate::signing::{self, ConsensusSigner};

/// Block bytes travel in chunks of this size.
const CHUNK: usize = 128 * 1024;
/// What a proposal stream carries besides the block: its `Init` and `Fin` parts.
const STREAM_OVERHEAD_BYTES: usize = 4 * 1024;
/// Streams one publisher may have open at once; a new one drops its own oldest.
const MAX_STREAMS_PER_PEER: usize = 4;
/// Streams open at once in all; past this, the publisher with the most loses its oldest.
const MAX_STREAMS: usize = 64;
/// How many heights ahead of this node's a proposal is kept for (a node further behind
/// catches up by value sync, not by proposals).
const MAX_HEIGHTS_AHEAD: u64 = 2;
/// Complete proposals for later heights kept at once.
const MAX_EARLY: usize = 16;
/// Blocks kept executed at one height; past this the oldest is dropped (and re-executed from
/// the store if it is decided after all).
const MAX_EXECUTED: usize = 8;
/// How far ahead of this node's clock a proposed block's time may be.
const MAX_CLOCK_DRIFT_MS: u64 = 5_000;

/// What a node tells RPC subscribers.
#[derive(Clone, Debug)]
pub enum ChainEvent {
    Committed { height: u64 },
}

pub struct Settings {
    pub block_time: Duration,
    /// How long a proposer waits for a first transaction before proposing an empty block.
    pub empty_block_wait: Duration,
    pub timeouts: LinearTimeouts,
}

pub struct App {
    pub chain: Arc<Chain>,
    pub mempool: Arc<Mempool>,
    pub events: broadcast::Sender<ChainEvent>,
    /// Where blocks are executed and committed: a thread no RPC work waits on.
    lane: Lane,
    ctx: BotContext,
    signer: ConsensusSigner,
    address: ValidatorAddress,
    validators: ValidatorSet,
    settings: Settings,
    /// Blocks executed at the current height (proposed here, or received and re-executed),
    /// oldest first.
    executed: Vec<(BlockId, Executed)>,
    /// Proposal streams being received, by publisher and stream id.
    streams: BTreeMap<(PeerId, Bytes), Stream>,
    /// Counts streams opened, to know which is oldest.
    opened: u64,
    /// Complete proposals for a later height than the current one, checked to come from the
    /// proposer of their round.
    early: Vec<Assembled>,
    height: Height,
    /// Proposal streams refused (a wrong proposer, height, size or signature, or pushed out
    /// by the same publisher's newer ones): `bot_status` shows it.
    refused_streams: Arc<AtomicU64>,
}

#[derive(Default)]
struct Stream {
    parts: BTreeMap<u64, ProposalPart>,
    fin_at: Option<u64>,
    bytes: usize,
    opened: u64,
    /// Refused: its later parts are ignored, and it holds one of its publisher's places until
    /// pushed out.
    refused: bool,
}

struct Assembled {
    init: ProposalInit,
    block: Vec<u8>,
    fin: ProposalFin,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

// Keys of the node's notes in the store's aux table (outside the state root).
fn proposal_key(height: Height, id: &BlockId) -> Vec<u8> {
    let mut k = b"proposal/".to_vec();
    k.extend_from_slice(&height.0.to_be_bytes());
    k.extend_from_slice(&id.0);
    k
}

fn height_prefix(what: &[u8], height: Height) -> Vec<u8> {
    let mut k = what.to_vec();
    k.extend_from_slice(&height.0.to_be_bytes());
    k
}

fn own_key(height: Height) -> Vec<u8> {
    height_prefix(b"own/", height)
}

fn undecided_key(height: Height, round: Round, id: &BlockId) -> Vec<u8> {
    let mut k = height_prefix(b"undecided/", height);
    k.extend_from_slice(&(round.as_i64() + 1).to_be_bytes());
    k.extend_from_slice(&id.0);
    k
}

/// Equivocations this node has seen (two signed votes or proposals from one validator for
/// one height, round and step), as kept by [`App::record_evidence`]: newest last.
pub fn evidence(chain: &Chain) -> eyre::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for (_, bytes) in chain.db().aux_prefix(EVIDENCE)? {
        out.push(serde_json::from_slice(&bytes)?);
    }
    Ok(out)
}

/// How many equivocations [`evidence`] holds.
pub fn evidence_count(chain: &Chain) -> eyre::Result<usize> {
    Ok(chain.db().aux_prefix(EVIDENCE)?.len())
}

const EVIDENCE: &[u8] = b"evidence/";

impl App {
    pub fn new(
        chain: Arc<Chain>,
        mempool: Arc<Mempool>,
        events: broadcast::Sender<ChainEvent>,
        signer: ConsensusSigner,
        address: ValidatorAddress,
        validators: ValidatorSet,
        settings: Settings,
    ) -> eyre::Result<App> {
        Ok(App {
            chain,
            mempool,
            events,
            lane: Lane::new("consensus", 1)?,
            ctx: BotContext,
            signer,
            address,
            validators,
            settings,
            executed: Vec::new(),
            streams: BTreeMap::new(),
            opened: 0,
            early: Vec::new(),
            height: Height(0),
            refused_streams: Arc::default(),
        })
    }

    /// The count of proposal streams refused, for the node's status.
    pub fn refused_streams(&self) -> Arc<AtomicU64> {
        self.refused_streams.clone()
    }

    fn refuse_stream(&self) {
        self.refused_streams.fetch_add(1, Ordering::Relaxed);
    }

    fn params(&self) -> HeightParams<BotContext> {
        HeightParams::new(
            self.validators.clone(),
            self.settings.timeouts,
            Some(self.settings.block_time),
        )
    }

    fn committed_height(&self) -> eyre::Result<Height> {
        Ok(Height(self.chain.height()?))
    }

    /// Runs until consensus stops.
    pub async fn run(mut self, channels: &mut Channels<BotContext>) -> eyre::Result<()> {
        while let Some(msg) = channels.consensus.recv().await {
            if let Err(e) = self.handle(msg, channels).await {
                // A failure here is local (store, engine): log it; consensus retries the height.
                error!("{e:#}");
            }
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        msg: AppMsg<BotContext>,
        channels: &mut Channels<BotContext>,
    ) -> eyre::Result<()> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let start = self.committed_height()?.0 + 1;
                info!(height = start, "consensus ready");
                let _ = reply.send((Height(start), self.params()));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                role: _,
                reply_value,
            } => {
                debug!(%height, %round, %proposer, "started round");
                if height != self.height {
                    self.executed.clear();
                }
                self.height = height;
                let early = std::mem::take(&mut self.early);
                for assembled in early {
                    if assembled.init.height == height {
                        self.accept(assembled).await?;
                    } else if assembled.init.height > height {
                        self.early.push(assembled);
                    }
                }
                let undecided = self.undecided(height, round)?;
                debug!(%height, %round, known = undecided.len(), "proposals already received for the round");
                let _ = reply_value.send(undecided);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let (id, block) = self.build(height, timeout).await?;
                let _ = reply.send(LocallyProposedValue::new(height, round, id));
                self.store_undecided(&ProposedValue {
                    height,
                    round,
                    valid_round: Round::Nil,
                    proposer: self.address,
                    value: id,
                    validity: Validity::Valid,
                })?;
                self.stream(channels, height, round, Round::Nil, id, &block)
                    .await?;
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                address: _,
                value_id,
            } => match self.chain.db().aux(&proposal_key(height, &value_id))? {
                Some(block) => {
                    self.stream(channels, height, round, valid_round, value_id, &block)
                        .await?
                }
                None => {
                    warn!(%height, %value_id, "asked to restream a proposal this node does not have")
                }
            },
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                // The parts of one stream share their publisher, whichever peer relayed each.
                let publisher = published_by.unwrap_or(from);
                let value = match self.received_part(publisher, part) {
                    Some(assembled) if assembled.init.height > self.height => {
                        self.keep_early(assembled);
                        None
                    }
                    Some(assembled) if assembled.init.height == self.height => {
                        self.accept(assembled).await?
                    }
                    _ => None,
                };
                let _ = reply.send(value);
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions { reply, .. } => {
                let _ = reply.send(Vec::new());
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                if let Err(e) = self.commit(&certificate).await {
                    error!(height = %certificate.height, "commit failed: {e:#}");
                }
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                evidence,
                reply,
                ..
            } => {
                if !evidence.is_empty()
                    && let Err(e) = self.record_evidence(certificate.height, &evidence)
                {
                    error!("recording misbehavior evidence failed: {e:#}");
                }
                let next = match self.commit(&certificate).await {
                    Ok(()) => Next::Start(certificate.height.increment_by(1), self.params()),
                    Err(e) => {
                        error!(height = %certificate.height, "commit failed, restarting the height: {e:#}");
                        Next::Restart(certificate.height, self.params())
                    }
                };
                let _ = reply.send(next);
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let mut values = Vec::new();
                for h in range.start().0..=range.end().0 {
                    let (Some(block), Some(cert)) =
                        (self.chain.db().block(h)?, self.chain.db().certificate(h)?)
                    else {
                        break;
                    };
                    let cert = codec::decode_certificate(&cert)?;
                    values.push(RawDecidedValue::new(
                        Bytes::from(block),
                        codec::extend_certificate(cert),
                    ));
                }
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = match Block::from_bytes(&value_bytes) {
                    Err(e) => {
                        warn!(%height, "a peer synced undecodable block bytes: {e}");
                        SyncedValueOutcome::PeerFault
                    }
                    Ok(block) => {
                        let id = BlockId(block.hash());
                        let verdict = |validity| {
                            SyncedValueOutcome::Verdict(ProposedValue {
                                height,
                                round,
                                valid_round: Round::Nil,
                                proposer,
                                value: id,
                                validity,
                            })
                        };
                        match self.execute(block).await {
                            Ok(executed) => {
                                self.keep_executed(id, executed);
                                verdict(Validity::Valid)
                            }
                            // This node could not check it: the peer is not to blame.
                            Err(e) if e.is_local() => {
                                warn!(%height, "could not execute a synced block here: {e}");
                                SyncedValueOutcome::LocalTransientError
                            }
                            Err(e) => {
                                warn!(%height, "synced block is invalid: {e}");
                                verdict(Validity::Invalid)
                            }
                        }
                    }
                };
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }

    /// The block this validator proposes at `height`: the one it already built if it restarted
    /// mid-height (never two different blocks for one height), else a new one from the mempool.
    async fn build(
        &mut self,
        height: Height,
        timeout: Duration,
    ) -> eyre::Result<(BlockId, Vec<u8>)> {
        let db = self.chain.db();
        if let Some(id) = db.aux(&own_key(height))?
            && let Ok(id) = <[u8; 32]>::try_from(id.as_slice())
            && let Some(block) = db.aux(&proposal_key(height, &BlockId(id)))?
        {
            info!(%height, "re-proposing the block built before a restart");
            return Ok((BlockId(id), block));
        }
        let wait = self.settings.empty_block_wait.min(timeout / 2);
        self.mempool.wait_for_any(wait).await;
        let params = self.chain.params();
        let view = self.chain.view()?;
        let candidates = self.mempool.candidates(
            params.max_block_txs as usize,
            params.max_block_bytes,
            |signer| view.account(signer).map_or(0, |a| a.nonce),
        );
        drop(view);
        let chain = self.chain.clone();
        let proposer = self.address.0;
        let proposal = self
            .lane
            .run(move || chain.propose(candidates, now_ms(), proposer))
            .await??;
        for left in &proposal.left_out {
            warn!(%height, tx = %crate::rpc::hex0x(&left.hash), "left out of the block and dropped: {}", left.reason);
        }
        let left_out = proposal
            .left_out
            .iter()
            .map(|l| (l.hash, format!("a proposer left it out: {}", l.reason)))
            .collect();
        self.mempool.evict(left_out);
        let executed = proposal.executed;
        let id = BlockId(executed.block.hash());
        let bytes = executed.block.to_bytes();
        info!(%height, txs = executed.block.txs.len(), block = %id, "proposing");
        db.put_aux(&proposal_key(height, &id), &bytes)?;
        db.put_aux(&own_key(height), &id.0)?;
        self.keep_executed(id, executed);
        Ok((id, bytes))
    }

    /// Keeps a block executed at this height, dropping the oldest past [`MAX_EXECUTED`] (a
    /// proposer leading many rounds cannot make this node hold every block it sent).
    fn keep_executed(&mut self, id: BlockId, executed: Executed) {
        if self.executed.iter().any(|(known, _)| *known == id) {
            return;
        }
        if self.executed.len() >= MAX_EXECUTED {
            self.executed.remove(0);
        }
        self.executed.push((id, executed));
    }

    fn take_executed(&mut self, id: &BlockId) -> Option<Executed> {
        let at = self.executed.iter().position(|(known, _)| known == id)?;
        Some(self.executed.remove(at).1)
    }

    async fn stream(
        &self,
        channels: &mut Channels<BotContext>,
        height: Height,
        round: Round,
        valid_round: Round,
        id: BlockId,
        block: &[u8],
    ) -> eyre::Result<()> {
        let signature = self.signer.sign(&signing::stream_digest(
            self.signer.chain_id(),
            height,
            round,
            valid_round,
            id,
        ))?;
        let mut parts = vec![ProposalPart::Init(ProposalInit {
            height,
            round,
            valid_round,
            proposer: self.address,
        })];
        parts.extend(block.chunks(CHUNK).map(|c| ProposalPart::Data(c.to_vec())));
        parts.push(ProposalPart::Fin(ProposalFin { signature }));
        let mut stream_id = height.0.to_be_bytes().to_vec();
        stream_id.extend_from_slice(&round.as_i64().to_be_bytes());
        let stream_id = StreamId::new(Bytes::from(stream_id));
        let n = parts.len() as u64;
        for (sequence, part) in parts.into_iter().enumerate() {
            channels
                .network
                .send(NetworkMsg::PublishProposalPart(StreamMessage::new(
                    stream_id.clone(),
                    sequence as u64,
                    StreamContent::Data(part),
                )))
                .await?;
        }
        channels
            .network
            .send(NetworkMsg::PublishProposalPart(StreamMessage::new(
                stream_id,
                n,
                StreamContent::Fin,
            )))
            .await?;
        Ok(())
    }

    /// Buffers a part; returns the proposal once its stream is complete. Dropped on sight:
    /// a stream for a height already decided or too far ahead, one whose `Init` names a
    /// validator that does not lead its round, one past the block size. Each publisher has a
    /// few streams at most, so no peer can push out the proposer's.
    fn received_part(
        &mut self,
        publisher: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Option<Assembled> {
        let key = (publisher, msg.stream_id.to_bytes());
        if !self.streams.contains_key(&key) {
            self.make_room_for(publisher);
            self.opened += 1;
            let opened = self.opened;
            self.streams.insert(
                key.clone(),
                Stream {
                    opened,
                    ..Stream::default()
                },
            );
        }
        let max_bytes = self.chain.params().max_block_bytes + STREAM_OVERHEAD_BYTES;
        let drop_stream = |app: &mut App, why: &str| {
            debug!(publisher = %publisher, "dropping a proposal stream: {why}");
            app.refuse_stream();
            if let Some(stream) = app.streams.get_mut(&key) {
                *stream = Stream {
                    opened: stream.opened,
                    refused: true,
                    ..Stream::default()
                };
            }
            None
        };
        let stream = self.streams.get_mut(&key)?;
        if stream.refused {
            return None;
        }
        match msg.content {
            StreamContent::Fin => stream.fin_at = Some(msg.sequence),
            StreamContent::Data(part) => {
                stream.bytes += match &part {
                    ProposalPart::Data(d) => d.len(),
                    _ => 128,
                };
                if stream.bytes > max_bytes || stream.parts.len() > max_bytes / 1024 {
                    return drop_stream(self, "larger than a block may be");
                }
                if let ProposalPart::Init(init) = &part
                    && let Err(why) = self.check_init(init)
                {
                    return drop_stream(self, &why);
                }
                let stream = self.streams.get_mut(&key)?;
                stream.parts.insert(msg.sequence, part);
            }
        }
        let stream = self.streams.get(&key)?;
        let fin_at = stream.fin_at?;
        if stream.parts.len() as u64 != fin_at {
            return None;
        }
        let stream = self.streams.remove(&key)?;
        let mut parts = stream.parts.into_values();
        let Some(ProposalPart::Init(init)) = parts.next() else {
            warn!(publisher = %publisher, "proposal stream does not start with Init");
            self.refuse_stream();
            return None;
        };
        let mut block = Vec::new();
        let mut fin = None;
        for part in parts {
            match (part, &fin) {
                (ProposalPart::Data(d), None) => block.extend_from_slice(&d),
                (ProposalPart::Fin(f), None) => fin = Some(f),
                _ => {
                    warn!(publisher = %publisher, "malformed proposal stream");
                    self.refuse_stream();
                    return None;
                }
            }
        }
        let Some(fin) = fin else {
            warn!(publisher = %publisher, "proposal stream without Fin");
            self.refuse_stream();
            return None;
        };
        Some(Assembled { init, block, fin })
    }

    /// Whether a stream's `Init` is worth buffering: a height not yet decided nor too far
    /// ahead, proposed by the validator that leads its round.
    fn check_init(&self, init: &ProposalInit) -> Result<(), String> {
        if init.height < self.height {
            return Err(format!("height {} is already decided", init.height));
        }
        if init.height.0 > self.height.0.saturating_add(MAX_HEIGHTS_AHEAD) {
            return Err(format!("height {} is too far ahead", init.height));
        }
        let expected = self
            .ctx
            .select_proposer(&self.validators, init.height, init.round);
        if expected.address != init.proposer {
            return Err(format!(
                "{} does not lead height {} round {}",
                init.proposer, init.height, init.round
            ));
        }
        Ok(())
    }

    /// Makes room for a new stream of `publisher`: it may have a few open, and all of them
    /// together a bounded number; the oldest of the publisher holding the most goes first.
    fn make_room_for(&mut self, publisher: PeerId) {
        let mut per_peer: BTreeMap<PeerId, (usize, u64, Bytes)> = BTreeMap::new();
        for ((peer, id), stream) in &self.streams {
            let entry = per_peer.entry(*peer).or_insert((0, u64::MAX, Bytes::new()));
            entry.0 += 1;
            if stream.opened < entry.1 {
                entry.1 = stream.opened;
                entry.2 = id.clone();
            }
        }
        let own = per_peer.get(&publisher).map_or(0, |e| e.0);
        let victim = if own >= MAX_STREAMS_PER_PEER {
            Some(publisher)
        } else if self.streams.len() >= MAX_STREAMS {
            per_peer
                .iter()
                .max_by_key(|(_, (count, _, _))| *count)
                .map(|(peer, _)| *peer)
        } else {
            None
        };
        if let Some(peer) = victim
            && let Some((_, _, id)) = per_peer.remove(&peer)
            && let Some(stream) = self.streams.remove(&(peer, id))
            && !stream.refused
        {
            self.refuse_stream();
        }
    }

    /// Keeps a complete proposal for a later height, if it comes from the proposer of its
    /// round (so no one else can fill the buffer) and there is room.
    fn keep_early(&mut self, a: Assembled) {
        let Ok(block) = Block::from_bytes(&a.block) else {
            self.refuse_stream();
            return;
        };
        let expected = self
            .ctx
            .select_proposer(&self.validators, a.init.height, a.init.round);
        let digest = signing::stream_digest(
            self.signer.chain_id(),
            a.init.height,
            a.init.round,
            a.init.valid_round,
            BlockId(block.hash()),
        );
        if !signing::verify(&digest, &a.fin.signature, &expected.public_key) {
            warn!(height = %a.init.height, round = %a.init.round, "early proposal stream signature is not the proposer's");
            self.refuse_stream();
            return;
        }
        let same = |e: &Assembled| e.init.height == a.init.height && e.init.round == a.init.round;
        if self.early.iter().any(same) || self.early.len() >= MAX_EARLY {
            return;
        }
        debug!(height = %a.init.height, round = %a.init.round, "proposal for a later height kept");
        self.early.push(a);
    }

    /// Checks a complete proposal for the current height (proposer, signature, then the
    /// block by re-executing it) and records it.
    async fn accept(&mut self, a: Assembled) -> eyre::Result<Option<ProposedValue<BotContext>>> {
        let height = a.init.height;
        let round = a.init.round;
        let expected = self.ctx.select_proposer(&self.validators, height, round);
        if expected.address != a.init.proposer {
            warn!(%height, %round, proposer = %a.init.proposer, "proposal from a validator that does not lead this round");
            self.refuse_stream();
            return Ok(None);
        }
        let Ok(block) = Block::from_bytes(&a.block) else {
            warn!(%height, %round, "proposal's block does not decode");
            self.refuse_stream();
            return Ok(None);
        };
        let id = BlockId(block.hash());
        let digest = signing::stream_digest(
            self.signer.chain_id(),
            height,
            round,
            a.init.valid_round,
            id,
        );
        if !signing::verify(&digest, &a.fin.signature, &expected.public_key) {
            warn!(%height, %round, "proposal stream signature is not the proposer's");
            self.refuse_stream();
            return Ok(None);
        }
        let validity = if self.executed.iter().any(|(known, _)| *known == id) {
            Validity::Valid
        } else if block.header.time_ms > now_ms() + MAX_CLOCK_DRIFT_MS {
            warn!(%height, %round, "proposed block's time is ahead of this node's clock");
            Validity::Invalid
        } else {
            match self.execute(block).await {
                Ok(executed) => {
                    self.keep_executed(id, executed);
                    Validity::Valid
                }
                // This node cannot tell: it neither votes for the block nor calls it
                // invalid, and the round goes on without its vote.
                Err(e) if e.is_local() => {
                    warn!(%height, %round, "could not execute the proposal here: {e}");
                    return Ok(None);
                }
                Err(e) => {
                    warn!(%height, %round, "invalid proposal: {e}");
                    Validity::Invalid
                }
            }
        };
        if validity.is_valid() {
            self.chain
                .db()
                .put_aux(&proposal_key(height, &id), &a.block)?;
        }
        let value = ProposedValue {
            height,
            round,
            valid_round: a.init.valid_round,
            proposer: a.init.proposer,
            value: id,
            validity,
        };
        self.store_undecided(&value)?;
        debug!(%height, %round, value = %id, ?validity, "proposal received");
        Ok(Some(value))
    }

    async fn execute(&self, block: Block) -> Result<Executed, ChainError> {
        let chain = self.chain.clone();
        self.lane
            .run(move || chain.validate(&block))
            .await
            .map_err(|e| ChainError::Engine(e.to_string()))?
    }

    fn store_undecided(&self, value: &ProposedValue<BotContext>) -> eyre::Result<()> {
        use malachitebft_app_channel::app::types::codec::Codec;
        let bytes = BorshCodec.encode(value)?;
        self.chain.db().put_aux(
            &undecided_key(value.height, value.round, &value.value),
            &bytes,
        )?;
        Ok(())
    }

    fn undecided(
        &self,
        height: Height,
        round: Round,
    ) -> eyre::Result<Vec<ProposedValue<BotContext>>> {
        use malachitebft_app_channel::app::types::codec::Codec;
        let mut prefix = height_prefix(b"undecided/", height);
        prefix.extend_from_slice(&(round.as_i64() + 1).to_be_bytes());
        let mut out = Vec::new();
        for (_, bytes) in self.chain.db().aux_prefix(&prefix)? {
            out.push(BorshCodec.decode(Bytes::from(bytes))?);
        }
        Ok(out)
    }

    /// Keeps what consensus proved about a validator signing twice (it already refused the
    /// second message); operators and tests read it with `bot_getEvidence`.
    fn record_evidence(
        &self,
        height: Height,
        evidence: &MisbehaviorEvidence<BotContext>,
    ) -> eyre::Result<()> {
        let db = self.chain.db();
        let put = |kind: &str,
                   round: i64,
                   validator: &ValidatorAddress,
                   first: String,
                   second: String|
         -> eyre::Result<()> {
            warn!(%height, round, %validator, kind, %first, %second, "validator equivocated");
            let mut key = height_prefix(EVIDENCE, height);
            key.extend_from_slice(&(round + 1).to_be_bytes());
            key.extend_from_slice(&validator.0.0);
            key.extend_from_slice(kind.as_bytes());
            let record = serde_json::json!({
                "height": height.0, "round": round, "validator": validator.to_string(),
                "kind": kind, "first": first, "second": second,
            });
            db.put_aux(&key, &serde_json::to_vec(&record)?)?;
            Ok(())
        };
        let nil_or = |v: &Option<BlockId>| v.map_or("nil".to_string(), |id| id.to_string());
        for (validator, pairs) in &evidence.proposals {
            for (a, b) in pairs {
                let (a, b) = (&a.message, &b.message);
                put(
                    "proposal",
                    a.round.as_i64(),
                    validator,
                    a.value.to_string(),
                    b.value.to_string(),
                )?;
            }
        }
        for (validator, pairs) in evidence.votes.iter() {
            for (a, b) in pairs {
                let (a, b) = (&a.message, &b.message);
                let kind = if a.precommit { "precommit" } else { "prevote" };
                put(
                    kind,
                    a.round.as_i64(),
                    validator,
                    nil_or(&a.value),
                    nil_or(&b.value),
                )?;
            }
        }
        Ok(())
    }

    /// Commits the decided block unless it already is. Needs the block: executed here, or
    /// kept on disk from before a restart.
    async fn commit(&mut self, certificate: &CommitCertificate<BotContext>) -> eyre::Result<()> {
        let height = certificate.height;
        if self.committed_height()? >= height {
            return Ok(());
        }
        let id = certificate.value_id;
        let executed = match self.take_executed(&id) {
            Some(executed) => executed,
            None => {
                let bytes = self
                    .chain
                    .db()
                    .aux(&proposal_key(height, &id))?
                    .ok_or_else(|| {
                        eyre!("decided block {id} at height {height} is not known here")
                    })?;
                let block = Block::from_bytes(&bytes).map_err(|e| eyre!(e))?;
                self.execute(block).await?
            }
        };
        let included: Vec<Hash> = executed.receipts.iter().map(|r| r.tx_hash).collect();
        let txs = executed.block.txs.len();
        let chain = self.chain.clone();
        let cert = codec::encode_certificate(certificate);
        self.lane
            .run(move || chain.commit(executed, cert))
            .await??;
        self.executed.clear();
        let view = self.chain.view()?;
        self.mempool.remove_committed(height.0, &included, |a| {
            view.account(a).map_or(0, |s| s.nonce)
        });
        drop(view);
        let db = self.chain.db();
        for what in [&b"proposal/"[..], b"own/", b"undecided/"] {
            db.remove_aux_prefix(&height_prefix(what, height))?;
        }
        info!(%height, txs, block = %id, "committed");
        let _ = self.events.send(ChainEvent::Committed { height: height.0 });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bot_chain::{Genesis, Keypair, Mode, StateDb};
    use bot_engine::{Engine, EngineConfig};

    use super::*;
    use crate::mempool::Limits;

    /// An app for validator 0 of four, at height 1, over a fresh chain.
    fn app() -> (App, Vec<Keypair>, tempfile::TempDir) {
        let keys: Vec<Keypair> = (0..4).map(|i| Keypair::dev(&format!("v{i}"))).collect();
        let validators = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Genesis::validator(&format!("v{i}"), k, 1))
            .collect();
        let genesis = Genesis::new("test-chain", 1_000, validators, &[], Mode::Open);
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("state.redb")).unwrap();
        let engine = Engine::new(EngineConfig::default()).unwrap();
        let chain = Arc::new(Chain::open(db, &genesis, engine).unwrap());
        let mempool = Arc::new(Mempool::new(Limits {
            capacity: 10,
            max_bytes: 1 << 20,
            per_signer: 10,
            ttl_blocks: 10,
        }));
        let mut app = App::new(
            chain,
            mempool,
            broadcast::channel(4).0,
            ConsensusSigner::new("test-chain", Some(keys[0].clone())),
            ValidatorAddress(keys[0].address()),
            ValidatorSet::from_genesis(&genesis.validators),
            Settings {
                block_time: Duration::from_millis(100),
                empty_block_wait: Duration::from_millis(100),
                timeouts: LinearTimeouts::default(),
            },
        )
        .unwrap();
        app.height = Height(1);
        (app, keys, dir)
    }

    /// A new peer id each time (an identity multihash of a counter).
    fn peer() -> PeerId {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        PeerId::from_bytes(&[&[0u8, 4][..], &n.to_be_bytes()].concat()).unwrap()
    }

    fn leader(app: &App, height: u64, round: u32) -> ValidatorAddress {
        app.ctx
            .select_proposer(&app.validators, Height(height), Round::new(round))
            .address
    }

    fn part(stream: u8, sequence: u64, part: Option<ProposalPart>) -> StreamMessage<ProposalPart> {
        StreamMessage::new(
            StreamId::new(Bytes::from(vec![stream])),
            sequence,
            match part {
                Some(p) => StreamContent::Data(p),
                None => StreamContent::Fin,
            },
        )
    }

    fn init(height: u64, round: u32, proposer: ValidatorAddress) -> ProposalPart {
        ProposalPart::Init(ProposalInit {
            height: Height(height),
            round: Round::new(round),
            valid_round: Round::Nil,
            proposer,
        })
    }

    #[test]
    fn streams_from_a_validator_that_does_not_lead_or_for_other_heights_are_dropped_at_once() {
        let (mut app, _keys, _dir) = app();
        let peer = peer();
        let leader = leader(&app, 1, 0);
        let impostor = app
            .validators
            .validators()
            .iter()
            .map(|v| v.address)
            .find(|a| *a != leader)
            .unwrap();
        for (stream, init) in [
            (1, init(1, 0, impostor)),
            (2, init(0, 0, leader)),
            (3, init(1 + MAX_HEIGHTS_AHEAD + 1, 0, leader)),
        ] {
            assert!(
                app.received_part(peer, part(stream, 0, Some(init)))
                    .is_none()
            );
        }
        assert!(
            app.streams
                .values()
                .all(|s| s.refused && s.parts.is_empty()),
            "nothing of them is kept"
        );
        assert_eq!(app.refused_streams.load(Ordering::Relaxed), 3);
        // What follows a refused Init is ignored, and not refused again.
        let data = ProposalPart::Data(vec![0; 8]);
        assert!(app.received_part(peer, part(1, 1, Some(data))).is_none());
        assert!(app.streams.values().all(|s| s.parts.is_empty()));
        assert_eq!(app.refused_streams.load(Ordering::Relaxed), 3);
        // The leader's Init is kept, waiting for the rest.
        assert!(
            app.received_part(peer, part(4, 0, Some(init(1, 0, leader))))
                .is_none()
        );
        assert_eq!(app.streams.values().filter(|s| !s.refused).count(), 1);
    }

    #[test]
    fn a_peer_flooding_streams_pushes_out_only_its_own() {
        let (mut app, _keys, _dir) = app();
        let proposer = peer();
        app.received_part(proposer, part(0, 1, Some(ProposalPart::Data(vec![1; 8]))));
        // One peer opens many streams: it keeps its newest few.
        let flooder = peer();
        for stream in 1..=20 {
            app.received_part(flooder, part(stream, 1, Some(ProposalPart::Data(vec![0]))));
        }
        let of = |app: &App, peer: PeerId| app.streams.keys().filter(|(p, _)| *p == peer).count();
        assert_eq!(of(&app, flooder), MAX_STREAMS_PER_PEER);
        let kept: Vec<u8> = app
            .streams
            .keys()
            .filter(|(p, _)| *p == flooder)
            .map(|(_, id)| id[0])
            .collect();
        assert_eq!(kept, [17, 18, 19, 20], "the oldest went first");
        // Many peers fill the table: whoever holds the most loses one, never the proposer.
        for _ in 0..(MAX_STREAMS / MAX_STREAMS_PER_PEER + 4) {
            let peer = peer();
            for stream in 0..MAX_STREAMS_PER_PEER as u8 {
                app.received_part(peer, part(stream, 1, Some(ProposalPart::Data(vec![0]))));
            }
        }
        assert!(app.streams.len() <= MAX_STREAMS);
        assert_eq!(of(&app, proposer), 1, "the proposer's stream stays");
    }

    #[test]
    fn a_stream_larger_than_a_block_may_be_is_dropped() {
        let (mut app, _keys, _dir) = app();
        let peer = peer();
        let max = app.chain.params().max_block_bytes + STREAM_OVERHEAD_BYTES;
        let chunk = vec![0u8; CHUNK];
        for sequence in 1..=(max / CHUNK + 2) as u64 {
            app.received_part(
                peer,
                part(9, sequence, Some(ProposalPart::Data(chunk.clone()))),
            );
        }
        assert!(
            app.streams.values().all(|s| s.bytes <= max),
            "no stream holds more than a block"
        );
    }

    #[tokio::test]
    async fn a_relayed_stream_with_its_valid_round_changed_is_refused() {
        let (mut app, keys, _dir) = app();
        let height = Height(1);
        let round = Round::new(0);
        let leader = leader(&app, 1, 0);
        let key = keys.iter().find(|k| k.address() == leader.0).unwrap();
        let block = app.chain.propose(Vec::new(), 5_000, leader.0).unwrap();
        let id = BlockId(block.executed.block.hash());
        let signer = ConsensusSigner::new("test-chain", Some(key.clone()));
        let honest = signer
            .sign(&signing::stream_digest(
                "test-chain",
                height,
                round,
                Round::Nil,
                id,
            ))
            .unwrap();
        let assembled = |valid_round| Assembled {
            init: ProposalInit {
                height,
                round,
                valid_round,
                proposer: leader,
            },
            block: block.executed.block.to_bytes(),
            fin: ProposalFin {
                signature: honest.clone(),
            },
        };
        // The proposer's signature covers the valid round: a relay that changed it is refused.
        let tampered = app.accept(assembled(Round::new(0))).await.unwrap();
        assert!(tampered.is_none());
        let value = app.accept(assembled(Round::Nil)).await.unwrap().unwrap();
        assert_eq!(value.value, id);
        assert!(value.validity.is_valid());
    }

    #[test]
    fn a_height_keeps_a_bounded_number_of_executed_blocks() {
        let (mut app, _keys, _dir) = app();
        let leader = leader(&app, 1, 0);
        let mut ids = Vec::new();
        for time in 0..(MAX_EXECUTED as u64 + 3) {
            let executed = app
                .chain
                .propose(Vec::new(), 5_000 + time, leader.0)
                .unwrap()
                .executed;
            let id = BlockId(executed.block.hash());
            ids.push(id);
            app.keep_executed(id, executed);
        }
        assert_eq!(app.executed.len(), MAX_EXECUTED);
        assert!(
            app.take_executed(&ids[0]).is_none(),
            "the oldest went first"
        );
        assert!(app.take_executed(&ids[ids.len() - 1]).is_some());
    }
}
