//! The redb file: its tables, the two-step block commit, reads of committed state and blocks.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use jmt::storage::NodeBatch;
use jmt::{JellyfishMerkleTree, RootHash};
use redb::{Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition};

use crate::proof::StateProof;
use crate::tree::{self, Hasher, NODES, TreeView, VALUES, key_hash};
use crate::{Hash, StateError};

/// "height" → the last committed height (u64 little-endian).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Latest value of every state key, in key order: what execution reads and scans.
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
/// Height → state root after that height.
const ROOTS: TableDefinition<u64, &[u8]> = TableDefinition::new("roots");
/// Height → the block as the chain encoded it.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Block hash → height.
const BLOCK_HEIGHTS: TableDefinition<&[u8], u64> = TableDefinition::new("block_heights");
/// Height → the commit certificate that decided the block.
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
/// Height ‖ index (big-endian) → a transaction's receipt.
const RECEIPTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("receipts");
/// Transaction hash → height ‖ index (big-endian).
const TX_INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tx_index");
/// The node's own durable notes outside blocks (undecided proposals, say); not state.
const AUX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("aux");

const HEIGHT: &str = "height";

/// Key-value pairs in key order, as scans return them.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// State changes by key; `None` removes the key.
pub type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A block's outputs other than state, stored with it.
#[derive(Clone, Debug, Default)]
pub struct BlockRecord {
    pub hash: Hash,
    pub block: Vec<u8>,
    pub certificate: Vec<u8>,
    /// Each transaction's hash and receipt, in block order.
    pub receipts: Vec<(Hash, Vec<u8>)>,
}

/// Changes whose root is computed but not yet committed.
pub struct Prepared {
    height: u64,
    base: Option<u64>,
    root: Hash,
    batch: NodeBatch,
    changes: Changes,
}

impl Prepared {
    /// The state root after the changes.
    pub fn root(&self) -> Hash {
        self.root
    }

    pub fn height(&self) -> u64 {
        self.height
    }
}

/// The chain's store. Cheap to clone; readers never block the writer or each other.
#[derive(Clone)]
pub struct StateDb {
    db: Arc<Database>,
}

fn position(height: u64, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The committed height recorded in `meta`; `None` before genesis.
fn committed_height(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<u64>, StateError> {
    let Some(value) = meta.get(HEIGHT)? else {
        return Ok(None);
    };
    let bytes = value.value();
    Ok(Some(u64::from_le_bytes(bytes.try_into().map_err(
        |_| StateError::Corrupt(format!("the stored height has {} bytes", bytes.len())),
    )?)))
}

fn to_hash(bytes: &[u8], what: &str) -> Result<Hash, StateError> {
    bytes
        .try_into()
        .map_err(|_| StateError::Corrupt(format!("{what} has {} bytes, not 32", bytes.len())))
}

impl StateDb {
    /// Opens the store at `path`, creating it (and its tables) if missing.
    pub fn open(path: &Path) -> Result<StateDb, StateError> {
        let db = Database::create(path).map_err(|e| StateError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let txn = db.begin_write()?;
        {
            txn.open_table(META)?;
            txn.open_table(STATE)?;
            txn.open_table(ROOTS)?;
            txn.open_table(BLOCKS)?;
            txn.open_table(BLOCK_HEIGHTS)?;
            txn.open_table(CERTIFICATES)?;
            txn.open_table(RECEIPTS)?;
            txn.open_table(TX_INDEX)?;
            txn.open_table(AUX)?;
            txn.open_table(NODES)?;
            txn.open_table(VALUES)?;
        }
        txn.commit()?;
        Ok(StateDb { db: Arc::new(db) })
    }

    /// The last committed height; `None` before genesis.
    pub fn height(&self) -> Result<Option<u64>, StateError> {
        let txn = self.db.begin_read()?;
        committed_height(&txn.open_table(META)?)
    }

    /// The state root after `height`.
    pub fn root(&self, height: u64) -> Result<Option<Hash>, StateError> {
        let txn = self.db.begin_read()?;
        let roots = txn.open_table(ROOTS)?;
        roots
            .get(height)?
            .map(|v| to_hash(v.value(), "a stored root"))
            .transpose()
    }

    /// A consistent view of the latest committed state; later commits do not change it.
    pub fn snapshot(&self) -> Result<Snapshot, StateError> {
        let txn = self.db.begin_read()?;
        let height = committed_height(&txn.open_table(META)?)?;
        Ok(Snapshot {
            height,
            state: txn.open_table(STATE)?,
        })
    }

    fn tree_view(&self) -> Result<(TreeView, Option<u64>), StateError> {
        let txn = self.db.begin_read()?;
        let height = committed_height(&txn.open_table(META)?)?;
        Ok((
            TreeView {
                nodes: txn.open_table(NODES)?,
                values: txn.open_table(VALUES)?,
            },
            height,
        ))
    }

    /// Computes the state root `changes` give at `height` (the next one), writing nothing.
    pub fn prepare(&self, height: u64, changes: Changes) -> Result<Prepared, StateError> {
        let (view, committed) = self.tree_view()?;
        let next = committed.map_or(0, |h| h + 1);
        if height != next {
            return Err(StateError::OutOfOrder {
                requested: height,
                committed,
            });
        }
        let tree = JellyfishMerkleTree::<_, Hasher>::new(&view);
        let (RootHash(root), update) = tree
            .put_value_set(
                changes.iter().map(|(k, v)| (key_hash(k), v.clone())),
                height,
            )
            .map_err(|e| StateError::Tree(format!("{e:#}")))?;
        Ok(Prepared {
            height,
            base: committed,
            root,
            batch: update.node_batch,
            changes,
        })
    }

    /// Makes `prepared` and `record` durable in one write transaction: after it returns the
    /// height is committed; if the process dies before, nothing of it is.
    pub fn commit(&self, prepared: Prepared, record: &BlockRecord) -> Result<(), StateError> {
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let committed = committed_height(&meta)?;
            if committed != prepared.base {
                return Err(StateError::OutOfOrder {
                    requested: prepared.height,
                    committed,
                });
            }
            let height = prepared.height;
            let mut nodes = txn.open_table(NODES)?;
            let mut values = txn.open_table(VALUES)?;
            tree::write_batch(&mut nodes, &mut values, &prepared.batch)?;
            let mut state = txn.open_table(STATE)?;
            for (key, value) in &prepared.changes {
                match value {
                    Some(v) => state.insert(key.as_slice(), v.as_slice())?,
                    None => state.remove(key.as_slice())?,
                };
            }
            txn.open_table(ROOTS)?
                .insert(height, prepared.root.as_slice())?;
            txn.open_table(BLOCKS)?
                .insert(height, record.block.as_slice())?;
            txn.open_table(BLOCK_HEIGHTS)?
                .insert(record.hash.as_slice(), height)?;
            txn.open_table(CERTIFICATES)?
                .insert(height, record.certificate.as_slice())?;
            let mut receipts = txn.open_table(RECEIPTS)?;
            let mut index = txn.open_table(TX_INDEX)?;
            for (i, (tx, receipt)) in record.receipts.iter().enumerate() {
                let i = u32::try_from(i)
                    .map_err(|_| StateError::Db("more than 2^32 receipts".into()))?;
                let pos = position(height, i);
                receipts.insert(pos.as_slice(), receipt.as_slice())?;
                index.insert(tx.as_slice(), pos.as_slice())?;
            }
            meta.insert(HEIGHT, height.to_le_bytes().as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The block stored at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StateError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(BLOCKS)?
            .get(height)?
            .map(|v| v.value().to_vec()))
    }

    /// The height of the block with `hash`.
    pub fn block_height(&self, hash: &Hash) -> Result<Option<u64>, StateError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(BLOCK_HEIGHTS)?
            .get(hash.as_slice())?
            .map(|v| v.value()))
    }

    /// The commit certificate that decided `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StateError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(CERTIFICATES)?
            .get(height)?
            .map(|v| v.value().to_vec()))
    }

    /// Where a committed transaction is (height, index in block) and its receipt.
    pub fn receipt(&self, tx: &Hash) -> Result<Option<(u64, u32, Vec<u8>)>, StateError> {
        let txn = self.db.begin_read()?;
        let Some(pos) = txn.open_table(TX_INDEX)?.get(tx.as_slice())? else {
            return Ok(None);
        };
        let pos = pos.value();
        if pos.len() != 12 {
            return Err(StateError::Corrupt("a transaction index entry".into()));
        }
        let height = u64::from_be_bytes(pos[..8].try_into().unwrap_or_default());
        let index = u32::from_be_bytes(pos[8..].try_into().unwrap_or_default());
        let receipt = txn
            .open_table(RECEIPTS)?
            .get(pos)?
            .ok_or_else(|| StateError::Corrupt("an indexed receipt is missing".into()))?
            .value()
            .to_vec();
        Ok(Some((height, index, receipt)))
    }

    /// The receipts of the block at `height`, in block order.
    pub fn receipts(&self, height: u64) -> Result<Vec<Vec<u8>>, StateError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(RECEIPTS)?;
        let (low, high) = (position(height, 0), position(height, u32::MAX));
        let mut out = Vec::new();
        for entry in table.range(low.as_slice()..=high.as_slice())? {
            out.push(entry?.1.value().to_vec());
        }
        Ok(out)
    }

    /// `key`'s value after `height`, with a proof against that height's root.
    pub fn prove(&self, key: &[u8], height: u64) -> Result<StateProof, StateError> {
        let root = self
            .root(height)?
            .ok_or(StateError::UnknownHeight(height))?;
        let (view, _) = self.tree_view()?;
        let tree = JellyfishMerkleTree::<_, Hasher>::new(&view);
        let (value, proof) = tree
            .get_with_proof(key_hash(key), height)
            .map_err(|e| StateError::Tree(format!("{e:#}")))?;
        Ok(StateProof::new(height, key.to_vec(), value, root, proof))
    }

    /// `key`'s value after `height` (without a proof).
    pub fn get_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StateError> {
        if self.root(height)?.is_none() {
            return Err(StateError::UnknownHeight(height));
        }
        let (view, _) = self.tree_view()?;
        jmt::storage::TreeReader::get_value_option(&view, height, key_hash(key))
            .map_err(|e| StateError::Tree(format!("{e:#}")))
    }

    /// Stores a node note outside any block (durable on return).
    pub fn put_aux(&self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        let txn = self.db.begin_write()?;
        txn.open_table(AUX)?.insert(key, value)?;
        txn.commit()?;
        Ok(())
    }

    pub fn aux(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(AUX)?.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Every note whose key starts with `prefix`, in key order.
    pub fn aux_prefix(&self, prefix: &[u8]) -> Result<Entries, StateError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(AUX)?;
        let mut out = Vec::new();
        for entry in table.range::<&[u8]>(prefix..)? {
            let (k, v) = entry?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Removes every note whose key starts with `prefix`.
    pub fn remove_aux_prefix(&self, prefix: &[u8]) -> Result<(), StateError> {
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(AUX)?;
            let keys: Vec<Vec<u8>> = table
                .range::<&[u8]>(prefix..)?
                .map(|e| e.map(|(k, _)| k.value().to_vec()))
                .take_while(|k| k.as_ref().map_or(true, |k| k.starts_with(prefix)))
                .collect::<Result<_, _>>()?;
            for key in keys {
                table.remove(key.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

/// The latest committed state as of [`StateDb::snapshot`].
pub struct Snapshot {
    height: Option<u64>,
    state: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl Snapshot {
    /// The height this view is at; `None` before genesis.
    pub fn height(&self) -> Option<u64> {
        self.height
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.state.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Up to `limit` entries with keys in `(start, end)`, ascending or descending.
    pub fn scan(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        descending: bool,
        limit: usize,
    ) -> Result<Entries, StateError> {
        // An empty or inverted range reads nothing (redb, like BTreeMap, refuses to walk it).
        let empty = match (start, end) {
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s) | Bound::Excluded(s), Bound::Included(e) | Bound::Excluded(e)) => {
                s >= e
            }
            _ => false,
        };
        if empty {
            return Ok(Vec::new());
        }
        let range = self.state.range::<&[u8]>((start, end))?;
        let mut out = Vec::new();
        let mut push = |entry: Result<_, redb::StorageError>| -> Result<(), StateError> {
            let (k, v): (redb::AccessGuard<&[u8]>, redb::AccessGuard<&[u8]>) = entry?;
            out.push((k.value().to_vec(), v.value().to_vec()));
            Ok(())
        };
        if descending {
            range.rev().take(limit).try_for_each(&mut push)?;
        } else {
            range.take(limit).try_for_each(&mut push)?;
        }
        Ok(out)
    }
}
