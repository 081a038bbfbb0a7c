//! The chain's IoT devices and their signed readings (Y.4464 10.6, 10.7). Anyone may look a
//! device up; its readings are for its owner and for contracts its owner granted `read-data`,
//! and every read is written to the device's audit trail when the transaction succeeds.
//!
//! ```
//! use bot_sdk::{devices, testing, Address};
//!
//! let sensor = testing::account("sensor");
//! testing::register_device(devices::Device::new(sensor, testing::account("farmer"), "thermometer"));
//! testing::push_reading(sensor, "temperature", br#"{"c":21.5}"#);
//! testing::grant(bot_sdk::env::self_address(), bot_sdk::authorization::Right::ReadData {
//!     device: sensor,
//!     stream: None,
//! }, None);
//!
//! let newest = devices::latest(sensor, "temperature").unwrap().unwrap();
//! assert_eq!(newest.data, br#"{"c":21.5}"#);
//! assert_eq!(devices::get(sensor).unwrap().kind, "thermometer");
//! ```

use crate::sys::devices as wit;

/// The host returns at most this many readings per call.
pub const MAX_READINGS: u32 = 64;
use crate::{Address, ContractError};

pub use crate::bindings::bot::contract::devices::{DeviceStatus, KeyType, ReadError};

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: Address,
    pub owner: Address,
    /// The gateway that speaks for it, if it is a constrained device.
    pub gateway: Option<Address>,
    /// What it is (`thermometer`, `washing-machine`...).
    pub kind: String,
    /// Its owner's description, usually JSON.
    pub metadata: String,
    pub status: DeviceStatus,
    pub key_type: KeyType,
    /// Compressed SEC1 (33 bytes).
    pub public_key: Vec<u8>,
    /// Bumped by every key rotation.
    pub key_version: u32,
    /// The counter of its newest reading (0: none yet).
    pub counter: u64,
    /// The block height it was registered at.
    pub registered_at: u64,
}

impl Device {
    /// An active device with no readings, for tests: set the other fields as needed.
    pub fn new(id: Address, owner: Address, kind: &str) -> Device {
        Device {
            id,
            owner,
            gateway: None,
            kind: kind.to_string(),
            metadata: String::new(),
            status: DeviceStatus::Active,
            key_type: KeyType::Secp256k1,
            public_key: Vec::new(),
            key_version: 0,
            counter: 0,
            registered_at: 0,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == DeviceStatus::Active
    }
}

impl From<wit::Device> for Device {
    fn from(d: wit::Device) -> Device {
        Device {
            id: Address::from_host(d.id),
            owner: Address::from_host(d.owner),
            gateway: d.gateway.map(Address::from_host),
            kind: d.kind,
            metadata: d.metadata,
            status: d.status,
            key_type: d.key_type,
            public_key: d.public_key,
            key_version: d.key_version,
            counter: d.counter,
            registered_at: d.registered_at,
        }
    }
}

/// One reading as the device signed it and the chain accepted it.
pub use crate::bindings::bot::contract::devices::Reading;

/// The registered device `id`.
pub fn get(id: Address) -> Option<Device> {
    wit::get(&id.0).map(Device::from)
}

fn refused(e: ReadError, id: Address, stream: &str) -> ContractError {
    match e {
        ReadError::NoDevice => {
            ContractError::new(ContractError::NOT_FOUND, &format!("no device {id}"))
        }
        ReadError::NotGranted => ContractError::unauthorized(&format!(
            "this contract may not read stream `{stream}` of device {id}: its owner has not granted it read-data"
        )),
    }
}

/// Readings of `stream` with counters above `after`, oldest first, at most `limit` (capped at
/// [`MAX_READINGS`] by the host). Fails (`NOT_FOUND`, `UNAUTHORIZED`) if the device does not exist or this
/// contract may not read it.
pub fn readings(
    id: Address,
    stream: &str,
    after: u64,
    limit: u32,
) -> Result<Vec<Reading>, ContractError> {
    wit::readings(&id.0, stream, after, limit).map_err(|e| refused(e, id, stream))
}

/// The newest reading of `stream`, if it has one. Fails as [`readings`] does.
pub fn latest(id: Address, stream: &str) -> Result<Option<Reading>, ContractError> {
    wit::latest(&id.0, stream).map_err(|e| refused(e, id, stream))
}
