//! A counter: `new(start)`, `increment(by) -> count` (emits `incremented`), `get() -> count`.

use bot_sdk::{ContractError, env, events};

/// `increment` would pass u64::MAX.
const OVERFLOW: u32 = ContractError::FIRST_CUSTOM;

#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new(start: u64) -> Self {
        Counter { count: start }
    }

    pub fn increment(&mut self, by: u64) -> Result<u64, ContractError> {
        self.count = self
            .count
            .checked_add(by)
            .ok_or_else(|| ContractError::new(OVERFLOW, "the counter would overflow"))?;
        events::emit("incremented", &(env::caller(), by, self.count));
        Ok(self.count)
    }

    #[view]
    pub fn get(&self) -> u64 {
        self.count
    }
}
