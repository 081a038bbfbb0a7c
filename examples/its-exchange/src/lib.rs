//! ITS data exchange (Y.4464 Appendix II.3): vehicles are devices on the chain and publish
//! traffic readings (speed, congestion, road humidity) signed by their own keys, so their
//! authenticity needs no one's word. A vehicle's owner offers a stream here at a price and
//! grants this contract `read-data` over it; consumers buy readings with the alliance's tokens,
//! and the tokens go to the vehicle's owner. Every sale is a read in the vehicle's audit trail.

use bot_sdk::authorization::{self, Right};
use bot_sdk::collections::Map;
use bot_sdk::events::Event as _;
use bot_sdk::{Address, ContractError, access, devices, env};

#[bot_sdk::contract]
pub struct Exchange {
    /// The token's symbol.
    token: String,
    supply: u64,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// The vehicle's owner, who is paid.
    pub owner: Address,
    pub stream: String,
    /// Tokens per reading.
    pub price: u64,
    pub sold: u64,
}

/// A reading as a consumer receives it: the vehicle signed it; `counter` and `height` find it on
/// the chain.
#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    pub counter: u64,
    pub data: Vec<u8>,
    pub height: u64,
    pub time_ms: u64,
}

#[bot_sdk::event]
pub struct Offered {
    pub vehicle: Address,
    pub stream: String,
    pub price: u64,
}

#[bot_sdk::event]
pub struct Sold {
    pub vehicle: Address,
    pub buyer: Address,
    pub readings: u32,
    pub paid: u64,
}

#[bot_sdk::event]
pub struct Transferred {
    pub from: Option<Address>,
    pub to: Address,
    pub amount: u64,
}

#[bot_sdk::error]
pub enum ExchangeError {
    /// Only the vehicle's owner may offer or withdraw its data.
    NotOwner,
    /// The vehicle is not registered on the chain.
    UnknownVehicle,
    /// This contract may not read that stream yet: its owner grants it `read-data` first.
    NotGranted,
    /// The vehicle's data is not on offer.
    NoOffer,
    /// The buyer's balance does not cover the readings.
    InsufficientTokens,
    /// A buyer takes 1 to 64 readings at a time.
    BadLimit,
}

const BALANCES: Map<Address, u64> = Map::new("balances");
const OFFERS: Map<Address, Offer> = Map::new("offers");

fn balance(who: &Address) -> u64 {
    BALANCES.get(who).unwrap_or(0)
}

fn move_tokens(from: Address, to: Address, amount: u64) -> Result<(), ExchangeError> {
    let left = balance(&from)
        .checked_sub(amount)
        .ok_or(ExchangeError::InsufficientTokens)?;
    BALANCES.insert(&from, &left);
    BALANCES.insert(&to, &balance(&to).saturating_add(amount));
    Ok(())
}

#[bot_sdk::contract]
impl Exchange {
    /// The caller is the alliance, which issues the tokens.
    #[init]
    pub fn new(token: String) -> Self {
        access::init_owner(env::caller());
        Exchange { token, supply: 0 }
    }

    /// Issues tokens to `to` (the alliance).
    pub fn mint(&mut self, to: Address, amount: u64) -> Result<(), ContractError> {
        access::require_owner()?;
        self.supply = self.supply.saturating_add(amount);
        BALANCES.insert(&to, &balance(&to).saturating_add(amount));
        Transferred {
            from: None,
            to,
            amount,
        }
        .emit();
        Ok(())
    }

    pub fn transfer(&mut self, to: Address, amount: u64) -> Result<(), ExchangeError> {
        let from = env::caller();
        move_tokens(from, to, amount)?;
        Transferred {
            from: Some(from),
            to,
            amount,
        }
        .emit();
        Ok(())
    }

    /// The vehicle's owner offers `stream` at `price` tokens a reading. The owner must have
    /// granted this contract `read-data` over it (`cargo bot grant add --read`).
    pub fn offer(
        &mut self,
        vehicle: Address,
        stream: String,
        price: u64,
    ) -> Result<(), ExchangeError> {
        let owner = devices::get(vehicle)
            .ok_or(ExchangeError::UnknownVehicle)?
            .owner;
        if owner != env::caller() {
            return Err(ExchangeError::NotOwner);
        }
        let right = Right::ReadData {
            device: vehicle,
            stream: Some(stream.clone()),
        };
        if authorization::check(env::self_address(), &right).is_none() {
            return Err(ExchangeError::NotGranted);
        }
        let sold = OFFERS.get(&vehicle).map_or(0, |o| o.sold);
        OFFERS.insert(
            &vehicle,
            &Offer {
                owner,
                stream: stream.clone(),
                price,
                sold,
            },
        );
        Offered {
            vehicle,
            stream,
            price,
        }
        .emit();
        Ok(())
    }

    pub fn withdraw(&mut self, vehicle: Address) -> Result<(), ExchangeError> {
        let offer = OFFERS.get(&vehicle).ok_or(ExchangeError::NoOffer)?;
        if offer.owner != env::caller() {
            return Err(ExchangeError::NotOwner);
        }
        OFFERS.remove(&vehicle);
        Ok(())
    }

    /// Buys up to `limit` readings of the vehicle's offered stream with counters above
    /// `after`, oldest first, paying the price of each to the vehicle's owner.
    pub fn buy(
        &mut self,
        vehicle: Address,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Purchase>, ContractError> {
        if limit == 0 || limit > devices::MAX_READINGS {
            return Err(ExchangeError::BadLimit.into());
        }
        let mut offer = OFFERS.get(&vehicle).ok_or(ExchangeError::NoOffer)?;
        let readings = devices::readings(vehicle, &offer.stream, after, limit)?;
        let paid = offer.price.saturating_mul(readings.len() as u64);
        let buyer = env::caller();
        move_tokens(buyer, offer.owner, paid)?;
        offer.sold += readings.len() as u64;
        OFFERS.insert(&vehicle, &offer);
        Sold {
            vehicle,
            buyer,
            readings: readings.len() as u32,
            paid,
        }
        .emit();
        Ok(readings
            .into_iter()
            .map(|r| Purchase {
                counter: r.counter,
                data: r.data,
                height: r.height,
                time_ms: r.time_ms,
            })
            .collect())
    }

    #[view]
    pub fn balance_of(&self, who: Address) -> u64 {
        balance(&who)
    }

    #[view]
    pub fn offer_of(&self, vehicle: Address) -> Option<Offer> {
        OFFERS.get(&vehicle)
    }

    /// The token's symbol and supply.
    #[view]
    pub fn token(&self) -> (String, u64) {
        (self.token.clone(), self.supply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::testing::{self, account};

    fn market() -> (Exchange, Address) {
        testing::set_caller(account("alliance"));
        let mut x = Exchange::new("ITS".into());
        x.mint(account("navigator"), 10).unwrap();
        let car = account("car");
        testing::register_device(devices::Device::new(car, account("driver"), "vehicle"));
        for speed in [50, 42, 17] {
            testing::push_reading(car, "traffic", format!(r#"{{"kmh":{speed}}}"#).as_bytes());
        }
        (x, car)
    }

    #[test]
    fn a_consumer_pays_the_vehicles_owner_per_reading() {
        let (mut x, car) = market();
        testing::set_caller(account("driver"));
        assert_eq!(
            x.offer(car, "traffic".into(), 3),
            Err(ExchangeError::NotGranted)
        );
        testing::grant(
            env::self_address(),
            Right::ReadData {
                device: car,
                stream: Some("traffic".into()),
            },
            None,
        );
        x.offer(car, "traffic".into(), 3).unwrap();
        testing::set_caller(account("navigator"));
        let bought = x.buy(car, 1, 10).unwrap();
        assert_eq!(bought.iter().map(|p| p.counter).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(bought[1].data, br#"{"kmh":17}"#);
        assert_eq!(x.balance_of(account("navigator")), 4);
        assert_eq!(x.balance_of(account("driver")), 6);
        // Three more readings cost 9: more than is left, so nothing is bought.
        let e = x.buy(car, 0, 3).unwrap_err();
        assert_eq!(e, ExchangeError::InsufficientTokens.into());
    }

    #[test]
    fn only_the_owner_offers_its_vehicle() {
        let (mut x, car) = market();
        testing::set_caller(account("thief"));
        assert_eq!(
            x.offer(car, "traffic".into(), 1),
            Err(ExchangeError::NotOwner)
        );
        assert_eq!(
            x.offer(account("ghost"), "traffic".into(), 1),
            Err(ExchangeError::UnknownVehicle)
        );
    }
}
