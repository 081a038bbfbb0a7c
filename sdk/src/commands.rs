//! Commands to devices (Y.4464 10.6, steps 3 to 6). A contract that owns a device, or holds its
//! owner's `command` grant, sends it a command; the device or its gateway answers in a later
//! transaction signed with the device key (`cargo bot device respond`). The chain then calls
//! the contract's callback method with no arguments, and the callback reads the answer, or a
//! timeout if none came in time, with [`reply`]. No one else can call the callback with a
//! forged answer: outside a callback the chain runs, [`reply`] refuses.
//!
//! ```
//! use bot_sdk::{commands, devices, testing, authorization::Right};
//!
//! let washer = testing::account("washer");
//! testing::register_device(devices::Device::new(washer, testing::account("owner"), "washing-machine"));
//! testing::grant(bot_sdk::env::self_address(), Right::Command { device: washer }, None);
//!
//! let id = commands::Command::new(washer, "start")
//!     .payload(br#"{"program":"eco"}"#)
//!     .timeout_blocks(10)
//!     .callback("on_reply", 20_000_000)
//!     .send()
//!     .unwrap();
//! assert_eq!(testing::sent_commands()[0].command, "start");
//!
//! // What the chain does when the washer answers: the callback runs with the reply.
//! testing::set_reply(Some(commands::Reply {
//!     id,
//!     device: washer,
//!     command: "start".into(),
//!     status: commands::ReplyStatus::Done,
//!     data: b"started".to_vec(),
//!     height: 3,
//! }));
//! assert_eq!(commands::reply().unwrap().data, b"started");
//! ```

use crate::sys::commands as wit;
use crate::{Address, ContractError};

pub use crate::bindings::bot::contract::commands::{ReplyStatus, SendError};

/// Blocks a device has to answer, unless [`Command::timeout_blocks`] says otherwise.
pub const DEFAULT_TIMEOUT_BLOCKS: u32 = 20;
/// The most blocks a command may wait.
pub const MAX_TIMEOUT_BLOCKS: u32 = 1000;
/// The most bytes of a command's payload.
pub const MAX_PAYLOAD: usize = 1024;
/// The most bytes of a command's name and of its callback's.
pub const MAX_NAME: usize = 64;
/// Gas given to the callback unless [`Command::callback`] says otherwise.
pub const DEFAULT_CALLBACK_GAS: u64 = 20_000_000;
/// The callback method called unless [`Command::callback`] names another.
pub const DEFAULT_CALLBACK: &str = "on_command_reply";

/// A command to send: the device, its name, and how the answer comes back.
#[derive(Clone, Debug)]
pub struct Command {
    pub device: Address,
    pub command: String,
    pub payload: Vec<u8>,
    pub timeout_blocks: u32,
    pub callback: String,
    pub callback_gas: u64,
}

impl Command {
    /// `command` to `device`, with no payload, answered within [`DEFAULT_TIMEOUT_BLOCKS`] to
    /// the method [`DEFAULT_CALLBACK`] with [`DEFAULT_CALLBACK_GAS`].
    pub fn new(device: Address, command: &str) -> Command {
        Command {
            device,
            command: command.to_string(),
            payload: Vec::new(),
            timeout_blocks: DEFAULT_TIMEOUT_BLOCKS,
            callback: DEFAULT_CALLBACK.to_string(),
            callback_gas: DEFAULT_CALLBACK_GAS,
        }
    }

    /// What the device is given with the command (at most 1 KiB), usually JSON.
    pub fn payload(mut self, payload: &[u8]) -> Command {
        self.payload = payload.to_vec();
        self
    }

    /// Blocks the device has to answer, counting the one the command is sent in (1 to
    /// [`MAX_TIMEOUT_BLOCKS`]).
    pub fn timeout_blocks(mut self, blocks: u32) -> Command {
        self.timeout_blocks = blocks;
        self
    }

    /// The method of this contract the chain calls with the reply, and the gas it gets, which
    /// [`Command::send`] pays now.
    pub fn callback(mut self, method: &str, gas: u64) -> Command {
        self.callback = method.to_string();
        self.callback_gas = gas;
        self
    }

    /// Sends the command; returns its id, which the reply carries. Fails (`NOT_FOUND`,
    /// `UNAUTHORIZED`) if there is no such device, this contract may not command it, or it is
    /// suspended or revoked. Nothing is sent if the transaction fails.
    pub fn send(&self) -> Result<u64, ContractError> {
        wit::send(
            &self.device.0,
            &self.command,
            &self.payload,
            self.timeout_blocks,
            &self.callback,
            self.callback_gas,
        )
        .map_err(|e| match e {
            SendError::NoDevice => ContractError::new(
                ContractError::NOT_FOUND,
                &format!("no device {}", self.device),
            ),
            SendError::NotGranted => ContractError::unauthorized(&format!(
                "this contract may not command device {}: its owner has not granted it `command`",
                self.device
            )),
            SendError::Inactive => ContractError::unauthorized(&format!(
                "device {} is suspended or revoked and takes no commands",
                self.device
            )),
        })
    }
}

/// How a command ended, as its callback receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The id [`Command::send`] returned.
    pub id: u64,
    pub device: Address,
    pub command: String,
    pub status: ReplyStatus,
    /// The device's answer (empty for a timeout).
    pub data: Vec<u8>,
    /// The block the answer came in, or the block the command timed out at.
    pub height: u64,
}

impl Reply {
    pub fn is_done(&self) -> bool {
        self.status == ReplyStatus::Done
    }
}

/// The reply this call delivers. Fails with `UNAUTHORIZED` unless the chain is running this
/// method as a command's callback.
pub fn reply() -> Result<Reply, ContractError> {
    let r = wit::reply().ok_or_else(|| {
        ContractError::unauthorized(
            "this method is a command callback: only the chain calls it, with a device's reply",
        )
    })?;
    Ok(Reply {
        id: r.id,
        device: Address::from_host(r.device),
        command: r.command,
        status: r.status,
        data: r.data,
        height: r.height,
    })
}
