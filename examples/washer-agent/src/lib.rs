//! Device sociability (Y.4464 Appendix II.4): a washing machine buys its own detergent. Its
//! owner deploys this agent with the rules — which stores, how much, at what price at most,
//! below which level — and grants it `read-data` over the machine's `detergent` stream and
//! `command` over the machine. When the machine reports a low level and calls `check`, the
//! agent reads the level from the chain (signed by the machine's key), asks each store its
//! price, orders from the cheapest one within the rules, and tells the machine with a command;
//! the machine's answer comes back to `on_ack`. It orders once per low level: not again until
//! a reading shows the machine refilled.

use bot_sdk::calls::{self, CallError};
use bot_sdk::collections::Item;
use bot_sdk::commands::{self, Command};
use bot_sdk::events::Event as _;
use bot_sdk::{Address, ContractError, access, devices, env};

/// The stream the machine reports its level on, as `{"level_ml": N}`.
pub const STREAM: &str = "detergent";

#[bot_sdk::contract]
pub struct Agent {
    washer: Address,
    rules: Rules,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The stores it may buy from.
    pub stores: Vec<Address>,
    pub product: String,
    /// Order when the level is below this.
    pub below_ml: u64,
    pub quantity: u32,
    /// The highest unit price it pays.
    pub max_price: u64,
}

/// The store's answer to `price` (its `Product`).
#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub price: u64,
    pub stock: u32,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    pub store: Address,
    pub order: u64,
    pub price: u64,
    /// The level reading that triggered it.
    pub counter: u64,
    pub level_ml: u64,
    /// The command that told the machine, and whether it acknowledged (`None`: not yet).
    pub command: u64,
    pub acknowledged: Option<bool>,
}

#[bot_sdk::event]
pub struct DetergentOrdered {
    pub store: Address,
    pub order: u64,
    pub price: u64,
    pub level_ml: u64,
}

#[bot_sdk::error]
pub enum AgentError {
    /// Only the washing machine itself or its owner asks the agent to check.
    NotWasherOrOwner,
    /// The machine has not reported its detergent level yet.
    NoReading,
    /// The reading has no `level_ml` number.
    BadReading,
    /// No store sells the product in that quantity within the price.
    NoStore,
    /// The rules need a product, a quantity and 1 to 8 stores.
    BadRules,
}

/// The purchase for the current low level, until a reading shows a refill.
const PENDING: Item<Purchase> = Item::new("pending");
const LAST: Item<Purchase> = Item::new("last");

/// The number after `"key":` in a flat JSON object.
fn json_number(data: &[u8], key: &str) -> Option<u64> {
    let text = core::str::from_utf8(data).ok()?;
    let at = text.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok()
}

fn check_rules(rules: &Rules) -> Result<(), AgentError> {
    if rules.product.is_empty()
        || rules.quantity == 0
        || rules.stores.is_empty()
        || rules.stores.len() > 8
    {
        return Err(AgentError::BadRules);
    }
    Ok(())
}

fn call_failed(e: CallError) -> ContractError {
    ContractError::new(
        ContractError::INTERNAL,
        &format!("the store refused: {}", e.message),
    )
}

#[bot_sdk::contract]
impl Agent {
    /// The machine's owner sets the agent up for `washer` with `rules`.
    #[init]
    pub fn new(washer: Address, rules: Rules) -> Result<Self, ContractError> {
        let owner = devices::get(washer)
            .ok_or_else(|| ContractError::new(ContractError::NOT_FOUND, "no such washer"))?
            .owner;
        if owner != env::caller() {
            return Err(ContractError::unauthorized(
                "only the washer's owner sets its agent up",
            ));
        }
        check_rules(&rules)?;
        access::init_owner(owner);
        Ok(Agent { washer, rules })
    }

    /// The owner changes the rules.
    pub fn set_rules(&mut self, rules: Rules) -> Result<(), ContractError> {
        access::require_owner()?;
        check_rules(&rules)?;
        self.rules = rules;
        Ok(())
    }

    /// Reads the machine's level and, if it is low and nothing is ordered for it yet, orders
    /// from the cheapest store within the rules and tells the machine. The purchase, if any.
    pub fn check(&mut self) -> Result<Option<Purchase>, ContractError> {
        let caller = env::caller();
        if caller != self.washer && Some(caller) != access::owner() {
            return Err(AgentError::NotWasherOrOwner.into());
        }
        let reading = devices::latest(self.washer, STREAM)?.ok_or(AgentError::NoReading)?;
        let level_ml = json_number(&reading.data, "level_ml").ok_or(AgentError::BadReading)?;
        if level_ml >= self.rules.below_ml {
            PENDING.remove();
            return Ok(None);
        }
        if PENDING.exists() {
            return Ok(None);
        }
        let r = &self.rules;
        let mut best: Option<(Address, u64)> = None;
        for store in &r.stores {
            let Ok(bytes) = calls::query(store, "price", &(r.product.clone(),), None) else {
                continue;
            };
            let Ok(Some(quote)) = bot_sdk::borsh::from_slice::<Option<Quote>>(&bytes) else {
                continue;
            };
            let fits = quote.stock >= r.quantity && quote.price <= r.max_price;
            if fits && best.is_none_or(|(_, p)| quote.price < p) {
                best = Some((*store, quote.price));
            }
        }
        let (store, price) = best.ok_or(AgentError::NoStore)?;
        let bytes = calls::call(
            &store,
            "order",
            &(r.product.clone(), r.quantity, r.max_price),
            None,
        )
        .map_err(call_failed)?;
        let order: u64 = bot_sdk::borsh::from_slice(&bytes).map_err(|_| {
            ContractError::new(
                ContractError::INTERNAL,
                "the store's answer is not an order id",
            )
        })?;
        let payload = format!(
            r#"{{"ordered":"{}","quantity":{},"order":{order}}}"#,
            r.product, r.quantity
        );
        let command = Command::new(self.washer, "detergent-ordered")
            .payload(payload.as_bytes())
            .timeout_blocks(30)
            .callback("on_ack", 10_000_000)
            .send()?;
        let purchase = Purchase {
            store,
            order,
            price,
            counter: reading.counter,
            level_ml,
            command,
            acknowledged: None,
        };
        PENDING.set(&purchase);
        LAST.set(&purchase);
        DetergentOrdered {
            store,
            order,
            price,
            level_ml,
        }
        .emit();
        Ok(Some(purchase))
    }

    /// The machine's answer to the `detergent-ordered` command (the chain calls it).
    pub fn on_ack(&mut self) -> Result<(), ContractError> {
        let reply = commands::reply()?;
        LAST.update(|last| {
            last.map(|mut p| {
                if p.command == reply.id {
                    p.acknowledged = Some(reply.is_done());
                }
                p
            })
        });
        Ok(())
    }

    /// The newest purchase.
    #[view]
    pub fn last_purchase(&self) -> Option<Purchase> {
        LAST.get()
    }

    #[view]
    pub fn rules(&self) -> Rules {
        self.rules.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::authorization::Right;
    use bot_sdk::testing::{self, account};

    fn home() -> (Agent, Address) {
        let washer = account("washer");
        testing::register_device(devices::Device::new(
            washer,
            account("homeowner"),
            "washing-machine",
        ));
        let me = env::self_address();
        testing::grant(
            me,
            Right::ReadData {
                device: washer,
                stream: Some(STREAM.into()),
            },
            None,
        );
        testing::grant(me, Right::Command { device: washer }, None);
        // Two stores: the cheaper one gets the order.
        for (store, price) in [("store-a", 9u64), ("store-b", 7)] {
            testing::mock_contract(account(store), move |method, _| {
                Ok(match method {
                    "price" => bot_sdk::borsh::to_vec(&Some(Quote { price, stock: 5 })).unwrap(),
                    "order" => bot_sdk::borsh::to_vec(&42u64).unwrap(),
                    _ => unreachable!(),
                })
            });
        }
        testing::set_caller(account("homeowner"));
        let rules = Rules {
            stores: vec![account("store-a"), account("store-b")],
            product: "detergent".into(),
            below_ml: 200,
            quantity: 1,
            max_price: 8,
        };
        (Agent::new(washer, rules).unwrap(), washer)
    }

    #[test]
    fn a_low_level_orders_once_from_the_cheapest_store_within_the_price() {
        let (mut agent, washer) = home();
        testing::push_reading(washer, STREAM, br#"{"level_ml": 900}"#);
        testing::set_caller(washer);
        assert_eq!(agent.check(), Ok(None));
        testing::push_reading(washer, STREAM, br#"{"level_ml": 150}"#);
        let bought = agent.check().unwrap().expect("ordered");
        assert_eq!(
            (bought.store, bought.price, bought.order),
            (account("store-b"), 7, 42)
        );
        assert_eq!(testing::sent_commands()[0].command, "detergent-ordered");
        assert_eq!(agent.check(), Ok(None), "one order per low level");
        // The machine acknowledges.
        testing::set_reply(Some(commands::Reply {
            id: bought.command,
            device: washer,
            command: "detergent-ordered".into(),
            status: commands::ReplyStatus::Done,
            data: b"{}".to_vec(),
            height: 2,
        }));
        agent.on_ack().unwrap();
        assert_eq!(agent.last_purchase().unwrap().acknowledged, Some(true));
    }

    #[test]
    fn strangers_may_not_trigger_it_and_reading_parsing_is_strict() {
        let (mut agent, _) = home();
        testing::set_caller(account("stranger"));
        assert_eq!(agent.check(), Err(AgentError::NotWasherOrOwner.into()));
        assert_eq!(
            json_number(br#"{"level_ml": 12, "x": 3}"#, "level_ml"),
            Some(12)
        );
        assert_eq!(json_number(br#"{"level": 12}"#, "level_ml"), None);
    }
}
