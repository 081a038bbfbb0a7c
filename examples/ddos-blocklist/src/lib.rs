//! DDoS mitigation (Y.4464 Appendix II.2): the IoT gateways of a consortium keep one blocklist
//! of hijacked devices. A member gateway that sees a device attack its service reports it; the
//! device's own gateway — the one the chain's device registry says speaks for it — confirms,
//! and from then on every gateway finds it on the blocklist and drops its connections. When the
//! device is fixed, its gateway lifts the block; since a hijacker may hold the device's old key,
//! the key must have been rotated since the block.

use bot_sdk::collections::Map;
use bot_sdk::events::Event as _;
use bot_sdk::{Address, ContractError, access, devices, env};

#[bot_sdk::contract]
pub struct Blocklist {
    /// The consortium's name.
    name: String,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The gateway that saw the attack.
    pub reporter: Address,
    /// The service attacked.
    pub service: String,
    pub evidence: String,
    pub height: u64,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub report: Report,
    /// The device's own gateway, which confirmed.
    pub confirmed_by: Address,
    pub since: u64,
    /// The device's key version when it was blocked: lifting needs a newer one.
    pub key_version: u32,
}

#[bot_sdk::event]
pub struct AttackReported {
    pub device: Address,
    pub reporter: Address,
    pub service: String,
}

#[bot_sdk::event]
pub struct DeviceBlocked {
    pub device: Address,
    pub confirmed_by: Address,
}

#[bot_sdk::event]
pub struct BlockLifted {
    pub device: Address,
    pub by: Address,
}

#[bot_sdk::event]
pub struct ReportDismissed {
    pub device: Address,
    pub by: Address,
}

#[bot_sdk::error]
pub enum BlocklistError {
    /// The caller is not a member gateway of the consortium.
    NotMember,
    /// Only the gateway the chain's registry names for this device may do that.
    NotItsGateway,
    /// The device is not registered on the chain.
    UnknownDevice,
    /// The device is already blocked.
    AlreadyBlocked,
    /// The device has an open report already.
    AlreadyReported,
    /// No open report about this device.
    NoReport,
    /// The device is not blocked.
    NotBlocked,
    /// The device's key has not been rotated since it was blocked: a hijacker may hold it.
    KeyNotRotated,
}

const MEMBERS: Map<Address, String> = Map::new("members");
const REPORTS: Map<Address, Report> = Map::new("reports");
const BLOCKED: Map<Address, Block> = Map::new("blocked");

fn member() -> Result<Address, BlocklistError> {
    let caller = env::caller();
    MEMBERS
        .get(&caller)
        .map(|_| caller)
        .ok_or(BlocklistError::NotMember)
}

/// The registered device, if the caller is a member and the device's own gateway.
fn own_gateway(device: Address) -> Result<devices::Device, BlocklistError> {
    let caller = member()?;
    let d = devices::get(device).ok_or(BlocklistError::UnknownDevice)?;
    if d.gateway != Some(caller) {
        return Err(BlocklistError::NotItsGateway);
    }
    Ok(d)
}

#[bot_sdk::contract]
impl Blocklist {
    /// The caller runs the consortium and admits its gateways.
    #[init]
    pub fn new(name: String) -> Self {
        access::init_owner(env::caller());
        Blocklist { name }
    }

    /// Admits a gateway (the owner).
    pub fn admit(&mut self, gateway: Address, name: String) -> Result<(), ContractError> {
        access::require_owner()?;
        MEMBERS.insert(&gateway, &name);
        Ok(())
    }

    /// A member gateway reports `device` attacking `service`.
    pub fn report(
        &mut self,
        device: Address,
        service: String,
        evidence: String,
    ) -> Result<(), BlocklistError> {
        let reporter = member()?;
        devices::get(device).ok_or(BlocklistError::UnknownDevice)?;
        if BLOCKED.contains(&device) {
            return Err(BlocklistError::AlreadyBlocked);
        }
        if REPORTS.contains(&device) {
            return Err(BlocklistError::AlreadyReported);
        }
        REPORTS.insert(
            &device,
            &Report {
                reporter,
                service: service.clone(),
                evidence,
                height: env::block_height(),
            },
        );
        AttackReported {
            device,
            reporter,
            service,
        }
        .emit();
        Ok(())
    }

    /// The device's own gateway confirms the report: the device is blocked everywhere.
    pub fn confirm(&mut self, device: Address) -> Result<(), BlocklistError> {
        let d = own_gateway(device)?;
        let report = REPORTS.get(&device).ok_or(BlocklistError::NoReport)?;
        REPORTS.remove(&device);
        let confirmed_by = env::caller();
        BLOCKED.insert(
            &device,
            &Block {
                report,
                confirmed_by,
                since: env::block_height(),
                key_version: d.key_version,
            },
        );
        DeviceBlocked {
            device,
            confirmed_by,
        }
        .emit();
        Ok(())
    }

    /// The device's own gateway finds the report false.
    pub fn dismiss(&mut self, device: Address) -> Result<(), BlocklistError> {
        own_gateway(device)?;
        REPORTS.get(&device).ok_or(BlocklistError::NoReport)?;
        REPORTS.remove(&device);
        ReportDismissed {
            device,
            by: env::caller(),
        }
        .emit();
        Ok(())
    }

    /// The device's own gateway lifts the block once the device is fixed and has a new key.
    pub fn lift(&mut self, device: Address) -> Result<(), BlocklistError> {
        let d = own_gateway(device)?;
        let block = BLOCKED.get(&device).ok_or(BlocklistError::NotBlocked)?;
        if d.key_version <= block.key_version {
            return Err(BlocklistError::KeyNotRotated);
        }
        BLOCKED.remove(&device);
        BlockLifted {
            device,
            by: env::caller(),
        }
        .emit();
        Ok(())
    }

    /// What a gateway asks before accepting a connection.
    #[view]
    pub fn is_blocked(&self, device: Address) -> bool {
        BLOCKED.contains(&device)
    }

    /// Blocked devices after `after`, at most `limit`.
    #[view]
    pub fn blocked(&self, after: Option<Address>, limit: u32) -> Vec<(Address, Block)> {
        BLOCKED.page(after.as_ref(), limit.min(100))
    }

    #[view]
    pub fn report_of(&self, device: Address) -> Option<Report> {
        REPORTS.get(&device)
    }

    #[view]
    pub fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::testing::{self, account};

    fn consortium() -> (Blocklist, Address) {
        testing::set_caller(account("alliance"));
        let mut b = Blocklist::new("city gateways".into());
        b.admit(account("service-gw-a"), "service gateway A".into())
            .unwrap();
        b.admit(account("home-gw-c"), "home gateway C".into())
            .unwrap();
        let light = account("smart-light");
        let mut d = devices::Device::new(light, account("home-owner"), "smart-light");
        d.gateway = Some(account("home-gw-c"));
        testing::register_device(d);
        (b, light)
    }

    #[test]
    fn reported_confirmed_blocked_then_lifted_after_a_new_key() {
        let (mut b, light) = consortium();
        testing::set_caller(account("service-gw-a"));
        b.report(light, "service A".into(), "40k SYN/s".into())
            .unwrap();
        assert!(!b.is_blocked(light), "a report alone blocks nothing");
        // Only the light's own gateway confirms.
        assert_eq!(b.confirm(light), Err(BlocklistError::NotItsGateway));
        testing::set_caller(account("home-gw-c"));
        b.confirm(light).unwrap();
        assert!(b.is_blocked(light));
        assert_eq!(b.lift(light), Err(BlocklistError::KeyNotRotated));
        let mut d = devices::get(light).unwrap();
        d.key_version += 1;
        testing::register_device(d);
        b.lift(light).unwrap();
        assert!(!b.is_blocked(light));
    }

    #[test]
    fn strangers_and_unknown_devices_are_refused() {
        let (mut b, light) = consortium();
        testing::set_caller(account("stranger"));
        assert_eq!(
            b.report(light, "x".into(), "".into()),
            Err(BlocklistError::NotMember)
        );
        testing::set_caller(account("service-gw-a"));
        assert_eq!(
            b.report(account("ghost"), "x".into(), "".into()),
            Err(BlocklistError::UnknownDevice)
        );
        b.report(light, "x".into(), "".into()).unwrap();
        testing::set_caller(account("home-gw-c"));
        b.dismiss(light).unwrap();
        assert_eq!(b.confirm(light), Err(BlocklistError::NoReport));
    }
}
