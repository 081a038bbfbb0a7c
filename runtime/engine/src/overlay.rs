//! Uncommitted writes of a call stack: one layer per contract call, so a failed callee's
//! writes are dropped and a successful one's fold into its caller's.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use crate::host::{Host, HostError};
use crate::primitives::{Address, Entries, KeyRange, Order, Writes};

#[derive(Debug, Default)]
pub(crate) struct Overlay {
    layers: Vec<Writes>,
}

impl Overlay {
    pub fn new() -> Self {
        Overlay {
            layers: vec![Writes::new()],
        }
    }

    pub fn push(&mut self) {
        self.layers.push(Writes::new());
    }

    /// Folds the top layer into the one below it.
    pub fn commit(&mut self) {
        if self.layers.len() < 2 {
            return;
        }
        if let Some(top) = self.layers.pop()
            && let Some(below) = self.layers.last_mut()
        {
            for (contract, keys) in top {
                below.entry(contract).or_default().extend(keys);
            }
        }
    }

    /// Drops the top layer's writes.
    pub fn discard(&mut self) {
        if self.layers.len() > 1 {
            self.layers.pop();
        } else if let Some(base) = self.layers.last_mut() {
            base.clear();
        }
    }

    /// Writes (`None`: removes) `key`; true if this call stack had not written it before (the
    /// write the key's commit is charged on).
    pub fn set(&mut self, contract: Address, key: Vec<u8>, value: Option<Vec<u8>>) -> bool {
        let Some((top, below)) = self.layers.split_last_mut() else {
            return false;
        };
        match top.entry(contract).or_default().entry(key) {
            Entry::Occupied(mut written) => {
                written.insert(value);
                false
            }
            Entry::Vacant(new) => {
                let first = !below.iter().any(|layer| {
                    layer
                        .get(&contract)
                        .is_some_and(|m| m.contains_key(new.key()))
                });
                new.insert(value);
                first
            }
        }
    }

    /// What the overlay says about `key`: `Some(None)` if removed, `None` if untouched.
    fn lookup(&self, contract: &Address, key: &[u8]) -> Option<Option<&Vec<u8>>> {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| layer.get(contract)?.get(key))
            .map(Option::as_ref)
    }

    pub fn get(
        &self,
        host: &dyn Host,
        contract: &Address,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, HostError> {
        match self.lookup(contract, key) {
            Some(value) => Ok(value.cloned()),
            None => host.get(contract, key),
        }
    }

    /// Up to `limit` entries in `range`, in `order`, with this call stack's writes applied,
    /// and whether more follow.
    pub fn scan(
        &self,
        host: &dyn Host,
        contract: &Address,
        range: &KeyRange,
        order: Order,
        limit: usize,
    ) -> Result<(Entries, bool), HostError> {
        if range.is_empty() {
            return Ok((Vec::new(), false));
        }
        // Pending writes in range, newest layer winning.
        let mut pending: BTreeMap<&[u8], Option<&Vec<u8>>> = BTreeMap::new();
        for layer in &self.layers {
            if let Some(keys) = layer.get(contract) {
                for (k, v) in keys.iter().filter(|(k, _)| range.contains(k)) {
                    pending.insert(k, v.as_ref());
                }
            }
        }
        // Each pending key can hide at most one committed entry, so this one read is enough
        // to find `limit + 1` live entries if they exist.
        let want = limit.saturating_add(1);
        let committed = host.scan(contract, range, order, want.saturating_add(pending.len()))?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = committed
            .into_iter()
            .filter(|(k, _)| !pending.contains_key(k.as_slice()))
            .collect();
        merged.extend(
            pending
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_vec(), v?.clone()))),
        );
        let mut entries: Entries = match order {
            Order::Ascending => merged.into_iter().take(want).collect(),
            Order::Descending => merged.into_iter().rev().take(want).collect(),
        };
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok((entries, more))
    }

    pub fn into_writes(mut self) -> Writes {
        while self.layers.len() > 1 {
            self.commit();
        }
        self.layers.pop().unwrap_or_default()
    }
}
