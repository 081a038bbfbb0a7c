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
        let mut taken: HashMap<Address, usize> = HashMap::new();
        let mut out = Vec::with_capacity(max.min(inner.by_hash.len()));
        for hash in inner.arrival.values() {
            if out.len() >= max {
                break;
            }
            let Some(entry) = inner.by_hash.get(hash) else {
                continue;
            };
            let k = taken.entry(entry.signer).or_default();
            let Some(queue) = inner.by_signer.get(&entry.signer) else {
                continue;
            };
            if let Some(h) = queue.values().nth(*k)
                && let Some(e) = inner.by_hash.get(h)
            {
                out.push(e.tx.clone());
            }
            *k += 1;
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
