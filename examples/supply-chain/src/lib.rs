//! Supply-chain trace (Y.4464 Appendix II.1): parts and products move between the parties of a
//! supply chain — suppliers, manufacturers, distributors, retailers — and every step is on the
//! chain: who made a part, which parts went into a product, who shipped it to whom, and the
//! readings of the devices that watched it on the way (a cold-chain logger, say), read under
//! the device owner's grant. Parties, and accounts the chain's owner granted `trace`, trace a
//! product's whole history, its parts' included.

use bot_sdk::authorization::{self, Right};
use bot_sdk::collections::Map;
use bot_sdk::events::Event as _;
use bot_sdk::{Address, ContractError, access, devices, env};

#[bot_sdk::contract]
pub struct SupplyChain {
    name: String,
}

#[bot_sdk::data]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Supplier,
    Manufacturer,
    Distributor,
    Retailer,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub role: Role,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub description: String,
    pub made_by: Address,
    /// Who holds it now.
    pub holder: Address,
    /// The parts it was assembled from.
    pub parts: Vec<String>,
    /// The product it went into, if it did (then it moves with that product).
    pub within: Option<String>,
    /// Steps recorded so far.
    pub steps: u64,
}

/// A device reading attached to a step as evidence.
#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub device: Address,
    pub stream: String,
    /// The reading's counter: it is on the chain, signed by the device's key.
    pub counter: u64,
    pub data: Vec<u8>,
}

/// One step of an item's history.
#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub item: String,
    /// `made`, `assembled`, `used in <product>`, `shipped`, `checked`.
    pub action: String,
    pub by: Address,
    pub to: Option<Address>,
    pub height: u64,
    pub time_ms: u64,
    pub evidence: Option<Evidence>,
}

#[bot_sdk::event]
pub struct Recorded {
    pub item: String,
    pub action: String,
    pub by: Address,
}

#[bot_sdk::error]
pub enum SupplyError {
    /// The caller is not a party of this supply chain.
    NotAParty,
    /// This party's role may not do that.
    WrongRole,
    /// No item has this id.
    UnknownItem,
    /// An item with this id exists already.
    ItemExists,
    /// The caller does not hold the item.
    NotHolder,
    /// The item is part of a product: it moves with the product.
    Assembled,
    /// The receiver is not a party of this supply chain.
    UnknownReceiver,
    /// An item id is 1 to 64 bytes.
    BadId,
    /// A product is assembled from 1 to 32 parts, each given once.
    BadParts,
}

const PARTIES: Map<Address, Party> = Map::new("parties");
const ITEMS: Map<String, Item> = Map::new("items");
const HISTORY: Map<(String, u64), Step> = Map::new("history");

/// How deep `trace` follows parts of parts.
const MAX_DEPTH: usize = 4;

fn party(who: Address) -> Result<Party, SupplyError> {
    PARTIES.get(&who).ok_or(SupplyError::NotAParty)
}

fn item(id: &str) -> Result<Item, SupplyError> {
    ITEMS.get(&id.to_string()).ok_or(SupplyError::UnknownItem)
}

/// The item, if the caller holds it and it is not inside a product.
fn held(id: &str) -> Result<Item, SupplyError> {
    let item = item(id)?;
    if item.holder != env::caller() {
        return Err(SupplyError::NotHolder);
    }
    if item.within.is_some() {
        return Err(SupplyError::Assembled);
    }
    Ok(item)
}

fn new_item(id: &str, description: &str, parts: Vec<String>) -> Result<Item, SupplyError> {
    if id.is_empty() || id.len() > 64 {
        return Err(SupplyError::BadId);
    }
    if ITEMS.contains(&id.to_string()) {
        return Err(SupplyError::ItemExists);
    }
    Ok(Item {
        id: id.to_string(),
        description: description.to_string(),
        made_by: env::caller(),
        holder: env::caller(),
        parts,
        within: None,
        steps: 0,
    })
}

/// Appends a step to `item`'s history and stores it.
fn record(item: &mut Item, action: &str, to: Option<Address>, evidence: Option<Evidence>) {
    let step = Step {
        item: item.id.clone(),
        action: action.to_string(),
        by: env::caller(),
        to,
        height: env::block_height(),
        time_ms: env::block_time(),
        evidence,
    };
    HISTORY.insert(&(item.id.clone(), item.steps), &step);
    item.steps += 1;
    ITEMS.insert(&item.id, item);
    Recorded {
        item: item.id.clone(),
        action: action.to_string(),
        by: step.by,
    }
    .emit();
}

fn history(id: &str, depth: usize, out: &mut Vec<Step>) -> Result<(), SupplyError> {
    let item = item(id)?;
    out.extend(
        HISTORY
            .prefix(&item.id)
            .page(None, item.steps as u32)
            .into_iter()
            .map(|(_, step)| step),
    );
    if depth < MAX_DEPTH {
        for part in &item.parts {
            history(part, depth + 1, out)?;
        }
    }
    Ok(())
}

#[bot_sdk::contract]
impl SupplyChain {
    /// The caller runs the chain: it admits parties and grants others the right to trace.
    #[init]
    pub fn new(name: String) -> Self {
        access::init_owner(env::caller());
        SupplyChain { name }
    }

    /// Admits `who` as a party with `role` (the owner).
    pub fn add_party(
        &mut self,
        who: Address,
        name: String,
        role: Role,
    ) -> Result<(), ContractError> {
        access::require_owner()?;
        PARTIES.insert(&who, &Party { name, role });
        Ok(())
    }

    /// A supplier or manufacturer makes a part; it holds it.
    pub fn make(&mut self, id: String, description: String) -> Result<(), SupplyError> {
        if !matches!(
            party(env::caller())?.role,
            Role::Supplier | Role::Manufacturer
        ) {
            return Err(SupplyError::WrongRole);
        }
        let mut part = new_item(&id, &description, Vec::new())?;
        record(&mut part, "made", None, None);
        Ok(())
    }

    /// A manufacturer assembles a product from parts it holds; the parts go into it.
    pub fn assemble(
        &mut self,
        id: String,
        description: String,
        parts: Vec<String>,
    ) -> Result<(), SupplyError> {
        if party(env::caller())?.role != Role::Manufacturer {
            return Err(SupplyError::WrongRole);
        }
        let mut unique = parts.clone();
        unique.sort();
        unique.dedup();
        if parts.is_empty() || parts.len() > 32 || unique.len() != parts.len() {
            return Err(SupplyError::BadParts);
        }
        let mut held_parts = Vec::new();
        for p in &parts {
            held_parts.push(held(p)?);
        }
        let mut product = new_item(&id, &description, parts)?;
        for mut part in held_parts {
            part.within = Some(id.clone());
            record(&mut part, &format!("used in {id}"), None, None);
        }
        record(&mut product, "assembled", None, None);
        Ok(())
    }

    /// The holder ships an item (with everything in it) to another party.
    pub fn ship(&mut self, id: String, to: Address) -> Result<(), SupplyError> {
        party(env::caller())?;
        PARTIES.get(&to).ok_or(SupplyError::UnknownReceiver)?;
        let mut item = held(&id)?;
        item.holder = to;
        record(&mut item, "shipped", Some(to), None);
        Ok(())
    }

    /// The holder attaches the newest reading of a device that watches the item (a
    /// temperature logger in the crate, say). The device's owner must have granted this
    /// contract `read-data`; the read is in the device's audit trail.
    pub fn check(
        &mut self,
        id: String,
        device: Address,
        stream: String,
    ) -> Result<u64, ContractError> {
        party(env::caller())?;
        let mut item = held(&id)?;
        let reading = devices::latest(device, &stream)?.ok_or_else(|| {
            ContractError::new(
                ContractError::NOT_FOUND,
                &format!("device {device} has no `{stream}` reading"),
            )
        })?;
        let counter = reading.counter;
        let evidence = Evidence {
            device,
            stream,
            counter,
            data: reading.data,
        };
        record(&mut item, "checked", None, Some(evidence));
        Ok(counter)
    }

    /// The whole history of `id`: its own steps, then its parts' (and theirs, 4 levels deep).
    /// For parties, and for accounts the owner granted `call_service` of `trace`.
    pub fn trace(&mut self, id: String) -> Result<Vec<Step>, ContractError> {
        let caller = env::caller();
        if PARTIES.get(&caller).is_none() {
            let right = Right::CallService {
                service: env::self_address(),
                method: Some("trace".into()),
            };
            authorization::require(caller, &right)?;
        }
        let mut out = Vec::new();
        history(&id, 0, &mut out)?;
        Ok(out)
    }

    #[view]
    pub fn item(&self, id: String) -> Option<Item> {
        ITEMS.get(&id)
    }

    #[view]
    pub fn party(&self, who: Address) -> Option<Party> {
        PARTIES.get(&who)
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

    fn chain() -> SupplyChain {
        testing::set_caller(account("owner"));
        let mut c = SupplyChain::new("bikes".into());
        for (who, role) in [
            ("frames", Role::Supplier),
            ("bikeworks", Role::Manufacturer),
            ("trucks", Role::Distributor),
            ("shop", Role::Retailer),
        ] {
            c.add_party(account(who), who.into(), role).unwrap();
        }
        c
    }

    fn as_(who: &str) {
        testing::set_caller(account(who));
    }

    #[test]
    fn a_bike_is_traced_back_to_its_frame() {
        let mut c = chain();
        as_("frames");
        c.make("frame-1".into(), "alloy frame".into()).unwrap();
        c.ship("frame-1".into(), account("bikeworks")).unwrap();
        as_("bikeworks");
        c.make("wheel-1".into(), "wheel".into()).unwrap();
        c.assemble(
            "bike-1".into(),
            "city bike".into(),
            vec!["frame-1".into(), "wheel-1".into()],
        )
        .unwrap();
        // A part inside a product moves with it.
        assert_eq!(
            c.ship("frame-1".into(), account("trucks")),
            Err(SupplyError::Assembled)
        );
        c.ship("bike-1".into(), account("trucks")).unwrap();
        as_("trucks");
        c.ship("bike-1".into(), account("shop")).unwrap();

        as_("shop");
        let steps = c.trace("bike-1".into()).unwrap();
        let actions: Vec<(&str, &str)> = steps
            .iter()
            .map(|s| (s.item.as_str(), s.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("bike-1", "assembled"),
                ("bike-1", "shipped"),
                ("bike-1", "shipped"),
                ("frame-1", "made"),
                ("frame-1", "shipped"),
                ("frame-1", "used in bike-1"),
                ("wheel-1", "made"),
                ("wheel-1", "used in bike-1"),
            ]
        );
        assert_eq!(c.item("bike-1".into()).unwrap().holder, account("shop"));
    }

    #[test]
    fn only_holders_ship_and_only_authorized_accounts_trace() {
        let mut c = chain();
        as_("frames");
        c.make("frame-1".into(), "alloy frame".into()).unwrap();
        as_("trucks");
        assert_eq!(
            c.ship("frame-1".into(), account("shop")),
            Err(SupplyError::NotHolder)
        );
        assert_eq!(c.make("x".into(), "".into()), Err(SupplyError::WrongRole));
        as_("frames");
        assert_eq!(
            c.ship("frame-1".into(), account("nobody")),
            Err(SupplyError::UnknownReceiver)
        );
        as_("consumer");
        let e = c.trace("frame-1".into()).unwrap_err();
        assert_eq!(e.code, ContractError::UNAUTHORIZED);
        let right = Right::CallService {
            service: env::self_address(),
            method: Some("trace".into()),
        };
        testing::grant(account("consumer"), right, None);
        assert_eq!(c.trace("frame-1".into()).unwrap().len(), 1);
    }

    #[test]
    fn a_check_attaches_a_device_reading_read_under_grant() {
        let mut c = chain();
        let logger = account("logger");
        testing::register_device(devices::Device::new(logger, account("trucks"), "logger"));
        testing::push_reading(logger, "temperature", br#"{"celsius":4.5}"#);
        as_("frames");
        c.make("frame-1".into(), "alloy frame".into()).unwrap();
        let e = c
            .check("frame-1".into(), logger, "temperature".into())
            .unwrap_err();
        assert_eq!(e.code, ContractError::UNAUTHORIZED);
        testing::grant(
            env::self_address(),
            Right::ReadData {
                device: logger,
                stream: None,
            },
            None,
        );
        assert_eq!(
            c.check("frame-1".into(), logger, "temperature".into()),
            Ok(1)
        );
        let steps = c.trace("frame-1".into()).unwrap();
        let evidence = steps[1].evidence.as_ref().unwrap();
        assert_eq!(evidence.data, br#"{"celsius":4.5}"#);
        assert_eq!(testing::data_reads()[0].granted_by, Some(account("trucks")));
    }
}
