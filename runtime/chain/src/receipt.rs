//! What a committed transaction did: stored per transaction and hashed into the block's
//! receipts root.

use bot_engine::Address;
use sha2::{Digest, Sha256};

use crate::Hash;

/// An event as receipts keep it.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct ReceiptEvent {
    pub contract: Address,
    pub name: String,
    pub data: Vec<u8>,
}

/// Why a transaction failed: a kind (`out_of_gas`, `contract_error`, `unauthorized`,
/// `insufficient_balance`, `invalid_code`, ...) and a message naming what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct TxError {
    pub kind: String,
    /// The contract's own error code, for `contract_error`.
    pub code: Option<u32>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Receipt {
    pub tx_hash: Hash,
    pub signer: Address,
    /// `None` on success.
    pub error: Option<TxError>,
    pub gas_used: u64,
    /// The method's borsh result; the code hash for an upload; empty otherwise.
    pub result: Vec<u8>,
    /// The new contract's address, for an instantiation that succeeded.
    pub contract: Option<Address>,
    pub events: Vec<ReceiptEvent>,
}

impl Receipt {
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, String> {
        borsh::from_slice(bytes).map_err(|e| format!("not a receipt: {e}"))
    }

    pub fn hash(&self) -> Hash {
        Sha256::digest(self.to_bytes()).into()
    }
}
