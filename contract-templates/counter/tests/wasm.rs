//! The compiled contract on the real engine, with gas: what the chain will run.

use bot_sandbox::{Sandbox, project_wasm};
use serde_json::json;

#[test]
fn counts_on_the_engine_with_gas() {
    let mut chain = Sandbox::new();
    let counter = chain
        .deploy(&project_wasm(env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    assert!(
        chain
            .call_json(counter, "new", json!({"start": 5}))
            .unwrap()
            .is_ok()
    );

    let increment = chain.call(counter, "increment", &2u64);
    assert_eq!(increment.value::<u64>(), 7);
    assert_eq!(increment.events[0].name, "incremented");
    // About 3.1 million: an instance (1.3 million: its two pages of memory and its imports),
    // the Rust allocator's first page, and one key written (1.2 million of it is that key's
    // commit into the chain's state tree).
    assert!(
        increment.gas_used > 0 && increment.gas_used < 4_000_000,
        "{}",
        increment.gas_used
    );

    let get = chain.query(counter, "get", &());
    assert_eq!(get.to_json()["result"], json!(7));
    // Gas is deterministic: the same call on the same state costs the same on every node.
    assert_eq!(chain.query(counter, "get", &()).gas_used, get.gas_used);

    let overflow = chain.call(counter, "increment", &u64::MAX);
    assert_eq!(overflow.to_json()["error"]["name"], json!("Overflow"));
}
