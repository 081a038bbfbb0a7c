//! Our metered execution against the raw engines on the same bytes, measured in the same run:
//! - `execution/<workload>`: one call of a compute-, branch-, call- or memory-heavy module on
//!   our engine (Cranelift, gas metering, compiled module cached) vs raw wasmer-cranelift
//!   without metering (the baseline) vs wasmi, the interpreter, with and without fuel;
//! - `cold_start/<module>`: from wasm bytes to the first call's result (validate, compile,
//!   instantiate, call) on each of them: where an interpreter should win.
//!
//! Run with `cargo bench -p bot-benches --bench execution`.

use bot_benches::{
    Deployed, iterations, probe_wasm, raw_engine, raw_module, raw_run, wasmi_engine, wasmi_run,
};
use criterion::{Criterion, criterion_group, criterion_main};

const COMPUTE: &str = include_str!("wat/compute.wat");
const TRIVIAL: &str = include_str!("wat/trivial.wat");

/// The workloads: a name, the module, and its argument bytes.
fn workloads() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let compute = wat::parse_str(COMPUTE).expect("compute wat");
    let mut all = vec![(
        "compute_xorshift_1m_rounds".to_string(),
        compute,
        Vec::new(),
    )];
    // The calibration's instruction probes: 100,000 iterations of 16 units.
    for probe in ["branch", "call", "call_indirect", "memory_access"] {
        all.push((
            format!("{probe}_1_6m_units"),
            probe_wasm(probe),
            iterations(100_000).to_vec(),
        ));
    }
    all
}

fn execution(c: &mut Criterion) {
    let raw = raw_engine();
    let wasmi_fuel = wasmi_engine(true);
    let wasmi_plain = wasmi_engine(false);
    for (name, wasm, args) in workloads() {
        let mut g = c.benchmark_group(format!("execution/{name}"));
        g.sample_size(10);
        let ours = Deployed::new(&wasm).args(&args);
        g.bench_function("bot_engine_metered", |b| b.iter(|| ours.run()));
        let module = raw_module(&raw, &wasm);
        g.bench_function("raw_wasmer_unmetered_baseline", |b| {
            b.iter(|| raw_run(&raw, &module, &args))
        });
        let fuel_module = wasmi::Module::new(&wasmi_fuel, &wasm).expect("wasmi compiles");
        g.bench_function("wasmi_fuel", |b| {
            b.iter(|| wasmi_run(&wasmi_fuel, &fuel_module, &args))
        });
        let plain_module = wasmi::Module::new(&wasmi_plain, &wasm).expect("wasmi compiles");
        g.bench_function("wasmi_unmetered", |b| {
            b.iter(|| wasmi_run(&wasmi_plain, &plain_module, &args))
        });
        g.finish();
    }
}

fn cold_start(c: &mut Criterion) {
    let modules = [
        ("trivial", wat::parse_str(TRIVIAL).expect("trivial wat")),
        // 60 functions of instruction units, ~60 KB: the size of a real contract.
        (
            "code_60_functions",
            wat::parse_str(bot_calibrate::probes::code_module(60)).expect("code module wat"),
        ),
    ];
    let raw = raw_engine();
    let wasmi = wasmi_engine(true);
    for (name, wasm) in modules {
        let mut g = c.benchmark_group(format!("cold_start/{name}_{}_bytes", wasm.len()));
        g.sample_size(10);
        let ours = Deployed::new(&wasm);
        g.bench_function("bot_engine_compile_and_call", |b| {
            b.iter(|| {
                ours.engine.clear_memory_cache();
                ours.run()
            })
        });
        g.bench_function("raw_wasmer_compile_and_call_baseline", |b| {
            b.iter(|| raw_run(&raw, &raw_module(&raw, &wasm), &[]))
        });
        g.bench_function("wasmi_fuel_compile_and_call", |b| {
            b.iter(|| {
                let module = wasmi::Module::new(&wasmi, &wasm).expect("wasmi compiles");
                wasmi_run(&wasmi, &module, &[])
            })
        });
        g.finish();
    }
}

criterion_group!(benches, execution, cold_start);
criterion_main!(benches);
