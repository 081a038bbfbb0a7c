//! The compiled contract on the real engine, with gas: what the chain will run.

use bot_sandbox::{Sandbox, account, project_wasm};
use serde_json::json;

#[test]
fn readings_flow_through_the_engine() {
    let mut chain = Sandbox::new();
    let telemetry = chain
        .deploy(&project_wasm(env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    chain.caller = account("owner");
    assert!(
        chain
            .call_json(telemetry, "new", json!({"retention": 100}))
            .unwrap()
            .is_ok()
    );
    let gateway = account("gateway").to_string();
    let register = json!({"id": "th-1", "kind": "thermometer", "reporter": gateway});
    assert!(
        chain
            .call_json(telemetry, "register_device", register)
            .unwrap()
            .is_ok()
    );

    chain.caller = account("gateway");
    let report = chain
        .call_json(
            telemetry,
            "report",
            json!({"id": "th-1", "value": 21500, "unit": "mC"}),
        )
        .unwrap();
    assert!(report.is_ok(), "{}", report.to_json());
    assert_eq!(report.to_json()["events"][0]["data"]["value"], json!(21500));
    println!("report used {} gas", report.gas_used);

    let latest = chain
        .query_json(telemetry, "latest", json!({"id": "th-1"}))
        .unwrap();
    assert_eq!(latest.to_json()["result"]["unit"], json!("mC"));

    chain.caller = account("mallory");
    let refused = chain
        .call_json(
            telemetry,
            "report",
            json!({"id": "th-1", "value": 1, "unit": "mC"}),
        )
        .unwrap();
    assert_eq!(refused.to_json()["error"]["name"], json!("NotReporter"));
}
