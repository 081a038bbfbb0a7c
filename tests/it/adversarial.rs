//! Hostile contracts: every host function called with pointers outside memory, with lengths
//! of 2 GiB and with zeros. Each call ends in a deterministic outcome (never a host panic or
//! an engine error), pays gas, keeps no writes, and is the same on both backends.

use bot_engine::abi::{IMPORTS, ValType};
use bot_engine::{Address, COSTS, Compiler, FailureKind, Outcome};
use bot_tests::Chain;

const CONTRACT: Address = Address([0xad; 20]);

/// A module that calls one host function with `i32_arg` for every i32 parameter (and -1 for
/// every i64): from `invoke`, or from its allocator (`in_allocator`), which the host calls to
/// hand the contract its method name.
fn module_calling(
    module: &str,
    name: &str,
    params: &[ValType],
    results: &[ValType],
    i32_arg: i32,
    in_allocator: bool,
) -> String {
    let ty = |t: &ValType| match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
    };
    let params_decl: Vec<&str> = params.iter().map(ty).collect();
    let results_decl: Vec<&str> = results.iter().map(ty).collect();
    let args: Vec<String> = params
        .iter()
        .map(|t| match t {
            ValType::I32 => format!("(i32.const {i32_arg})"),
            ValType::I64 => "(i64.const -1)".to_string(),
        })
        .collect();
    let call = format!(
        "(call $h {})\n    {}",
        args.join(" "),
        "drop ".repeat(results.len())
    );
    let (in_realloc, in_invoke) = if in_allocator {
        (call.as_str(), "")
    } else {
        ("", call.as_str())
    };
    format!(
        r#"(module
  (import "{module}" "{name}" (func $h (param {}) (result {})))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    {in_realloc}
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $p))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    {in_invoke}
    (i32.const 0)))"#,
        params_decl.join(" "),
        results_decl.join(" "),
    )
}

fn run(wasm: &[u8], compiler: Compiler, gas_limit: u64) -> Outcome {
    let mut chain = Chain::new(compiler);
    chain.gas_limit = gas_limit;
    chain.deploy(CONTRACT, wasm);
    chain.run(&chain.request(CONTRACT, "run", Vec::new(), false))
}

#[test]
fn every_host_function_survives_hostile_arguments() {
    let mut checked = 0;
    for import in IMPORTS {
        let takes_memory = import.params.contains(&ValType::I32);
        // (i32 argument, gas limit): out of bounds; 2 GiB lengths with gas to pay for them; zeros.
        for (arg, gas_limit) in [(-16, 10_000_000), (i32::MAX, 1u64 << 60), (0, 10_000_000)] {
            let wat = module_calling(
                import.module,
                import.name,
                import.params,
                import.results,
                arg,
                false,
            );
            let wasm = wat::parse_str(&wat).expect("generated wat parses");
            let what = format!("{}#{} with {arg}", import.module, import.name);
            let cranelift = run(&wasm, Compiler::Cranelift, gas_limit);
            let singlepass = run(&wasm, Compiler::Singlepass, gas_limit);
            assert_eq!(cranelift, singlepass, "{what}: backends differ");
            assert!(
                cranelift.gas_used > COSTS.instantiate,
                "{what}: no gas charged"
            );
            if let Err(failure) = &cranelift.result {
                assert!(
                    cranelift.writes.is_empty() && cranelift.events.is_empty(),
                    "{what}: kept writes"
                );
                // With zeros, a return value written at address 0 overlays the module's own
                // invoke result, which may then read as a contract error: still deterministic.
                let contract_error =
                    arg == 0 && matches!(failure.kind, FailureKind::Contract { .. });
                assert!(
                    contract_error
                        || matches!(
                            failure.kind,
                            FailureKind::HostViolation
                                | FailureKind::OutOfGas
                                | FailureKind::Aborted
                        ),
                    "{what}: unexpected {failure}"
                );
            } else {
                // Only calls whose pointers were all valid (the zero case), or that take none, succeed.
                assert!(
                    arg == 0 || !takes_memory,
                    "{what}: hostile pointers were accepted"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, IMPORTS.len() * 3);
}

#[test]
fn out_of_bounds_pointers_are_refused_by_every_memory_reading_host_function() {
    for import in IMPORTS.iter().filter(|i| i.params.contains(&ValType::I32)) {
        let wat = module_calling(
            import.module,
            import.name,
            import.params,
            import.results,
            -16,
            false,
        );
        let outcome = run(
            &wat::parse_str(&wat).unwrap(),
            Compiler::Cranelift,
            1u64 << 60,
        );
        let failure = outcome.result.expect_err("refused");
        assert_eq!(
            failure.kind,
            FailureKind::HostViolation,
            "{}#{}: {failure}",
            import.module,
            import.name
        );
    }
}

#[test]
fn a_function_body_left_open_is_refused_by_the_deploy_check_as_by_the_compilers() {
    let wasm = bot_tests::unclosed_body_module();
    assert!(wasm.len() < 100, "{} bytes", wasm.len());
    let chain = Chain::new(Compiler::Cranelift);
    let refused = chain.engine.validate(&wasm).unwrap_err().to_string();
    assert!(
        refused.contains("control frames remain at end of function body"),
        "{refused}"
    );
    // `prepare` (validate, then compile) refuses it the same way, before any compiler sees it.
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let chain = Chain::new(compiler);
        let prepared = chain.engine.prepare(&wasm).expect("no engine failure");
        assert_eq!(prepared.unwrap_err().to_string(), refused);
    }
}

#[test]
fn element_segments_and_tables_are_bounded() {
    let segments = (0..1025)
        .map(|_| "(elem (i32.const 0) func $f)")
        .collect::<Vec<_>>()
        .join("\n");
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  (table 1 funcref)
  (func $f)
  {segments}
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32) (i32.const 0)))"#
    );
    let chain = Chain::new(Compiler::Cranelift);
    let refused = chain
        .engine
        .validate(&wat::parse_str(&wat).unwrap())
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "module has 1025 element segments; the limit is 1024"
    );
}

#[test]
fn an_allocator_that_calls_the_host_is_refused_whichever_function_it_calls() {
    for import in IMPORTS {
        // The host allocates in the contract to hand it the method name: the allocator then
        // calls the host function, which must be refused before it does anything.
        let wat = module_calling(
            import.module,
            import.name,
            import.params,
            import.results,
            0,
            true,
        );
        let wasm = wat::parse_str(&wat).unwrap();
        let what = format!("{}#{}", import.module, import.name);
        let cranelift = run(&wasm, Compiler::Cranelift, 10_000_000);
        let singlepass = run(&wasm, Compiler::Singlepass, 10_000_000);
        assert_eq!(cranelift, singlepass, "{what}: backends differ");
        let failure = cranelift.result.expect_err(&what);
        assert_eq!(
            failure.kind,
            FailureKind::HostViolation,
            "{what}: {failure}"
        );
        assert!(
            failure
                .message
                .starts_with("cabi_realloc called a host function"),
            "{what}: {failure}"
        );
    }
}

#[test]
fn an_abi_that_contains_itself_is_refused_at_deploy() {
    use bot_abi::{ContractAbi, Field, Fields, Record, TypeDef};
    // What the node decodes events and results through: a struct whose field is itself
    // would recurse without end in every reader (RPC receipts, events, subscriptions).
    let mut section = ContractAbi {
        abi_version: bot_abi::ABI_VERSION.into(),
        ..ContractAbi::default()
    }
    .to_section();
    let looped = TypeDef::Struct {
        name: "Loop".into(),
        fields: Fields::Named(vec![Field {
            name: "again".into(),
            ty: "Loop".into(),
        }]),
    };
    section.extend(borsh::to_vec(&Record::Type(looped)).unwrap());
    let escaped: String = section.iter().map(|b| format!("\\{b:02x}")).collect();
    let wat = format!(
        r#"(module
  (@custom "bot:abi" "{escaped}")
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32) (i32.const 0)))"#
    );
    let chain = Chain::new(Compiler::Cranelift);
    let refused = chain
        .engine
        .validate(&wat::parse_str(&wat).unwrap())
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        "the bot:abi section does not decode: type `Loop` contains itself (Loop → Loop): a value of it would never end"
    );
}

/// A module that logs `lines` lines of `len` bytes (zeros: valid UTF-8), then one line at
/// `last_ptr`.
fn logging(lines: u32, len: u32, last_ptr: i32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "bot:contract/runtime@0.1.0" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 32768))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const {lines})))
      (call $log (i32.const 1024) (i32.const {len}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $log (i32.const {last_ptr}) (i32.const 16))
    (i32.const 0)))"#
    ))
    .unwrap()
}

/// Logs are kept up to 64 KiB (or 1,000 lines) per transaction; the lines after are charged
/// and bounds-checked but not read, so a line outside memory is refused after the cap as
/// before it, and the gas is the same on both backends.
#[test]
fn log_lines_past_the_cap_are_charged_and_checked_but_not_kept() {
    let big = run(&logging(2_000, 4096, 0), Compiler::Cranelift, 1u64 << 60);
    assert!(big.result.is_ok(), "{:?}", big.result);
    // 16 lines of 4 KiB reach 64 KiB; the 1,985 after them are dropped.
    assert_eq!(big.logs.len(), 16);
    assert!(big.logs.iter().all(|l| l.len() == 4096));
    let small = run(&logging(2_000, 8, 0), Compiler::Cranelift, 1u64 << 60);
    assert_eq!(small.logs.len(), 1_000);
    // A dropped line pays what a kept one does.
    let gas = |lines| run(&logging(lines, 4096, 0), Compiler::Cranelift, 1u64 << 60).gas_used;
    let (first, kept) = (gas(1), gas(2));
    let each = kept - first;
    assert!(each > COSTS.log.base + 4096 * COSTS.log.per_byte);
    assert_eq!(big.gas_used - kept, 1_998 * each);
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let outside = run(&logging(2_000, 4096, -8), compiler, 1u64 << 60);
        let failure = outside
            .result
            .expect_err("a line outside memory is refused");
        assert_eq!(failure.kind, FailureKind::HostViolation, "{failure}");
        assert!(
            failure.message.contains("outside the contract's memory"),
            "{failure}"
        );
        let same = run(&logging(2_000, 4096, 0), compiler, 1u64 << 60);
        assert_eq!(same.gas_used, big.gas_used, "{}", compiler.name());
    }
}

/// A log line that is not UTF-8 is kept as its length, not decoded byte by byte.
#[test]
fn a_log_line_that_is_not_utf8_is_kept_as_its_length() {
    let wasm = wat::parse_str(
        r#"(module
  (import "bot:contract/runtime@0.1.0" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "ok\ff\fe")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 32768))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (call $log (i32.const 64) (i32.const 2))
    (call $log (i32.const 64) (i32.const 4))
    (i32.const 0)))"#,
    )
    .unwrap();
    let outcome = run(&wasm, Compiler::Cranelift, 1u64 << 40);
    assert_eq!(outcome.logs, ["ok", "<4 bytes, not UTF-8>"]);
}
