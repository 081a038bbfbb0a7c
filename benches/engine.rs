//! Engine benchmarks, each against a baseline measured in the same run:
//! - instantiate from the in-memory cache + a trivial call, vs raw wasmer instantiate + call;
//! - a host call round trip vs a raw wasmer host function;
//! - 100 nested queries (each callee in a store of its own) vs 100 top-level calls;
//! - loading a contract by compiling, from the disk cache, and from the memory cache;
//! - Cranelift (the default) vs Singlepass: compiling, instantiating, executing.
//!
//! Run with `cargo bench -p bot-benches --bench engine`; criterion prints each pair side by side.
//! Execution against raw wasmer and wasmi is in `execution.rs`.

use bot_benches::{Deployed, iterations, probe_wasm, raw_call, raw_engine, raw_module, raw_store};
use bot_engine::{Compiler, Engine, EngineConfig};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use wasmer::{Function, FunctionEnv, FunctionEnvMut, Imports, Instance, imports};

const TRIVIAL: &str = include_str!("wat/trivial.wat");
const HOST_CALLS: &str = include_str!("wat/host_calls.wat");
const SELF_QUERIES: &str = include_str!("wat/self_queries.wat");

fn instantiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("instantiate_and_trivial_call");
    let ours = Deployed::new(&wat::parse_str(TRIVIAL).unwrap());
    g.bench_function("bot_engine_memory_cache", |b| b.iter(|| ours.run()));
    let engine = raw_engine();
    let module = raw_module(&engine, &wat::parse_str(TRIVIAL).unwrap());
    g.bench_function("raw_wasmer_baseline", |b| {
        b.iter(|| {
            let mut store = raw_store(&engine);
            let instance = Instance::new(&mut store, &module, &imports! {}).unwrap();
            raw_call(&mut store, &instance, &[])
        })
    });
    g.finish();
}

fn host_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("host_call_x10000");
    let ours = Deployed::new(&wat::parse_str(HOST_CALLS).unwrap());
    g.bench_function("bot_engine_env_block_height", |b| b.iter(|| ours.run()));
    let engine = raw_engine();
    let module = raw_module(&engine, &wat::parse_str(HOST_CALLS).unwrap());
    g.bench_function("raw_wasmer_host_function_baseline", |b| {
        b.iter(|| {
            let mut store = raw_store(&engine);
            let env = FunctionEnv::new(&mut store, 7i64);
            let height =
                Function::new_typed_with_env(&mut store, &env, |env: FunctionEnvMut<i64>| {
                    *env.data()
                });
            let mut imports = Imports::new();
            imports.define("bot:contract/env@0.1.0", "block-height", height);
            let instance = Instance::new(&mut store, &module, &imports).unwrap();
            raw_call(&mut store, &instance, &[])
        })
    });
    g.finish();
}

fn nested_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("calls_x100");
    let nested = Deployed::new(&wat::parse_str(SELF_QUERIES).unwrap());
    g.bench_function("bot_engine_100_nested_queries", |b| b.iter(|| nested.run()));
    let top = Deployed::new(&wat::parse_str(TRIVIAL).unwrap());
    g.bench_function("bot_engine_100_top_level_calls_baseline", |b| {
        b.iter(|| (0..100).map(|_| top.run()).sum::<u64>())
    });
    g.finish();
}

fn loading(c: &mut Criterion) {
    // A call of a real contract (the test probe's `echo`) whose module comes from each place.
    let mut g = c.benchmark_group("load_contract_and_call");
    g.sample_size(10);
    let wasm = bot_tests::wasm("probe");
    let mut compiled = Deployed::new(&wasm);
    compiled.call.method = "echo".into();
    g.bench_function(BenchmarkId::new("compile", wasm.len()), |b| {
        b.iter(|| {
            compiled.engine.clear_memory_cache();
            compiled.run()
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let mut from_disk = Deployed::new(&wasm);
    from_disk.call.method = "echo".into();
    from_disk.engine = Engine::new(EngineConfig {
        disk_cache: Some(dir.path().into()),
        ..EngineConfig::default()
    })
    .unwrap();
    from_disk.run();
    g.bench_function(BenchmarkId::new("disk_cache", wasm.len()), |b| {
        b.iter(|| {
            from_disk.engine.clear_memory_cache();
            from_disk.run()
        })
    });
    g.bench_function(BenchmarkId::new("memory_cache", wasm.len()), |b| {
        b.iter(|| from_disk.run())
    });
    g.finish();
}

fn compilers(c: &mut Criterion) {
    let mut g = c.benchmark_group("cranelift_vs_singlepass");
    g.sample_size(10);
    let probe = bot_tests::wasm("probe");
    let plain = probe_wasm("plain");
    for compiler in [Compiler::Cranelift, Compiler::Singlepass] {
        let name = compiler.name();
        let config = EngineConfig {
            compiler,
            ..EngineConfig::default()
        };
        let engine = Engine::new(config.clone()).unwrap();
        g.bench_function(BenchmarkId::new("compile_probe_contract", name), |b| {
            b.iter(|| {
                engine.clear_memory_cache();
                engine.prepare(&probe).unwrap().unwrap()
            })
        });
        let trivial = Deployed::with(&wat::parse_str(TRIVIAL).unwrap(), config.clone());
        g.bench_function(
            BenchmarkId::new("instantiate_and_trivial_call", name),
            |b| b.iter(|| trivial.run()),
        );
        // The calibration's `plain` probe: 100,000 iterations of 16 arithmetic units.
        let arithmetic = Deployed::with(&plain, config).args(&iterations(100_000));
        g.bench_function(BenchmarkId::new("arithmetic_1_6m_units", name), |b| {
            b.iter(|| arithmetic.run())
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    instantiate,
    host_calls,
    nested_calls,
    loading,
    compilers
);
criterion_main!(benches);
