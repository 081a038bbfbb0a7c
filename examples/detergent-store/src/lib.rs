//! A store that sells to devices (Y.4464 Appendix II.4): its owner stocks products at a price
//! and credits customers' prepaid accounts; any account or contract — a washing machine's agent,
//! say — asks the price and orders within a price it names, paying from its credit. No third
//! party vouches for either side: the contract is the agreement.

use bot_sdk::collections::{Log, Map};
use bot_sdk::events::Event as _;
use bot_sdk::{Address, ContractError, access, env};

#[bot_sdk::contract]
pub struct Store {
    name: String,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub price: u64,
    pub stock: u32,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub customer: Address,
    pub product: String,
    pub quantity: u32,
    pub paid: u64,
    pub height: u64,
}

#[bot_sdk::event]
pub struct Ordered {
    pub id: u64,
    pub customer: Address,
    pub product: String,
    pub quantity: u32,
    pub paid: u64,
}

#[bot_sdk::error]
pub enum StoreError {
    /// The store does not sell this product.
    UnknownProduct,
    /// Not enough in stock.
    OutOfStock,
    /// The price is above what the customer would pay.
    PriceTooHigh,
    /// The customer's credit does not cover the order.
    InsufficientCredit,
    /// An order is for 1 or more items.
    NothingOrdered,
}

const PRODUCTS: Map<String, Product> = Map::new("products");
const CREDIT: Map<Address, u64> = Map::new("credit");
const ORDERS: Log<Order> = Log::new("orders");

#[bot_sdk::contract]
impl Store {
    #[init]
    pub fn new(name: String) -> Self {
        access::init_owner(env::caller());
        Store { name }
    }

    /// Adds `quantity` of `product` at `price` (the owner; the price applies to all stock).
    pub fn stock(
        &mut self,
        product: String,
        price: u64,
        quantity: u32,
    ) -> Result<(), ContractError> {
        access::require_owner()?;
        let stock = PRODUCTS.get(&product).map_or(0, |p| p.stock);
        PRODUCTS.insert(
            &product,
            &Product {
                price,
                stock: stock.saturating_add(quantity),
            },
        );
        Ok(())
    }

    /// Adds to a customer's prepaid credit (the owner, once paid).
    pub fn credit(&mut self, customer: Address, amount: u64) -> Result<(), ContractError> {
        access::require_owner()?;
        let credit = CREDIT.get(&customer).unwrap_or(0);
        CREDIT.insert(&customer, &credit.saturating_add(amount));
        Ok(())
    }

    /// The caller orders `quantity` of `product` if its unit price is at most `max_price`;
    /// the order's id.
    pub fn order(
        &mut self,
        product: String,
        quantity: u32,
        max_price: u64,
    ) -> Result<u64, StoreError> {
        if quantity == 0 {
            return Err(StoreError::NothingOrdered);
        }
        let mut p = PRODUCTS.get(&product).ok_or(StoreError::UnknownProduct)?;
        if p.price > max_price {
            return Err(StoreError::PriceTooHigh);
        }
        if p.stock < quantity {
            return Err(StoreError::OutOfStock);
        }
        let customer = env::caller();
        let paid = p.price.saturating_mul(u64::from(quantity));
        let left = CREDIT
            .get(&customer)
            .unwrap_or(0)
            .checked_sub(paid)
            .ok_or(StoreError::InsufficientCredit)?;
        CREDIT.insert(&customer, &left);
        p.stock -= quantity;
        PRODUCTS.insert(&product, &p);
        let id = ORDERS.push(&Order {
            customer,
            product: product.clone(),
            quantity,
            paid,
            height: env::block_height(),
        });
        Ordered {
            id,
            customer,
            product,
            quantity,
            paid,
        }
        .emit();
        Ok(id)
    }

    /// The product's price and stock.
    #[view]
    pub fn price(&self, product: String) -> Option<Product> {
        PRODUCTS.get(&product)
    }

    #[view]
    pub fn credit_of(&self, customer: Address) -> u64 {
        CREDIT.get(&customer).unwrap_or(0)
    }

    #[view]
    pub fn orders(&self, from: u64, limit: u32) -> Vec<(u64, Order)> {
        ORDERS.page(from, limit.min(100))
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

    #[test]
    fn orders_are_paid_from_credit_within_the_customers_price() {
        testing::set_caller(account("grocer"));
        let mut s = Store::new("corner".into());
        s.stock("detergent".into(), 7, 3).unwrap();
        s.credit(account("washer"), 20).unwrap();
        testing::set_caller(account("washer"));
        assert_eq!(
            s.order("detergent".into(), 1, 6),
            Err(StoreError::PriceTooHigh)
        );
        assert_eq!(s.order("detergent".into(), 2, 7), Ok(0));
        assert_eq!(s.credit_of(account("washer")), 6);
        assert_eq!(
            s.order("detergent".into(), 1, 7),
            Err(StoreError::InsufficientCredit)
        );
        assert_eq!(s.price("detergent".into()).unwrap().stock, 1);
        assert!(
            s.stock("detergent".into(), 1, 1).is_err(),
            "only the owner stocks"
        );
    }
}
