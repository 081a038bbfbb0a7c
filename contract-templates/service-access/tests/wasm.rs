//! The compiled contract on the real engine, with gas: what the chain will run.

use bot_sandbox::{Sandbox, account, project_wasm};
use serde_json::json;

#[test]
fn grants_authorize_and_every_use_is_recorded() {
    let mut chain = Sandbox::new();
    let service = chain
        .deploy(&project_wasm(env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    chain.caller = account("owner");
    let init = json!({"name": "air-quality", "description": "PM2.5 on request"});
    assert!(chain.call_json(service, "new", init).unwrap().is_ok());
    let app = account("app").to_string();
    assert!(
        chain
            .call_json(service, "grant", json!({"who": app, "expires_at": 10}))
            .unwrap()
            .is_ok()
    );

    chain.caller = account("app");
    let used = chain
        .call_json(service, "use_service", json!({"request": "read pm25"}))
        .unwrap();
    assert_eq!(used.to_json()["result"], json!(0), "{}", used.to_json());
    println!("use_service used {} gas", used.gas_used);

    let log = chain
        .query_json(service, "accesses", json!({"from": 0, "limit": 10}))
        .unwrap();
    assert_eq!(log.to_json()["result"][0][1]["who"], json!(app));

    chain.advance_blocks(10, 1_000);
    let late = chain
        .call_json(service, "use_service", json!({"request": "late"}))
        .unwrap();
    assert_eq!(late.to_json()["error"]["name"], json!("GrantExpired"));
}
