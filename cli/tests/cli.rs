//! `cargo bot check` as a user runs it: exit codes, messages, JSON, and no panics on bad input.

use std::process::{Command, Output};

// These tests live in the cargo-bot package because only there does cargo build the binary
// for them (`CARGO_BIN_EXE_cargo-bot`); the contracts and fixtures come from bot-tests.
fn cargo_bot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cargo-bot"))
}

fn run(args: &[&str]) -> Output {
    cargo_bot().args(args).output().expect("cargo-bot runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_a_contract_built_from_this_repo() {
    let path = bot_tests::contracts_dir().join("counter.wasm");
    let out = run(&["check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("passes the deploy check"));
    // `cargo bot check` runs the binary with `bot` as its first argument.
    let out = run(&["bot", "check", "--json", path.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["code_hash"].as_str().unwrap().len(), 64);
}

#[test]
fn check_refuses_bad_modules_with_the_rule_broken() {
    let dir = tempfile::tempdir().unwrap();
    let simd = dir.path().join("simd.wasm");
    let wat = std::fs::read_to_string(bot_tests::fixture_path("simd.wat")).unwrap();
    std::fs::write(&simd, wat::parse_str(&wat).unwrap()).unwrap();
    let out = run(&["check", simd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("module uses the SIMD proposal, which contracts may not use"),
        "{}",
        text(&out.stderr)
    );

    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm\x01\0\0\0\xff\xff\xff").unwrap();
    let out = run(&["check", "--json", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["error"]["kind"], "validation");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("not a valid wasm module")
    );

    let out = run(&["check", dir.path().join("missing.wasm").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("reading"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_wrong_flag_is_a_usage_error_not_a_crash() {
    let out = run(&["check", "--no-such-flag", "x.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--no-such-flag"));
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn abi_prints_the_methods_a_contract_carries() {
    let path = bot_tests::contracts_dir().join("counter.wasm");
    let out = run(&["abi", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let abi: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(abi["contract"], "Counter");
    assert_eq!(abi["methods"][1]["name"], "increment");
    assert_eq!(abi["methods"][1]["kind"], "call");
    assert_eq!(
        abi["methods"][1]["args"][0],
        serde_json::json!({"name": "by", "type": "u64"})
    );
    assert_eq!(abi["methods"][2]["kind"], "view");

    let raw = bot_tests::contracts_dir().join("probe.wasm");
    let out = run(&["abi", raw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("carries no bot:abi section"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bench_gas_breaks_a_method_down_and_the_parts_add_up() {
    let path = bot_tests::contracts_dir().join("counter.wasm");
    let path = path.to_str().unwrap();
    let out = run(&[
        "--json",
        "bench",
        "gas",
        path,
        "--init",
        "new",
        "--init-args",
        r#"{"start": 5}"#,
        "--call",
        "increment",
        "--args",
        r#"{"by": 3}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["cost_table_version"], bot_engine::COST_TABLE_VERSION);
    for key in ["init", "call"] {
        let r = &report[key];
        assert_eq!(r["status"], "ok", "{r}");
        let host: u64 = r["host"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["gas"].as_u64().unwrap())
            .sum();
        assert_eq!(
            r["wasm_gas"].as_u64().unwrap() + host,
            r["gas_used"].as_u64().unwrap(),
            "{key}: the parts add up to the total"
        );
        assert!(r["wasm_gas"].as_u64().unwrap() > 0);
        assert!(r["storage_bytes_written"].as_u64().unwrap() > 0);
    }
    let call_host = report["call"]["host"].as_array().unwrap();
    let used = |name: &str| {
        call_host
            .iter()
            .find(|u| u["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {call_host:?}"))
            .clone()
    };
    // An instance costs what its module declares: the counter's pages, imports, data.
    let wasm = std::fs::read(path).unwrap();
    let engine = bot_engine::Engine::new(bot_engine::EngineConfig::default()).unwrap();
    let declared = engine.validate(&wasm).unwrap().declared;
    assert_eq!(declared.initial_pages, 2, "the SDK links a 64 KiB stack");
    assert_eq!(
        used("instantiate")["gas"],
        bot_engine::COSTS.instantiate_gas(&declared)
    );
    // Each host function's share is its price in the table: the caller's 20-byte address.
    let caller = bot_engine::COSTS.env_list;
    assert_eq!(
        used("env.caller")["gas"],
        caller.base + 20 * caller.per_byte
    );
    assert_eq!(used("storage.get")["calls"], 1);
    assert_eq!(used("storage.set")["calls"], 1);
    assert_eq!(used("events.emit")["calls"], 1);

    // The same in text, and the mistakes a user makes named.
    let out = run(&[
        "bench",
        "gas",
        path,
        "--call",
        "increment",
        "--init",
        "new",
        "--init-args",
        r#"{"start": 1}"#,
        "--args",
        r#"{"by": 1}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("wasm instructions"));
    let out = run(&["bench", "gas", path, "--call", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no method `nope`"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["bench", "gas"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--calibrate"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["bench", "gas", path, "--calibrate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a contract"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bench_gas_calibrate_reports_every_row_it_measured() {
    // One quick row: the report's shape, not its times (timing is the calibration's business).
    let out = run(&[
        "--json",
        "bench",
        "gas",
        "--calibrate",
        "--only",
        "env.",
        "--repeats",
        "1",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["cost_table_version"], bot_engine::COST_TABLE_VERSION);
    let rows = report["rows"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["env.block-height", "env.caller"]);
    assert_eq!(
        out.status.success(),
        report["pass"].as_bool().unwrap(),
        "the exit code says whether every row is within the band"
    );
    // Adversarial rows alone are compared with `plain`, measured beside them.
    let out = run(&[
        "--json",
        "bench",
        "gas",
        "--calibrate",
        "--only",
        "random br_table",
        "--repeats",
        "1",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows: Vec<(&str, bool)> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["adversarial"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("plain", false), ("random br_table", true)]);
    let out = run(&["bench", "gas", "--calibrate", "--only", "no-such-row"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("matched no row"),
        "{}",
        text(&out.stderr)
    );
}
