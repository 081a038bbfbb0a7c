//! The IoT transactions (a [`crate::TxKind::Iot`]) and the digests device keys sign.

use bot_engine::Address;
use sha2::{Digest, Sha256};

use super::model::{AccessPolicy, DeviceKey, DeviceStatus, Right};

/// What an account asks of the device registry, the service registry or the grants.
#[derive(
    Clone, Debug, PartialEq, Eq, serde::Serialize, borsh::BorshSerialize, borsh::BorshDeserialize,
)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum IotTx {
    /// Registers a device. The owner is `owner` or the signer; a signer registering for
    /// another owner must be the device's `gateway` (10.6 b). `proof` is the device key's
    /// signature of [`registration_digest`]: only the key's holder puts it on the chain.
    RegisterDevice {
        key: DeviceKey,
        kind: String,
        metadata: String,
        #[serde(with = "crate::json_forms::option_address")]
        owner: Option<Address>,
        #[serde(with = "crate::json_forms::option_address")]
        gateway: Option<Address>,
        #[serde(with = "crate::json_forms::bytes")]
        proof: Vec<u8>,
    },
    /// Changes a device's status or metadata (its owner or gateway).
    UpdateDevice {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        status: Option<DeviceStatus>,
        metadata: Option<String>,
    },
    /// Replaces a device's key (its owner or gateway); `proof` is the new key's signature of
    /// [`rotation_digest`].
    RotateKey {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        key: DeviceKey,
        #[serde(with = "crate::json_forms::bytes")]
        proof: Vec<u8>,
    },
    /// Gives a device to another owner (its owner).
    TransferDevice {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        #[serde(with = "crate::json_forms::address")]
        to: Address,
    },
    /// Moves a device behind another gateway, or none (its owner).
    SetGateway {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        #[serde(with = "crate::json_forms::option_address")]
        gateway: Option<Address>,
    },
    /// A reading signed by the device key ([`reading_digest`]), sent by the device's own
    /// account or its gateway.
    Report {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        stream: String,
        counter: u64,
        #[serde(with = "crate::json_forms::bytes")]
        data: Vec<u8>,
        #[serde(with = "crate::json_forms::bytes")]
        signature: Vec<u8>,
    },
    /// A device's answer to command `command`, signed by the device key ([`response_digest`]),
    /// sent by the device's own account or its gateway. `ok`: it did what was asked; `data` is
    /// its answer or why not.
    Respond {
        #[serde(with = "crate::json_forms::address")]
        device: Address,
        command: u64,
        ok: bool,
        #[serde(with = "crate::json_forms::bytes")]
        data: Vec<u8>,
        #[serde(with = "crate::json_forms::bytes")]
        signature: Vec<u8>,
    },
    /// Registers a contract the signer instantiated as an IoT service (10.3).
    RegisterService {
        #[serde(with = "crate::json_forms::address")]
        contract: Address,
        name: String,
        description: String,
        policy: AccessPolicy,
    },
    /// Removes a service from the registry (its owner); the contract stays.
    DeregisterService {
        #[serde(with = "crate::json_forms::address")]
        contract: Address,
    },
    /// Grants `right` to `grantee` until block time `expires_ms` (the device's or service's
    /// owner); granting again replaces the expiry.
    Grant {
        right: Right,
        #[serde(with = "crate::json_forms::address")]
        grantee: Address,
        expires_ms: Option<u64>,
    },
    /// Withdraws a grant (the owner of its device or service).
    Revoke {
        right: Right,
        #[serde(with = "crate::json_forms::address")]
        grantee: Address,
    },
}

impl IotTx {
    pub fn name(&self) -> &'static str {
        match self {
            IotTx::RegisterDevice { .. } => "device.register",
            IotTx::UpdateDevice { .. } => "device.update",
            IotTx::RotateKey { .. } => "device.rotate_key",
            IotTx::TransferDevice { .. } => "device.transfer",
            IotTx::SetGateway { .. } => "device.set_gateway",
            IotTx::Report { .. } => "device.report",
            IotTx::Respond { .. } => "device.respond",
            IotTx::RegisterService { .. } => "service.register",
            IotTx::DeregisterService { .. } => "service.deregister",
            IotTx::Grant { .. } => "grant.add",
            IotTx::Revoke { .. } => "grant.revoke",
        }
    }
}

fn digest(domain: &[u8], fields: impl borsh::BorshSerialize) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(borsh::to_vec(&fields).unwrap_or_default());
    h.finalize().into()
}

/// What a device key signs to be registered to `owner` behind `gateway` on `chain_id`.
pub fn registration_digest(
    chain_id: &str,
    key: &DeviceKey,
    owner: &Address,
    gateway: Option<&Address>,
) -> [u8; 32] {
    digest(
        b"bot/device-register/v1\0",
        (chain_id, key, owner.0, gateway.map(|g| g.0)),
    )
}

/// What a new key signs to replace `device`'s key as its `key_version`.
pub fn rotation_digest(
    chain_id: &str,
    device: &Address,
    key: &DeviceKey,
    key_version: u32,
) -> [u8; 32] {
    digest(
        b"bot/device-rotate/v1\0",
        (chain_id, device.0, key, key_version),
    )
}

/// What a device signs for one reading: the counter makes each signature usable once.
pub fn reading_digest(
    chain_id: &str,
    device: &Address,
    stream: &str,
    counter: u64,
    data: &[u8],
) -> [u8; 32] {
    digest(
        b"bot/reading/v1\0",
        (chain_id, device.0, stream, counter, data),
    )
}

/// What a device signs to answer command `id`: the id makes each answer usable once.
pub fn response_digest(
    chain_id: &str,
    device: &Address,
    id: u64,
    ok: bool,
    data: &[u8],
) -> [u8; 32] {
    digest(b"bot/response/v1\0", (chain_id, device.0, id, ok, data))
}
