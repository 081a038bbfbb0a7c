//! A counter: `new(start)`, `increment(by) -> count` (emits `incremented`), `get() -> count`.

use bot_sdk::events::Event as _;
use bot_sdk::{Address, env};

#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

/// Emitted by every increment.
#[bot_sdk::event]
pub struct Incremented {
    pub by_whom: Address,
    pub by: u64,
    pub count: u64,
}

#[bot_sdk::error]
pub enum CounterError {
    /// The counter would overflow.
    Overflow,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new(start: u64) -> Self {
        Counter { count: start }
    }

    pub fn increment(&mut self, by: u64) -> Result<u64, CounterError> {
        self.count = self.count.checked_add(by).ok_or(CounterError::Overflow)?;
        Incremented {
            by_whom: env::caller(),
            by,
            count: self.count,
        }
        .emit();
        Ok(self.count)
    }

    #[view]
    pub fn get(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::testing;

    #[test]
    fn increment_adds_and_emits() {
        let alice = testing::account("alice");
        testing::set_caller(alice);
        let mut counter = Counter::new(5);
        assert_eq!(counter.increment(2), Ok(7));
        assert_eq!(counter.get(), 7);
        let events = testing::events();
        assert_eq!(events[0].name, "incremented");
        assert_eq!(
            events[0].decode::<(bot_sdk::Address, u64, u64)>(),
            (alice, 2, 7)
        );
    }

    #[test]
    fn increment_refuses_to_overflow() {
        let mut counter = Counter::new(u64::MAX);
        assert!(matches!(counter.increment(1), Err(CounterError::Overflow)));
        assert!(testing::events().is_empty());
    }

    #[test]
    fn state_persists_between_calls_through_the_entry_point() {
        type C = Counter;
        testing::invoke::<C, _>("new", &10u64).unwrap();
        let overflow = testing::invoke::<C, _>("increment", &u64::MAX).unwrap_err();
        assert_eq!(overflow.code, CounterError::Overflow.code());
        assert_eq!(testing::invoke_as::<C, u64, _>("increment", &3u64), Ok(13));
        assert_eq!(testing::invoke_as::<C, u64, _>("get", &()), Ok(13));
        let again = testing::invoke::<C, _>("new", &0u64).unwrap_err();
        assert_eq!(again.code, bot_sdk::ContractError::ALREADY_INITIALIZED);
    }
}
