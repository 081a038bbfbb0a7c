//! The Y.4464 Appendix II use cases, each on a 4-validator devnet of its own, through the CLI as
//! users run them (each step sent to another validator): the example contracts in examples/
//! built from this repository, real devices signing real readings, grants, commands. Also the
//! examples' own unit tests (native, `bot_sdk::testing`).

use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::{User, devnet_with_home, event};

/// A device with its own secp256k1 key, registered by `owner`; its id.
fn register(user: &User<'_>, name: &str, kind: &str, owner: &str) -> String {
    let r = user.ok(
        0,
        &["device", "register", name, "--kind", kind, "--from", owner],
    );
    r["device"].as_str().unwrap().to_string()
}

fn report(user: &User<'_>, i: usize, device: &str, stream: &str, data: Value) {
    let data = data.to_string();
    user.ok(
        i,
        &[
            "device", "report", device, "--stream", stream, "--data", &data,
        ],
    );
}

#[test]
fn supply_chain_parties_move_parts_into_a_bike_and_a_granted_consumer_traces_it() {
    let (_dir, devnet, home) = devnet_with_home();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };
    let chain = user.deploy(0, "supply_chain", json!({ "name": "bikes" }), "alice");
    for (i, (who, role)) in [
        ("bob", "Supplier"),
        ("carol", "Manufacturer"),
        ("dave", "Retailer"),
    ]
    .into_iter()
    .enumerate()
    {
        let args = json!({ "who": user.address(who), "name": who, "role": role });
        user.call(i, &chain, "add_party", args, "alice");
    }

    // bob makes a frame; a temperature logger travels with it and the check reads it.
    user.call(
        1,
        &chain,
        "make",
        json!({ "id": "frame-1", "description": "alloy frame" }),
        "bob",
    );
    let logger = register(&user, "logger", "temperature-logger", "bob");
    report(&user, 2, "logger", "temperature", json!({ "celsius": 4.5 }));
    let check = json!({ "id": "frame-1", "device": logger, "stream": "temperature" });
    let message = user.call_refused(3, &chain, "check", check.clone(), "bob");
    assert!(
        message.contains("has not granted it read-data"),
        "{message}"
    );
    user.ok(
        0,
        &[
            "grant",
            "add",
            "--read",
            "logger",
            "--stream",
            "temperature",
            "--to",
            &chain,
            "--from",
            "bob",
        ],
    );
    let checked = user.call(1, &chain, "check", check, "bob");
    assert_eq!(checked["result"], json!(1));
    user.call(
        2,
        &chain,
        "ship",
        json!({ "id": "frame-1", "to": user.address("carol") }),
        "bob",
    );

    // carol assembles the bike from the frame and a wheel and ships it to the shop.
    user.call(
        3,
        &chain,
        "make",
        json!({ "id": "wheel-1", "description": "wheel" }),
        "carol",
    );
    let parts =
        json!({ "id": "bike-1", "description": "city bike", "parts": ["frame-1", "wheel-1"] });
    user.call(0, &chain, "assemble", parts, "carol");
    let message = user.call_refused(
        1,
        &chain,
        "ship",
        json!({ "id": "frame-1", "to": user.address("dave") }),
        "carol",
    );
    assert!(message.contains("part of a product"), "{message}");
    user.call(
        2,
        &chain,
        "ship",
        json!({ "id": "bike-1", "to": user.address("dave") }),
        "carol",
    );

    // A consumer outside the chain may trace once the chain's owner grants it, as a service.
    let trace = json!({ "id": "bike-1" });
    let message = user.call_refused(3, &chain, "trace", trace.clone(), "erin");
    assert!(message.contains("holds no live grant"), "{message}");
    user.ok(
        0,
        &[
            "service",
            "register",
            &chain,
            "--name",
            "bike trace",
            "--from",
            "alice",
        ],
    );
    user.ok(
        1,
        &[
            "grant", "add", "--call", &chain, "--method", "trace", "--to", "erin", "--from",
            "alice",
        ],
    );
    let traced = user.call(2, &chain, "trace", trace, "erin");
    let steps: Vec<(String, String)> = traced["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["item"].as_str().unwrap().into(),
                s["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("bike-1", "assembled"),
        ("bike-1", "shipped"),
        ("frame-1", "made"),
        ("frame-1", "checked"),
        ("frame-1", "shipped"),
        ("frame-1", "used in bike-1"),
        ("wheel-1", "made"),
        ("wheel-1", "used in bike-1"),
    ];
    assert_eq!(steps, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    let evidence = &traced["result"][3]["evidence"];
    assert_eq!(evidence["device"], json!(logger));
    assert_eq!(evidence["counter"], json!(1));

    // The logger's audit trail holds the contract's read, under bob's grant.
    let trail = user.ok(3, &["data", "audit", "logger"]);
    assert_eq!(trail[0]["accessor"], json!(chain));
    assert_eq!(trail[0]["granted_by"], json!(user.address("bob")));
}

#[test]
fn ddos_a_hijacked_light_is_blocked_once_its_own_gateway_confirms_until_its_key_is_rotated() {
    let (_dir, devnet, home) = devnet_with_home();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };
    let list = user.deploy(
        0,
        "ddos_blocklist",
        json!({ "name": "city gateways" }),
        "alice",
    );
    // bob is service gateway A, carol home gateway C; the smart light is dave's, behind carol.
    user.call(
        1,
        &list,
        "admit",
        json!({ "gateway": user.address("bob"), "name": "service A" }),
        "alice",
    );
    user.call(
        2,
        &list,
        "admit",
        json!({ "gateway": user.address("carol"), "name": "home C" }),
        "alice",
    );
    // Dave lets carol, the gateway the light sits behind, register it in his name.
    user.ok(
        3,
        &[
            "grant",
            "add",
            "--register-devices",
            "dave",
            "--to",
            "carol",
            "--from",
            "dave",
        ],
    );
    let r = user.ok(
        3,
        &[
            "device",
            "register",
            "light",
            "--key-type",
            "p256",
            "--kind",
            "smart-light",
            "--gateway",
            "carol",
            "--owner",
            "dave",
            "--from",
            "carol",
        ],
    );
    let light = r["device"].as_str().unwrap().to_string();
    let device = json!({ "device": light });

    // Service gateway A sees the light attack and reports it; a report alone blocks nothing.
    let message = user.call_refused(
        0,
        &list,
        "report",
        json!({ "device": light, "service": "A", "evidence": "flood" }),
        "erin",
    );
    assert!(message.contains("not a member gateway"), "{message}");
    let reported = user.call(
        1,
        &list,
        "report",
        json!({ "device": light, "service": "service A", "evidence": "40k SYN/s from 10.0.0.7" }),
        "bob",
    );
    assert_eq!(
        event(&reported, "attack_reported")["reporter"],
        json!(user.address("bob"))
    );
    assert_eq!(
        user.query(2, &list, "is_blocked", device.clone()),
        json!(false)
    );

    // Only the light's own gateway, as the chain's registry says, confirms.
    let message = user.call_refused(3, &list, "confirm", device.clone(), "bob");
    assert!(
        message.contains("registry names for this device"),
        "{message}"
    );
    user.call(0, &list, "confirm", device.clone(), "carol");
    for i in 0..4 {
        assert_eq!(
            user.query(i, &list, "is_blocked", device.clone()),
            json!(true),
            "validator {i}"
        );
    }

    // Fixed, the light gets a new key; only then does its gateway lift the block.
    let message = user.call_refused(1, &list, "lift", device.clone(), "carol");
    assert!(message.contains("not been rotated"), "{message}");
    user.ok(2, &["device", "rotate-key", "light", "--from", "carol"]);
    user.call(3, &list, "lift", device.clone(), "carol");
    for i in 0..4 {
        assert_eq!(
            user.query(i, &list, "is_blocked", device.clone()),
            json!(false)
        );
    }
}

#[test]
fn its_a_navigator_buys_signed_vehicle_readings_and_the_vehicles_owner_earns_the_tokens() {
    let (_dir, devnet, home) = devnet_with_home();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };
    let exchange = user.deploy(0, "its_exchange", json!({ "token": "ITS" }), "alice");
    user.call(
        1,
        &exchange,
        "mint",
        json!({ "to": user.address("carol"), "amount": 100 }),
        "alice",
    );
    // bob's car reports traffic, signed with its own key.
    let car = register(&user, "car", "vehicle", "bob");
    for (i, kmh) in [52, 38, 12].into_iter().enumerate() {
        report(
            &user,
            i,
            "car",
            "traffic",
            json!({ "kmh": kmh, "road": "A1" }),
        );
    }
    let offer = json!({ "vehicle": car, "stream": "traffic", "price": 5 });
    let message = user.call_refused(2, &exchange, "offer", offer.clone(), "bob");
    assert!(message.contains("grants it `read-data` first"), "{message}");
    let message = user.call_refused(3, &exchange, "offer", offer.clone(), "dave");
    assert!(message.contains("Only the vehicle's owner"), "{message}");
    user.ok(
        0,
        &[
            "grant", "add", "--read", "car", "--stream", "traffic", "--to", &exchange, "--from",
            "bob",
        ],
    );
    user.call(1, &exchange, "offer", offer, "bob");

    // carol buys the readings after the first: 2 readings, 10 tokens to bob.
    let bought = user.call(
        2,
        &exchange,
        "buy",
        json!({ "vehicle": car, "after": 1, "limit": 10 }),
        "carol",
    );
    let readings = bought["result"].as_array().unwrap();
    assert_eq!(readings.len(), 2);
    assert_eq!(event(&bought, "sold")["paid"], json!(10));
    let balance = |i, who: &str| {
        user.query(
            i,
            &exchange,
            "balance_of",
            json!({ "who": user.address(who) }),
        )
    };
    assert_eq!(
        (balance(3, "carol"), balance(0, "bob")),
        (json!(90), json!(10))
    );
    // What she bought is what the car signed: the chain's own record of reading 2.
    let on_chain = user.ok(
        1,
        &[
            "data", "range", "car", "--stream", "traffic", "--from", "2", "--to", "2",
        ],
    );
    assert_eq!(readings[0]["data"], on_chain[0]["data"]);
    assert_eq!(readings[0]["height"], on_chain[0]["height"]);
    let trail = user.ok(2, &["data", "audit", "car"]);
    assert_eq!(trail[0]["action"], "read 2 readings of traffic");

    // Bad path: erin has no tokens; nothing is bought, paid or recorded.
    let message = user.call_refused(
        3,
        &exchange,
        "buy",
        json!({ "vehicle": car, "after": 0, "limit": 3 }),
        "erin",
    );
    assert!(message.contains("does not cover"), "{message}");
    assert_eq!(balance(0, "bob"), json!(10));
    assert_eq!(
        user.ok(1, &["data", "audit", "car"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn sociability_a_washing_machine_buys_detergent_from_the_cheaper_store_under_its_owners_rules() {
    let (_dir, devnet, home) = devnet_with_home();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };
    // Two grocers stock detergent: store A at 9, store B at 7.
    let mut stores = Vec::new();
    for (i, (grocer, price)) in [("bob", 9), ("carol", 7)].into_iter().enumerate() {
        let store = user.deploy(i, "detergent_store", json!({ "name": grocer }), grocer);
        let stock = json!({ "product": "detergent", "price": price, "quantity": 5 });
        user.call(i + 1, &store, "stock", stock, grocer);
        stores.push(store);
    }
    let (store_a, store_b) = (stores[0].clone(), stores[1].clone());

    // alice's washing machine, and its agent with her rules: below 200 ml, one bottle at 8 at
    // most, from either store. She lets the agent read the level and command the machine.
    let washer = register(&user, "washer", "washing-machine", "alice");
    let rules = json!({ "stores": [store_a, store_b], "product": "detergent", "below_ml": 200, "quantity": 1, "max_price": 8 });
    let message = user.refused(
        2,
        &[
            "deploy",
            bot_tests::contracts_dir()
                .join("washer_agent.wasm")
                .to_str()
                .unwrap(),
            "--init",
            "new",
            "--init-args",
            &json!({ "washer": washer, "rules": rules }).to_string(),
            "--from",
            "erin",
        ],
    );
    assert!(message.contains("only the washer's owner"), "{message}");
    let agent = user.deploy(
        3,
        "washer_agent",
        json!({ "washer": washer, "rules": rules }),
        "alice",
    );
    for (i, (store, grocer)) in [(&store_a, "bob"), (&store_b, "carol")]
        .into_iter()
        .enumerate()
    {
        user.call(
            i,
            store,
            "credit",
            json!({ "customer": agent, "amount": 20 }),
            grocer,
        );
    }
    user.ok(
        0,
        &[
            "grant",
            "add",
            "--read",
            "washer",
            "--stream",
            "detergent",
            "--to",
            &agent,
            "--from",
            "alice",
        ],
    );
    user.ok(
        1,
        &[
            "grant",
            "add",
            "--command",
            "washer",
            "--to",
            &agent,
            "--from",
            "alice",
        ],
    );

    // A full machine orders nothing; a low one orders from the cheaper store within the price.
    report(&user, 2, "washer", "detergent", json!({ "level_ml": 900 }));
    let full = user.call(3, &agent, "check", json!({}), "washer");
    assert_eq!(full["result"], Value::Null);
    report(&user, 0, "washer", "detergent", json!({ "level_ml": 150 }));
    let bought = user.call(1, &agent, "check", json!({}), "washer");
    let purchase = &bought["result"];
    assert_eq!(purchase["store"], json!(store_b), "{bought}");
    assert_eq!(
        (purchase["price"].clone(), purchase["level_ml"].clone()),
        (json!(7), json!(150))
    );
    assert_eq!(event(&bought, "detergent_ordered")["order"], json!(0));

    // The agent told the machine with a command; the machine acknowledges it, signed.
    let pending = user.ok(2, &["device", "commands", "washer", "--pending"]);
    assert_eq!(pending[0]["command"], "detergent-ordered");
    assert_eq!(pending[0]["payload_value"]["ordered"], "detergent");
    let id = pending[0]["id"].to_string();
    user.ok(
        3,
        &[
            "device",
            "respond",
            "washer",
            &id,
            "--data",
            r#"{"shown":true}"#,
        ],
    );
    assert_eq!(
        user.query(0, &agent, "last_purchase", json!({}))["acknowledged"],
        json!(true)
    );

    // On every validator: store B has the order and took 7 from the agent's 20 credit.
    for i in 0..4 {
        let orders = user.query(i, &store_b, "orders", json!({ "from": 0, "limit": 10 }));
        assert_eq!(orders[0][1]["customer"], json!(agent));
        assert_eq!(
            user.query(i, &store_b, "credit_of", json!({ "customer": agent })),
            json!(13)
        );
        assert_eq!(
            user.query(i, &store_a, "credit_of", json!({ "customer": agent })),
            json!(20)
        );
    }
    // One order per low level: checking again buys nothing.
    let again = user.call(2, &agent, "check", json!({}), "washer");
    assert_eq!(again["result"], Value::Null);
    // Bad path: no one but the machine or its owner triggers it.
    let message = user.call_refused(3, &agent, "check", json!({}), "erin");
    assert!(
        message.contains("Only the washing machine itself or its owner"),
        "{message}"
    );
    // The command is answered and the read is on the machine's audit trail.
    let commands = user.ok(0, &["device", "commands", "washer"]);
    assert_eq!(commands[0]["state"], "answered");
    let trail = user.ok(1, &["data", "audit", "washer"]);
    let actions: Vec<&str> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"command detergent-ordered #0"),
        "{actions:?}"
    );
}

#[test]
fn the_examples_pass_their_own_unit_tests() {
    let examples = cargo_bot::build::repo_root().join("examples");
    let target = bot_tests::contracts_dir()
        .ancestors()
        .nth(3)
        .expect("target/contracts/<triple>/release")
        .join("templates");
    let test = Command::new(env!("CARGO"))
        .current_dir(&examples)
        .args(["test", "--offline", "--workspace"])
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo test runs");
    assert!(
        test.status.success(),
        "the examples' unit tests fail:\n{}\n{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}
