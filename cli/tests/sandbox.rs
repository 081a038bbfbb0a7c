//! A contract project's wasm tests run through `bot-sandbox` on the engine inside this
//! `cargo-bot` (`cargo bot sandbox`): every result, gas figure, event and breakdown is what the
//! engine gives in process, on both compilers, and what goes wrong is said by name.

use bot_sandbox::{Compiler, Sandbox, account};
use serde_json::json;

const EXE: &str = env!("CARGO_BIN_EXE_cargo-bot");

fn counter() -> Vec<u8> {
    std::fs::read(bot_tests::contracts_dir().join("counter.wasm")).unwrap()
}

#[test]
fn the_server_gives_what_the_engine_gives_in_process_on_both_compilers() {
    for (compiler, engine_compiler) in [
        (Compiler::Cranelift, bot_engine::Compiler::Cranelift),
        (Compiler::Singlepass, bot_engine::Compiler::Singlepass),
    ] {
        let mut remote = Sandbox::start_with(EXE, compiler).unwrap();
        let mut local = bot_sandbox_engine::Sandbox::with_compiler(engine_compiler);
        let wasm = counter();
        let at = remote.deploy(&wasm).unwrap();
        assert_eq!(at.0, local.deploy(&wasm).unwrap().0, "the same address");
        remote.caller = account("carol");
        local.caller = bot_sandbox_engine::account("carol");
        remote.advance_blocks(3, 1_000);
        local.advance_blocks(3, 1_000);
        let local_at = bot_sandbox_engine::Address(at.0);

        let init = remote.call_json(at, "new", json!({"start": 5})).unwrap();
        let local_init = local
            .call_json(local_at, "new", json!({"start": 5}))
            .unwrap();
        assert_eq!(init.to_json(), local_init.to_json());

        let up = remote.call(at, "increment", &2u64);
        let local_up = local.call(local_at, "increment", &2u64);
        assert_eq!(up.value::<u64>(), 7);
        assert_eq!(
            up.to_json(),
            local_up.to_json(),
            "result, gas, events, logs"
        );
        assert_eq!(up.events[0].name, "incremented");
        assert_eq!(up.events[0].data, local_up.events[0].data);
        assert_eq!(up.events[0].contract, at);
        let host: Vec<_> = up
            .breakdown
            .host
            .iter()
            .map(|h| (h.name.as_str(), h.calls, h.gas))
            .collect();
        let local_host: Vec<_> = local_up
            .breakdown
            .host
            .iter()
            .map(|h| (h.name, h.calls, h.gas))
            .collect();
        assert_eq!(host, local_host, "the gas breakdown");
        assert_eq!(
            up.breakdown.storage_bytes_written,
            local_up.breakdown.storage_bytes_written
        );

        let overflow = remote.call(at, "increment", &u64::MAX);
        assert_eq!(overflow.failure().kind, "contract_error");
        assert_eq!(
            overflow.error_code(),
            local.call(local_at, "increment", &u64::MAX).error_code()
        );
        assert_eq!(overflow.to_json()["error"]["name"], json!("Overflow"));

        remote.gas_limit = 1_000;
        let starved = remote.query(at, "get", &());
        assert_eq!(
            starved.failure().kind,
            "out_of_gas",
            "{}",
            starved.to_json()
        );
        remote.gas_limit = 100_000_000;
        assert_eq!(remote.query(at, "get", &()).value::<u64>(), 7);
        assert_eq!(remote.abi(at).unwrap()["contract"], json!("Counter"));
    }
}

#[test]
fn what_the_server_refuses_is_said_by_name() {
    let mut chain = Sandbox::start_with(EXE, Compiler::Cranelift).unwrap();
    let refused = chain.deploy(b"\0asm not really").unwrap_err().to_string();
    assert!(refused.contains("deploy check"), "{refused}");
    let at = chain.deploy(&counter()).unwrap();
    let wrong = chain
        .call_json(at, "increment", json!({"by": "two"}))
        .unwrap_err()
        .to_string();
    assert!(wrong.contains("by"), "{wrong}");
    let missing = chain
        .call_json(at, "decrement", json!({}))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("decrement"), "{missing}");
    // The server is still there after each.
    assert!(
        chain
            .call_json(at, "new", json!({"start": 1}))
            .unwrap()
            .is_ok()
    );

    let nowhere = std::env::temp_dir().join("no-such-cargo-bot");
    let error = Sandbox::start_with(&nowhere, Compiler::Cranelift)
        .err()
        .unwrap();
    assert!(
        format!("{error:#}").contains("no-such-cargo-bot"),
        "{error:#}"
    );
    // A program that is not a cargo-bot does not greet.
    let error = Sandbox::start_with("/bin/true", Compiler::Cranelift)
        .err()
        .unwrap();
    assert!(format!("{error:#}").contains("did not greet"), "{error:#}");
}
