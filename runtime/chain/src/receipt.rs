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

/// What kind of rule a failed transaction broke. Receipts carry it as a number (its borsh
/// discriminant, fixed here), so rewording a message or a name is never a consensus change;
/// tools show [`ErrorKind::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
#[borsh(use_discriminant = true)]
pub enum ErrorKind {
    // How a contract call failed (the engine's `FailureKind`).
    ContractError = 0,
    Aborted = 1,
    Trap = 2,
    HostViolation = 3,
    OutOfGas = 4,
    StackOverflow = 5,
    NotFound = 6,
    InvalidCode = 7,
    // The chain's own rules.
    Unauthorized = 16,
    Invalid = 17,
    InsufficientBalance = 18,
    AddressTaken = 19,
    AlreadyRegistered = 20,
    AlreadyAnswered = 21,
    DeviceInactive = 22,
    DeviceRevoked = 23,
    InvalidProof = 24,
    InvalidSignature = 25,
    Replay = 26,
    TimedOut = 27,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            ContractError => "contract_error",
            Aborted => "aborted",
            Trap => "trap",
            HostViolation => "host_violation",
            OutOfGas => "out_of_gas",
            StackOverflow => "stack_overflow",
            NotFound => "not_found",
            InvalidCode => "invalid_code",
            Unauthorized => "unauthorized",
            Invalid => "invalid",
            InsufficientBalance => "insufficient_balance",
            AddressTaken => "address_taken",
            AlreadyRegistered => "already_registered",
            AlreadyAnswered => "already_answered",
            DeviceInactive => "device_inactive",
            DeviceRevoked => "device_revoked",
            InvalidProof => "invalid_proof",
            InvalidSignature => "invalid_signature",
            Replay => "replay",
            TimedOut => "timed_out",
        }
    }
}

impl From<&bot_engine::FailureKind> for ErrorKind {
    fn from(kind: &bot_engine::FailureKind) -> ErrorKind {
        use bot_engine::FailureKind as F;
        match kind {
            F::Contract { .. } => ErrorKind::ContractError,
            F::Aborted => ErrorKind::Aborted,
            F::Trap => ErrorKind::Trap,
            F::HostViolation => ErrorKind::HostViolation,
            F::OutOfGas => ErrorKind::OutOfGas,
            F::StackOverflow => ErrorKind::StackOverflow,
            F::NotFound => ErrorKind::NotFound,
            F::InvalidCode => ErrorKind::InvalidCode,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a transaction failed: its kind and a message naming what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct TxError {
    pub kind: ErrorKind,
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
