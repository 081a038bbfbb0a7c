//! Gas a contract author relies on: what a storage write pays for its key's commit.

use bot_engine::{Address, COSTS, Compiler};
use bot_tests::Chain;

const CONTRACT: Address = Address([0x9a; 20]);

/// A contract whose `invoke` runs `body`; keys "a" and "b" (1 byte) and an 8-byte value are in
/// its data segment.
fn contract(body: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "bot:contract/storage@0.1.0" "set" (func $set (param i32 i32 i32 i32)))
  (import "bot:contract/storage@0.1.0" "remove" (func $remove (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "ab")
  (data (i32.const 200) "12345678")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    {body}
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 0))
    (i32.store (i32.const 24) (i32.const 0))
    (i32.const 16)))"#
    ))
    .expect("test wat")
}

const SET_A: &str = "(call $set (i32.const 100) (i32.const 1) (i32.const 200) (i32.const 8))";
const SET_B: &str = "(call $set (i32.const 101) (i32.const 1) (i32.const 200) (i32.const 8))";
const REMOVE_A: &str = "(call $remove (i32.const 100) (i32.const 1))";

fn gas(compiler: Compiler, body: &str) -> u64 {
    let chain = Chain::new(compiler);
    chain.deploy(CONTRACT, &contract(body));
    let outcome = chain.run(&chain.request(CONTRACT, "run", Vec::new(), false));
    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    outcome.gas_used
}

#[test]
fn a_key_pays_its_commit_once_per_call_however_often_it_is_written() {
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let set = COSTS.storage_set.for_bytes(9).unwrap();
        let remove = COSTS.storage_remove.for_bytes(1).unwrap();
        let one = gas(compiler, SET_A);
        // Writing the same key again, or removing it, pays only the call's own price.
        let twice = gas(compiler, &format!("{SET_A} {SET_A}"));
        let then_removed = gas(compiler, &format!("{SET_A} {REMOVE_A}"));
        // A second key pays its commit too.
        let two_keys = gas(compiler, &format!("{SET_A} {SET_B}"));
        // The wasm instructions around each call are the same: 4 constants and the call (2 for
        // a remove).
        let instructions = twice - one - set;
        assert_eq!(instructions, 4 * COSTS.stack + COSTS.call, "{compiler:?}");
        let remove_instructions = then_removed - one - remove;
        assert_eq!(
            remove_instructions,
            2 * COSTS.stack + COSTS.call,
            "{compiler:?}"
        );
        assert_eq!(
            two_keys - one,
            set + COSTS.storage_commit + instructions,
            "{compiler:?}"
        );
    }
}

#[test]
fn removing_a_key_the_call_has_not_written_pays_its_commit() {
    let remove = COSTS.storage_remove.for_bytes(1).unwrap();
    let none = gas(Compiler::Cranelift, "");
    let once = gas(Compiler::Cranelift, REMOVE_A);
    let twice = gas(Compiler::Cranelift, &format!("{REMOVE_A} {REMOVE_A}"));
    let instructions = twice - once - remove;
    // Two constants and the call.
    assert_eq!(instructions, 2 * COSTS.stack + COSTS.call);
    assert_eq!(once - none, remove + COSTS.storage_commit + instructions);
}

#[test]
fn a_write_whose_commit_runs_out_of_gas_is_not_kept() {
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        // Short by half the commit (more than the instructions after the write): the commit's
        // charge fails.
        let limit = gas(compiler, SET_A) - COSTS.storage_commit / 2;
        let mut chain = Chain::new(compiler);
        chain.gas_limit = limit;
        chain.deploy(CONTRACT, &contract(SET_A));
        let outcome = chain.run(&chain.request(CONTRACT, "run", Vec::new(), false));
        assert_eq!(
            outcome.result.map_err(|f| f.kind),
            Err(bot_engine::FailureKind::OutOfGas),
            "{compiler:?}"
        );
        assert!(
            outcome.writes.is_empty(),
            "{compiler:?}: {:?}",
            outcome.writes
        );
        assert_eq!(outcome.gas_used, limit);
        let set = outcome
            .breakdown
            .host
            .iter()
            .find(|u| u.name == "storage.set");
        assert_eq!(
            set.map(|u| u.gas),
            Some(COSTS.storage_set.for_bytes(9).unwrap())
        );
    }
}

/// A module of `pages` initial pages whose `invoke` returns at once.
fn pages(pages: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") {pages})
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0))
    (i32.store (i32.const 20) (i32.const 0))
    (i32.store (i32.const 24) (i32.const 0))
    (i32.const 16)))"#
    ))
    .expect("test wat")
}

/// A module whose memory may reach `max` pages (no maximum: the limit) and whose `invoke`
/// runs `loads` loads.
fn loads(max: Option<u32>, loads: usize) -> Vec<u8> {
    let max = max.map_or(String::new(), |m| m.to_string());
    let body = "(drop (i32.load (i32.const 64)))\n".repeat(loads);
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1 {max})
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    {body}
    (i32.const 16)))"#
    ))
    .expect("test wat")
}

#[test]
fn loads_cost_more_where_the_memory_may_grow_past_the_caches() {
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let gas = |max, n| run(compiler, &loads(max, n), 10_000_000).gas_used;
        let per_load = |max: Option<u32>| gas(max, 11) - gas(max, 1);
        // Each load with its address constant and the drop.
        let priced = |pages: u32| 10 * (COSTS.memory_price(pages).load + 2 * COSTS.stack);
        // Two pages stay in L2; an SDK contract's 16 pages in L3; without a maximum the memory
        // may reach the limit, where every load can miss the caches and the TLB.
        assert_eq!(per_load(Some(2)), priced(2), "{compiler:?}");
        assert_eq!(per_load(Some(16)), priced(16), "{compiler:?}");
        assert_eq!(per_load(None), priced(u32::MAX), "{compiler:?}");
        assert!(priced(2) < priced(16) && priced(16) < priced(u32::MAX));
    }
}

fn run(compiler: Compiler, wasm: &[u8], gas_limit: u64) -> bot_engine::Outcome {
    let mut chain = Chain::new(compiler);
    chain.gas_limit = gas_limit;
    chain.deploy(CONTRACT, wasm);
    chain.run(&chain.request(CONTRACT, "run", Vec::new(), false))
}

#[test]
fn an_instance_pays_for_every_page_it_declares_before_it_runs() {
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let one = run(compiler, &pages(1), 10_000_000);
        let five = run(compiler, &pages(5), 10_000_000);
        assert!(one.result.is_ok() && five.result.is_ok(), "{compiler:?}");
        // Four more pages cost what growing four pages costs: the contract may touch them all.
        assert_eq!(
            five.gas_used - one.gas_used,
            4 * COSTS.memory_grow_per_page,
            "{compiler:?}"
        );
        let instantiate = |o: &bot_engine::Outcome| {
            o.breakdown
                .host
                .iter()
                .find(|u| u.name == "instantiate")
                .map(|u| u.gas)
        };
        assert_eq!(instantiate(&one), Some(COSTS.instantiate), "{compiler:?}");
        // A limit that pays for one page but not five: out of gas before the first instruction.
        let short = run(compiler, &pages(5), COSTS.instantiate + 1_000);
        assert_eq!(
            short.result.map_err(|f| f.kind),
            Err(bot_engine::FailureKind::OutOfGas),
            "{compiler:?}"
        );
        assert_eq!(short.gas_used, COSTS.instantiate + 1_000, "{compiler:?}");
    }
}

#[test]
fn sdk_contracts_declare_two_pages_of_sixteen_and_upload_for_about_their_size() {
    let engine = bot_engine::Engine::new(bot_engine::EngineConfig::default()).unwrap();
    for name in [
        "counter",
        "probe",
        "notes",
        "monitor",
        "supply_chain",
        "washer_agent",
    ] {
        let wasm = bot_tests::wasm(name);
        let module = engine.validate(&wasm).unwrap();
        // A 64 KiB stack and the data after it: every instance pays for these pages.
        assert_eq!(module.declared.initial_pages, 2, "{name}");
        // A declared maximum of 1 MiB keeps every load at the price of a memory that size.
        assert_eq!(module.memory_pages, 16, "{name}");
        // Only functions smaller than the compiler's fixed work per function weigh more.
        let weight = COSTS.compile_bytes(&module);
        let size = wasm.len() as u64;
        assert!(
            weight >= size && weight <= size + size / 50,
            "{name}: {size} bytes weigh {weight}"
        );
    }
}
