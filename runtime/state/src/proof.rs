//! A proof that a key had a value (or none) at a height, checkable against that height's state
//! root by anyone holding the root (from a block header), without the state.

use jmt::RootHash;
use jmt::proof::SparseMerkleProof;

use crate::Hash;
use crate::tree::{Hasher, key_hash};

/// `key` had `value` (`None`: was absent) in the state whose root is `root`, at `height`.
#[derive(Clone, Debug, PartialEq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct StateProof {
    pub height: u64,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
    pub root: Hash,
    proof: SparseMerkleProof<Hasher>,
}

impl StateProof {
    pub(crate) fn new(
        height: u64,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        root: Hash,
        proof: SparseMerkleProof<Hasher>,
    ) -> StateProof {
        StateProof {
            height,
            key,
            value,
            root,
            proof,
        }
    }

    /// Checks the proof against `root` (taken from a trusted header, not from the proof).
    pub fn verify(&self, root: &Hash) -> Result<(), String> {
        if &self.root != root {
            return Err(format!(
                "the proof is for root {}, not {}",
                hex(&self.root),
                hex(root)
            ));
        }
        self.proof
            .verify(RootHash(*root), key_hash(&self.key), self.value.as_ref())
            .map_err(|e| format!("the proof does not hold: {e}"))
    }

    /// The proof as bytes (borsh), for RPC answers and off-chain verifiers.
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<StateProof, String> {
        borsh::from_slice(bytes).map_err(|e| format!("not a state proof: {e}"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
