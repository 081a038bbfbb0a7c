//! The chain's native IoT modules (Y.4464 clauses 10.3 to 10.7): the device registry with
//! gateways, signed readings with replay-protected counters and bounded retention, commands
//! from service contracts with signed answers and deterministic timeouts, the service
//! registry, scoped access grants with expiry, and audit records no one can rewrite.
//!
//! Changes arrive as [`IotTx`] transactions; their rules live in `apply`, reads in `read`.
//! Everything is in the state tree, so any entry (a grant, say) can be proven to an off-chain
//! service against a block's state root.

mod apply;
pub(crate) mod contract_view;
mod model;
mod read;
mod signer;
mod tx;

pub use apply::check_stream;
pub(crate) use apply::{Expiry, IotExec, Refused};
pub use model::{
    AccessPolicy, AccessRecord, CallbackRun, Command, CommandState, Device, DeviceKey,
    DeviceStatus, Grant, KeyType, Reading, Right, Service,
};
pub use read::{DeviceFilter, Page, check_grant, verify_grant_proof};
pub use signer::DeviceSigner;
pub use tx::{IotTx, reading_digest, registration_digest, response_digest, rotation_digest};

/// The JSON form of a reading: its fields, and `value`, the data parsed, when it is JSON.
pub fn reading_json(reading: &Reading) -> serde_json::Value {
    let mut out = serde_json::to_value(reading).unwrap_or_default();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&reading.data) {
        out["value"] = value;
    }
    out
}

/// The JSON form of a command: its fields, and `payload_value` / `value` (the answer), the
/// bytes parsed, when they are JSON.
pub fn command_json(command: &Command) -> serde_json::Value {
    let mut out = serde_json::to_value(command).unwrap_or_default();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&command.payload) {
        out["payload_value"] = value;
    }
    if let CommandState::Answered { data, .. } = &command.state
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
    {
        out["value"] = value;
    }
    out
}

/// The JSON form of an event the IoT modules emit (`device.reading`, `grant.added`...), or
/// `None` for a name they do not emit or data that is not theirs.
pub fn event_json(name: &str, data: &[u8]) -> Option<serde_json::Value> {
    fn json<T: borsh::BorshDeserialize + serde::Serialize>(
        data: &[u8],
    ) -> Option<serde_json::Value> {
        serde_json::to_value(borsh::from_slice::<T>(data).ok()?).ok()
    }
    match name {
        "device.registered"
        | "device.updated"
        | "device.key_rotated"
        | "device.transferred"
        | "device.gateway_changed" => json::<Device>(data),
        "device.reading" => Some(reading_json(&borsh::from_slice(data).ok()?)),
        "service.registered" | "service.deregistered" => json::<Service>(data),
        "grant.added" | "grant.revoked" => json::<Grant>(data),
        "access.recorded" => json::<AccessRecord>(data),
        "command.sent" | "command.answered" | "command.timed_out" => {
            Some(command_json(&borsh::from_slice(data).ok()?))
        }
        "command.callback" => json::<CallbackRun>(data),
        _ => None,
    }
}
