//! Uncommitted writes of a call stack: one layer per contract call, so a failed callee's
//! writes are dropped and a successful one's fold into its caller's.

use std::collections::VecDeque;
use std::collections::btree_map::{self, Entry};
use std::ops::Bound;

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
    /// and whether more follow. The walk is priced as it goes, within `budget` gas: every
    /// pending write it steps over (removals and keys a newer layer hides too) and every
    /// committed entry it reads costs `price`, so no scan does work its gas did not cover.
    pub fn scan(
        &self,
        host: &dyn Host,
        contract: &Address,
        range: &KeyRange,
        order: Order,
        limit: usize,
        gas: ScanGas,
    ) -> Result<Scan, HostError> {
        let mut walk = Walk {
            price: gas.price,
            budget: gas.budget,
            cost: 0,
            bytes: 0,
            out_of_gas: false,
        };
        if range.is_empty() {
            return Ok(walk.finish(Vec::new(), false));
        }
        let want = limit.saturating_add(1);
        let mut pending = Pending::new(&self.layers, contract, range, order);
        let mut committed = Committed {
            range: range.clone(),
            order,
            page: want,
            buffer: VecDeque::new(),
            done: false,
            pages: 0,
        };
        let mut entries: Entries = Vec::new();
        while entries.len() < want {
            if committed.buffer.is_empty()
                && !committed.done
                && !committed.fetch(host, contract, &mut walk)?
            {
                break;
            }
            let committed_key = committed.buffer.front().map(|(k, _)| k.as_slice());
            let take_pending = match (pending.peek(), committed_key) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(p), Some(c)) => match order {
                    Order::Ascending => p <= c,
                    Order::Descending => p >= c,
                },
            };
            if take_pending {
                let Some((key, value)) = pending.next(&mut walk) else {
                    break;
                };
                if committed_key == Some(key) {
                    committed.buffer.pop_front();
                }
                if let Some(value) = value {
                    entries.push((key.to_vec(), value.clone()));
                }
            } else if let Some(entry) = committed.buffer.pop_front() {
                entries.push(entry);
            }
        }
        let more = entries.len() > limit;
        entries.truncate(limit);
        Ok(walk.finish(entries, more))
    }

    pub fn into_writes(mut self) -> Writes {
        while self.layers.len() > 1 {
            self.commit();
        }
        self.layers.pop().unwrap_or_default()
    }
}

/// What a scan pays for each entry it walks: a pending write it steps over or a committed
/// entry it reads (`per_entry`, and `per_byte` of its key and value), and each page of
/// committed entries it asks the store for after the first (`per_page`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScanPrice {
    pub per_page: u64,
    pub per_entry: u64,
    pub per_byte: u64,
}

/// What a scan may spend, and at what price.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScanGas {
    pub price: ScanPrice,
    /// Gas the walk may use at most.
    pub budget: u64,
}

/// A scan's entries and what its walk cost.
#[derive(Debug)]
pub(crate) struct Scan {
    pub entries: Entries,
    /// More entries follow the last one.
    pub more: bool,
    /// The gas the walk cost (at most the budget).
    pub cost: u64,
    /// Key and value bytes walked.
    pub bytes: u64,
    /// The walk stopped where the next step would have cost more than the budget.
    pub out_of_gas: bool,
}

/// The running price of a scan's walk.
struct Walk {
    price: ScanPrice,
    budget: u64,
    cost: u64,
    bytes: u64,
    out_of_gas: bool,
}

impl Walk {
    /// Pays `fee`; false (and the walk is out of gas) if the budget does not cover it.
    fn pay(&mut self, fee: Option<u64>) -> bool {
        match fee.and_then(|f| self.cost.checked_add(f)) {
            Some(total) if total <= self.budget && !self.out_of_gas => {
                self.cost = total;
                true
            }
            _ => {
                self.out_of_gas = true;
                false
            }
        }
    }

    /// Pays for one entry of `bytes` key and value bytes.
    fn entry(&mut self, bytes: usize) -> bool {
        let fee = self
            .price
            .per_byte
            .checked_mul(bytes as u64)
            .and_then(|b| b.checked_add(self.price.per_entry));
        let paid = self.pay(fee);
        if paid {
            self.bytes += bytes as u64;
        }
        paid
    }

    fn finish(self, entries: Entries, more: bool) -> Scan {
        Scan {
            entries: if self.out_of_gas { Vec::new() } else { entries },
            more,
            cost: self.cost,
            bytes: self.bytes,
            out_of_gas: self.out_of_gas,
        }
    }
}

type LayerRange<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a Option<Vec<u8>>)> + 'a>;

/// The pending writes of every layer in a range, walked in order, the newest layer's winning
/// where several wrote a key.
struct Pending<'a> {
    /// Oldest layer first.
    layers: Vec<std::iter::Peekable<LayerRange<'a>>>,
    order: Order,
}

impl<'a> Pending<'a> {
    fn new(layers: &'a [Writes], contract: &Address, range: &KeyRange, order: Order) -> Self {
        let bounds = bounds(range);
        let layers = layers
            .iter()
            .filter_map(|layer| layer.get(contract))
            .map(|keys| {
                let inner: btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>> =
                    keys.range::<Vec<u8>, _>(bounds.clone());
                let walk: LayerRange<'a> = match order {
                    Order::Ascending => Box::new(inner),
                    Order::Descending => Box::new(inner.rev()),
                };
                walk.peekable()
            })
            .collect();
        Pending { layers, order }
    }

    /// The next key in order, if any.
    fn peek(&mut self) -> Option<&'a [u8]> {
        let order = self.order;
        self.layers
            .iter_mut()
            .filter_map(|l| l.peek().map(|(k, _)| k.as_slice()))
            .reduce(|a, b| match order {
                Order::Ascending => a.min(b),
                Order::Descending => a.max(b),
            })
    }

    /// Steps over the next key in every layer that wrote it, paying for each; the newest
    /// layer's value. `None` at the end or when the walk cannot pay.
    fn next(&mut self, walk: &mut Walk) -> Option<(&'a [u8], &'a Option<Vec<u8>>)> {
        let key = self.peek()?;
        let mut newest = None;
        for layer in &mut self.layers {
            if layer.peek().is_some_and(|(k, _)| k.as_slice() == key) {
                let (k, v) = layer.next()?;
                if !walk.entry(k.len() + v.as_ref().map_or(0, Vec::len)) {
                    return None;
                }
                newest = Some(v);
            }
        }
        Some((key, newest?))
    }
}

/// Committed entries of a range, read from the store a page at a time as the merge needs them.
struct Committed {
    /// What is left to read.
    range: KeyRange,
    order: Order,
    /// Entries the next page asks for; doubles each page.
    page: usize,
    buffer: VecDeque<(Vec<u8>, Vec<u8>)>,
    done: bool,
    /// Pages read so far.
    pages: u32,
}

impl Committed {
    /// Reads the next page, paying for the page and every entry it may hold before, and for
    /// their bytes after; false if the walk cannot pay.
    fn fetch(
        &mut self,
        host: &dyn Host,
        contract: &Address,
        walk: &mut Walk,
    ) -> Result<bool, HostError> {
        if self.range.is_empty() {
            self.done = true;
            return Ok(true);
        }
        let page = self.page;
        // The call's base fee covers the first page; each further one is another seek.
        let fee = if self.pages == 0 {
            0
        } else {
            walk.price.per_page
        };
        self.pages += 1;
        if !walk.pay(Some(fee)) {
            return Ok(false);
        }
        // The host walks no further than the gas left pays for.
        let left = walk.budget - walk.cost;
        let max_walk = left.checked_div(walk.price.per_entry).unwrap_or(u64::MAX);
        let scan = host.scan(contract, &self.range, self.order, page, max_walk)?;
        let bytes: u64 = scan
            .entries
            .iter()
            .map(|(k, v)| (k.len() + v.len()) as u64)
            .sum();
        let fee = walk
            .price
            .per_entry
            .checked_mul(scan.walked)
            .zip(walk.price.per_byte.checked_mul(bytes))
            .and_then(|(entries, bytes)| entries.checked_add(bytes));
        if !walk.pay(fee) || scan.cut {
            walk.out_of_gas = true;
            return Ok(false);
        }
        walk.bytes += bytes;
        let read = scan.entries;
        self.done = read.len() < page;
        if let Some((last, _)) = read.last() {
            match self.order {
                Order::Ascending => {
                    let mut after = last.clone();
                    after.push(0);
                    self.range.start = Some(after);
                }
                Order::Descending => self.range.end = Some(last.clone()),
            }
        }
        self.page = page.saturating_mul(2);
        self.buffer.extend(read);
        Ok(true)
    }
}

fn bounds(range: &KeyRange) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    (
        range
            .start
            .clone()
            .map_or(Bound::Unbounded, Bound::Included),
        range.end.clone().map_or(Bound::Unbounded, Bound::Excluded),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::memory_host::MemoryHost;

    const ME: Address = Address([7; 20]);
    const PRICE: ScanPrice = ScanPrice {
        per_page: 100,
        per_entry: 10,
        per_byte: 1,
    };

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    fn key(n: u64) -> Vec<u8> {
        format!("k{:03}", n % 60).into_bytes()
    }

    fn committed(keys: impl IntoIterator<Item = Vec<u8>>) -> MemoryHost {
        let host = MemoryHost::new();
        let mut writes = Writes::new();
        let store = writes.entry(ME).or_default();
        for k in keys {
            store.insert(k, Some(vec![1; 4]));
        }
        host.apply(&writes);
        host
    }

    #[test]
    fn scans_agree_with_a_plain_merge_over_nested_layers() {
        for case in 0..60u64 {
            let mut seed = case;
            let start: Vec<Vec<u8>> = (0..lcg(&mut seed) % 40)
                .map(|_| key(lcg(&mut seed)))
                .collect();
            let host = committed(start.clone());
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> =
                start.into_iter().map(|k| (k, vec![1; 4])).collect();
            let mut overlay = Overlay::new();
            // Layers as nested calls leave them: some kept, some pushed on top.
            for _ in 0..lcg(&mut seed) % 4 {
                overlay.push();
                for _ in 0..lcg(&mut seed) % 20 {
                    let k = key(lcg(&mut seed));
                    let value = (!lcg(&mut seed).is_multiple_of(3)).then(|| vec![2; 3]);
                    match &value {
                        Some(v) => model.insert(k.clone(), v.clone()),
                        None => model.remove(&k),
                    };
                    overlay.set(ME, k, value);
                }
            }
            for _ in 0..8 {
                let (a, b) = (key(lcg(&mut seed)), key(lcg(&mut seed)));
                let range = KeyRange {
                    start: Some(a.clone().min(b.clone())),
                    end: Some(a.max(b)),
                };
                let limit = (lcg(&mut seed) % 10) as usize;
                let order = if lcg(&mut seed).is_multiple_of(2) {
                    Order::Descending
                } else {
                    Order::Ascending
                };
                let in_range: Vec<_> = model
                    .iter()
                    .filter(|(k, _)| range.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut expected = in_range.clone();
                if order == Order::Descending {
                    expected.reverse();
                }
                let more = expected.len() > limit;
                expected.truncate(limit);
                let scan = overlay
                    .scan(
                        &host,
                        &ME,
                        &range,
                        order,
                        limit,
                        ScanGas {
                            price: PRICE,
                            budget: u64::MAX,
                        },
                    )
                    .unwrap();
                assert_eq!(
                    scan.entries, expected,
                    "case {case}: {range:?} {order:?} {limit}"
                );
                assert_eq!(scan.more, more, "case {case}");
                assert!(!scan.out_of_gas);
            }
        }
    }

    #[test]
    fn a_scan_pays_for_the_pending_writes_it_steps_over_and_stops_at_its_budget() {
        let host = committed((0..10).map(key));
        let mut overlay = Overlay::new();
        // The call wrote 200 keys of 1 KiB and removed them again, then scans for one entry.
        for n in 100..300 {
            let k = format!("p{n:03}").into_bytes();
            overlay.set(ME, k.clone(), Some(vec![0; 1024]));
            overlay.set(ME, k, None);
        }
        let all = KeyRange::default();
        let scan = overlay
            .scan(
                &host,
                &ME,
                &all,
                Order::Descending,
                1,
                ScanGas {
                    price: PRICE,
                    budget: u64::MAX,
                },
            )
            .unwrap();
        assert_eq!(scan.entries, vec![(key(9), vec![1; 4])]);
        // 200 removals stepped over (4 key bytes each), then one committed page of the two
        // entries wanted (one of them the look-ahead that tells whether more follow).
        let walked = 200 * (10 + 4) + 2 * (10 + 4 + 4);
        assert_eq!(scan.cost, walked);
        for budget in [0, 20, walked - 1] {
            let short = overlay
                .scan(
                    &host,
                    &ME,
                    &all,
                    Order::Descending,
                    1,
                    ScanGas {
                        price: PRICE,
                        budget,
                    },
                )
                .unwrap();
            assert!(short.out_of_gas && short.entries.is_empty(), "{budget}");
            assert!(short.cost <= budget, "{budget}: {}", short.cost);
        }
        // Live pending writes end the walk as soon as the page is full: the 1 KiB values the
        // scan does not return cost nothing.
        let mut live = Overlay::new();
        for n in 100..300 {
            live.set(ME, format!("p{n:03}").into_bytes(), Some(vec![0; 1024]));
        }
        let scan = live
            .scan(
                &host,
                &ME,
                &all,
                Order::Ascending,
                1,
                ScanGas {
                    price: PRICE,
                    budget: u64::MAX,
                },
            )
            .unwrap();
        assert_eq!(scan.entries[0].0, key(0));
        assert_eq!(scan.cost, 2 * (10 + 8));
    }
}
