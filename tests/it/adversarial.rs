//! Hostile contracts: every host function called with pointers outside memory, with lengths
//! of 2 GiB and with zeros. Each call ends in a deterministic outcome (never a host panic or
//! an engine error), pays gas, keeps no writes, and is the same on both backends.

use bot_engine::abi::{IMPORTS, ValType};
use bot_engine::{Address, COSTS, Compiler, FailureKind, Outcome};
use bot_tests::Chain;

const CONTRACT: Address = Address([0xad; 20]);

fn module_calling(
    module: &str,
    name: &str,
    params: &[ValType],
    results: &[ValType],
    i32_arg: i32,
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
    let drops = "drop ".repeat(results.len());
    format!(
        r#"(module
  (import "{module}" "{name}" (func $h (param {}) (result {})))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get 3)))
    (local.get $p))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32)
    (call $h {})
    {drops}
    (i32.const 0)))"#,
        params_decl.join(" "),
        results_decl.join(" "),
        args.join(" ")
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
