//! Engine benchmarks, each against a baseline measured in the same run:
//! - instantiate from the in-memory cache + a trivial call, vs raw wasmer instantiate + call;
//! - a metered compute loop vs the same module on raw, unmetered wasmer;
//! - a host call round trip vs a raw wasmer host function;
//! - loading a contract by compiling, from the disk cache, and from the memory cache.
//!
//! Run with `cargo bench -p bot-benches`; criterion prints each pair side by side.

use std::sync::Arc;

use bot_benches::{raw_engine, raw_module, raw_store};
use bot_engine::{Address, BlockContext, CallRequest, Engine, EngineConfig, MemoryHost};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use wasmer::{Function, FunctionEnv, FunctionEnvMut, Imports, Instance, TypedFunction, imports};

const CONTRACT: Address = Address([0xbe; 20]);
const TRIVIAL: &str = include_str!("wat/trivial.wat");
const COMPUTE: &str = include_str!("wat/compute.wat");
const HOST_CALLS: &str = include_str!("wat/host_calls.wat");

struct Deployed {
    engine: Engine,
    host: Arc<MemoryHost>,
    call: CallRequest,
    block: BlockContext,
}

impl Deployed {
    fn new(wasm: &[u8]) -> Deployed {
        let engine = Engine::new(EngineConfig::default()).unwrap();
        engine
            .prepare(wasm)
            .unwrap()
            .expect("bench contract passes the deploy check");
        let host = Arc::new(MemoryHost::new());
        let code = host.put_code(wasm);
        host.put_contract(CONTRACT, code);
        let call = CallRequest {
            contract: CONTRACT,
            caller: Address([1; 20]),
            origin: Address([1; 20]),
            tx_hash: [0; 32],
            method: "run".into(),
            args: Vec::new(),
            gas_limit: u64::MAX / 2,
            read_only: false,
        };
        let block = BlockContext {
            height: 7,
            time_ms: 0,
            chain_id: "bench".into(),
        };
        Deployed {
            engine,
            host,
            call,
            block,
        }
    }

    fn run(&self) -> u64 {
        let outcome = self
            .engine
            .execute(self.host.clone(), &self.block, &self.call)
            .unwrap();
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        outcome.gas_used
    }
}

fn raw_call(store: &mut wasmer::Store, instance: &Instance) -> i32 {
    let invoke: TypedFunction<(i32, i32, i32, i32), i32> = instance
        .exports
        .get_typed_function(store, "invoke")
        .unwrap();
    invoke.call(store, 0, 0, 0, 0).unwrap()
}

fn instantiate(c: &mut Criterion) {
    let mut g = c.benchmark_group("instantiate_and_trivial_call");
    let ours = Deployed::new(&wat::parse_str(TRIVIAL).unwrap());
    g.bench_function("bot_engine_memory_cache", |b| b.iter(|| ours.run()));
    let engine = raw_engine();
    let module = raw_module(&engine, TRIVIAL);
    g.bench_function("raw_wasmer_baseline", |b| {
        b.iter(|| {
            let mut store = raw_store(&engine);
            let instance = Instance::new(&mut store, &module, &imports! {}).unwrap();
            raw_call(&mut store, &instance)
        })
    });
    g.finish();
}

fn metering(c: &mut Criterion) {
    let mut g = c.benchmark_group("compute_loop_1m_rounds");
    g.sample_size(20);
    let ours = Deployed::new(&wat::parse_str(COMPUTE).unwrap());
    g.bench_function("bot_engine_metered", |b| b.iter(|| ours.run()));
    let engine = raw_engine();
    let module = raw_module(&engine, COMPUTE);
    g.bench_function("raw_wasmer_unmetered_baseline", |b| {
        b.iter(|| {
            let mut store = raw_store(&engine);
            let instance = Instance::new(&mut store, &module, &imports! {}).unwrap();
            raw_call(&mut store, &instance)
        })
    });
    g.finish();
}

fn host_calls(c: &mut Criterion) {
    let mut g = c.benchmark_group("host_call_x10000");
    let ours = Deployed::new(&wat::parse_str(HOST_CALLS).unwrap());
    g.bench_function("bot_engine_env_block_height", |b| b.iter(|| ours.run()));
    let engine = raw_engine();
    let module = raw_module(&engine, HOST_CALLS);
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
            raw_call(&mut store, &instance)
        })
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

criterion_group!(benches, instantiate, metering, host_calls, loading);
criterion_main!(benches);
