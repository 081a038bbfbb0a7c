//! The chain's IoT registries in the native test environment: devices, readings, grants and
//! services a test sets up, read by the contract through [`crate::devices`] and
//! [`crate::authorization`] with the chain's rules (owner or live grant, wildcard grants,
//! expiry by block time); the commands the contract sent ([`crate::commands`]) and the reply a
//! test hands its callback.

use std::collections::BTreeMap;

use super::with;
use crate::Address;
use crate::authorization::Right;
use crate::bindings::bot::contract::devices as wit_dev;
use crate::devices::Device;

/// A read of device data the contract made, as the chain would record it in the device's
/// audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataRead {
    pub device: Address,
    pub stream: String,
    pub readings: u32,
    /// The grant's granter; `None` if the contract owns the device.
    pub granted_by: Option<Address>,
}

/// A command the contract sent, as the chain would store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentCommand {
    pub id: u64,
    pub device: Address,
    pub command: String,
    pub payload: Vec<u8>,
    pub timeout_blocks: u32,
    pub callback: String,
    pub callback_gas: u64,
    /// The `command` grant's granter; `None` if the contract owns the device.
    pub granted_by: Option<Address>,
}

#[derive(Default)]
pub(crate) struct Things {
    devices: BTreeMap<Address, Device>,
    /// Per device and stream, in counter order.
    readings: BTreeMap<(Address, String), Vec<wit_dev::Reading>>,
    grants: Vec<(Address, Right, crate::authorization::Grant)>,
    services: BTreeMap<Address, crate::authorization::Service>,
    reads: Vec<DataRead>,
    commands: Vec<SentCommand>,
    reply: Option<crate::commands::Reply>,
}

impl Things {
    /// The live grant by which `holder` has `right` at `time_ms`: exact, or over everything.
    fn grant(
        &self,
        holder: Address,
        right: &Right,
        time_ms: u64,
    ) -> Option<&crate::authorization::Grant> {
        let wildcard = match right {
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
        };
        std::iter::once(right.clone())
            .chain(wildcard)
            .find_map(|r| {
                self.grants
                    .iter()
                    .find(|(h, gr, g)| {
                        *h == holder && *gr == r && g.expires_ms.is_none_or(|e| time_ms < e)
                    })
                    .map(|(.., g)| g)
            })
    }
}

/// Registers `device` (or replaces the one with its id).
pub fn register_device(device: Device) {
    with(|w| w.things.devices.insert(device.id, device));
}

/// Appends a reading of `stream` to a registered device with its next counter, at the
/// current block; returns the counter.
pub fn push_reading(device: Address, stream: &str, data: &[u8]) -> u64 {
    with(|w| {
        let (height, time_ms) = (w.block_height, w.block_time);
        let d = w.things.devices.get_mut(&device).unwrap_or_else(|| {
            panic!("push_reading: no device {device}; register it with testing::register_device")
        });
        d.counter += 1;
        let counter = d.counter;
        w.things
            .readings
            .entry((device, stream.to_string()))
            .or_default()
            .push(wit_dev::Reading {
                stream: stream.to_string(),
                counter,
                data: data.to_vec(),
                height,
                time_ms,
            });
        counter
    })
}

/// Grants `holder` `right` until block time `expires_ms`, granted by the owner of the device
/// or service it is over (if registered).
pub fn grant(holder: Address, right: Right, expires_ms: Option<u64>) {
    with(|w| {
        let target = match &right {
            Right::ReadData { device, .. } | Right::Command { device } => *device,
            Right::CallService { service, .. } => *service,
        };
        let granter = w
            .things
            .devices
            .get(&target)
            .map(|d| d.owner)
            .or_else(|| w.things.services.get(&target).map(|s| s.owner))
            .unwrap_or_else(|| super::account("granter"));
        let granted_at = w.block_time;
        w.things
            .grants
            .retain(|(h, r, _)| !(*h == holder && *r == right));
        w.things.grants.push((
            holder,
            right,
            crate::authorization::Grant {
                granter,
                expires_ms,
                granted_at,
            },
        ));
    });
}

/// Revokes `holder`'s grant of exactly `right`.
pub fn revoke(holder: Address, right: &Right) {
    with(|w| {
        w.things
            .grants
            .retain(|(h, r, _)| !(*h == holder && r == right))
    });
}

/// Registers a service (or replaces the one at its address).
pub fn register_service(service: crate::authorization::Service) {
    with(|w| w.things.services.insert(service.contract, service));
}

/// The device data reads the contract made, oldest first.
pub fn data_reads() -> Vec<DataRead> {
    with(|w| w.things.reads.clone())
}

/// The commands the contract sent, oldest first (ids count from 0 in each test).
pub fn sent_commands() -> Vec<SentCommand> {
    with(|w| w.things.commands.clone())
}

/// The reply [`crate::commands::reply`] returns from now on, as when the chain runs the
/// contract's callback; `None`: not in a callback.
pub fn set_reply(reply: Option<crate::commands::Reply>) {
    with(|w| w.things.reply = reply);
}

/// The stand-ins for the `devices`, `authorization` and `commands` host functions.
pub(crate) mod host {
    pub(crate) mod commands {
        pub(crate) use crate::bindings::bot::contract::commands::{
            CommandReply as Reply, SendError,
        };

        use super::super::{SentCommand, with};
        use crate::Address;
        use crate::authorization::Right;
        use crate::bindings::bot::contract::devices::DeviceStatus;

        fn check(name: &str, len: usize, max: usize) {
            if len == 0 || len > max {
                crate::runtime::abort(&format!("{name} has {len} bytes; it must have 1 to {max}"));
            }
        }

        pub(crate) fn send(
            device: &[u8],
            command: &str,
            payload: &[u8],
            timeout: u32,
            callback: &str,
            callback_gas: u64,
        ) -> Result<u64, SendError> {
            use crate::commands::{MAX_NAME, MAX_PAYLOAD};
            crate::testing::host::writable("commands.send");
            check("command name", command.len(), MAX_NAME);
            check("callback method", callback.len(), MAX_NAME);
            if payload.len() > MAX_PAYLOAD {
                crate::runtime::abort(&format!(
                    "command payload is {} bytes; the limit is {MAX_PAYLOAD}",
                    payload.len()
                ));
            }
            if timeout == 0 || timeout > crate::commands::MAX_TIMEOUT_BLOCKS {
                crate::runtime::abort(&format!(
                    "command timeout is {timeout} blocks; it must be 1 to {}",
                    crate::commands::MAX_TIMEOUT_BLOCKS
                ));
            }
            let device = Address::from_host(device.to_vec());
            with(|w| {
                let sender = w.self_address;
                let d = w.things.devices.get(&device).ok_or(SendError::NoDevice)?;
                let (owner, status) = (d.owner, d.status);
                let granted_by = if owner == sender {
                    None
                } else {
                    let grant = w
                        .things
                        .grant(sender, &Right::Command { device }, w.block_time);
                    Some(grant.ok_or(SendError::NotGranted)?.granter)
                };
                if status != DeviceStatus::Active {
                    return Err(SendError::Inactive);
                }
                let id = w.things.commands.len() as u64;
                w.things.commands.push(SentCommand {
                    id,
                    device,
                    command: command.to_string(),
                    payload: payload.to_vec(),
                    timeout_blocks: timeout,
                    callback: callback.to_string(),
                    callback_gas,
                    granted_by,
                });
                Ok(id)
            })
        }

        pub(crate) fn reply() -> Option<Reply> {
            with(|w| {
                w.things.reply.clone().map(|r| Reply {
                    id: r.id,
                    device: r.device.0.to_vec(),
                    command: r.command,
                    status: r.status,
                    data: r.data,
                    height: r.height,
                })
            })
        }
    }

    pub(crate) mod devices {
        pub(crate) use crate::bindings::bot::contract::devices::{Device, ReadError, Reading};

        use super::super::{DataRead, with};
        use crate::Address;
        use crate::authorization::Right;

        pub(crate) fn get(id: &[u8]) -> Option<Device> {
            let id = Address::from_host(id.to_vec());
            with(|w| {
                w.things.devices.get(&id).map(|d| Device {
                    id: d.id.0.to_vec(),
                    owner: d.owner.0.to_vec(),
                    gateway: d.gateway.map(|g| g.0.to_vec()),
                    kind: d.kind.clone(),
                    metadata: d.metadata.clone(),
                    status: d.status,
                    key_type: d.key_type,
                    public_key: d.public_key.clone(),
                    key_version: d.key_version,
                    counter: d.counter,
                    registered_at: d.registered_at,
                })
            })
        }

        fn read(
            id: &[u8],
            stream: &str,
            after: u64,
            newest_first: bool,
            limit: u32,
        ) -> Result<Vec<Reading>, ReadError> {
            let device = Address::from_host(id.to_vec());
            with(|w| {
                let accessor = w.self_address;
                let owner = w
                    .things
                    .devices
                    .get(&device)
                    .ok_or(ReadError::NoDevice)?
                    .owner;
                let granted_by = if owner == accessor {
                    None
                } else {
                    let right = Right::ReadData {
                        device,
                        stream: Some(stream.to_string()),
                    };
                    let grant = w.things.grant(accessor, &right, w.block_time);
                    Some(grant.ok_or(ReadError::NotGranted)?.granter)
                };
                let all = w
                    .things
                    .readings
                    .get(&(device, stream.to_string()))
                    .cloned()
                    .unwrap_or_default();
                let limit = limit.min(crate::devices::MAX_READINGS) as usize;
                let out: Vec<Reading> = if newest_first {
                    all.into_iter().rev().take(limit).collect()
                } else {
                    all.into_iter()
                        .filter(|r| r.counter > after)
                        .take(limit)
                        .collect()
                };
                w.things.reads.push(DataRead {
                    device,
                    stream: stream.to_string(),
                    readings: out.len() as u32,
                    granted_by,
                });
                Ok(out)
            })
        }

        pub(crate) fn readings(
            id: &[u8],
            stream: &str,
            after: u64,
            limit: u32,
        ) -> Result<Vec<Reading>, ReadError> {
            read(id, stream, after, false, limit)
        }

        pub(crate) fn latest(id: &[u8], stream: &str) -> Result<Option<Reading>, ReadError> {
            Ok(read(id, stream, 0, true, 1)?.pop())
        }
    }

    pub(crate) mod authorization {
        pub(crate) use crate::bindings::bot::contract::authorization::{
            DataScope, Grant, Right, Service, ServiceScope,
        };

        use super::super::with;
        use crate::Address;

        fn from_wit(right: &Right) -> crate::authorization::Right {
            use crate::authorization::Right as R;
            let address = |bytes: &Vec<u8>| Address::from_host(bytes.clone());
            match right {
                Right::ReadData(s) => R::ReadData {
                    device: address(&s.device),
                    stream: s.stream.clone(),
                },
                Right::Command(device) => R::Command {
                    device: address(device),
                },
                Right::CallService(s) => R::CallService {
                    service: address(&s.service),
                    method: s.method.clone(),
                },
            }
        }

        pub(crate) fn check(holder: &[u8], right: &Right) -> Option<Grant> {
            let holder = Address::from_host(holder.to_vec());
            let right = from_wit(right);
            with(|w| {
                w.things.grant(holder, &right, w.block_time).map(|g| Grant {
                    granter: g.granter.0.to_vec(),
                    expires_ms: g.expires_ms,
                    granted_at: g.granted_at,
                })
            })
        }

        pub(crate) fn get_service(contract: &[u8]) -> Option<Service> {
            let contract = Address::from_host(contract.to_vec());
            with(|w| {
                w.things.services.get(&contract).map(|s| Service {
                    contract: s.contract.0.to_vec(),
                    owner: s.owner.0.to_vec(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    granted: s.granted,
                    registered_at: s.registered_at,
                })
            })
        }
    }
}
