//! The WIT world is the ABI's only written definition: the engine's import table must be its
//! canonical-ABI lowering, name for name and type for type, and the SDK must build against it.

use bot_engine::abi::{self, ValType};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{Resolve, SizeAlign, WorldItem};

fn world() -> (Resolve, wit_parser::WorldId) {
    let mut resolve = Resolve::default();
    let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/wit/bot.wit");
    let package = resolve.push_file(&wit).expect("bot.wit parses");
    let world = resolve
        .select_world(&[package], Some("contract"))
        .expect("world `contract`");
    (resolve, world)
}

fn lower(types: &[WasmType]) -> Vec<ValType> {
    types
        .iter()
        .map(|t| match t {
            WasmType::I32 | WasmType::Pointer | WasmType::Length => ValType::I32,
            WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
            other => panic!("the ABI uses no {other:?}"),
        })
        .collect()
}

#[test]
fn engine_imports_are_the_lowering_of_the_wit_world() {
    let (resolve, world) = world();
    let mut from_wit = Vec::new();
    for (key, item) in &resolve.worlds[world].imports {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let module = resolve.name_world_key(key);
        for (name, func) in &resolve.interfaces[*id].functions {
            let sig = resolve.wasm_signature(AbiVariant::GuestImport, func);
            from_wit.push((
                module.clone(),
                name.clone(),
                lower(&sig.params),
                lower(&sig.results),
            ));
        }
    }
    let mut from_engine: Vec<_> = abi::IMPORTS
        .iter()
        .map(|i| {
            (
                i.module.to_string(),
                i.name.to_string(),
                i.params.to_vec(),
                i.results.to_vec(),
            )
        })
        .collect();
    from_wit.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    from_engine.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(from_engine, from_wit);
    assert!(
        from_wit
            .iter()
            .all(|(m, ..)| m.ends_with(&format!("@{}", abi::ABI_VERSION))),
        "every import carries the ABI version"
    );
}

#[test]
fn the_invoke_export_matches_the_wit_world() {
    let (resolve, world) = world();
    let invoke = resolve.worlds[world]
        .exports
        .values()
        .find_map(|item| match item {
            WorldItem::Function(f) if f.name == abi::EXPORT_INVOKE => Some(f.clone()),
            _ => None,
        })
        .expect("the world exports invoke");
    let sig = resolve.wasm_signature(AbiVariant::GuestExport, &invoke);
    assert_eq!(lower(&sig.params), abi::INVOKE_PARAMS);
    assert_eq!(lower(&sig.results), abi::INVOKE_RESULTS);
    let mut sizes = SizeAlign::default();
    sizes.fill(&resolve);
    let result = invoke.result.expect("invoke returns a result");
    assert_eq!(
        sizes.size(&result).size_wasm32() as u32,
        abi::layout::invoke_result::SIZE
    );
}

#[test]
fn contracts_built_with_the_sdk_import_only_abi_functions() {
    let engine = bot_engine::Engine::new(bot_engine::EngineConfig::default()).unwrap();
    for name in ["counter", "probe"] {
        let module = engine
            .validate(&bot_tests::wasm(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!module.imports.is_empty(), "{name} uses the host");
        for (module_name, function) in &module.imports {
            assert!(
                abi::host_import(module_name, function).is_some(),
                "{name} imports {module_name}#{function}"
            );
        }
    }
}

#[test]
fn example_contracts_stay_within_their_size_budget() {
    // The release wasm's budget in bytes: a regression past it fails here, not in production.
    const COUNTER_BUDGET: usize = 48 * 1024;
    let size = bot_tests::wasm("counter").len();
    assert!(
        size <= COUNTER_BUDGET,
        "counter.wasm is {size} bytes; its budget is {COUNTER_BUDGET}"
    );
}
