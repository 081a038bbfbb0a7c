//! What the chain knows about things: devices and their keys, readings, services, access
//! grants and access records (Y.4464 clauses 10.3 to 10.7). Stored borsh-encoded under the
//! keys in [`crate::layout`]; shown as JSON by the RPC.

use borsh::{BorshDeserialize, BorshSerialize};
use bot_engine::Address;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The curve a device signs with: secp256k1 like accounts, or P-256 as secure elements and
/// most IoT hardware do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    Secp256k1,
    P256,
}

/// A device's public key: its curve and the compressed SEC1 point (33 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct DeviceKey {
    #[serde(rename = "type")]
    pub kind: KeyType,
    #[serde(with = "crate::json_forms::bytes")]
    pub sec1: Vec<u8>,
}

impl DeviceKey {
    /// The key in compressed form, if `sec1` is a point on the curve (compressed or not).
    pub fn new(kind: KeyType, sec1: &[u8]) -> Result<DeviceKey, String> {
        let compressed = match kind {
            KeyType::Secp256k1 => k256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .map(|k| k.to_sec1_point(true).as_bytes().to_vec()),
            KeyType::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(sec1)
                .map(|k| k.to_sec1_point(true).as_bytes().to_vec()),
        }
        .map_err(|_| format!("the {kind:?} public key is not a valid SEC1 point"))?;
        Ok(DeviceKey {
            kind,
            sec1: compressed,
        })
    }

    /// Whether `signature` (64 bytes r ‖ s, low s for secp256k1) signs `digest` with this key.
    pub fn verifies(&self, digest: &[u8; 32], signature: &[u8]) -> bool {
        match self.kind {
            KeyType::Secp256k1 => bot_crypto::secp256k1_verify(digest, signature, &self.sec1),
            KeyType::P256 => bot_crypto::p256_verify(digest, signature, &self.sec1),
        }
        .unwrap_or(false)
    }

    /// The account this key signs transactions as (secp256k1 keys only: transactions are
    /// secp256k1-signed).
    pub fn account(&self) -> Option<Address> {
        match self.kind {
            KeyType::Secp256k1 => k256::ecdsa::VerifyingKey::from_sec1_bytes(&self.sec1)
                .ok()
                .map(|k| crate::keys::address_of(&k)),
            KeyType::P256 => None,
        }
    }

    /// The id of a device registered with this key; it stays when the key is rotated. A
    /// secp256k1 device's id is its account address, so a device that transacts itself has
    /// one address.
    pub fn device_id(&self) -> Address {
        if let Some(account) = self.account() {
            return account;
        }
        let mut h = Sha256::new();
        h.update(b"bot/device-id/v1\0");
        h.update(borsh::to_vec(self).unwrap_or_default());
        let digest = h.finalize();
        let mut id = [0u8; 20];
        id.copy_from_slice(&digest[12..]);
        Address(id)
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Reports readings and answers commands.
    Active,
    /// Temporarily refused: its readings are rejected until its owner reactivates it.
    Suspended,
    /// For good (a lost or compromised device): nothing it signs is accepted again.
    Revoked,
}

/// A registered device (Y.4464 10.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Device {
    #[serde(with = "crate::json_forms::address")]
    pub id: Address,
    pub key: DeviceKey,
    /// Bumped by every key rotation.
    pub key_version: u32,
    #[serde(with = "crate::json_forms::address")]
    pub owner: Address,
    /// The gateway that speaks for a constrained device, if any.
    #[serde(with = "crate::json_forms::option_address")]
    pub gateway: Option<Address>,
    /// What the device is (`thermometer`, `washing-machine`...): for discovery.
    pub kind: String,
    /// The owner's description, usually JSON.
    pub metadata: String,
    pub status: DeviceStatus,
    /// The counter of the last accepted reading (0: none yet); the next must be greater.
    pub counter: u64,
    pub registered_at: u64,
    pub updated_at: u64,
}

/// One signed reading of one stream of a device (Y.4464 10.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Reading {
    #[serde(with = "crate::json_forms::address")]
    pub device: Address,
    pub stream: String,
    pub counter: u64,
    /// What the device reported, as it signed it (JSON from the CLI and simulator).
    #[serde(with = "crate::json_forms::bytes")]
    pub data: Vec<u8>,
    /// The device key's signature of [`super::reading_digest`].
    #[serde(with = "crate::json_forms::bytes")]
    pub signature: Vec<u8>,
    /// Who sent the transaction: the device itself or its gateway.
    #[serde(with = "crate::json_forms::address")]
    pub submitted_by: Address,
    pub height: u64,
    pub time_ms: u64,
}

/// Who may call a registered service.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccessPolicy {
    /// Anyone; calls are not recorded.
    Open,
    /// Only its owner and accounts granted `call_service`; each granted call leaves an
    /// access record.
    Granted,
}

/// A contract registered as an IoT service (Y.4464 10.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Service {
    #[serde(with = "crate::json_forms::address")]
    pub contract: Address,
    #[serde(with = "crate::json_forms::address")]
    pub owner: Address,
    pub name: String,
    pub description: String,
    pub policy: AccessPolicy,
    pub registered_at: u64,
}

/// A right an owner grants over its device or service (Y.4464 7.2.1, 10.4 to 10.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(rename_all = "snake_case", tag = "right")]
pub enum Right {
    /// Read a device's readings: one stream, or all of them (`stream: null`).
    ReadData {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        stream: Option<String>,
    },
    /// Send commands to a device.
    Command {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
    },
    /// Call a service: one method, or all of them (`method: null`).
    CallService {
        #[serde(with = "crate::json_forms::address")]
        service: Address,
        method: Option<String>,
    },
    /// Register devices owned by `owner`, as their gateway (Y.4464 10.6 b): the owner's
    /// consent to have a gateway add devices to its name.
    RegisterDevices {
        #[serde(with = "crate::json_forms::address")]
        owner: Address,
    },
}

impl Right {
    /// The device or service the right is over.
    pub fn target(&self) -> Address {
        match self {
            Right::ReadData { device, .. } | Right::Command { device } => *device,
            Right::CallService { service, .. } => *service,
            Right::RegisterDevices { owner } => *owner,
        }
    }

    /// The same right over everything of its kind on the target (any stream, any method), if
    /// this one is narrower.
    pub fn wildcard(&self) -> Option<Right> {
        match self {
            Right::ReadData {
                device,
                stream: Some(_),
            } => Some(Right::ReadData {
                device: *device,
                stream: None,
            }),
            Right::CallService {
                service,
                method: Some(_),
            } => Some(Right::CallService {
                service: *service,
                method: None,
            }),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Right::ReadData { device, stream } => match stream {
                Some(s) => format!("read stream `{s}` of device {device}"),
                None => format!("read every stream of device {device}"),
            },
            Right::Command { device } => format!("command device {device}"),
            Right::CallService { service, method } => match method {
                Some(m) => format!("call `{m}` on service {service}"),
                None => format!("call any method of service {service}"),
            },
            Right::RegisterDevices { owner } => format!("register devices owned by {owner}"),
        }
    }
}

/// A right held by `grantee` until `expires_ms` (block time), if set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Grant {
    #[serde(flatten)]
    pub right: Right,
    #[serde(with = "crate::json_forms::address")]
    pub grantee: Address,
    #[serde(with = "crate::json_forms::address")]
    pub granter: Address,
    pub expires_ms: Option<u64>,
    pub granted_at: u64,
}

impl Grant {
    pub fn is_live(&self, time_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| time_ms < e)
    }
}

/// Who used what, when, under which grant: one entry of a device's or service's audit trail
/// (Y.4464 10.7 steps 5 to 7). Written by the chain only; nothing rewrites or removes one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct AccessRecord {
    /// Position in the target's trail, from 0.
    pub seq: u64,
    #[serde(with = "crate::json_forms::address")]
    pub accessor: Address,
    #[serde(flatten)]
    pub right: Right,
    /// What was done (`call increment`, `read 3 readings of temperature`...).
    pub action: String,
    /// The grant's granter, or `None` when the owner used its own device or service.
    #[serde(with = "crate::json_forms::option_address")]
    pub granted_by: Option<Address>,
    #[serde(with = "crate::json_forms::bytes")]
    pub tx_hash: Vec<u8>,
    pub height: u64,
    pub time_ms: u64,
}

/// Where a command to a device stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum CommandState {
    /// Sent; the device has not answered and the deadline has not passed.
    Pending,
    /// The device answered (`ok`: it did what was asked), in a transaction signed by its key.
    Answered {
        ok: bool,
        #[serde(with = "crate::json_forms::bytes")]
        data: Vec<u8>,
        #[serde(with = "crate::json_forms::bytes")]
        signature: Vec<u8>,
        #[serde(with = "crate::json_forms::address")]
        responder: Address,
        height: u64,
    },
    /// No answer came by the end of its deadline block.
    TimedOut { height: u64 },
}

/// A command a service contract sent to a device (Y.4464 10.6 steps 3 to 6), and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Command {
    /// Chain-wide, in the order commands were sent.
    pub id: u64,
    #[serde(with = "crate::json_forms::address")]
    pub device: Address,
    /// The contract that sent it; its `callback` receives the reply.
    #[serde(with = "crate::json_forms::address")]
    pub service: Address,
    pub command: String,
    #[serde(with = "crate::json_forms::bytes")]
    pub payload: Vec<u8>,
    pub callback: String,
    pub callback_gas: u64,
    /// The `command` grant's granter; `None` when the device's owner sent it.
    #[serde(with = "crate::json_forms::option_address")]
    pub granted_by: Option<Address>,
    #[serde(with = "crate::json_forms::bytes")]
    pub tx_hash: Vec<u8>,
    pub sent_at: u64,
    /// The last block an answer is accepted in; unanswered, it times out at this block's end.
    pub deadline: u64,
    #[serde(flatten)]
    pub state: CommandState,
}

/// What happened to a command's callback (the `command.callback` event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct CallbackRun {
    pub id: u64,
    #[serde(with = "crate::json_forms::address")]
    pub service: Address,
    pub method: String,
    pub gas_used: u64,
    /// Why it failed; its writes and events were dropped (the reply stays recorded).
    pub error: Option<String>,
}
