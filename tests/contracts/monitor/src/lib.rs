//! A monitoring service over the chain's devices: it looks devices up, reads their readings
//! under its owner's grant (each read goes to the device's audit trail), and admits callers by
//! their grants. Tests run it on the chain to check the `devices` and `authorization`
//! interfaces end to end.

use bot_sdk::authorization::{self, Right};
use bot_sdk::{Address, ContractError, devices};

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
}
