//! `#[migrate]` and the stored state version, natively: code never reads another version's
//! state as its own, and migration converts it once.

use bot_sdk::testing::{self, invoke, invoke_as};
use bot_sdk::{ContractError, state};

/// What version 1 of the contract stored.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize)]
pub struct CounterV1 {
    count: u32,
}

#[bot_sdk::contract(version = 2)]
pub struct Counter {
    count: u64,
    label: String,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new(label: String) -> Self {
        Counter { count: 0, label }
    }

    #[migrate]
    pub fn migrate(old: CounterV1, label: String) -> Self {
        Counter {
            count: u64::from(old.count),
            label,
        }
    }

    #[view]
    pub fn get(&self) -> (u64, String) {
        (self.count, self.label.clone())
    }
}

fn store_v1(count: u32) {
    let mut bytes = 1u32.to_le_bytes().to_vec();
    bytes.extend(borsh::to_vec(&CounterV1 { count }).unwrap());
    testing::storage_set(state::STATE_KEY, &bytes);
}

#[test]
fn old_state_is_refused_until_migrated_then_migration_is_refused() {
    store_v1(41);
    let err = invoke::<Counter, _>("get", &()).unwrap_err();
    assert_eq!(err.code, ContractError::STATE_VERSION);
    assert!(
        err.message.contains("version 1") && err.message.contains("#[migrate]"),
        "{}",
        err.message
    );

    invoke::<Counter, _>("migrate", &"moved".to_string()).unwrap();
    assert_eq!(
        invoke_as::<Counter, (u64, String), _>("get", &()),
        Ok((41, "moved".to_string()))
    );
    assert_eq!(
        &testing::storage_get(state::STATE_KEY).unwrap()[..4],
        &2u32.to_le_bytes()
    );

    let again = invoke::<Counter, _>("migrate", &"twice".to_string()).unwrap_err();
    assert_eq!(again.code, ContractError::STATE_VERSION);
    assert!(
        again.message.contains("already version 2"),
        "{}",
        again.message
    );
}

#[test]
fn newer_state_than_the_code_is_refused() {
    let mut bytes = 3u32.to_le_bytes().to_vec();
    bytes.extend(borsh::to_vec(&(5u64, "x".to_string())).unwrap());
    testing::storage_set(state::STATE_KEY, &bytes);
    let err = invoke::<Counter, _>("get", &()).unwrap_err();
    assert_eq!(err.code, ContractError::STATE_VERSION);
    assert!(err.message.contains("newer"), "{}", err.message);
}

#[test]
fn a_fresh_contract_stores_its_version_and_views_cannot_write() {
    invoke::<Counter, _>("new", &"fresh".to_string()).unwrap();
    assert_eq!(
        &testing::storage_get(state::STATE_KEY).unwrap()[..4],
        &2u32.to_le_bytes()
    );
    let message =
        testing::aborts(|| testing::as_view(|| bot_sdk::storage::set(b"k", b"v"))).unwrap();
    assert!(message.contains("read-only"), "{message}");
    let message =
        testing::aborts(|| testing::as_view(|| bot_sdk::events::emit("e", &1u8))).unwrap();
    assert!(message.contains("read-only"), "{message}");
}
