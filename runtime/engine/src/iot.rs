//! What contracts see of the chain's IoT registries (Y.4464 10.3 to 10.7) through the
//! `devices` and `authorization` interfaces: the values the [`crate::Host`] returns, and the
//! data accesses a call made, which the chain writes to each device's audit trail.

use crate::primitives::Address;

/// At most this many readings are returned by one `devices.readings` call.
pub const MAX_READINGS_PER_CALL: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    Active = 0,
    Suspended = 1,
    Revoked = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Secp256k1 = 0,
    P256 = 1,
}

/// A registered device, as `devices.get` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: Address,
    pub owner: Address,
    pub gateway: Option<Address>,
    pub kind: String,
    pub metadata: String,
    pub status: DeviceStatus,
    pub key_type: KeyType,
    /// Compressed SEC1.
    pub public_key: Vec<u8>,
    pub key_version: u32,
    /// The counter of its newest reading (0: none yet).
    pub counter: u64,
    pub registered_at: u64,
}

/// One stored reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadingInfo {
    pub stream: String,
    pub counter: u64,
    pub data: Vec<u8>,
    pub height: u64,
    pub time_ms: u64,
}

/// A right an owner grants over its device or service (the WIT `authorization.right`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Right {
    /// One stream of a device, or all of them.
    ReadData {
        device: Address,
        stream: Option<String>,
    },
    Command {
        device: Address,
    },
    /// One method of a service, or all of them.
    CallService {
        service: Address,
        method: Option<String>,
    },
}

/// A live grant: who granted it and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    pub granter: Address,
    pub expires_ms: Option<u64>,
    pub granted_at: u64,
}

/// A contract registered as an IoT service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInfo {
    pub contract: Address,
    pub owner: Address,
    pub name: String,
    pub description: String,
    /// Only its owner and grantees may call it.
    pub granted: bool,
    pub registered_at: u64,
}

/// A contract read a device's data: the chain appends it to the device's audit trail when
/// the call succeeds (Y.4464 10.7 steps 5 to 7). Dropped with the frame that made it if that
/// frame fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataAccess {
    /// The contract that read.
    pub accessor: Address,
    pub device: Address,
    pub stream: String,
    /// How many readings it was given.
    pub readings: u32,
    /// The granter of the grant it read under; `None` if it owns the device.
    pub granted_by: Option<Address>,
}

/// A contract called a `granted` service (Y.4464 10.4): held to the same rule as an account
/// calling it, and recorded in the service's audit trail when the call succeeds. Dropped
/// with the callee's frame if that fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCall {
    /// The contract that called.
    pub accessor: Address,
    pub service: Address,
    pub method: String,
    /// The granter of the `call-service` grant it called under; `None` if it owns the service.
    pub granted_by: Option<Address>,
}

/// Limits of `commands.send`: a request over them is a host violation naming the limit.
pub mod command_limits {
    /// Bytes of a command's name.
    pub const MAX_NAME: u32 = 64;
    /// Bytes of a command's payload.
    pub const MAX_PAYLOAD: u32 = 1024;
    /// Bytes of the callback method's name.
    pub const MAX_CALLBACK: u32 = 64;
    /// Blocks a device has to answer: 1 to this many.
    pub const MAX_TIMEOUT_BLOCKS: u32 = 1000;
    /// Gas a callback may be given (it is charged when the command is sent).
    pub const MAX_CALLBACK_GAS: u64 = 1_000_000_000;
}

/// A command a contract sent to a device (Y.4464 10.6 steps 3 to 6). The chain stores it
/// when the call succeeds, and later calls `callback` on `service` with the device's answer or
/// a timeout, giving it `callback_gas`, which the call already paid. Dropped with the frame
/// that sent it if that frame fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRequest {
    /// Chain-wide, in the order commands are sent.
    pub id: u64,
    /// The contract that sent it, and whose `callback` receives the reply.
    pub service: Address,
    pub device: Address,
    pub command: String,
    pub payload: Vec<u8>,
    /// The device has this many blocks, counting the one the command is sent in.
    pub timeout_blocks: u32,
    pub callback: String,
    pub callback_gas: u64,
    /// The granter of the `command` grant it was sent under; `None` if the sender owns the
    /// device.
    pub granted_by: Option<Address>,
}

/// How a command ended, as its callback sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyStatus {
    /// The device did what was asked; the data is its answer.
    Done = 0,
    /// The device refused or failed; the data says why.
    Failed = 1,
    /// No answer came in time.
    TimedOut = 2,
}

/// What a command's callback receives through `commands.reply`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandReply {
    pub id: u64,
    pub device: Address,
    pub command: String,
    pub status: ReplyStatus,
    pub data: Vec<u8>,
    /// The block the answer came in, or the block the command timed out at.
    pub height: u64,
}
