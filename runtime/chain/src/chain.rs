//! The chain as a node drives it: genesis, checking transactions for the mempool, proposing and
//! validating blocks (execute before voting), committing decided blocks, reading results.

use std::sync::Arc;

use bot_engine::{Address, BlockContext, CallRequest, CodeHash, Engine, Outcome};
use bot_state::{BlockRecord, Changes, Prepared, StateDb, StateProof};
use sha2::{Digest, Sha256};

use crate::block::{Block, Header, merkle_root};
use crate::exec::{BlockView, Executor};
use crate::genesis::{BLOCK_OVERHEAD_BYTES, Genesis, Params};
use crate::layout::{self, AccountState};
use crate::receipt::Receipt;
use crate::tx::{Checked, SignedTx};
use crate::{ChainError, Hash};

const GENESIS_KEY: &[u8] = b"genesis-hash";

/// A block executed against the latest committed state, ready to commit once decided.
pub struct Executed {
    pub block: Block,
    /// One per transaction, in order; then one per command that timed out at the block's end.
    pub receipts: Vec<Receipt>,
    prepared: Prepared,
}

impl std::fmt::Debug for Executed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executed")
            .field("block", &self.block)
            .field("receipts", &self.receipts)
            .field("state_root", &hex::encode(self.prepared.root()))
            .finish()
    }
}

/// A transaction [`Chain::check_tx`] let into the mempool: its signer, and the signer's next
/// nonce on the chain now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    pub signer: Address,
    pub next_nonce: u64,
}

/// A block built by [`Chain::propose`], and what it left out for good.
#[derive(Debug)]
pub struct Proposal {
    pub executed: Executed,
    pub left_out: Vec<LeftOut>,
}

/// A transaction a proposer left out for good, and why: the mempool drops it.
#[derive(Debug)]
pub struct LeftOut {
    pub hash: Hash,
    pub reason: ChainError,
}

impl LeftOut {
    fn new(hash: Hash, reason: ChainError) -> LeftOut {
        LeftOut { hash, reason }
    }
}

/// The chain's rules over one store.
pub struct Chain {
    engine: Engine,
    db: StateDb,
    chain_id: String,
    params: Params,
    /// ABIs by code hash (code never changes under its hash), for tools and RPC.
    abis: std::sync::Mutex<lru::LruCache<CodeHash, Option<Arc<bot_abi::ContractAbi>>>>,
    /// Signers recovered from valid signatures, by transaction hash: a transaction checked
    /// for the mempool is not recovered again when proposed or validated.
    signers: std::sync::Mutex<lru::LruCache<Hash, Address>>,
}

/// Signers kept by [`Chain::check`] (about 100 bytes each).
const SIGNER_CACHE: usize = 1 << 17;

/// Over the genesis's borsh encoding: independent of how its JSON file is formatted.
fn genesis_hash(genesis: &Genesis) -> Hash {
    Sha256::digest(borsh::to_vec(genesis).unwrap_or_default()).into()
}

impl Chain {
    /// Opens the chain in `db`, writing `genesis` as height 0 if the store is empty, or checking
    /// that the store holds this genesis's chain.
    pub fn open(db: StateDb, genesis: &Genesis, engine: Engine) -> Result<Chain, ChainError> {
        genesis.check()?;
        let chain = Chain {
            engine,
            db,
            chain_id: genesis.chain_id.clone(),
            params: genesis.params.clone(),
            abis: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(256).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
            signers: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(SIGNER_CACHE).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        };
        let expected = genesis_hash(genesis);
        match chain.db.height()? {
            None => chain.write_genesis(genesis, expected)?,
            Some(_) => {
                let stored = chain.db.aux(GENESIS_KEY)?;
                if stored.as_deref() != Some(expected.as_slice()) {
                    return Err(ChainError::Genesis(
                        "this store holds another genesis's chain: use a fresh home or the genesis it was made with".into(),
                    ));
                }
            }
        }
        Ok(chain)
    }

    fn write_genesis(&self, genesis: &Genesis, hash: Hash) -> Result<(), ChainError> {
        let mut changes = Changes::new();
        let put = |changes: &mut Changes, key: Vec<u8>, value: Vec<u8>| {
            changes.insert(key, Some(value));
        };
        for account in &genesis.accounts {
            let state = AccountState {
                nonce: 0,
                balance: account.balance,
            };
            put(
                &mut changes,
                layout::account(&account.address),
                borsh::to_vec(&state).unwrap_or_default(),
            );
        }
        put(
            &mut changes,
            layout::ACCESS.to_vec(),
            borsh::to_vec(&genesis.access).unwrap_or_default(),
        );
        put(
            &mut changes,
            layout::PARAMS.to_vec(),
            borsh::to_vec(&genesis.params).unwrap_or_default(),
        );
        put(
            &mut changes,
            layout::CHAIN_ID.to_vec(),
            genesis.chain_id.as_bytes().to_vec(),
        );
        let prepared = self.db.prepare(0, changes)?;
        let header = Header {
            chain_id: genesis.chain_id.clone(),
            height: 0,
            time_ms: genesis.time_ms,
            prev_hash: [0; 32],
            proposer: Address::default(),
            txs_root: merkle_root(&[]),
            receipts_root: merkle_root(&[]),
            state_root: prepared.root(),
            gas_used: 0,
        };
        let block = Block {
            header,
            txs: Vec::new(),
        };
        // The genesis hash goes in first: a crash between the two leaves an empty store that
        // is written again from scratch.
        self.db.put_aux(GENESIS_KEY, &hash)?;
        self.db.commit(
            prepared,
            &BlockRecord {
                hash: block.hash(),
                block: block.to_bytes(),
                certificate: Vec::new(),
                receipts: Vec::new(),
            },
        )?;
        Ok(())
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn db(&self) -> &StateDb {
        &self.db
    }

    /// The last committed height.
    pub fn height(&self) -> Result<u64, ChainError> {
        self.db
            .height()?
            .ok_or_else(|| ChainError::State("the store has no genesis".into()))
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>, ChainError> {
        self.db
            .block(height)?
            .map(|b| Block::from_bytes(&b).map_err(ChainError::State))
            .transpose()
    }

    /// The header of the last committed block.
    pub fn head(&self) -> Result<Header, ChainError> {
        let height = self.height()?;
        Ok(self
            .block(height)?
            .ok_or_else(|| ChainError::State(format!("block {height} is missing")))?
            .header)
    }

    /// A committed transaction's block height, index and receipt.
    pub fn receipt(&self, tx: &Hash) -> Result<Option<(u64, u32, Receipt)>, ChainError> {
        self.db
            .receipt(tx)?
            .map(|(h, i, r)| Ok((h, i, Receipt::from_bytes(&r).map_err(ChainError::State)?)))
            .transpose()
    }

    pub fn account(&self, address: &Address) -> Result<AccountState, ChainError> {
        BlockView::new(self.db.snapshot()?).account(address)
    }

    /// The latest committed state, to read (devices, readings, services, grants...).
    pub fn view(&self) -> Result<BlockView, ChainError> {
        Ok(BlockView::new(self.db.snapshot()?))
    }

    /// `key`'s value at `height` with a proof against that block's state root.
    pub fn prove(&self, key: &[u8], height: u64) -> Result<StateProof, ChainError> {
        Ok(self.db.prove(key, height)?)
    }

    /// [`SignedTx::check_stateless`] with this chain's id and params, recovering each
    /// transaction's signer once.
    fn check(&self, tx: &SignedTx) -> Result<Checked, ChainError> {
        let cache = || self.signers.lock().unwrap_or_else(|e| e.into_inner());
        let mut known = false;
        let checked = tx.check_stateless_with(&self.chain_id, &self.params, |hash| {
            let signer = cache().get(hash).copied();
            known = signer.is_some();
            signer
        })?;
        if !known {
            cache().put(checked.hash, checked.signer);
        }
        Ok(checked)
    }

    /// The checks before a transaction enters the mempool: stateless rules, a nonce not yet
    /// used, and permission to transact.
    pub fn check_tx(&self, tx: &SignedTx) -> Result<Admitted, ChainError> {
        let signer = self.check(tx)?.signer;
        let view = BlockView::new(self.db.snapshot()?);
        let account = view.account(&signer)?;
        if tx.tx.nonce < account.nonce {
            return Err(ChainError::NonceUsed {
                signer,
                nonce: tx.tx.nonce,
                next: account.nonce,
            });
        }
        let access = view.access()?;
        if !crate::exec::permitted(&view, &access, &signer, &tx.tx.kind)? {
            return Err(ChainError::NotPermitted(signer));
        }
        Ok(Admitted {
            signer,
            next_nonce: account.nonce,
        })
    }

    fn context(&self, height: u64, time_ms: u64) -> BlockContext {
        BlockContext {
            height,
            time_ms,
            chain_id: self.chain_id.clone(),
        }
    }

    /// Builds the next block from `candidates` (in order). A transaction that cannot be in it
    /// now is left out: one that never can (it fails the stateless check, its nonce is used,
    /// its signer may not transact, or executing it failed on this node) is reported in
    /// [`Proposal::left_out`] for the mempool to drop; one the block has no room for (gas,
    /// bytes, writes) or whose nonce is still ahead stays for a later block.
    pub fn propose(
        &self,
        candidates: Vec<SignedTx>,
        time_ms: u64,
        proposer: Address,
    ) -> Result<Proposal, ChainError> {
        let head = self.head()?;
        let height = head.height + 1;
        let time_ms = time_ms.max(head.time_ms + 1);
        let executor = self.executor(height, time_ms)?;
        let params = &self.params;
        let mut txs = Vec::new();
        let mut receipts = Vec::new();
        let mut left_out = Vec::new();
        let mut gas = 0u64;
        let mut bytes = BLOCK_OVERHEAD_BYTES;
        for tx in candidates {
            if txs.len() >= params.max_block_txs as usize {
                break;
            }
            let checked = match self.check(&tx) {
                Ok(checked) => checked,
                Err(e) => {
                    left_out.push(LeftOut::new(tx.hash(), e));
                    continue;
                }
            };
            let Some(total) = gas
                .checked_add(tx.tx.gas_limit)
                .filter(|g| *g <= params.block_gas_limit)
            else {
                continue;
            };
            if bytes.saturating_add(checked.size) > params.max_block_bytes {
                continue;
            }
            let mark = executor.view.mark();
            match executor.apply(&tx, &checked) {
                Ok(Ok(receipt)) => {
                    if executor.view.pending_bytes() > params.max_block_write_bytes {
                        executor.view.rollback(mark);
                        continue;
                    }
                    gas = total;
                    bytes += checked.size;
                    receipts.push(receipt);
                    txs.push(tx);
                }
                Ok(Err(skip)) => {
                    if skip.is_final() {
                        let reason = ChainError::Rejected(skip.reason(&checked.signer));
                        left_out.push(LeftOut::new(checked.hash, reason));
                    }
                }
                // Not the transaction's fault, but this node cannot execute it: leaving it
                // out keeps the height going here, and other proposers include it.
                Err(e) => {
                    executor.view.rollback(mark);
                    left_out.push(LeftOut::new(checked.hash, e));
                }
            }
        }
        receipts.extend(executor.expire(receipts.iter().map(|r| r.gas_used).sum())?);
        let executed = self.seal(head, height, time_ms, proposer, txs, receipts, &executor)?;
        Ok(Proposal { executed, left_out })
    }

    fn executor(&self, height: u64, time_ms: u64) -> Result<Executor<'_>, ChainError> {
        Ok(Executor {
            engine: &self.engine,
            view: Arc::new(BlockView::new(self.db.snapshot()?)),
            block: self.context(height, time_ms),
            params: &self.params,
        })
    }

    /// Re-executes a proposed block and checks every header field against the result: what a
    /// validator does before voting for it. `Err` with [`ChainError::InvalidBlock`] if the
    /// block breaks a rule; any other error is this node's own ([`ChainError::is_local`]).
    pub fn validate(&self, block: &Block) -> Result<Executed, ChainError> {
        let head = self.head()?;
        let h = &block.header;
        let params = &self.params;
        let invalid = |m: String| Err(ChainError::InvalidBlock(m));
        if h.chain_id != self.chain_id {
            return invalid(format!(
                "chain id `{}` is not `{}`",
                h.chain_id, self.chain_id
            ));
        }
        if h.height != head.height + 1 {
            return invalid(format!(
                "height {} does not follow {}",
                h.height, head.height
            ));
        }
        if h.prev_hash != head.hash() {
            return invalid("prev_hash is not the hash of the last block".into());
        }
        if h.time_ms <= head.time_ms {
            return invalid(format!(
                "time {} is not after the last block's {}",
                h.time_ms, head.time_ms
            ));
        }
        if block.txs.len() > params.max_block_txs as usize {
            return invalid(format!(
                "{} transactions exceed the limit of {}",
                block.txs.len(),
                params.max_block_txs
            ));
        }
        let size = block.encoded_len();
        if size > params.max_block_bytes {
            return invalid(format!(
                "the block is {size} bytes; the limit is {}",
                params.max_block_bytes
            ));
        }
        let executor = self.executor(h.height, h.time_ms)?;
        let mut gas = 0u64;
        let mut receipts = Vec::new();
        for (i, tx) in block.txs.iter().enumerate() {
            let checked = self
                .check(tx)
                .map_err(|e| ChainError::InvalidBlock(format!("transaction {i}: {e}")))?;
            gas = gas
                .checked_add(tx.tx.gas_limit)
                .filter(|g| *g <= params.block_gas_limit)
                .ok_or_else(|| {
                    ChainError::InvalidBlock("transactions exceed the block gas limit".into())
                })?;
            match executor.apply(tx, &checked)? {
                Ok(receipt) => receipts.push(receipt),
                Err(skip) => {
                    return invalid(format!("transaction {i}: {}", skip.reason(&checked.signer)));
                }
            }
            let written = executor.view.pending_bytes();
            if written > params.max_block_write_bytes {
                return invalid(format!(
                    "transaction {i}: the block's transactions write {written} bytes; the limit is {}",
                    params.max_block_write_bytes
                ));
            }
        }
        receipts.extend(executor.expire(receipts.iter().map(|r| r.gas_used).sum())?);
        let executed = self.seal(
            head,
            h.height,
            h.time_ms,
            h.proposer,
            block.txs.clone(),
            receipts,
            &executor,
        )?;
        let ours = &executed.block.header;
        for (field, same) in [
            ("txs_root", ours.txs_root == h.txs_root),
            ("receipts_root", ours.receipts_root == h.receipts_root),
            ("state_root", ours.state_root == h.state_root),
            ("gas_used", ours.gas_used == h.gas_used),
        ] {
            if !same {
                return invalid(format!("{field} differs from this node's execution"));
            }
        }
        Ok(executed)
    }

    #[allow(clippy::too_many_arguments)]
    fn seal(
        &self,
        head: Header,
        height: u64,
        time_ms: u64,
        proposer: Address,
        txs: Vec<SignedTx>,
        receipts: Vec<Receipt>,
        executor: &Executor<'_>,
    ) -> Result<Executed, ChainError> {
        let prepared = self.db.prepare(height, executor.view.take_changes())?;
        // Each receipt carries its transaction's hash, computed once by the stateless check;
        // the receipts of commands timed out at the block's end follow the transactions'.
        let tx_hashes: Vec<Hash> = receipts.iter().take(txs.len()).map(|r| r.tx_hash).collect();
        let receipt_hashes: Vec<Hash> = receipts.iter().map(Receipt::hash).collect();
        let header = Header {
            chain_id: self.chain_id.clone(),
            height,
            time_ms,
            prev_hash: head.hash(),
            proposer,
            txs_root: merkle_root(&tx_hashes),
            receipts_root: merkle_root(&receipt_hashes),
            state_root: prepared.root(),
            gas_used: receipts.iter().map(|r| r.gas_used).sum(),
        };
        Ok(Executed {
            block: Block { header, txs },
            receipts,
            prepared,
        })
    }

    /// Commits a decided block with its certificate, durably, in one write.
    pub fn commit(&self, executed: Executed, certificate: Vec<u8>) -> Result<(), ChainError> {
        let record = BlockRecord {
            hash: executed.block.hash(),
            block: executed.block.to_bytes(),
            certificate,
            receipts: executed
                .receipts
                .iter()
                .map(|r| (r.tx_hash, r.to_bytes()))
                .collect(),
        };
        self.db.commit(executed.prepared, &record)?;
        Ok(())
    }

    /// Runs a view method on the latest state (writes refused).
    pub fn query(
        &self,
        contract: Address,
        method: &str,
        args: Vec<u8>,
        gas_limit: u64,
    ) -> Result<Outcome, ChainError> {
        let head = self.head()?;
        let view = Arc::new(BlockView::new(self.db.snapshot()?));
        self.engine
            .execute(
                view,
                &self.context(head.height, head.time_ms),
                &CallRequest {
                    contract,
                    caller: Address::default(),
                    origin: Address::default(),
                    tx_hash: [0; 32],
                    method: method.to_string(),
                    args,
                    gas_limit: gas_limit.min(self.params.max_tx_gas),
                    read_only: true,
                },
            )
            .map_err(|e| ChainError::Engine(e.to_string()))
    }

    /// The ABI of the contract at `contract` (its code's `bot:abi` section), if it has one.
    pub fn contract_abi(
        &self,
        contract: &Address,
    ) -> Result<Option<Arc<bot_abi::ContractAbi>>, ChainError> {
        use bot_engine::Host as _;
        let view = BlockView::new(self.db.snapshot()?);
        let host_err = |e: bot_engine::HostError| ChainError::State(e.0);
        let Some(code) = view.contract_code(contract).map_err(host_err)? else {
            return Ok(None);
        };
        let abis = || self.abis.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(abi) = abis().get(&code) {
            return Ok(abi.clone());
        }
        let Some(wasm) = view.code(&code).map_err(host_err)? else {
            return Ok(None);
        };
        // Validated without the lock held: other readers need not wait for it.
        let abi = self
            .engine
            .validate(&wasm)
            .map_err(|e| ChainError::Engine(e.to_string()))?
            .abi;
        abis().put(code, abi.clone());
        Ok(abi)
    }

    /// What `tx` would do if it ran next, without committing: its receipt and gas.
    pub fn simulate(&self, tx: &SignedTx) -> Result<Receipt, ChainError> {
        let checked = self.check(tx)?;
        let head = self.head()?;
        let executor = self.executor(head.height + 1, head.time_ms + 1)?;
        match executor.apply(tx, &checked)? {
            Ok(receipt) => Ok(receipt),
            Err(skip) => Err(ChainError::Rejected(skip.reason(&checked.signer))),
        }
    }
}
