//! Genesis: the chain id, the consortium's validators, funded accounts, who may deploy and
//! transact, and the chain's limits. Written once as JSON; every node starts from the same file.

use std::collections::BTreeSet;

use bot_engine::Address;
use serde::{Deserialize, Serialize};

use crate::ChainError;
use crate::keys::Keypair;

/// Limits and gas prices every node applies identically.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Sum of the gas limits of a block's transactions.
    pub block_gas_limit: u64,
    pub max_block_txs: u32,
    pub max_tx_bytes: usize,
    pub max_tx_gas: u64,
    pub tx_base_gas: u64,
    pub tx_byte_gas: u64,
    /// Per byte of uploaded code, on top of the transaction's size (validation and compiling).
    pub upload_byte_gas: u64,
    /// Readings kept per device stream; a new reading beyond it drops the oldest.
    #[serde(default = "default_reading_retention")]
    pub reading_retention: u32,
    /// A block's encoded size: what a proposal stream and value sync must carry.
    #[serde(default = "default_max_block_bytes")]
    pub max_block_bytes: usize,
    /// The keys and values a block's transactions may write in all (what the block's commit
    /// holds in memory and writes).
    #[serde(default = "default_max_block_write_bytes")]
    pub max_block_write_bytes: usize,
}

fn default_reading_retention() -> u32 {
    1024
}

fn default_max_block_bytes() -> usize {
    4 << 20
}

fn default_max_block_write_bytes() -> usize {
    64 << 20
}

/// The largest block genesis may allow: value sync carries a block in one response of
/// Malachite's (10 MiB by default; the node raises it to fit), and a bigger one is a stream of
/// hundreds of parts.
pub const MAX_BLOCK_BYTES: usize = 64 << 20;

/// What a block's encoding holds besides its transactions, at most: the header (the chain id
/// has at most 64 bytes) and the transaction list's length.
pub const BLOCK_OVERHEAD_BYTES: usize = 1024;

impl Default for Params {
    fn default() -> Params {
        Params {
            // In the engine's gas unit (about 0.04 ns of work, cost table 2). One transaction
            // may use 40 billion (~1.6 s): enough to upload the largest contract (1 MiB of
            // code at 32,000 a byte). A block's limits may add up to 100 billion.
            block_gas_limit: 100_000_000_000,
            max_block_txs: 10_000,
            max_tx_bytes: 1 << 20,
            max_tx_gas: 40_000_000_000,
            // Recovering the signer (~60 µs, the secp256k1-recover price) and the account.
            tx_base_gas: 1_500_000,
            // Hashing, storing and gossiping each byte.
            tx_byte_gas: 40,
            // Validating and compiling each byte of uploaded code (measured by the calibration).
            upload_byte_gas: 32_000,
            reading_retention: default_reading_retention(),
            max_block_bytes: default_max_block_bytes(),
            max_block_write_bytes: default_max_block_write_bytes(),
        }
    }
}

/// Who may do something.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Anyone,
    /// Only the listed accounts (changed later by admins' `Permit` transactions).
    Listed,
}

/// Y.4464 Appendix I deployment modes, as presets of [`Access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Anyone deploys and transacts.
    Open,
    /// The consortium's admins decide who deploys and who transacts.
    Consortium,
    /// One organization: like a consortium with a single admin.
    Private,
}

/// Who may deploy contracts and send transactions.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Access {
    pub deploy: Permission,
    pub transact: Permission,
    /// Accounts that may send `Permit` transactions.
    #[serde(with = "crate::json_forms::address_set")]
    pub admins: BTreeSet<Address>,
    /// Accounts listed for deploying.
    #[serde(with = "crate::json_forms::address_set")]
    pub deployers: BTreeSet<Address>,
    /// Accounts listed for transacting.
    #[serde(with = "crate::json_forms::address_set")]
    pub transactors: BTreeSet<Address>,
}

/// A consortium member that takes part in consensus.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    pub name: String,
    /// Compressed SEC1 secp256k1 key (33 bytes, hex in JSON).
    #[serde(with = "crate::json_forms::bytes")]
    pub public_key: Vec<u8>,
    pub power: u64,
}

#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Account {
    #[serde(with = "crate::json_forms::address")]
    pub address: Address,
    /// A decimal string in JSON (u128 does not fit a JSON number).
    #[serde(with = "crate::json_forms::decimal")]
    pub balance: u128,
}

#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    pub chain_id: String,
    /// Time of block 0, milliseconds since the Unix epoch; every later block is later.
    pub time_ms: u64,
    pub validators: Vec<Validator>,
    pub accounts: Vec<Account>,
    pub access: Access,
    #[serde(default)]
    pub params: Params,
}

impl Genesis {
    /// A genesis for `validators` with `accounts` funded, in `mode`: the funded accounts are
    /// the admins, deployers and transactors (Private: only the first is admin).
    pub fn new(
        chain_id: &str,
        time_ms: u64,
        validators: Vec<Validator>,
        accounts: &[Address],
        mode: Mode,
    ) -> Genesis {
        let all: BTreeSet<Address> = accounts.iter().copied().collect();
        let (deploy, transact) = match mode {
            Mode::Open => (Permission::Anyone, Permission::Anyone),
            Mode::Consortium | Mode::Private => (Permission::Listed, Permission::Listed),
        };
        let admins = match mode {
            Mode::Private => accounts.iter().take(1).copied().collect(),
            _ => all.clone(),
        };
        Genesis {
            chain_id: chain_id.to_string(),
            time_ms,
            validators,
            accounts: accounts
                .iter()
                .map(|a| Account {
                    address: *a,
                    balance: 1_000_000_000_000,
                })
                .collect(),
            access: Access {
                deploy,
                transact,
                admins,
                deployers: all.clone(),
                transactors: all,
            },
            params: Params::default(),
        }
    }

    /// A validator entry for `key`.
    pub fn validator(name: &str, key: &Keypair, power: u64) -> Validator {
        Validator {
            name: name.to_string(),
            public_key: key.public_key(),
            power,
        }
    }

    /// Checks what a wrong genesis file could get wrong, naming the field.
    pub fn check(&self) -> Result<(), ChainError> {
        let bad = |m: String| Err(ChainError::Genesis(m));
        if self.chain_id.is_empty() || self.chain_id.len() > 64 {
            return bad("chain_id has 1 to 64 bytes".into());
        }
        if self.validators.is_empty() {
            return bad("validators: at least one is needed".into());
        }
        let mut names = BTreeSet::new();
        for v in &self.validators {
            if k256::ecdsa::VerifyingKey::from_sec1_bytes(&v.public_key).is_err() {
                return bad(format!(
                    "validators.{}.public_key is not a secp256k1 key",
                    v.name
                ));
            }
            if v.power == 0 {
                return bad(format!("validators.{}.power must be positive", v.name));
            }
            if !names.insert(&v.name) {
                return bad(format!("validators: `{}` appears twice", v.name));
            }
        }
        let p = &self.params;
        if p.max_tx_gas > p.block_gas_limit {
            return bad("params.max_tx_gas exceeds params.block_gas_limit".into());
        }
        if p.max_block_txs == 0 || p.max_tx_bytes < 128 {
            return bad("params: blocks need room for at least one transaction".into());
        }
        if p.max_block_bytes < p.max_tx_bytes.saturating_add(BLOCK_OVERHEAD_BYTES)
            || p.max_block_bytes > MAX_BLOCK_BYTES
        {
            return bad(format!(
                "params.max_block_bytes is {}; it must hold the largest transaction and its header ({} bytes) and be at most {MAX_BLOCK_BYTES}",
                p.max_block_bytes,
                p.max_tx_bytes.saturating_add(BLOCK_OVERHEAD_BYTES)
            ));
        }
        let tx_writes = bot_engine::HostLimits::default().max_write_bytes as usize;
        if p.max_block_write_bytes < 2 * tx_writes {
            return bad(format!(
                "params.max_block_write_bytes is {}; it must be at least {} (twice what one transaction may write)",
                p.max_block_write_bytes,
                2 * tx_writes
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Genesis, ChainError> {
        let genesis: Genesis =
            serde_json::from_str(text).map_err(|e| ChainError::Genesis(e.to_string()))?;
        genesis.check()?;
        Ok(genesis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Genesis {
        let v = Genesis::validator("v0", &Keypair::dev("v0"), 1);
        Genesis::new(
            "bot-dev",
            1,
            vec![v],
            &[Keypair::dev("dev0").address()],
            Mode::Consortium,
        )
    }

    #[test]
    fn genesis_files_round_trip_and_wrong_ones_name_the_field() {
        let g = sample();
        assert_eq!(Genesis::from_json(&g.to_json()).unwrap(), g);

        let unknown = g.to_json().replacen("\"chain_id\"", "\"chian_id\"", 1);
        let err = Genesis::from_json(&unknown).unwrap_err().to_string();
        assert!(err.contains("chian_id"), "{err}");

        let mut bad_key = g.clone();
        bad_key.validators[0].public_key = vec![5; 33]; // 0x05 is no SEC1 tag
        let err = Genesis::from_json(&bad_key.to_json())
            .unwrap_err()
            .to_string();
        assert!(err.contains("validators.v0.public_key"), "{err}");

        let mut no_validators = g;
        no_validators.validators.clear();
        assert!(
            no_validators
                .check()
                .unwrap_err()
                .to_string()
                .contains("validators")
        );
    }
}
