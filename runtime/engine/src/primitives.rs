//! Values that cross the engine's API: addresses, events, key ranges, block and call context.

use std::collections::BTreeMap;

/// A 20-byte account or contract address.
#[derive(
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Address(pub [u8; 20]);

impl Address {
    pub const LEN: usize = 20;

    pub fn from_slice(bytes: &[u8]) -> Option<Address> {
        Some(Address(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Address({})", self.to_hex())
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let hex_part = s.strip_prefix("0x").unwrap_or(s);
        let bytes = hex::decode(hex_part).map_err(|e| format!("address `{s}` is not hex: {e}"))?;
        Address::from_slice(&bytes)
            .ok_or_else(|| format!("address `{s}` has {} bytes; addresses have 20", bytes.len()))
    }
}

/// An event a contract emitted; kept only if the call that emitted it succeeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub contract: Address,
    pub name: String,
    pub data: Vec<u8>,
}

/// Key order for scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// Keys in `[start, end)`; `None` is unbounded on that side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub start: Option<Vec<u8>>,
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    /// Keys that start with `prefix`, narrowed by optional `start` (inclusive) and `end` (exclusive).
    pub fn with_prefix(prefix: &[u8], start: Option<Vec<u8>>, end: Option<Vec<u8>>) -> KeyRange {
        let prefix_start = prefix.to_vec();
        let prefix_end = prefix_successor(prefix);
        let start = match start {
            Some(s) if s > prefix_start => Some(s),
            _ => Some(prefix_start),
        };
        let end = match (end, prefix_end) {
            (Some(e), Some(p)) => Some(e.min(p)),
            (e, p) => e.or(p),
        };
        KeyRange { start, end }
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.start.as_deref().is_none_or(|s| key >= s)
            && self.end.as_deref().is_none_or(|e| key < e)
    }

    pub fn is_empty(&self) -> bool {
        matches!((&self.start, &self.end), (Some(s), Some(e)) if s >= e)
    }
}

/// The smallest key greater than every key starting with `prefix`; `None` if there is none.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Key-value pairs in key order, as scans return them.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// A page of committed entries and the walk that found them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostScan {
    pub entries: Entries,
    /// Entries stepped over to find them: every committed entry read and every write of the
    /// host's own that was in the way (removals included), the returned ones among them.
    pub walked: u64,
    /// The walk stopped at its bound before the page was full or the range ended.
    pub cut: bool,
}

/// State changes of a call, by contract and key; `None` removes the key.
pub type Writes = BTreeMap<Address, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// Facts about the block a call executes in, the same on every validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub height: u64,
    /// Milliseconds since the Unix epoch, from the proposer.
    pub time_ms: u64,
    pub chain_id: String,
}

/// One top-level call of a contract method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRequest {
    pub contract: Address,
    /// The immediate caller; for a transaction, its signer.
    pub caller: Address,
    /// The transaction's signer.
    pub origin: Address,
    /// All zero for a read-only query.
    pub tx_hash: [u8; 32],
    pub method: String,
    pub args: Vec<u8>,
    pub gas_limit: u64,
    /// A query: writes, events and read-write calls are refused.
    pub read_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_cover_exactly_the_prefix() {
        let r = KeyRange::with_prefix(b"ab", None, None);
        assert!(
            r.contains(b"ab")
                && r.contains(b"ab\xff\xff")
                && !r.contains(b"ac")
                && !r.contains(b"aa")
        );
        let r = KeyRange::with_prefix(b"a\xff", None, None);
        assert_eq!(r.end, Some(b"b".to_vec()));
        let r = KeyRange::with_prefix(b"\xff", None, None);
        assert_eq!(r.end, None);
        let r = KeyRange::with_prefix(b"k", Some(b"k5".to_vec()), Some(b"k8".to_vec()));
        assert!(r.contains(b"k5") && r.contains(b"k7") && !r.contains(b"k8") && !r.contains(b"k4"));
        assert!(KeyRange::with_prefix(b"k", Some(b"z".to_vec()), None).is_empty());
    }

    #[test]
    fn addresses_parse_with_or_without_0x() {
        let a: Address = "0x0101010101010101010101010101010101010101"
            .parse()
            .unwrap();
        assert_eq!(a, Address([1; 20]));
        assert!(
            "0x01"
                .parse::<Address>()
                .unwrap_err()
                .contains("has 1 bytes")
        );
    }
}
