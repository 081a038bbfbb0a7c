//! A new user's path through every template: `cargo bot new` → `cargo bot build` → `cargo bot
//! run` (init and a call) → the generated project's own `cargo test`, offline.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::ok_json as json;

fn cargo_bot(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-bot"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cargo-bot runs")
}

/// Generated projects build their test dependencies (the engine) in one shared folder, so the
/// three templates compile it once.
fn shared_target() -> std::path::PathBuf {
    bot_tests::contracts_dir()
        .ancestors()
        .nth(3)
        .expect("target/contracts/<triple>/release")
        .join("templates")
}

/// (template, init, init args, call, call args, expected result)
const CASES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "counter",
        "new",
        r#"{"start": 5}"#,
        "increment",
        r#"{"by": 2}"#,
        "7",
    ),
    (
        "device-telemetry",
        "new",
        r#"{"retention": 10}"#,
        "devices",
        r#"{"limit": 10}"#,
        "[]",
    ),
    (
        "service-access",
        "new",
        r#"{"name": "air", "description": "PM2.5"}"#,
        "is_authorized",
        r#"{"who": "0x0000000000000000000000000000000000000001"}"#,
        "false",
    ),
];

#[test]
fn every_template_builds_runs_and_passes_its_own_tests() {
    let parent = tempfile::tempdir().unwrap();
    for (template, init, init_args, call, args, expected) in CASES {
        let name = format!("my-{template}");
        let created = json(&cargo_bot(
            parent.path(),
            &["bot", "new", &name, "--template", template, "--json"],
        ));
        let project = parent.path().join(&name);
        assert_eq!(created["path"], project.display().to_string());

        let built = json(&cargo_bot(&project, &["bot", "build", "--json"]));
        let wasm = built["wasm"].as_str().unwrap().to_string();
        assert_eq!(built["code_hash"].as_str().unwrap().len(), 64);
        let size = built["size"].as_u64().unwrap();
        // Size budgets: 40 KiB for the minimal counter, 64 KiB for the richer templates.
        let budget = if *template == "counter" {
            40 * 1024
        } else {
            64 * 1024
        };
        assert!(size <= budget, "{template}: {size} bytes > {budget}");
        assert_eq!(built["abi"]["methods"][0]["name"], *init);

        let ran = json(&cargo_bot(
            &project,
            &[
                "bot",
                "run",
                &wasm,
                "--init",
                init,
                "--init-args",
                init_args,
                "--call",
                call,
                "--args",
                args,
                "--json",
            ],
        ));
        assert_eq!(ran["status"], "ok", "{template}: {ran}");
        assert_eq!(ran["init"]["status"], "ok", "{template}: {ran}");
        assert_eq!(ran["result"].to_string(), *expected, "{template}: {ran}");
        assert!(ran["gas_used"].as_u64().unwrap() > 0);

        let test = Command::new(env!("CARGO"))
            .current_dir(&project)
            .args(["test", "--offline"])
            .env("CARGO_TARGET_DIR", shared_target())
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo test runs");
        assert!(
            test.status.success(),
            "{template}: the generated project's tests fail:\n{}\n{}",
            String::from_utf8_lossy(&test.stdout),
            String::from_utf8_lossy(&test.stderr)
        );
    }
}

#[test]
fn new_refuses_unknown_templates_and_existing_folders() {
    let parent = tempfile::tempdir().unwrap();
    let out = cargo_bot(parent.path(), &["new", "x", "--template", "toaster"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no template `toaster`") && stderr.contains("device-telemetry"),
        "{stderr}"
    );

    std::fs::create_dir(parent.path().join("taken")).unwrap();
    let out = cargo_bot(parent.path(), &["new", "taken"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = cargo_bot(parent.path(), &["new", "9lives"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid crate name"));
}

#[test]
fn run_names_the_wrong_argument() {
    let counter = bot_tests::contracts_dir().join("counter.wasm");
    let counter = counter.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (r#"{"by": "two"}"#, "`args.by`: expected u64"),
        (r#"{"bye": 2}"#, "`args.bye`: unknown field; expected by"),
        (r#"{}"#, "`args.by`: missing field of type u64"),
        (r#"[2]"#, "expected an object keyed by parameter name (by)"),
        ("{by: 2", "--args is not JSON"),
    ] {
        let out = cargo_bot(
            dir.path(),
            &["run", counter, "--call", "increment", "--args", args],
        );
        assert_eq!(out.status.code(), Some(1), "{args}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args}: {stderr}");
    }
    let out = cargo_bot(dir.path(), &["run", counter, "--call", "nope"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("has no method `nope`; it has: new, increment, get")
    );
}

#[test]
fn run_keeps_state_between_runs_and_views_stay_read_only() {
    let counter = bot_tests::contracts_dir().join("counter.wasm");
    let counter = counter.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let first = json(&cargo_bot(
        dir.path(),
        &[
            "run",
            counter,
            "--state",
            state,
            "--init",
            "new",
            "--init-args",
            r#"{"start": 1}"#,
            "--json",
        ],
    ));
    assert_eq!(first["status"], "ok");
    let second = json(&cargo_bot(
        dir.path(),
        &[
            "run",
            counter,
            "--state",
            state,
            "--call",
            "increment",
            "--args",
            r#"{"by": 41}"#,
            "--caller",
            "alice",
            "--json",
        ],
    ));
    assert_eq!(second["result"], 42);
    assert_eq!(second["events"][0]["name"], "incremented");
    assert_eq!(second["events"][0]["data"]["count"], 42);
    let view = json(&cargo_bot(
        dir.path(),
        &["run", counter, "--state", state, "--call", "get", "--json"],
    ));
    assert_eq!(
        (view["result"].clone(), view["events"].clone()),
        (42.into(), serde_json::json!([]))
    );

    let again = cargo_bot(
        dir.path(),
        &[
            "run",
            counter,
            "--state",
            state,
            "--init",
            "new",
            "--init-args",
            r#"{"start": 0}"#,
            "--json",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["error"]["code"], 6);
    assert_eq!(again["error"]["kind"], "contract_error");
}
