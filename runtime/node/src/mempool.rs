//! Transactions waiting for a block: checked before they enter, bounded in number overall and
//! per signer, handed to the proposer in arrival order with each signer's nonces in order.

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
    #[error("signer {0} already has {1} transactions waiting: the per-signer limit")]
    SignerFull(String, usize),
    #[error("transaction is already in the mempool")]
    Duplicate,
    #[error("nonce {0} is already taken by another waiting transaction of this signer")]
    NonceTaken(u64),
}

struct Entry {
    tx: SignedTx,
    signer: Address,
    seq: u64,
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<Hash, Entry>,
    by_signer: HashMap<Address, BTreeMap<u64, Hash>>,
    arrival: BTreeMap<u64, Hash>,
    next_seq: u64,
}

pub struct Mempool {
    inner: Mutex<Inner>,
    capacity: usize,
    per_signer: usize,
    arrived: Notify,
}

impl Mempool {
    pub fn new(capacity: usize, per_signer: usize) -> Mempool {
        Mempool {
            inner: Mutex::new(Inner::default()),
            capacity,
            per_signer,
            arrived: Notify::new(),
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

    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().by_hash.contains_key(hash)
    }

    /// Adds a transaction already checked against the chain (`Chain::check_tx`).
    pub fn insert(&self, tx: SignedTx, hash: Hash, signer: Address) -> Result<(), MempoolError> {
        let mut inner = self.lock();
        if inner.by_hash.contains_key(&hash) {
            return Err(MempoolError::Duplicate);
        }
        if inner.by_hash.len() >= self.capacity {
            return Err(MempoolError::Full(self.capacity));
        }
        let nonce = tx.tx.nonce;
        let waiting = inner.by_signer.get(&signer);
        if waiting.is_some_and(|w| w.contains_key(&nonce)) {
            return Err(MempoolError::NonceTaken(nonce));
        }
        if waiting.is_some_and(|w| w.len() >= self.per_signer) {
            return Err(MempoolError::SignerFull(
                format!("0x{}", signer.to_hex()),
                self.per_signer,
            ));
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner
            .by_signer
            .entry(signer)
            .or_default()
            .insert(nonce, hash);
        inner.arrival.insert(seq, hash);
        inner.by_hash.insert(hash, Entry { tx, signer, seq });
        drop(inner);
        self.arrived.notify_waiters();
        Ok(())
    }

    /// Up to `max` transactions for a block: in arrival order, except that each signer's
    /// transactions come in nonce order.
    pub fn candidates(&self, max: usize) -> Vec<SignedTx> {
        let inner = self.lock();
        // Each arrival of a signer's transaction takes that signer's next nonce in order.
        let mut queues: HashMap<Address, std::collections::btree_map::Values<'_, u64, Hash>> =
            HashMap::new();
        let mut out = Vec::with_capacity(max.min(inner.by_hash.len()));
        for hash in inner.arrival.values() {
            if out.len() >= max {
                break;
            }
            let Some(entry) = inner.by_hash.get(hash) else {
                continue;
            };
            let queue = queues.entry(entry.signer).or_insert_with(|| {
                inner
                    .by_signer
                    .get(&entry.signer)
                    .map(|q| q.values())
                    .unwrap_or_default()
            });
            if let Some(next) = queue.next().and_then(|h| inner.by_hash.get(h)) {
                out.push(next.tx.clone());
            }
        }
        out
    }

    /// Drops transactions a committed block included, and any of their signers' transactions
    /// whose nonce is now used (`next_nonce` gives a signer's next nonce after the block).
    pub fn remove_committed(&self, included: &[Hash], next_nonce: impl Fn(&Address) -> u64) {
        let mut inner = self.lock();
        let mut signers = Vec::new();
        for hash in included {
            if let Some(entry) = remove(&mut inner, hash) {
                signers.push(entry.signer);
            }
        }
        signers.sort();
        signers.dedup();
        for signer in signers {
            let next = next_nonce(&signer);
            let stale: Vec<Hash> = inner
                .by_signer
                .get(&signer)
                .map(|q| q.range(..next).map(|(_, h)| *h).collect())
                .unwrap_or_default();
            for hash in stale {
                remove(&mut inner, &hash);
            }
        }
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
    if let Some(q) = inner.by_signer.get_mut(&entry.signer) {
        q.remove(&entry.tx.tx.nonce);
        if q.is_empty() {
            inner.by_signer.remove(&entry.signer);
        }
    }
    Some(entry)
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

    #[test]
    fn candidates_keep_arrival_order_across_signers_and_nonce_order_within_one() {
        let (a, b) = (Keypair::dev("a"), Keypair::dev("b"));
        let pool = Mempool::new(10, 3);
        // a's nonces arrive out of order, interleaved with b's.
        for (key, nonce) in [(&a, 1), (&b, 0), (&a, 0), (&b, 1)] {
            let t = tx(key, nonce);
            pool.insert(t.clone(), t.hash(), key.address()).unwrap();
        }
        let order: Vec<(Address, u64)> = pool
            .candidates(10)
            .iter()
            .map(|t| (t.signer().unwrap(), t.tx.nonce))
            .collect();
        let (a, b) = (a.address(), b.address());
        assert_eq!(order, [(a, 0), (b, 0), (a, 1), (b, 1)]);
        assert_eq!(pool.candidates(2).len(), 2);

        let first = tx(&Keypair::dev("a"), 0);
        assert_eq!(
            pool.insert(first.clone(), first.hash(), a),
            Err(MempoolError::Duplicate)
        );
        let other = tx(&Keypair::dev("a"), 2);
        pool.insert(other.clone(), other.hash(), a).unwrap();
        let fourth = tx(&Keypair::dev("a"), 3);
        assert!(matches!(
            pool.insert(fourth.clone(), fourth.hash(), a),
            Err(MempoolError::SignerFull(..))
        ));

        // Committing a's nonce 0 and 1 drops them; b is untouched.
        pool.remove_committed(&[first.hash()], |s| if *s == a { 2 } else { 0 });
        assert_eq!(pool.len(), 3);
        assert!(!pool.contains(&tx(&Keypair::dev("a"), 1).hash()));
    }
}
