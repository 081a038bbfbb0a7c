//! Data-driven engine tests: every `tests/fixtures/*.wat` declares its expected outcome in a
//! header, and runs on Cranelift and Singlepass, which must agree exactly.
//!
//! Header lines (`;; key: value`, before the module):
//! - `expect`: `ok`, `invalid`, or a failure kind (`out_of_gas`, `trap`, `stack_overflow`, ...);
//! - `message`: the exact failure or validation message (`invalid` may give a prefix ending in `[`);
//! - `gas`: the exact gas used; `gas_limit`: the call's limit (default 10,000,000);
//! - `result`: the expected return bytes in hex; `raw: true` feeds the file's bytes unparsed.
//!
//! `BOT_BLESS=1 cargo test -p bot-tests fixtures` rewrites the `gas:` lines with what ran, so a
//! change in gas shows up as a diff of the fixtures.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bot_engine::{Compiler, Failure, Outcome};
use bot_tests::{Chain, fixture_path};

const CONTRACT: bot_engine::Address = bot_engine::Address([0xf1; 20]);

struct Fixture {
    path: PathBuf,
    text: String,
    header: BTreeMap<String, String>,
}

impl Fixture {
    fn load(path: PathBuf) -> Fixture {
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        let header = text
            .lines()
            .take_while(|l| l.starts_with(";;"))
            .filter_map(|l| l.trim_start_matches(";;").trim().split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Fixture { path, text, header }
    }

    fn name(&self) -> String {
        self.path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.header.get(key).map(String::as_str)
    }

    fn wasm(&self) -> Vec<u8> {
        if self.get("raw") == Some("true") {
            return self.text.as_bytes().to_vec();
        }
        wat::parse_str(&self.text).unwrap_or_else(|e| panic!("{}: not valid wat: {e}", self.name()))
    }
}

fn all_fixtures() -> Vec<Fixture> {
    let dir = fixture_path("");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wat"))
        .collect();
    paths.sort();
    paths.into_iter().map(Fixture::load).collect()
}

fn kind_of(outcome: &Outcome) -> &'static str {
    match &outcome.result {
        Ok(_) => "ok",
        Err(f) => f.kind.name(),
    }
}

fn run(fixture: &Fixture, wasm: &[u8], compiler: Compiler, gas_limit: u64) -> Outcome {
    let mut chain = Chain::new(compiler);
    chain.gas_limit = gas_limit;
    chain.deploy(CONTRACT, wasm);
    let outcome = chain.run(&chain.request(CONTRACT, "run", Vec::new(), false));
    assert!(
        outcome.result.is_ok() || (outcome.writes.is_empty() && outcome.events.is_empty()),
        "{}: a failed call kept writes or events",
        fixture.name()
    );
    outcome
}

/// Checks one fixture; returns the mismatches found and, for blessing, the gas that ran.
fn check(fixture: &Fixture) -> (Vec<String>, Option<u64>) {
    let name = fixture.name();
    let mut problems = Vec::new();
    let expect = fixture
        .get("expect")
        .unwrap_or_else(|| panic!("{name}: no `expect:` line"));
    let wasm = fixture.wasm();
    let chain = Chain::new(Compiler::Cranelift);
    let validation = chain.engine.validate(&wasm);
    if expect == "invalid" {
        let want = fixture
            .get("message")
            .unwrap_or_else(|| panic!("{name}: no `message:` line"));
        match validation {
            Ok(_) => problems.push(format!(
                "{name}: expected the deploy check to refuse it: {want}"
            )),
            Err(e) => {
                let got = e.to_string();
                let matches = match want.strip_suffix('[') {
                    Some(prefix) => got.starts_with(&format!("{prefix}[")),
                    None => got == want,
                };
                if !matches {
                    problems.push(format!("{name}: refused with `{got}`, expected `{want}`"));
                }
            }
        }
        return (problems, None);
    }
    if let Err(e) = validation {
        return (
            vec![format!("{name}: the deploy check refused it: {e}")],
            None,
        );
    }
    let gas_limit: u64 = fixture
        .get("gas_limit")
        .map_or(10_000_000, |g| g.parse().expect("gas_limit is a number"));
    let cranelift = run(fixture, &wasm, Compiler::Cranelift, gas_limit);
    let singlepass = run(fixture, &wasm, Compiler::Singlepass, gas_limit);
    if cranelift != singlepass {
        problems.push(format!(
            "{name}: cranelift and singlepass differ:\n  {cranelift:?}\n  {singlepass:?}"
        ));
    }
    if kind_of(&cranelift) != expect {
        problems.push(format!(
            "{name}: outcome {:?}, expected {expect}",
            cranelift.result
        ));
    }
    if let (Some(want), Err(Failure { message, .. })) = (fixture.get("message"), &cranelift.result)
        && message != want
    {
        problems.push(format!("{name}: message `{message}`, expected `{want}`"));
    }
    if let (Some(want), Ok(bytes)) = (fixture.get("result"), &cranelift.result)
        && hex::encode(bytes) != want
    {
        problems.push(format!(
            "{name}: result {}, expected {want}",
            hex::encode(bytes)
        ));
    }
    match fixture
        .get("gas")
        .map(|g| g.parse::<u64>().expect("gas is a number"))
    {
        Some(gas) if gas == cranelift.gas_used => {}
        Some(gas) => problems.push(format!(
            "{name}: used {} gas, expected {gas}",
            cranelift.gas_used
        )),
        None => problems.push(format!("{name}: no `gas:` line")),
    }
    // Exact gas: a limit equal to the cost succeeds, one less runs out.
    if expect == "ok" {
        let used = cranelift.gas_used;
        for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
            let exact = run(fixture, &wasm, compiler, used);
            if exact.result != cranelift.result || exact.gas_used != used {
                problems.push(format!(
                    "{name}: with a limit of exactly {used} on {compiler:?}: {:?}",
                    exact.result
                ));
            }
            let short = run(fixture, &wasm, compiler, used - 1);
            if kind_of(&short) != "out_of_gas" || short.gas_used != used - 1 {
                problems.push(format!(
                    "{name}: with a limit of {} on {compiler:?}: {:?}",
                    used - 1,
                    short.result
                ));
            }
        }
    }
    (problems, Some(cranelift.gas_used))
}

fn bless(fixture: &Fixture, gas: u64) {
    let text: Vec<String> = fixture
        .text
        .lines()
        .map(|l| {
            if l.starts_with(";; gas: ") {
                format!(";; gas: {gas}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&fixture.path, text.join("\n") + "\n").expect("fixture writable");
}

#[test]
fn fixtures_give_their_expected_outcome_and_gas_on_both_backends() {
    let fixtures = all_fixtures();
    assert!(
        fixtures.len() >= 30,
        "expected the fixture set, found {}",
        fixtures.len()
    );
    let blessing = std::env::var_os("BOT_BLESS").is_some();
    let mut problems = Vec::new();
    for fixture in &fixtures {
        let (mut found, gas) = check(fixture);
        if blessing && let Some(gas) = gas {
            bless(fixture, gas);
            found.retain(|p| !p.contains(" gas, expected "));
        }
        problems.extend(found);
    }
    assert!(
        problems.is_empty(),
        "{} fixture problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
