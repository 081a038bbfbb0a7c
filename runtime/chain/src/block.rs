//! Blocks: a header that commits to the transactions, their receipts and the state after them,
//! and Merkle inclusion proofs (rs_merkle) of a transaction or receipt in a block.

use bot_engine::Address;
use rs_merkle::{MerkleProof, MerkleTree, algorithms::Sha256 as MerkleSha256};
use sha2::{Digest, Sha256};

use crate::Hash;
use crate::tx::SignedTx;

#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Header {
    pub chain_id: String,
    pub height: u64,
    /// Milliseconds since the Unix epoch, from the proposer; later than the previous block's.
    pub time_ms: u64,
    pub prev_hash: Hash,
    /// The validator that proposed the block (genesis: all zero).
    pub proposer: Address,
    pub txs_root: Hash,
    pub receipts_root: Hash,
    /// The state root after this block's transactions.
    pub state_root: Hash,
    pub gas_used: u64,
}

impl Header {
    pub fn hash(&self) -> Hash {
        let mut h = Sha256::new();
        h.update(b"bot/header/v1\0");
        h.update(borsh::to_vec(self).unwrap_or_default());
        h.finalize().into()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Block {
    pub header: Header,
    pub txs: Vec<SignedTx>,
}

impl Block {
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// The length of [`Block::to_bytes`], without encoding it.
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Block, String> {
        borsh::from_slice(bytes).map_err(|e| format!("not a block: {e}"))
    }
}

/// The root of a Merkle tree over `leaves` (all zero when there are none).
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    MerkleTree::<MerkleSha256>::from_leaves(leaves)
        .root()
        .unwrap_or([0; 32])
}

/// A proof that `leaves[index]` is in the tree with root [`merkle_root`]`(leaves)`.
pub fn merkle_proof(leaves: &[Hash], index: usize) -> Option<Vec<u8>> {
    (index < leaves.len()).then(|| {
        MerkleTree::<MerkleSha256>::from_leaves(leaves)
            .proof(&[index])
            .to_bytes()
    })
}

/// Checks a [`merkle_proof`]: `leaf` is at `index` of `count` leaves under `root`.
pub fn verify_merkle_proof(
    root: &Hash,
    proof: &[u8],
    index: usize,
    leaf: &Hash,
    count: usize,
) -> bool {
    MerkleProof::<MerkleSha256>::from_bytes(proof)
        .map(|p| index < count && p.verify(*root, &[index], &[*leaf], count))
        .unwrap_or(false)
}
