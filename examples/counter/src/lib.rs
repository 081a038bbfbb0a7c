//! A counter: `new(start)`, `increment(by) -> count` (emits `incremented`), `get() -> count`.

use bot_sdk::{ContractError, args, env, events, ok, storage};

const COUNT: &[u8] = b"count";
/// `increment` would pass u64::MAX.
const OVERFLOW: u32 = ContractError::FIRST_CUSTOM;

struct Counter;

impl bot_sdk::Contract for Counter {
    fn invoke(method: String, input: Vec<u8>) -> Result<Vec<u8>, ContractError> {
        bot_sdk::guard();
        match method.as_str() {
            "new" => {
                let start: u64 = args(&input)?;
                storage::write(COUNT, &start);
                ok(&())
            }
            "increment" => {
                let by: u64 = args(&input)?;
                let count = storage::read::<u64>(COUNT)
                    .unwrap_or(0)
                    .checked_add(by)
                    .ok_or_else(|| ContractError::new(OVERFLOW, "the counter would overflow"))?;
                storage::write(COUNT, &count);
                events::emit("incremented", &(env::caller(), by, count));
                ok(&count)
            }
            "get" => ok(&storage::read::<u64>(COUNT).unwrap_or(0)),
            other => Err(ContractError::unknown_method(other)),
        }
    }
}

bot_sdk::export!(Counter);
