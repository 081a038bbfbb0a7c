//! Shared pieces of the benchmarks: the raw-wasmer baselines they are measured against.

use wasmer::{Engine, Module, Store};

/// A plain Cranelift engine with no middleware: what "raw wasmer" means in every ratio.
pub fn raw_engine() -> Engine {
    let mut compiler = wasmer::sys::Cranelift::new();
    compiler.canonicalize_nans(true);
    wasmer::sys::EngineBuilder::new(compiler).engine().into()
}

pub fn raw_module(engine: &Engine, wat: &str) -> Module {
    Module::new(engine, wat::parse_str(wat).expect("bench wat parses"))
        .expect("raw module compiles")
}

pub fn raw_store(engine: &Engine) -> Store {
    Store::new(engine.clone())
}
