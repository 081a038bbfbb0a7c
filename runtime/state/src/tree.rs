//! The Jellyfish Merkle tree's storage: its nodes and versioned values in two redb tables, read
//! through a read transaction (for proofs and for computing the next root) and written inside a
//! block's write transaction.

use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{KeyHash, OwnedValue, Version};
use redb::{ReadOnlyTable, Table, TableDefinition};

use crate::StateError;

/// The hash the tree uses, for keys, values and nodes.
pub(crate) type Hasher = sha2_jmt::Sha256;

/// borsh(`NodeKey`) → borsh(`Node`).
pub(crate) const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_nodes");
/// key hash ‖ version (big-endian, so a key's versions sort together) → borsh(`Option<value>`).
pub(crate) const VALUES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("jmt_values");

pub(crate) fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Hasher>(key)
}

fn value_key(hash: &KeyHash, version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&hash.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn encode<T: borsh::BorshSerialize>(value: &T) -> Result<Vec<u8>, StateError> {
    borsh::to_vec(value).map_err(|e| StateError::Tree(e.to_string()))
}

fn decode<T: borsh::BorshDeserialize>(bytes: &[u8], what: &str) -> anyhow::Result<T> {
    borsh::from_slice(bytes).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// The tree as committed, seen through one read transaction.
pub(crate) struct TreeView {
    pub nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    pub values: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl TreeReader for TreeView {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = borsh::to_vec(node_key)?;
        match self.nodes.get(key.as_slice())? {
            Some(bytes) => Ok(Some(decode(bytes.value(), "tree node")?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        let low = value_key(&key_hash, 0);
        let high = value_key(&key_hash, max_version);
        let mut range = self.values.range(low.as_slice()..=high.as_slice())?;
        match range.next_back() {
            Some(entry) => {
                let (_, value) = entry?;
                Ok(decode::<Option<OwnedValue>>(value.value(), "tree value")?)
            }
            None => Ok(None),
        }
    }

    /// Only jmt's snapshot restore asks for the rightmost leaf; this store never restores a
    /// tree from chunks (a new node replays blocks), so the question has no use here.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("restoring the state tree from a snapshot is not supported")
    }
}

/// Writes a computed tree update inside a block's write transaction.
pub(crate) fn write_batch(
    nodes: &mut Table<&[u8], &[u8]>,
    values: &mut Table<&[u8], &[u8]>,
    batch: &NodeBatch,
) -> Result<(), StateError> {
    for (key, node) in batch.nodes() {
        nodes.insert(encode(key)?.as_slice(), encode(node)?.as_slice())?;
    }
    for ((version, hash), value) in batch.values() {
        values.insert(
            value_key(hash, *version).as_slice(),
            encode(value)?.as_slice(),
        )?;
    }
    Ok(())
}
