//! Contracts written with `#[bot_sdk::contract]`: state, `#[init]`, calls, `#[view]`s that the
//! engine runs read-only, fallible methods, and the ABI the macro embeds.

use bot_engine::{Address, Compiler, EngineConfig, FailureKind, Outcome};
use bot_tests::{ALICE, Chain, decode, wasm};

const NOTES: Address = Address([0x4e; 20]);
const PROBE: Address = Address([0x01; 20]);

fn chain() -> Chain {
    let chain = Chain::new(Compiler::Cranelift);
    chain.deploy(NOTES, &wasm("notes"));
    chain.deploy(PROBE, &wasm("probe"));
    chain
}

fn failure(outcome: &Outcome) -> (FailureKind, String) {
    let f = outcome.result.clone().expect_err("the call should fail");
    (f.kind, f.message)
}

#[test]
fn state_persists_between_calls_and_views_read_it() {
    let chain = chain();
    chain.call(NOTES, "new", &());
    assert_eq!(
        decode::<u32>(&chain.call(NOTES, "add", &"hello".to_string())),
        0
    );
    assert_eq!(
        decode::<u32>(&chain.call(NOTES, "add", &"world".to_string())),
        1
    );
    assert_eq!(decode::<u32>(&chain.query(NOTES, "count", &())), 2);
    assert_eq!(
        decode::<Option<String>>(&chain.query(NOTES, "get", &0u32)),
        Some("hello".into())
    );
    assert_eq!(
        decode::<Option<String>>(&chain.query(NOTES, "get", &7u32)),
        None
    );
    assert_eq!(
        decode::<[u8; 20]>(&chain.query(NOTES, "owner", &())),
        ALICE.0
    );
    assert_eq!(decode::<u32>(&chain.call(NOTES, "double_count", &())), 4);
}

#[test]
fn init_runs_once_and_first() {
    let chain = chain();
    let early = chain.call(NOTES, "add", &"too soon".to_string());
    assert_eq!(failure(&early).0, FailureKind::Contract { code: 5 });
    assert!(chain.call(NOTES, "new", &()).result.is_ok());
    let again = chain.call(NOTES, "new", &());
    assert_eq!(
        failure(&again),
        (
            FailureKind::Contract { code: 6 },
            "the contract is already initialized".into()
        )
    );
}

#[test]
fn fallible_methods_fail_with_their_converted_error_and_keep_nothing() {
    let chain = chain();
    chain.call(NOTES, "new", &());
    let long = chain.call(NOTES, "add", &"x".repeat(70));
    assert_eq!(
        failure(&long),
        (
            FailureKind::Contract { code: 101 },
            "note is 70 bytes; the limit is 64".into()
        )
    );
    assert!(long.writes.is_empty());
    assert_eq!(decode::<u32>(&chain.query(NOTES, "count", &())), 0);
}

#[test]
fn private_methods_are_not_entry_points() {
    let chain = chain();
    chain.call(NOTES, "new", &());
    let out = chain.call(NOTES, "helper", &());
    assert_eq!(
        failure(&out),
        (
            FailureKind::Contract { code: 1 },
            "unknown method `helper`".into()
        )
    );
}

#[test]
fn the_engine_runs_views_read_only_even_when_called_as_transactions() {
    let chain = chain();
    chain.call(NOTES, "new", &());
    // `call`, not `query`: the engine knows from the ABI that these are views.
    let write = chain.call(NOTES, "sneaky_write", &());
    assert_eq!(
        failure(&write),
        (
            FailureKind::HostViolation,
            "storage.set is not allowed in a read-only call".into()
        )
    );
    let emit = chain.call(NOTES, "sneaky_emit", &());
    assert_eq!(
        failure(&emit),
        (
            FailureKind::HostViolation,
            "events.emit is not allowed in a read-only call".into()
        )
    );
}

#[test]
fn views_stay_read_only_when_another_contract_calls_them() {
    #[derive(borsh::BorshSerialize)]
    struct Call {
        contract: [u8; 20],
        method: String,
        args: Vec<u8>,
        gas: Option<u64>,
    }
    let chain = chain();
    chain.call(NOTES, "new", &());
    let request = Call {
        contract: NOTES.0,
        method: "sneaky_write".into(),
        args: vec![],
        gas: None,
    };
    let result: Result<Vec<u8>, (u8, u32, String)> = decode(&chain.call(PROBE, "call", &request));
    let (kind, _, message) = result.expect_err("refused");
    assert_eq!(kind, 1, "trap");
    assert!(
        message.contains("storage.set is not allowed in a read-only call"),
        "{message}"
    );
}

#[test]
fn the_macro_embeds_the_abi_and_the_engine_reads_it() {
    let engine = bot_engine::Engine::new(EngineConfig::default()).unwrap();
    let abi = engine
        .validate(&wasm("counter"))
        .unwrap()
        .abi
        .expect("counter has an ABI section");
    assert_eq!(
        (abi.abi_version.as_str(), abi.contract.as_str()),
        (bot_engine::abi::ABI_VERSION, "Counter")
    );
    type MethodRow<'a> = (
        &'a str,
        bot_abi::MethodKind,
        Vec<(&'a str, &'a str)>,
        &'a str,
    );
    let methods: Vec<MethodRow> = abi
        .methods
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.kind,
                m.args
                    .iter()
                    .map(|a| (a.name.as_str(), a.ty.as_str()))
                    .collect(),
                m.returns.as_str(),
            )
        })
        .collect();
    use bot_abi::MethodKind::*;
    assert_eq!(
        methods,
        [
            ("new", Init, vec![("start", "u64")], "()"),
            ("increment", Call, vec![("by", "u64")], "u64"),
            ("get", View, vec![], "u64"),
        ]
    );
    assert!(
        engine.validate(&wasm("probe")).unwrap().abi.is_none(),
        "the probe is written without the macro"
    );
}

#[test]
fn macro_contracts_agree_on_both_backends() {
    let run = |compiler| {
        let chain = Chain::new(compiler);
        chain.deploy(NOTES, &wasm("notes"));
        vec![
            chain.call(NOTES, "new", &()),
            chain.call(NOTES, "add", &"a".to_string()),
            chain.call(NOTES, "add", &"b".repeat(80)),
            chain.query(NOTES, "get", &0u32),
            chain.call(NOTES, "sneaky_write", &()),
        ]
    };
    assert_eq!(run(Compiler::Cranelift), run(Compiler::Singlepass));
}
