//! An in-memory [`Host`]: the state behind `cargo bot run` and the engine's tests. It is a
//! complete state backend (code, contracts, ordered key-value stores), just not a durable one.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use crate::host::{Host, HostError};
use crate::primitives::{Address, Entries, HostScan, KeyRange, Order, Writes};
use crate::validate::CodeHash;

#[derive(Default)]
struct State {
    code: BTreeMap<CodeHash, Arc<[u8]>>,
    contracts: BTreeMap<Address, CodeHash>,
    stores: BTreeMap<Address, BTreeMap<Vec<u8>, Vec<u8>>>,
}

/// The serialized form of [`State`].
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize)]
struct Snapshot {
    code: Vec<([u8; 32], Vec<u8>)>,
    contracts: Vec<([u8; 20], [u8; 32])>,
    stores: Vec<([u8; 20], StoreEntries)>,
}

/// One contract's key-value pairs, in key order.
type StoreEntries = Vec<(Vec<u8>, Vec<u8>)>;

const SNAPSHOT_VERSION: u32 = 1;

#[derive(Default)]
pub struct MemoryHost {
    state: RwLock<State>,
}

impl MemoryHost {
    pub fn new() -> MemoryHost {
        MemoryHost::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // The lock only guards plain maps; a panic elsewhere cannot leave them half-updated
        // in a way that matters to readers.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores code (already validated by the caller) and returns its hash.
    pub fn put_code(&self, wasm: &[u8]) -> CodeHash {
        let hash = CodeHash::of(wasm);
        self.write().code.insert(hash, Arc::from(wasm));
        hash
    }

    /// Makes `contract` run `code`.
    pub fn put_contract(&self, contract: Address, code: CodeHash) {
        self.write().contracts.insert(contract, code);
    }

    /// The whole state as bytes, for tools that keep it between runs (`cargo bot run --state`).
    pub fn export(&self) -> Vec<u8> {
        let state = self.read();
        let snapshot = Snapshot {
            code: state.code.iter().map(|(h, c)| (h.0, c.to_vec())).collect(),
            contracts: state.contracts.iter().map(|(a, h)| (a.0, h.0)).collect(),
            stores: state
                .stores
                .iter()
                .map(|(a, s)| (a.0, s.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
                .collect(),
        };
        // Byte vectors and arrays always serialize into a Vec.
        borsh::to_vec(&(SNAPSHOT_VERSION, snapshot)).unwrap_or_default()
    }

    /// A state from [`MemoryHost::export`]'s bytes. Code is checked against its hash.
    pub fn import(bytes: &[u8]) -> Result<MemoryHost, HostError> {
        let (version, snapshot): (u32, Snapshot) = borsh::from_slice(bytes)
            .map_err(|e| HostError(format!("the saved state does not decode: {e}")))?;
        if version != SNAPSHOT_VERSION {
            return Err(HostError(format!(
                "the saved state is format {version}; this tool reads format {SNAPSHOT_VERSION}"
            )));
        }
        let mut state = State::default();
        for (hash, code) in snapshot.code {
            if CodeHash::of(&code).0 != hash {
                return Err(HostError(
                    "the saved state's code does not match its hash".into(),
                ));
            }
            state.code.insert(CodeHash(hash), Arc::from(code));
        }
        for (address, hash) in snapshot.contracts {
            state.contracts.insert(Address(address), CodeHash(hash));
        }
        for (address, entries) in snapshot.stores {
            state
                .stores
                .insert(Address(address), entries.into_iter().collect());
        }
        Ok(MemoryHost {
            state: RwLock::new(state),
        })
    }

    /// Applies a successful call's writes.
    pub fn apply(&self, writes: &Writes) {
        let mut state = self.write();
        for (contract, keys) in writes {
            let store = state.stores.entry(*contract).or_default();
            for (key, value) in keys {
                match value {
                    Some(v) => store.insert(key.clone(), v.clone()),
                    None => store.remove(key),
                };
            }
        }
    }
}

impl Host for MemoryHost {
    fn get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self
            .read()
            .stores
            .get(contract)
            .and_then(|s| s.get(key).cloned()))
    }

    fn scan(
        &self,
        contract: &Address,
        range: &KeyRange,
        order: Order,
        limit: usize,
        max_walk: u64,
    ) -> Result<HostScan, HostError> {
        let state = self.read();
        let Some(store) = state.stores.get(contract) else {
            return Ok(HostScan::default());
        };
        if range.is_empty() {
            return Ok(HostScan::default());
        }
        // Nothing is pending here: the walk is the entries read.
        let n = limit.min(usize::try_from(max_walk).unwrap_or(usize::MAX));
        let start = range
            .start
            .as_ref()
            .map_or(Bound::Unbounded, |s| Bound::Included(s.clone()));
        let end = range
            .end
            .as_ref()
            .map_or(Bound::Unbounded, |e| Bound::Excluded(e.clone()));
        let iter = store
            .range((start, end))
            .map(|(k, v)| (k.clone(), v.clone()));
        let entries: Entries = match order {
            Order::Ascending => iter.take(n).collect(),
            Order::Descending => iter.rev().take(n).collect(),
        };
        Ok(HostScan {
            walked: entries.len() as u64,
            cut: n < limit && entries.len() == n,
            entries,
        })
    }

    fn contract_code(&self, contract: &Address) -> Result<Option<CodeHash>, HostError> {
        Ok(self.read().contracts.get(contract).copied())
    }

    fn code(&self, hash: &CodeHash) -> Result<Option<Arc<[u8]>>, HostError> {
        Ok(self.read().code.get(hash).cloned())
    }
}
