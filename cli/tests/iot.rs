//! The IoT procedures of Y.4464 clause 10 end to end on a 4-validator devnet, through the CLI
//! as a user runs it (each step sent to a different validator): a device connects and reports
//! (10.6 a, 10.7), a gateway registers and speaks for a constrained P-256 device (10.6 b), a
//! contract becomes a service with a granted policy (10.3), a grantee calls it and leaves an
//! audit record (10.4), an off-chain check verifies the grant against a state proof (10.5);
//! and the bad paths: a replayed counter, a forged signature, a gateway speaking for a device not its own, a
//! revoked device, an expired and a revoked grant, each refused naming the rule, with nothing
//! changed. Then the gateway simulator streams readings from devices it registers, and `watch`
//! replays them from the blocks. Every
//! validator ends with the same devices, readings and audit trail.
//!
//! Commands (10.6 steps 3 to 6) have a devnet of their own: a service contract commands a
//! device, its gateway answers with the device's signature and the callback keeps the answer;
//! an unanswered command times out; the simulator answers what its devices are sent; and the
//! bad paths (a device of another owner, a gateway not its own, a second or late answer).

use std::time::Duration;

use serde_json::{Value, json};

mod common;

use common::{User, devnet_with_home, event, height, ok_json, queried, refused, wait_for};

#[test]
fn the_clause_10_procedures_run_end_to_end_and_bad_paths_change_nothing() {
    let (_dir, devnet, home) = devnet_with_home();
    let rpc0 = devnet.rpcs[0].clone();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };

    // 10.6 a: a device with its own key connects; its owner (alice) registers it.
    let r = user.ok(
        0,
        &[
            "device",
            "register",
            "thermo",
            "--kind",
            "thermometer",
            "--metadata",
            r#"{"room":"lab"}"#,
        ],
    );
    let thermo = r["device"].as_str().unwrap().to_string();
    assert_eq!(event(&r, "device.registered")["status"], "active");
    assert!(
        home.join("devices/thermo.json").exists(),
        "the device key is kept"
    );
    let shown = user.ok(1, &["device", "show", "thermo"]);
    assert_eq!(shown["id"], thermo.as_str());
    assert_eq!(shown["kind"], "thermometer");

    // 10.7: it reports signed readings from its own account; counters rise.
    for (i, celsius) in [20.5, 21.0].iter().enumerate() {
        let data = json!({ "celsius": celsius }).to_string();
        let r = user.ok(
            i + 2,
            &[
                "device",
                "report",
                "thermo",
                "--stream",
                "temperature",
                "--data",
                &data,
            ],
        );
        assert_eq!(
            event(&r, "device.reading")["value"]["celsius"],
            json!(celsius)
        );
    }
    let latest = user.ok(3, &["data", "latest", "thermo", "--stream", "temperature"]);
    assert_eq!(
        (latest["counter"].as_u64(), &latest["value"]),
        (Some(2), &json!({"celsius": 21.0}))
    );
    assert_eq!(latest["submitted_by"], thermo.as_str());
    let range = user.ok(
        0,
        &[
            "data",
            "range",
            &thermo,
            "--stream",
            "temperature",
            "--from",
            "1",
            "--to",
            "2",
        ],
    );
    assert_eq!(range.as_array().unwrap().len(), 2);

    // Bad path: a replayed counter is refused and nothing is stored.
    let message = user.refused(
        1,
        &[
            "device",
            "report",
            "thermo",
            "--stream",
            "temperature",
            "--data",
            "{}",
            "--counter",
            "2",
        ],
    );
    assert!(message.contains("replayed or reordered"), "{message}");
    let range = user.ok(2, &["data", "range", "thermo", "--stream", "temperature"]);
    assert_eq!(range.as_array().unwrap().len(), 2);

    // Bad path: a reading whose signature is not the device key's, sent as a raw transaction
    // by the device's own account, is refused by the node and changes nothing.
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("devices/thermo.json")).unwrap())
            .unwrap();
    let secret = hex::decode(stored["secret"].as_str().unwrap()).unwrap();
    let account = bot_chain::Keypair::from_secret(&secret).unwrap();
    let forged = bot_chain::TxKind::Iot(bot_chain::iot::IotTx::Report {
        device: thermo.parse().unwrap(),
        stream: "temperature".into(),
        counter: 3,
        data: br#"{"celsius":99}"#.to_vec(),
        signature: vec![7; 64],
    });
    let rpc = cargo_bot::client::Rpc::new(&devnet.rpcs[3]);
    let e = rpc
        .transact(&account, forged, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not signed by the key of device"), "{e}");
    let range = user.ok(0, &["data", "range", "thermo", "--stream", "temperature"]);
    assert_eq!(range.as_array().unwrap().len(), 2);

    // 10.6 b: gateway bob registers a constrained P-256 sensor for alice and speaks for it,
    // once alice has let it add devices to her name (and not before).
    let stray = user.run(
        1,
        &[
            "device",
            "register",
            "stray",
            "--key-type",
            "p256",
            "--gateway",
            "bob",
            "--owner",
            "alice",
            "--from",
            "bob",
        ],
    );
    let why = refused(&stray);
    assert!(
        why.contains("may not register a device for") && why.contains("register devices owned by"),
        "{why}"
    );
    consent_to_gateways(&user, "alice", &["bob", "dave"]);
    let r = user.ok(
        1,
        &[
            "device",
            "register",
            "sensor",
            "--key-type",
            "p256",
            "--kind",
            "soil-sensor",
            "--gateway",
            "bob",
            "--owner",
            "alice",
            "--from",
            "bob",
        ],
    );
    let sensor = r["device"].as_str().unwrap().to_string();
    let listed = user.ok(2, &["device", "list", "--gateway", "bob"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        listed[0]["owner"],
        user.ok(0, &["device", "show", "thermo"])["owner"]
    );
    user.ok(
        3,
        &[
            "device",
            "report",
            "sensor",
            "--stream",
            "moisture",
            "--data",
            r#"{"percent":31}"#,
            "--gateway",
            "bob",
        ],
    );
    // Bad path: carol is not its gateway.
    let message = user.refused(
        0,
        &[
            "device",
            "report",
            "sensor",
            "--stream",
            "moisture",
            "--data",
            "{}",
            "--gateway",
            "carol",
        ],
    );
    assert!(message.contains("does not speak for device"), "{message}");
    // A P-256 device cannot sign a transaction itself: the CLI says to use its gateway.
    let message = user.refused(
        0,
        &[
            "device", "report", "sensor", "--stream", "moisture", "--data", "{}",
        ],
    );
    assert!(message.contains("--gateway"), "{message}");
    // The owner moves it to gateway carol; now carol speaks for it and bob does not.
    user.ok(
        1,
        &["device", "set-gateway", "sensor", "--gateway", "carol"],
    );
    let message = user.refused(
        2,
        &[
            "device",
            "report",
            "sensor",
            "--stream",
            "moisture",
            "--data",
            "{}",
            "--gateway",
            "bob",
        ],
    );
    assert!(message.contains("does not speak for device"), "{message}");
    user.ok(
        3,
        &[
            "device",
            "report",
            "sensor",
            "--stream",
            "moisture",
            "--data",
            r#"{"percent":30}"#,
            "--gateway",
            "carol",
        ],
    );

    // 10.3: the counter becomes a service only its grantees may call.
    let wasm = bot_tests::contracts_dir().join("counter.wasm");
    let deployed = user.ok(
        0,
        &[
            "deploy",
            wasm.to_str().unwrap(),
            "--init",
            "new",
            "--init-args",
            r#"{"start": 0}"#,
        ],
    );
    let service = deployed["address"].as_str().unwrap().to_string();
    user.ok(
        1,
        &[
            "service",
            "register",
            &service,
            "--name",
            "counter",
            "--description",
            "counts",
            "--policy",
            "granted",
        ],
    );
    let services = user.ok(2, &["service", "list"]);
    assert_eq!(services[0]["name"], "counter");
    assert_eq!(services[0]["policy"], "granted");
    let message = user.refused(
        3,
        &[
            "service", "register", &service, "--name", "mine", "--from", "carol",
        ],
    );
    assert!(message.contains("only its creator"), "{message}");

    // 10.4: carol is refused, granted, calls, and the call is on the audit trail.
    let increment = [
        "call",
        &service,
        "increment",
        "--args",
        r#"{"by": 1}"#,
        "--from",
        "carol",
    ];
    let message = user.refused(0, &increment);
    assert!(message.contains("holds no grant"), "{message}");
    user.ok(
        1,
        &[
            "grant",
            "add",
            "--call",
            &service,
            "--method",
            "increment",
            "--to",
            "carol",
        ],
    );
    let called = user.ok(2, &increment);
    assert_eq!(called["result"], json!(1));
    assert_eq!(
        event(&called, "access.recorded")["action"],
        "call increment"
    );
    let trail = user.ok(3, &["data", "audit", &service]);
    assert_eq!(trail.as_array().unwrap().len(), 1);
    assert_eq!(
        trail[0]["granted_by"],
        user.ok(0, &["device", "show", "thermo"])["owner"]
    );

    // 10.5: an off-chain service checks carol's grant against a state proof.
    let check = user.ok(
        0,
        &[
            "grant",
            "check",
            "--call",
            &service,
            "--method",
            "increment",
            "--grantee",
            "carol",
        ],
    );
    assert_eq!(check["granted"], true);
    assert!(
        check["verified_at"]["state_root"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    let other = user.run(
        0,
        &[
            "grant",
            "check",
            "--call",
            &service,
            "--method",
            "reset",
            "--grantee",
            "carol",
        ],
    );
    assert!(!other.status.success(), "no grant for another method");

    // Bad paths: a revoked grant, then an expired one.
    user.ok(
        1,
        &[
            "grant",
            "revoke",
            "--call",
            &service,
            "--method",
            "increment",
            "--to",
            "carol",
        ],
    );
    assert!(user.refused(2, &increment).contains("holds no grant"));
    assert!(
        !user
            .run(
                3,
                &[
                    "grant",
                    "check",
                    "--call",
                    &service,
                    "--method",
                    "increment",
                    "--grantee",
                    "carol"
                ]
            )
            .status
            .success()
    );
    user.ok(
        0,
        &[
            "grant",
            "add",
            "--call",
            &service,
            "--to",
            "carol",
            "--expires-in",
            "1",
        ],
    );
    let grant_time = user.ok(1, &["grant", "list", &service])[0]["expires_ms"]
        .as_u64()
        .unwrap();
    wait_for(
        "block time past the grant's expiry",
        Duration::from_secs(60),
        || common::block_time(&devnet.rpcs[0]) > grant_time,
    );
    let message = user.refused(2, &increment);
    assert!(message.contains("expired at block time"), "{message}");
    assert_eq!(
        user.ok(3, &["data", "audit", &service])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A grant over every method covers one: the check proves it with the wildcard's key.
    user.ok(0, &["grant", "add", "--call", &service, "--to", "dave"]);
    let check = user.ok(
        1,
        &[
            "grant",
            "check",
            "--call",
            &service,
            "--method",
            "increment",
            "--grantee",
            "dave",
        ],
    );
    assert_eq!(check["granted"], true);
    assert!(check["grant"]["method"].is_null(), "{check}");

    // Bad path: a revoked device's readings are refused for good.
    user.ok(0, &["device", "update", "thermo", "--status", "revoked"]);
    let message = user.refused(
        1,
        &[
            "device",
            "report",
            "thermo",
            "--stream",
            "temperature",
            "--data",
            "{}",
        ],
    );
    assert!(message.contains("revoked"), "{message}");
    let message = user.refused(2, &["device", "update", "thermo", "--status", "active"]);
    assert!(message.contains("revoked"), "{message}");

    // The gateway simulator: registers its devices for alice and streams signed readings;
    // every reading it reports sent is on the chain.
    let before = height(&devnet.rpcs[3]);
    let sim = user.ok(
        3,
        &[
            "gateway",
            "simulate",
            "--devices",
            "2",
            "--rate",
            "10",
            "--duration",
            "2",
            "--from",
            "dave",
            "--owner",
            "alice",
        ],
    );
    assert_eq!(sim["registered"], 2);
    assert_eq!(sim["readings_refused"], 0);
    let mut total = 0;
    for d in sim["devices"].as_array().unwrap() {
        let id = d["id"].as_str().unwrap();
        let readings = user.ok(1, &["data", "range", id, "--stream", "temperature"]);
        let counters: Vec<u64> = readings
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["counter"].as_u64().unwrap())
            .collect();
        assert_eq!(
            counters,
            (1..=d["counter"].as_u64().unwrap()).collect::<Vec<_>>()
        );
        assert!(readings[0]["value"]["celsius"].is_number());
        total += counters.len();
    }
    assert_eq!(total as u64, sim["readings_sent"].as_u64().unwrap());
    assert!(total >= 10, "about 20 readings in 2 s at 10/s, got {total}");

    // `watch` replays those blocks: one `device.reading` event per reading sent.
    let after = sim["last_height"].as_u64().unwrap();
    let watched = user.run(
        0,
        &[
            "watch",
            "--from",
            &before.to_string(),
            "--blocks",
            &(after - before).to_string(),
            "--event",
            "device.reading",
            "--quiet",
        ],
    );
    assert!(
        watched.status.success(),
        "{}",
        String::from_utf8_lossy(&watched.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&watched.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let readings = lines.iter().filter(|l| l["type"] == "event").count();
    assert_eq!(readings, total);
    assert!(
        lines
            .iter()
            .filter(|l| l["type"] == "event")
            .all(|l| l["data"]["stream"] == "temperature")
    );

    // Garbage parameters to the IoT RPC methods: refused naming what is wrong.
    let rpc = cargo_bot::client::Rpc::new(&devnet.rpcs[0]);
    for (method, params, says) in [
        ("bot_getDevice", json!(["0x12"]), "20 bytes"),
        (
            "bot_getReadings",
            json!([{ "device": thermo, "stream": "no spaces" }]),
            "stream `no spaces`",
        ),
        (
            "bot_getReadings",
            json!([{ "device": thermo }]),
            "missing field `stream`",
        ),
        (
            "bot_listDevices",
            json!([{ "colour": "red" }]),
            "unknown field `colour`",
        ),
        (
            "bot_checkGrant",
            json!([{ "right": "fly", "grantee": thermo }]),
            "unknown variant `fly`",
        ),
        ("bot_getAudit", json!([{ "target": "nope" }]), "not hex"),
    ] {
        let e = rpc.call(method, params).expect_err(method).to_string();
        assert!(e.contains(says), "{method}: `{e}` does not say `{says}`");
    }
    assert!(height(&devnet.rpcs[0]) > 0, "the node still answers");

    // Every validator holds the same registry, readings and trail.
    let top = height(&rpc0);
    wait_for(
        "all validators at the same height",
        Duration::from_secs(60),
        || devnet.rpcs.iter().all(|r| height(r) >= top),
    );
    for i in 0..4 {
        assert_eq!(
            user.ok(i, &["data", "latest", &sensor, "--stream", "moisture"])["value"],
            json!({"percent": 30})
        );
        assert_eq!(
            user.ok(i, &["device", "show", &thermo])["status"],
            "revoked"
        );
        assert_eq!(
            user.ok(i, &["data", "audit", &service])
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
fn commands_go_to_devices_and_their_signed_answers_or_timeouts_come_back_to_the_contract() {
    let (_dir, devnet, home) = devnet_with_home();
    let user = User {
        home: &home,
        rpcs: &devnet.rpcs,
    };

    // Alice's fridge, a P-256 device behind gateway bob; carol runs a monitoring service.
    consent_to_gateways(&user, "alice", &["bob", "dave"]);
    let r = user.ok(
        0,
        &[
            "device",
            "register",
            "fridge",
            "--key-type",
            "p256",
            "--kind",
            "fridge",
            "--gateway",
            "bob",
            "--owner",
            "alice",
            "--from",
            "bob",
        ],
    );
    let fridge = r["device"].as_str().unwrap().to_string();
    let wasm = bot_tests::contracts_dir().join("monitor.wasm");
    let deployed = user.ok(
        1,
        &[
            "deploy",
            wasm.to_str().unwrap(),
            "--init",
            "new",
            "--from",
            "carol",
        ],
    );
    let monitor = deployed["address"].as_str().unwrap().to_string();
    let command = |device: &str, name: &str, timeout: u32| {
        json!({ "device": device, "name": name, "payload": "0x7b7d", "timeout": timeout })
            .to_string()
    };
    let send = |i: usize, args: &str| {
        user.run(
            i,
            &[
                "call", &monitor, "command", "--args", args, "--from", "carol",
            ],
        )
    };

    // Bad path: the service may not command a device whose owner has not granted it.
    let message = refused(&send(2, &command(&fridge, "defrost", 20)));
    assert!(
        message.contains("has not granted it `command`"),
        "{message}"
    );
    assert_eq!(user.ok(3, &["device", "commands", "fridge"]), json!([]));

    // 10.6 steps 3 to 6: granted, the service commands the fridge; the gateway answers with
    // the fridge's signature, and the service's callback keeps the answer.
    user.ok(
        0,
        &["grant", "add", "--command", "fridge", "--to", &monitor],
    );
    let sent = ok_json(&send(1, &command(&fridge, "defrost", 20)));
    assert_eq!(sent["result"], json!(0));
    assert_eq!(event(&sent, "command.sent")["payload_value"], json!({}));
    assert_eq!(
        event(&sent, "access.recorded")["action"],
        "command defrost #0"
    );
    let pending = user.ok(2, &["device", "commands", "fridge", "--pending"]);
    assert_eq!(pending[0]["command"], "defrost");
    assert_eq!(pending[0]["state"], "pending");
    let message = user.refused(
        3,
        &[
            "device",
            "respond",
            "fridge",
            "0",
            "--data",
            r#"{"done":true}"#,
            "--gateway",
            "carol",
        ],
    );
    assert!(message.contains("does not speak for device"), "{message}");
    let answered = user.ok(
        0,
        &[
            "device",
            "respond",
            "fridge",
            "0",
            "--data",
            r#"{"minutes":12}"#,
            "--gateway",
            "bob",
        ],
    );
    assert_eq!(
        event(&answered, "command.answered")["value"],
        json!({"minutes": 12})
    );
    assert!(event(&answered, "command.callback")["error"].is_null());
    let reply = queried(&user, 1, &monitor, "reply_of", json!({ "id": 0 }));
    assert_eq!(reply[0], json!(0), "done: {reply}");
    assert_eq!(reply[2], answered["height"]);
    let message = user.refused(2, &["device", "respond", "fridge", "0", "--gateway", "bob"]);
    assert!(message.contains("was answered at block"), "{message}");
    assert!(
        user.ok(3, &["device", "commands", "fridge", "--pending"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A command with one block to answer times out at that block's end, on every validator;
    // the callback sees the timeout, and `watch` shows it.
    let sent = ok_json(&send(0, &command(&fridge, "lock", 1)));
    let at = sent["height"].as_u64().unwrap();
    let listed = user.ok(1, &["device", "commands", "fridge", "--from", "1"]);
    assert_eq!(listed[0]["state"], "timed_out", "{listed}");
    assert_eq!(listed[0]["height"], json!(at));
    let reply = queried(&user, 2, &monitor, "reply_of", json!({ "id": 1 }));
    assert_eq!(reply[0], json!(2), "timed out: {reply}");
    let watched = user.run(
        3,
        &[
            "watch",
            "--from",
            &(at - 1).to_string(),
            "--blocks",
            "1",
            "--event",
            "command.timed_out",
            "--quiet",
        ],
    );
    let text = String::from_utf8_lossy(&watched.stdout);
    assert!(text.contains("command.timed_out"), "{text}");
    let message = user.refused(0, &["device", "respond", "fridge", "1", "--gateway", "bob"]);
    assert!(message.contains("timed out"), "{message}");

    // The gateway simulator answers the commands its devices are sent.
    let sim = user.ok(
        1,
        &[
            "gateway",
            "simulate",
            "--devices",
            "1",
            "--rate",
            "2",
            "--duration",
            "1",
            "--from",
            "dave",
            "--owner",
            "alice",
        ],
    );
    let simulated = sim["devices"][0]["id"].as_str().unwrap().to_string();
    user.ok(
        2,
        &["grant", "add", "--command", &simulated, "--to", &monitor],
    );
    let sent = ok_json(&send(3, &command(&simulated, "set-interval", 100)));
    assert_eq!(sent["result"], json!(2));
    let sim = user.ok(
        0,
        &[
            "gateway",
            "simulate",
            "--devices",
            "1",
            "--rate",
            "2",
            "--duration",
            "3",
            "--from",
            "dave",
            "--owner",
            "alice",
        ],
    );
    assert_eq!(sim["commands_answered"], 1, "{sim}");
    let reply = queried(&user, 1, &monitor, "reply_of", json!({ "id": 2 }));
    assert_eq!(reply[0], json!(0), "done: {reply}");
    for i in 0..4 {
        let all = user.ok(i, &["device", "commands", &simulated]);
        assert_eq!(all[0]["state"], "answered");
        assert_eq!(all[0]["value"]["done"], "set-interval");
    }
}

/// `owner` lets each of `gateways` register devices in its name.
fn consent_to_gateways(user: &User<'_>, owner: &str, gateways: &[&str]) {
    for gateway in gateways {
        user.ok(
            0,
            &[
                "grant",
                "add",
                "--register-devices",
                owner,
                "--to",
                gateway,
                "--from",
                owner,
            ],
        );
    }
}
