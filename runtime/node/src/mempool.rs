//! Transactions waiting for a block: checked before they enter, bounded in number, bytes and
//! nonces ahead per signer, expired after a number of blocks, and handed to the proposer in
//! arrival order with each signer's nonces in order, only as far as they can run now.
//!
//! Nothing here is consensus: each node keeps its own. What it guards is liveness: no signer
//! can pin the mempool with transactions that will never run (nonces far ahead, or a gap),
//! and a transaction a proposer had to leave out for good is dropped ([`Mempool::evict`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bot_chain::Hash;
use bot_chain::SignedTx;
use bot_engine::Address;
use tokio::sync::Notify;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MempoolError {
    #[error("the mempool is full ({0} transactions): try again after the next block")]
    Full(usize),
    #[error("the mempool is full ({0} bytes of transactions): try again after the next block")]
    FullBytes(usize),
    #[error("signer {0} already has {1} transactions waiting: the per-signer limit")]
    SignerFull(String, usize),
    #[error("transaction is already in the mempool")]
    Duplicate,
    #[error("nonce {0} is already taken by another waiting transaction of this signer")]
    NonceTaken(u64),
    #[error(
        "nonce {nonce} is too far ahead: the signer's next nonce is {next}, and nonces up to {limit} ahead of it may wait"
    )]
    NonceTooFar { nonce: u64, next: u64, limit: usize },
}

/// How much the mempool holds, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Transactions waiting in all.
    pub capacity: usize,
    /// Their encoded bytes in all.
    pub max_bytes: usize,
    /// Transactions one signer may have waiting; also how far ahead of its next nonce they
    /// may be.
    pub per_signer: usize,
    /// Blocks a transaction may wait before it is dropped.
    pub ttl_blocks: u64,
}

struct Entry {
    tx: SignedTx,
    signer: Address,
    seq: u64,
    bytes: usize,
    /// The committed height when it arrived.
    arrived_at: u64,
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<Hash, Entry>,
    by_signer: HashMap<Address, BTreeMap<u64, Hash>>,
    /// Each waiting signer's next nonce on the chain, as last learned (at an insert or a
    /// commit): a signer whose first waiting nonce is not it is stuck.
    next: HashMap<Address, u64>,
    arrival: BTreeMap<u64, Hash>,
    next_seq: u64,
    bytes: usize,
    /// The last committed height this mempool was told of.
    height: u64,
}

pub struct Mempool {
    inner: Mutex<Inner>,
    limits: Limits,
    arrived: Notify,
    /// Transactions dropped without being committed, and why: what a client waiting for
    /// one is told (`bot_getTransaction`), for the most recent few thousand.
    dropped: Mutex<lru::LruCache<Hash, String>>,
}

/// Dropped transactions remembered for clients.
const DROPPED_KEPT: usize = 4096;

impl Mempool {
    pub fn new(limits: Limits) -> Mempool {
        Mempool {
            inner: Mutex::new(Inner::default()),
            limits,
            arrived: Notify::new(),
            dropped: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(DROPPED_KEPT).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }

    /// Why this node dropped `hash` without committing it, if it did lately.
    pub fn dropped(&self, hash: &Hash) -> Option<String> {
        self.dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned()
    }

    fn note_dropped(&self, hashes: impl IntoIterator<Item = (Hash, String)>) {
        let mut dropped = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        for (hash, why) in hashes {
            dropped.put(hash, why);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoded bytes of the transactions waiting.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().by_hash.contains_key(hash)
    }

    /// Adds a transaction already checked against the chain (`Chain::check_tx`), whose
    /// signer's next nonce on the chain is `next_nonce`.
    pub fn insert(
        &self,
        tx: SignedTx,
        hash: Hash,
        signer: Address,
        next_nonce: u64,
    ) -> Result<(), MempoolError> {
        let limits = self.limits;
        let bytes = tx.encoded_len();
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate);
        }
        let nonce = tx.tx.nonce;
        let full = |inner: &Inner| {
            if inner.by_hash.len() >= limits.capacity {
                Some(MempoolError::Full(limits.capacity))
            } else if inner.bytes.saturating_add(bytes) > limits.max_bytes {
                Some(MempoolError::FullBytes(limits.max_bytes))
            } else {
                None
            }
        };
        // A full pool makes room for a transaction that can run now by dropping the newest
        // that cannot (its signer's nonces have a gap): those never pay for their place.
        while let Some(e) = full(&inner) {
            if nonce != next_nonce || !evict_stuck(&mut inner) {
                return Err(e);
            }
        }
        if nonce.saturating_sub(next_nonce) >= limits.per_signer as u64 {
            return Err(MempoolError::NonceTooFar {
                nonce,
                next: next_nonce,
                limit: limits.per_signer,
            });
        }
        let waiting = inner.by_signer.get(&signer);
        if waiting.is_some_and(|w| w.contains_key(&nonce)) {
            return Err(MempoolError::NonceTaken(nonce));
        }
        if waiting.is_some_and(|w| w.len() >= limits.per_signer) {
            return Err(MempoolError::SignerFull(
                format!("0x{}", signer.to_hex()),
                limits.per_signer,
            ));
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.bytes += bytes;
        let arrived_at = inner.height;
        inner
            .by_signer
            .entry(signer)
            .or_default()
            .insert(nonce, hash);
        inner.next.insert(signer, next_nonce);
        inner.arrival.insert(seq, hash);
        inner.by_hash.insert(
            hash,
            Entry {
                tx,
                signer,
                seq,
                bytes,
                arrived_at,
            },
        );
        drop(inner);
        self.arrived.notify_waiters();
        Ok(())
    }

    /// Transactions for a block, at most `max` of them and `max_bytes` in all: in arrival
    /// order, except that each signer's come in nonce order from its next nonce on
    /// (`next_nonce`), stopping at the first gap. A transaction that cannot run yet takes
    /// no place in the block.
    pub fn candidates(
        &self,
        max: usize,
        max_bytes: usize,
        next_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<SignedTx> {
        let inner = self.lock();
        // Each signer's next runnable nonce, and its waiting transactions from there on.
        let mut queues: HashMap<Address, (u64, std::collections::btree_map::Range<'_, u64, Hash>)> =
            HashMap::new();
        let mut out = Vec::with_capacity(max.min(inner.by_hash.len()));
        let mut bytes = 0usize;
        for hash in inner.arrival.values() {
            if out.len() >= max {
                break;
            }
            let Some(entry) = inner.by_hash.get(hash) else {
                continue;
            };
            let (expected, queue) = queues.entry(entry.signer).or_insert_with(|| {
                let next = next_nonce(&entry.signer);
                let range = inner
                    .by_signer
                    .get(&entry.signer)
                    .map(|q| q.range(next..))
                    .unwrap_or_default();
                (next, range)
            });
            let Some((&nonce, next)) = queue.next() else {
                continue;
            };
            if nonce != *expected {
                // A gap: nothing more of this signer's can run in this block.
                *queue = Default::default();
                continue;
            }
            let Some(next) = inner.by_hash.get(next) else {
                continue;
            };
            if bytes.saturating_add(next.bytes) > max_bytes {
                break;
            }
            bytes += next.bytes;
            *expected += 1;
            out.push(next.tx.clone());
        }
        out
    }

    /// Drops transactions a committed block included, any of their signers' transactions
    /// whose nonce is now used (`next_nonce` gives a signer's next nonce after the block),
    /// and every transaction that has waited more than the time-to-live since it arrived.
    pub fn remove_committed(
        &self,
        height: u64,
        included: &[Hash],
        next_nonce: impl Fn(&Address) -> u64,
    ) {
        let ttl = self.limits.ttl_blocks;
        let mut inner = self.lock();
        inner.height = height;
        let mut signers = Vec::new();
        for hash in included {
            if let Some(entry) = remove(&mut inner, hash) {
                signers.push(entry.signer);
            }
        }
        signers.sort();
        signers.dedup();
        let mut dropped = Vec::new();
        for signer in signers {
            let next = next_nonce(&signer);
            if let Some(known) = inner.next.get_mut(&signer) {
                *known = next;
            }
            let stale: Vec<Hash> = inner
                .by_signer
                .get(&signer)
                .map(|q| q.range(..next).map(|(_, h)| *h).collect())
                .unwrap_or_default();
            for hash in stale {
                remove(&mut inner, &hash);
                dropped.push((hash, "another transaction used its nonce".to_string()));
            }
        }
        // Arrival order is admission order, so the expired are at the front.
        let expired: Vec<Hash> = inner
            .arrival
            .values()
            .map_while(|h| {
                let entry = inner.by_hash.get(h)?;
                (entry.arrived_at.saturating_add(ttl) < height).then_some(*h)
            })
            .collect();
        for hash in expired {
            remove(&mut inner, &hash);
            dropped.push((hash, format!("it waited more than {ttl} blocks")));
        }
        drop(inner);
        self.note_dropped(dropped);
    }

    /// Drops transactions a proposer left out of its block for good (their nonce is used,
    /// the signer may no longer transact, executing them failed on this node).
    pub fn evict(&self, dropped: Vec<(Hash, String)>) {
        let mut inner = self.lock();
        for (hash, _) in &dropped {
            remove(&mut inner, hash);
        }
        drop(inner);
        self.note_dropped(dropped);
    }

    /// Waits until a transaction arrives or `timeout` passes.
    pub async fn wait_for_any(&self, timeout: std::time::Duration) {
        let notified = self.arrived.notified();
        if !self.is_empty() {
            return;
        }
        let _ = tokio::time::timeout(timeout, notified).await;
    }
}

fn remove(inner: &mut Inner, hash: &Hash) -> Option<Entry> {
    let entry = inner.by_hash.remove(hash)?;
    inner.arrival.remove(&entry.seq);
    inner.bytes -= entry.bytes;
    if let Some(q) = inner.by_signer.get_mut(&entry.signer) {
        q.remove(&entry.tx.tx.nonce);
        if q.is_empty() {
            inner.by_signer.remove(&entry.signer);
            inner.next.remove(&entry.signer);
        }
    }
    Some(entry)
}

/// Drops the newest transaction of a stuck signer (one whose first waiting nonce is not its
/// next); false if no signer is stuck.
fn evict_stuck(inner: &mut Inner) -> bool {
    let stuck = |inner: &Inner, signer: &Address| {
        let first = inner
            .by_signer
            .get(signer)
            .and_then(|q| q.keys().next().copied());
        first != inner.next.get(signer).copied()
    };
    let victim = inner.arrival.values().rev().find(|h| {
        inner
            .by_hash
            .get(*h)
            .is_some_and(|e| stuck(inner, &e.signer))
    });
    match victim.copied() {
        Some(hash) => remove(inner, &hash).is_some(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use bot_chain::{Keypair, Transaction, TxKind};

    use super::*;

    fn tx(key: &Keypair, nonce: u64) -> SignedTx {
        let kind = TxKind::Transfer {
            to: bot_engine::Address([1; 20]),
            amount: 1,
        };
        let tx = Transaction {
            chain_id: "t".into(),
            nonce,
            gas_limit: 2_000_000,
            kind,
        };
        SignedTx::sign(tx, key)
    }

    fn limits(capacity: usize, per_signer: usize) -> Limits {
        Limits {
            capacity,
            max_bytes: 1 << 20,
            per_signer,
            ttl_blocks: 10,
        }
    }

    fn add(pool: &Mempool, key: &Keypair, nonce: u64, next: u64) -> Result<(), MempoolError> {
        let t = tx(key, nonce);
        pool.insert(t.clone(), t.hash(), key.address(), next)
    }

    fn order(txs: &[SignedTx]) -> Vec<(Address, u64)> {
        txs.iter()
            .map(|t| (t.signer().unwrap(), t.tx.nonce))
            .collect()
    }

    #[test]
    fn candidates_keep_arrival_order_across_signers_and_nonce_order_within_one() {
        let (a, b) = (Keypair::dev("a"), Keypair::dev("b"));
        let pool = Mempool::new(limits(10, 3));
        // a's nonces arrive out of order, interleaved with b's.
        for (key, nonce) in [(&a, 1), (&b, 0), (&a, 0), (&b, 1)] {
            add(&pool, key, nonce, 0).unwrap();
        }
        let all = pool.candidates(10, usize::MAX, |_| 0);
        let (a_addr, b_addr) = (a.address(), b.address());
        assert_eq!(
            order(&all),
            [(a_addr, 0), (b_addr, 0), (a_addr, 1), (b_addr, 1)]
        );
        assert_eq!(pool.candidates(2, usize::MAX, |_| 0).len(), 2);
        // Bytes bound a block too.
        let one = all[0].encoded_len();
        assert_eq!(pool.candidates(10, 2 * one + 1, |_| 0).len(), 2);

        assert_eq!(add(&pool, &a, 0, 0), Err(MempoolError::Duplicate));
        add(&pool, &a, 2, 0).unwrap();
        assert!(matches!(
            add(&pool, &a, 3, 1),
            Err(MempoolError::SignerFull(..))
        ));

        // Committing a's nonce 0 and 1 drops them; b is untouched.
        let first = tx(&a, 0);
        pool.remove_committed(1, &[first.hash()], |s| if *s == a_addr { 2 } else { 0 });
        assert_eq!(pool.len(), 3);
        assert!(!pool.contains(&tx(&a, 1).hash()));
    }

    #[test]
    fn future_nonces_neither_fill_blocks_nor_pin_the_pool() {
        let (a, b) = (Keypair::dev("a"), Keypair::dev("b"));
        let pool = Mempool::new(limits(100, 4));
        // a is at nonce 0 but sends 1, 2, 3: a gap, so none of them can run.
        for nonce in 1..4 {
            add(&pool, &a, nonce, 0).unwrap();
        }
        // Nonces as far ahead as the per-signer limit are refused outright.
        assert_eq!(
            add(&pool, &a, 4, 0),
            Err(MempoolError::NonceTooFar {
                nonce: 4,
                next: 0,
                limit: 4
            })
        );
        add(&pool, &b, 0, 0).unwrap();
        // A block of one still gets b's runnable transaction: a's take no place.
        assert_eq!(
            order(&pool.candidates(1, usize::MAX, |_| 0)),
            [(b.address(), 0)]
        );
        // Once a's nonce 0 arrives, its whole run follows.
        add(&pool, &a, 0, 0).unwrap();
        assert_eq!(pool.candidates(10, usize::MAX, |_| 0).len(), 5);

        // What waits longer than the time-to-live is dropped at a commit.
        pool.remove_committed(5, &[], |_| 0);
        assert_eq!(pool.len(), 5);
        pool.remove_committed(12, &[], |_| 0);
        assert!(pool.is_empty(), "{} left", pool.len());
        assert_eq!(
            pool.dropped(&tx(&a, 1).hash()).as_deref(),
            Some("it waited more than 10 blocks")
        );
        assert_eq!(pool.bytes(), 0);
    }

    #[test]
    fn a_full_pool_drops_what_cannot_run_for_what_can() {
        let (a, b) = (Keypair::dev("a"), Keypair::dev("b"));
        let pool = Mempool::new(limits(3, 10));
        // a fills the pool with nonces that have a gap (a is at 0).
        for nonce in 1..4 {
            add(&pool, &a, nonce, 0).unwrap();
        }
        // Another gapped transaction is refused: nothing that can run is waiting for room.
        assert_eq!(add(&pool, &b, 5, 0), Err(MempoolError::Full(3)));
        // b's runnable one takes the place of a's newest.
        add(&pool, &b, 0, 0).unwrap();
        assert!(!pool.contains(&tx(&a, 3).hash()));
        assert!(pool.contains(&tx(&a, 1).hash()));
        // When nothing is stuck, a full pool refuses even runnable transactions.
        let pool = Mempool::new(limits(1, 10));
        add(&pool, &a, 0, 0).unwrap();
        assert_eq!(add(&pool, &b, 0, 0), Err(MempoolError::Full(1)));
    }

    #[test]
    fn bytes_are_bounded_and_evicted_transactions_leave() {
        let a = Keypair::dev("a");
        let one = tx(&a, 0).encoded_len();
        let pool = Mempool::new(Limits {
            max_bytes: 2 * one,
            ..limits(100, 10)
        });
        add(&pool, &a, 0, 0).unwrap();
        add(&pool, &a, 1, 0).unwrap();
        assert_eq!(add(&pool, &a, 2, 0), Err(MempoolError::FullBytes(2 * one)));
        pool.evict(vec![(tx(&a, 0).hash(), "left out".into())]);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.dropped(&tx(&a, 0).hash()).as_deref(), Some("left out"));
        add(&pool, &a, 2, 0).unwrap();
    }
}
