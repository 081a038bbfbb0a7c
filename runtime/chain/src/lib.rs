//! The bot chain's rules, deterministic and free of I/O other than the store: signed
//! transactions (secp256k1, chain id, nonces), accounts and permissions from genesis (Y.4464
//! Appendix I deployment modes), blocks whose headers commit to transactions, receipts (both
//! rs_merkle roots with inclusion proofs) and the state root, and the execution of a block's
//! transactions on the engine against [`bot_state`].
//!
//! A node drives it: [`Chain::check_tx`] before the mempool, [`Chain::propose`] to build a
//! block, [`Chain::validate`] to re-execute a proposal before voting, [`Chain::commit`] once
//! consensus decides. Nothing here reads a clock or randomness: block time comes from the
//! proposer.

mod block;
mod chain;
mod exec;
mod genesis;
pub mod iot;
mod json_forms;
mod keys;
pub mod layout;
mod receipt;
mod tx;

pub use block::{Block, Header, merkle_proof, merkle_root, verify_merkle_proof};
pub use bot_state::{Hash, StateDb, StateProof};
pub use chain::{Admitted, Chain, Executed, LeftOut, Proposal};
pub use exec::{BlockView, MAX_TIMEOUTS_PER_BLOCK, contract_address, timeout_hash};
pub use genesis::{
    Access, Account, BLOCK_OVERHEAD_BYTES, Genesis, MAX_BLOCK_BYTES, Mode, Params, Permission,
    Validator,
};
pub use keys::{Keypair, address_of, recover};
pub use receipt::{ErrorKind, Receipt, ReceiptEvent, TxError};
pub use tx::{Checked, SignedTx, Transaction, TxKind, intrinsic_gas, signing_digest};

use bot_engine::Address;

/// Why the chain refused something. Transaction errors name the rule broken; `State` and
/// `Engine` are local failures (disk, compiler) that are nobody's transaction's fault.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("transaction is for chain `{got}`, this chain is `{expected}`")]
    WrongChain { expected: String, got: String },
    #[error("transaction has {size} bytes, the limit is {max}")]
    TxTooLarge { size: usize, max: usize },
    #[error("gas limit {limit} exceeds the per-transaction maximum {max}")]
    GasLimitTooHigh { limit: u64, max: u64 },
    #[error("gas limit {limit} is below the intrinsic cost {intrinsic} of this transaction")]
    GasLimitTooLow { limit: u64, intrinsic: u64 },
    #[error("the signature is invalid (not a low-s secp256k1 signature of this transaction)")]
    BadSignature,
    #[error("malformed transaction: {0}")]
    Malformed(String),
    #[error("nonce {nonce} of {signer} is already used (next is {next}): a replay")]
    NonceUsed {
        signer: Address,
        nonce: u64,
        next: u64,
    },
    #[error("{0} is not permitted to transact on this chain (ask a consortium admin)")]
    NotPermitted(Address),
    #[error("transaction rejected: {0}")]
    Rejected(String),
    #[error("invalid block: {0}")]
    InvalidBlock(String),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("state: {0}")]
    State(String),
    #[error("engine: {0}")]
    Engine(String),
}

impl ChainError {
    /// A failure of this node (its store, its engine), not of the transaction or block it was
    /// working on: nothing about it is deterministic, so it never decides what a block holds
    /// or whether a proposal is valid.
    pub fn is_local(&self) -> bool {
        matches!(self, ChainError::State(_) | ChainError::Engine(_))
    }
}

impl From<bot_state::StateError> for ChainError {
    fn from(e: bot_state::StateError) -> ChainError {
        ChainError::State(e.to_string())
    }
}
