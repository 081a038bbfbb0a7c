//! Transactions: what an account asks the chain to do, signed with its key, and the checks that
//! need no state (run before a transaction enters the mempool and again in every block).

use bot_engine::Address;
use sha2::{Digest, Sha256};

use crate::genesis::Params;
use crate::keys::{Keypair, recover};
use crate::{ChainError, Hash};

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub enum TxKind {
    /// Stores wasm code; the receipt's result is its 32-byte code hash. Uploading code that is
    /// already stored succeeds and changes nothing.
    Upload { wasm: Vec<u8> },
    /// Creates a contract running stored code at an address derived from the signer, the code
    /// and `salt` (so no one else can take the address first), then runs its `init` method
    /// with `args`, if given; if that fails, no contract is created.
    Instantiate {
        code: Hash,
        salt: Vec<u8>,
        init: Option<String>,
        args: Vec<u8>,
    },
    /// Calls a contract method with borsh arguments.
    Call {
        contract: Address,
        method: String,
        args: Vec<u8>,
    },
    /// Moves balance to another account.
    Transfer { to: Address, amount: u128 },
    /// A consortium admin changes what `account` may do (Y.4464 Appendix I: the members
    /// decide who deploys and who transacts).
    Permit {
        account: Address,
        deploy: bool,
        transact: bool,
    },
    /// Devices, readings, services and grants (Y.4464 10.3 to 10.7).
    Iot(crate::iot::IotTx),
}

impl TxKind {
    pub fn name(&self) -> &'static str {
        match self {
            TxKind::Upload { .. } => "upload",
            TxKind::Instantiate { .. } => "instantiate",
            TxKind::Call { .. } => "call",
            TxKind::Transfer { .. } => "transfer",
            TxKind::Permit { .. } => "permit",
            TxKind::Iot(op) => op.name(),
        }
    }
}

/// The signed content of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct Transaction {
    /// The chain this transaction is for: a signature on one chain means nothing on another.
    pub chain_id: String,
    /// The signer's next nonce: each account's transactions run once, in order.
    pub nonce: u64,
    /// The most gas the transaction may use, intrinsic cost included.
    pub gas_limit: u64,
    pub kind: TxKind,
}

/// A transaction with its signer's recoverable secp256k1 signature.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct SignedTx {
    pub tx: Transaction,
    pub signature: [u8; 64],
    pub recovery_id: u8,
}

/// The digest an account signs: domain-separated, so it can be no other message.
pub fn signing_digest(tx: &Transaction) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bot/tx/v1\0");
    h.update(borsh::to_vec(tx).unwrap_or_default());
    h.finalize().into()
}

/// Gas every transaction pays before it does anything: a base plus its size.
pub fn intrinsic_gas(params: &Params, size: usize) -> u64 {
    params
        .tx_base_gas
        .saturating_add(params.tx_byte_gas.saturating_mul(size as u64))
}

/// A transaction that passed [`SignedTx::check_stateless`], with what the check computed and
/// execution needs again (encoded once per transaction, not once per use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    pub signer: Address,
    /// Encoded size in bytes.
    pub size: usize,
    pub hash: Hash,
}

impl SignedTx {
    pub fn sign(tx: Transaction, key: &Keypair) -> SignedTx {
        let (signature, recovery_id) = key.sign_digest(&signing_digest(&tx));
        SignedTx {
            tx,
            signature,
            recovery_id,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).unwrap_or_default()
    }

    /// The length of [`SignedTx::to_bytes`], without encoding it.
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }

    /// Decodes a transaction received from outside, refusing oversized input before decoding.
    pub fn decode(bytes: &[u8], params: &Params) -> Result<SignedTx, ChainError> {
        if bytes.len() > params.max_tx_bytes {
            return Err(ChainError::TxTooLarge {
                size: bytes.len(),
                max: params.max_tx_bytes,
            });
        }
        borsh::from_slice(bytes).map_err(|e| ChainError::Malformed(e.to_string()))
    }

    /// The transaction's identity: SHA-256 of its signed encoding.
    pub fn hash(&self) -> Hash {
        Sha256::digest(self.to_bytes()).into()
    }

    /// The signer, if the signature is valid (low s, recoverable).
    pub fn signer(&self) -> Result<Address, ChainError> {
        recover(&signing_digest(&self.tx), &self.signature, self.recovery_id)
            .ok_or(ChainError::BadSignature)
    }

    /// Every check that needs no state.
    pub fn check_stateless(&self, chain_id: &str, params: &Params) -> Result<Checked, ChainError> {
        self.check_stateless_with(chain_id, params, |_| None)
    }

    /// [`SignedTx::check_stateless`], taking the signer from `known` (by transaction hash)
    /// when it was recovered before: the hash covers the signature, so the answer is the same.
    pub fn check_stateless_with(
        &self,
        chain_id: &str,
        params: &Params,
        known: impl FnOnce(&Hash) -> Option<Address>,
    ) -> Result<Checked, ChainError> {
        if self.tx.chain_id != chain_id {
            return Err(ChainError::WrongChain {
                expected: chain_id.to_string(),
                got: self.tx.chain_id.clone(),
            });
        }
        let bytes = self.to_bytes();
        let size = bytes.len();
        if size > params.max_tx_bytes {
            return Err(ChainError::TxTooLarge {
                size,
                max: params.max_tx_bytes,
            });
        }
        if self.tx.gas_limit > params.max_tx_gas {
            return Err(ChainError::GasLimitTooHigh {
                limit: self.tx.gas_limit,
                max: params.max_tx_gas,
            });
        }
        let intrinsic = intrinsic_gas(params, size);
        if self.tx.gas_limit < intrinsic {
            return Err(ChainError::GasLimitTooLow {
                limit: self.tx.gas_limit,
                intrinsic,
            });
        }
        match &self.tx.kind {
            TxKind::Call { method, .. }
            | TxKind::Instantiate {
                init: Some(method), ..
            } if method.is_empty() || method.len() > 64 => {
                return Err(ChainError::Malformed(format!(
                    "a method name has 1 to 64 bytes, not {}",
                    method.len()
                )));
            }
            TxKind::Instantiate { salt, .. } if salt.len() > 64 => {
                return Err(ChainError::Malformed(format!(
                    "a salt has at most 64 bytes, not {}",
                    salt.len()
                )));
            }
            _ => {}
        }
        let hash: Hash = Sha256::digest(&bytes).into();
        let signer = match known(&hash) {
            Some(signer) => signer,
            None => self.signer()?,
        };
        Ok(Checked { signer, size, hash })
    }
}
