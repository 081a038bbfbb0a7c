//! The chain's persistent state and block store, in one redb file.
//!
//! State is a flat map of byte keys to byte values (the chain decides the key layout). Every
//! committed height has a state root: a Jellyfish Merkle tree (`jmt`) over the SHA-256 of each
//! key, updated in time proportional to the keys a block changes, and kept for every height so
//! [`StateDb::prove`] can prove any key's value (or absence) at any height. Latest values also
//! live in a plain ordered table, which is what execution reads and scans.
//!
//! A block's state changes, its record (block bytes, commit certificate, receipts, transaction
//! index) and the new height commit in one durable write transaction ([`StateDb::commit`]):
//! after a crash the store is at the previous height or the new one, never in between.
//!
//! Execution works in two steps: [`StateDb::prepare`] computes the root a set of changes would
//! give without writing anything (validators compare it with the proposer's before voting),
//! and [`StateDb::commit`] makes a prepared change durable.

mod db;
mod proof;
mod tree;

pub use db::{BlockRecord, Changes, Entries, Prepared, Snapshot, StateDb};
pub use proof::StateProof;

/// A 32-byte SHA-256 digest: state roots, block and transaction hashes.
pub type Hash = [u8; 32];

/// What went wrong in the store. Disk and database errors are not deterministic and never a
/// transaction's fault: the node stops applying blocks rather than diverge.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {message}")]
    Open { path: String, message: String },
    #[error("state database: {0}")]
    Db(String),
    #[error("state tree: {0}")]
    Tree(String),
    #[error(
        "height {requested} cannot follow the committed height {committed:?}: blocks commit in order"
    )]
    OutOfOrder {
        requested: u64,
        committed: Option<u64>,
    },
    #[error("height {0} is not committed")]
    UnknownHeight(u64),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

macro_rules! db_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for StateError {
            fn from(e: $t) -> StateError {
                StateError::Db(e.to_string())
            }
        }
    )*};
}
db_errors!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
