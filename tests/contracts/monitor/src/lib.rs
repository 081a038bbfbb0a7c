//! A monitoring service over the chain's devices: it looks devices up, reads their readings
//! under its owner's grant (each read goes to the device's audit trail), admits callers by
//! their grants, and sends devices commands, keeping the replies its callback receives. Tests
//! run it on the chain to check the `devices`, `authorization` and `commands` interfaces end
//! to end.

use bot_sdk::authorization::{self, Right};
use bot_sdk::collections::Map;
use bot_sdk::commands::{self, Command};
use bot_sdk::{Address, ContractError, devices};

/// Replies by command id: status (0 done, 1 failed, 2 timed out), data, height.
const REPLIES: Map<u64, (u8, Vec<u8>, u64)> = Map::new("replies");

#[bot_sdk::contract]
pub struct Monitor {
    /// The counter of the newest reading `track` saw, per call.
    seen: u64,
}

#[bot_sdk::contract]
impl Monitor {
    #[init]
    pub fn new() -> Self {
        Monitor { seen: 0 }
    }

    /// The device's owner, kind, status (0 active, 1 suspended, 2 revoked) and counter.
    #[view]
    pub fn describe(&self, device: Address) -> Option<(Address, String, u8, u64)> {
        devices::get(device).map(|d| (d.owner, d.kind, d.status as u8, d.counter))
    }

    /// Reads the newest reading of `stream` and remembers its counter; its data.
    pub fn track(&mut self, device: Address, stream: String) -> Result<Vec<u8>, ContractError> {
        let reading = devices::latest(device, &stream)?.ok_or_else(|| {
            ContractError::new(ContractError::NOT_FOUND, &format!("no `{stream}` reading yet"))
        })?;
        self.seen = reading.counter;
        Ok(reading.data)
    }

    /// The counters of readings above `after`, oldest first.
    pub fn history(
        &mut self,
        device: Address,
        stream: String,
        after: u64,
        limit: u32,
    ) -> Result<Vec<u64>, ContractError> {
        Ok(devices::readings(device, &stream, after, limit)?
            .iter()
            .map(|r| r.counter)
            .collect())
    }

    /// Reads, then fails: the read must leave no access record.
    pub fn read_then_fail(&mut self, device: Address, stream: String) -> Result<(), ContractError> {
        devices::latest(device, &stream)?;
        Err(ContractError::new(ContractError::FIRST_CUSTOM, "changed my mind"))
    }

    /// Only a caller its owner granted `command` over `device` gets through; the granter.
    pub fn operate(&mut self, device: Address) -> Result<Address, ContractError> {
        let grant = authorization::require(bot_sdk::env::caller(), &Right::Command { device })?;
        Ok(grant.granter)
    }

    /// The registered service at `contract`: its name and whether it is granted-only.
    #[view]
    pub fn service(&self, contract: Address) -> Option<(String, bool)> {
        authorization::service(contract).map(|s| (s.name, s.granted))
    }

    #[view]
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Sends `name` with `payload` to `device`, answered within `timeout` blocks to
    /// `on_reply`; the command's id.
    pub fn command(
        &mut self,
        device: Address,
        name: String,
        payload: Vec<u8>,
        timeout: u32,
    ) -> Result<u64, ContractError> {
        self.command_paying(device, name, payload, timeout, 30_000_000)
    }

    /// [`Monitor::command`], giving the callback `callback_gas`.
    pub fn command_paying(
        &mut self,
        device: Address,
        name: String,
        payload: Vec<u8>,
        timeout: u32,
        callback_gas: u64,
    ) -> Result<u64, ContractError> {
        Command::new(device, &name)
            .payload(&payload)
            .timeout_blocks(timeout)
            .callback("on_reply", callback_gas)
            .send()
    }

    /// The callback: keeps the reply; an answer `boom` makes it fail (and keep nothing).
    pub fn on_reply(&mut self) -> Result<(), ContractError> {
        let reply = commands::reply()?;
        if reply.data == b"boom" {
            return Err(ContractError::new(ContractError::FIRST_CUSTOM, "the answer blew up"));
        }
        REPLIES.insert(&reply.id, &(reply.status as u8, reply.data.clone(), reply.height));
        bot_sdk::events::emit("replied", &reply.id);
        Ok(())
    }

    #[view]
    pub fn reply_of(&self, id: u64) -> Option<(u8, Vec<u8>, u64)> {
        REPLIES.get(&id)
    }

    /// Calls `increment(by)` on the counter at `counter` as this contract; the new count, or
    /// the counter's refusal as this call's error.
    pub fn relay_increment(&mut self, counter: Address, by: u64) -> Result<u64, ContractError> {
        let bytes = bot_sdk::calls::call(&counter, "increment", &by, None)
            .map_err(|e| ContractError::new(e.code, &e.message))?;
        bot_sdk::borsh::from_slice(&bytes)
            .map_err(|_| ContractError::new(ContractError::INTERNAL, "the count does not decode"))
    }
}
