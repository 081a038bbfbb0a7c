//! Gas calibration: how long one gas takes, for every wasm instruction class and every host
//! function, on this machine, under the cost table in force ([`bot_engine::COSTS`]).
//!
//! Each row runs a probe contract (see [`probes`]) on the real engine twice per repeat: with its
//! unit of work `K` times per loop iteration, and with `K = 0` as the baseline, interleaved.
//! The row's time per gas is the difference of the median times over the difference of the
//! (deterministic) gas; every row is measured in several passes and keeps its median pass.
//! The *unit* is the geometric mean over the friendly rows: what one gas costs on this machine.
//! The friendly wasm rows run each class at its latency (every instruction waits for the one
//! before, branches and indirect calls go where the CPU cannot predict), which is what its
//! price covers; the host rows run each function on ordinary inputs. A friendly row whose time
//! per gas is more than ±25% from the unit is mispriced: it lets a contract buy time cheaply
//! (above) or overcharges it (below). The adversarial rows ([`probes::adversarial_probes`],
//! the compile bombs) are the most time per gas a hostile contract can buy within the limits;
//! none may exceed 2× the unit, or a validator can be held far longer than the gas promises
//! (below the unit they are the ordinary case overcharged, which pricing the worst one costs).
//! `cargo bot bench gas --calibrate` prints the report and fails if any row is outside its band.

pub mod probes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bot_chain::{BlockView, StateDb, layout};
use bot_engine::{
    Address, BlockContext, COST_TABLE_VERSION, COSTS, CallRequest, CodeHash, Compiler, Engine,
    EngineConfig,
};
use bot_state::{BlockRecord, Changes};
use serde_json::{Value, json};
use sha2::Digest;

use probes::{Inputs, Probe};

/// How far a friendly row's time per gas may be from the unit.
pub const BAND: f64 = 0.25;
/// The factor by which an adversarial row's time per gas may exceed the unit (it may be below:
/// the worst case priced leaves the ordinary case overcharged).
pub const ADVERSARIAL_BAND: f64 = 2.0;

/// Where a probe with its unit of work lives, and where its baseline (no unit) lives.
const PROBE: Address = Address([0xc0; 20]);
const BASELINE: Address = Address([0xc1; 20]);

/// How thorough a calibration is.
#[derive(Clone, Debug)]
pub struct Options {
    /// Passes over every row; a row's time is the median of its passes, so a burst of load
    /// from elsewhere on the machine spoils one pass of a few rows, not the report.
    pub passes: usize,
    /// Timed runs of each variant per row and pass (the median is kept).
    pub repeats: usize,
    /// Roughly how much gas of the measured work one run holds.
    pub target_gas: u64,
    /// Only rows whose name contains this.
    pub only: Option<String>,
    /// Also time every row on Singlepass, in the same passes, and report its time per gas
    /// over Cranelift's (the gas is the same on both; a row whose gas differs panics).
    pub singlepass: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            passes: 5,
            repeats: 5,
            target_gas: 160_000_000,
            only: None,
            singlepass: false,
        }
    }
}

/// One measured row.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub what: String,
    /// `wasm` (an instruction class), `host` (a host function) or `chain` (a chain parameter).
    pub kind: &'static str,
    /// The worst case a hostile contract can provoke, not code of a normal contract's shape.
    pub adversarial: bool,
    /// Gas of one unit of work.
    pub gas_per_unit: f64,
    /// Nanoseconds of one unit of work.
    pub ns_per_unit: f64,
    pub ns_per_gas: f64,
    /// `ns_per_gas` over the unit: 1.0 is priced exactly.
    pub ratio: f64,
    /// With [`Options::singlepass`]: Singlepass's time per gas over Cranelift's, same run.
    pub singlepass_ratio: Option<f64>,
}

impl Row {
    pub fn within_band(&self) -> bool {
        if self.adversarial {
            // Overcharging the worst case is what pricing it costs, not a danger.
            self.ratio <= ADVERSARIAL_BAND
        } else {
            (self.ratio - 1.0).abs() <= BAND
        }
    }
}

/// The calibration of one cost table on one machine.
#[derive(Clone, Debug)]
pub struct Report {
    pub table_version: u32,
    pub rows: Vec<Row>,
    /// Nanoseconds per gas on this machine: the geometric mean of the friendly rows.
    pub unit_ns_per_gas: f64,
    pub cpu: String,
}

impl Report {
    /// The row furthest from the unit: either way for a friendly row, above it for an
    /// adversarial one.
    pub fn worst(&self) -> Option<&Row> {
        let distance = |r: &Row| {
            if r.adversarial {
                r.ratio.ln()
            } else {
                r.ratio.ln().abs()
            }
        };
        self.rows
            .iter()
            .max_by(|a, b| distance(a).total_cmp(&distance(b)))
    }

    pub fn passes(&self) -> bool {
        self.rows.iter().all(Row::within_band)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "cost_table_version": self.table_version,
            "cpu": self.cpu,
            "unit_ns_per_gas": self.unit_ns_per_gas,
            "band": BAND,
            "adversarial_band": ADVERSARIAL_BAND,
            "worst": self.worst().map(|w| json!({"name": w.name, "ratio": w.ratio})),
            "pass": self.passes(),
            "rows": self.rows.iter().map(|r| json!({
                "name": r.name,
                "kind": r.kind,
                "adversarial": r.adversarial,
                "what": r.what,
                "gas_per_unit": r.gas_per_unit,
                "ns_per_unit": r.ns_per_unit,
                "ns_per_gas": r.ns_per_gas,
                "ratio": r.ratio,
                "within_band": r.within_band(),
                "singlepass_ratio": r.singlepass_ratio,
            })).collect::<Vec<_>>(),
        })
    }

    /// The table as text, one row per line, worst marked.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "gas calibration: cost table v{}, {}, cranelift\n1 gas = {:.3} ns here (geometric mean of {} friendly rows); band ±{:.0}%, adversarial rows {ADVERSARIAL_BAND}x\n\n",
            self.table_version,
            self.cpu,
            self.unit_ns_per_gas,
            self.rows.iter().filter(|r| !r.adversarial).count(),
            BAND * 100.0
        );
        let singlepass = self.rows.iter().any(|r| r.singlepass_ratio.is_some());
        out.push_str(&format!(
            "{:<26} {:>12} {:>12} {:>9} {:>7}{}\n",
            "row",
            "gas/unit",
            "ns/unit",
            "ns/gas",
            "ratio",
            if singlepass { "   sp/cl" } else { "" }
        ));
        let mut adversarial = false;
        for r in &self.rows {
            if r.adversarial && !adversarial {
                adversarial = true;
                out.push_str("\nadversarial: the most time per gas a hostile contract can buy\n");
            }
            out.push_str(&format!(
                "{:<26} {:>12.1} {:>12.1} {:>9.4} {:>6.2}{}{}\n",
                r.name,
                r.gas_per_unit,
                r.ns_per_unit,
                r.ns_per_gas,
                r.ratio,
                r.singlepass_ratio
                    .map_or(String::new(), |sp| format!(" {sp:>7.2}")),
                if r.within_band() {
                    ""
                } else {
                    "  << outside band"
                }
            ));
        }
        if let Some(w) = self.worst() {
            out.push_str(&format!(
                "\nworst: {} at {:.2}x the unit; {}\n",
                w.name,
                w.ratio,
                if self.passes() {
                    "every row within the band"
                } else {
                    "FAILED: rows outside the band"
                }
            ));
        }
        out
    }
}

/// Keys already in the calibration's state besides the probes' entries: storage is read and
/// committed through a Merkle tree this deep, as a node's is.
const FILLER_KEYS: usize = 100_000;
/// Keys changed per commit in the `storage commit per key` row.
const COMMIT_KEYS: usize = 1_000;

/// The engine and the node's state backend (redb + the Jellyfish Merkle tree, in a temporary
/// directory) the probes run on, as a validator executes a block.
struct Bench {
    engine: Engine,
    db: StateDb,
    host: Arc<BlockView>,
    block: BlockContext,
    _dir: tempfile::TempDir,
}

/// A filler key, spread over the key space like hashed contract storage.
fn filler_key(i: usize) -> Vec<u8> {
    let hash: [u8; 32] = sha2::Sha256::digest((i as u64).to_le_bytes()).into();
    layout::storage(&Address([0xf1; 20]), &hash)
}

impl Bench {
    fn new(inputs: &Inputs, compiler: Compiler) -> Bench {
        let config = EngineConfig {
            compiler,
            ..EngineConfig::default()
        };
        let engine = Engine::new(config).expect("an engine without a disk cache");
        let dir = tempfile::tempdir().expect("a temporary directory for the state");
        let db = StateDb::open(&dir.path().join("state.redb")).expect("a new state store");
        // The entries the storage probes read, for both variants, and the filler.
        let mut entries = vec![
            (Inputs::key(b"small"), inputs.data[..32].to_vec()),
            (Inputs::key(b"large"), inputs.data[..1024].to_vec()),
            (
                Inputs::key(b"huge"),
                inputs
                    .data
                    .repeat(probes::HUGE_VALUE_BYTES / inputs.data.len()),
            ),
        ];
        for i in 0..probes::SCAN_ENTRIES {
            let mut key = probes::SCAN_PREFIX.to_vec();
            key.extend_from_slice(format!("{i:04}").as_bytes());
            entries.push((key, inputs.data[..32].to_vec()));
        }
        let mut changes = Changes::new();
        for contract in [PROBE, BASELINE] {
            for (key, value) in &entries {
                changes.insert(layout::storage(&contract, key), Some(value.clone()));
            }
        }
        for i in 0..FILLER_KEYS {
            changes.insert(filler_key(i), Some(inputs.data[..32].to_vec()));
        }
        let prepared = db.prepare(0, changes).expect("the state root of the seed");
        db.commit(prepared, &BlockRecord::default())
            .expect("the seed commits");
        let host = Arc::new(BlockView::new(db.snapshot().expect("a snapshot")));
        let bench = Bench {
            engine,
            db,
            host,
            block: BlockContext {
                height: 1,
                time_ms: 0,
                chain_id: "calibration".into(),
            },
            _dir: dir,
        };
        let callee = wat::parse_str(probes::callee()).expect("callee wat");
        bench.deploy(probes::CALLEE_ADDRESS, &callee);
        for callee in probes::adversarial_callees() {
            let wasm = wat::parse_str(&callee.wat)
                .unwrap_or_else(|e| panic!("callee of {}: {e}", callee.name));
            bench.deploy(callee.address, &wasm);
        }
        bench
    }

    fn deploy(&self, address: Address, wasm: &[u8]) {
        self.engine
            .prepare(wasm)
            .expect("the engine compiles")
            .expect("probes pass the deploy check");
        // Pending writes of the block: code and contract are read from memory, storage from redb.
        let code = CodeHash::of(wasm);
        self.host.write(layout::code(&code), Some(wasm.to_vec()));
        self.host
            .write(layout::contract(&address), Some(code.0.to_vec()));
    }

    /// Runs `invoke` of `contract` with `iterations`; its time and gas.
    fn run(&self, contract: Address, iterations: u32) -> (Duration, u64) {
        let call = CallRequest {
            contract,
            caller: Address([1; 20]),
            origin: Address([1; 20]),
            tx_hash: [0; 32],
            method: "run".into(),
            args: iterations.to_le_bytes().to_vec(),
            gas_limit: u64::MAX / 4,
            read_only: false,
        };
        let started = Instant::now();
        let outcome = self
            .engine
            .execute(self.host.clone(), &self.block, &call)
            .expect("the state backend does not fail");
        let elapsed = started.elapsed();
        if let Err(failure) = &outcome.result {
            panic!("calibration probe failed: {failure}");
        }
        (elapsed, outcome.gas_used)
    }
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e9
}

/// How many loop iterations a run of the probe deployed at [`PROBE`] holds: about
/// `options.target_gas`, within what one transaction may do.
fn iterations(bench: &Bench, probe: &Probe, options: &Options) -> u32 {
    let (_, g1) = bench.run(PROBE, 1);
    let (_, g2) = bench.run(PROBE, 2);
    // The commits a unit pays are timed by their own row: this row is the rest.
    let commit_per_unit = u64::from(probe.first_writes) * COSTS.storage_commit;
    let per_iteration = g2
        .saturating_sub(g1)
        .saturating_sub(commit_per_unit * u64::from(probe.per_iteration))
        .max(1);
    (options.target_gas / per_iteration).clamp(1, u64::from(probe.max_iterations)) as u32
}

/// Time and gas per unit of one probe.
fn measure(bench: &Bench, inputs: &Inputs, probe: &Probe, options: &Options) -> (f64, f64) {
    let with = wat::parse_str(probes::module(probe, inputs, probe.per_iteration))
        .unwrap_or_else(|e| panic!("probe {}: {e}", probe.name));
    let without = wat::parse_str(probes::module(probe, inputs, 0)).expect("baseline wat");
    // Gas is deterministic: a second iteration tells the marginal gas of one (without what
    // only the first pays, such as the commit of a key the probe rewrites).
    bench.deploy(PROBE, &with);
    bench.deploy(BASELINE, &without);
    let iterations = iterations(bench, probe, options);
    let commit_per_unit = u64::from(probe.first_writes) * COSTS.storage_commit;
    let (mut t_with, mut t_without) = (Vec::new(), Vec::new());
    let (mut gas_with, mut gas_without) = (0, 0);
    // One untimed run of each warms caches and the module cache.
    for round in 0..=options.repeats {
        let (t, g) = bench.run(PROBE, iterations);
        let (t0, g0) = bench.run(BASELINE, iterations);
        if round > 0 {
            t_with.push(t);
            t_without.push(t0);
        }
        (gas_with, gas_without) = (g, g0);
    }
    let units = f64::from(iterations) * f64::from(probe.per_iteration);
    let gas = (gas_with - gas_without) as f64 / units - commit_per_unit as f64;
    let ns = (median(t_with) - median(t_without)).max(0.0) / units;
    (gas, ns)
}

/// Instantiation and a trivial call, whole: what every call pays before its first instruction.
fn measure_instantiate(bench: &Bench, options: &Options) -> (f64, f64) {
    let mut times = Vec::new();
    let mut gas = 0;
    for round in 0..=options.repeats * 20 {
        let (t, g) = bench.run(probes::CALLEE_ADDRESS, 0);
        if round > 0 {
            times.push(t);
        }
        gas = g;
    }
    (gas as f64, median(times))
}

/// Validating and compiling code, per byte: what `upload_byte_gas` prices.
fn measure_compile(bench: &Bench, wat: &str, repeats: usize) -> (f64, f64) {
    // Nothing calls the functions: wasmer compiles every function of a module anyway.
    let wasm = wat::parse_str(wat).expect("code module wat");
    let mut times = Vec::new();
    let mut compile_bytes = 0;
    for round in 0..=repeats {
        bench.engine.clear_memory_cache();
        let started = Instant::now();
        let validated = bench
            .engine
            .prepare(&wasm)
            .expect("the engine compiles")
            .expect("the code module passes the deploy check");
        if round > 0 {
            times.push(started.elapsed());
        }
        compile_bytes = COSTS.compile_bytes(&validated);
    }
    // The upload pays for the bytes its functions weigh to compile, at least its size.
    let bytes = wasm.len() as f64;
    let upload = bot_chain::Params::default().upload_byte_gas as f64;
    (upload * compile_bytes as f64 / bytes, median(times) / bytes)
}

/// A block's commit of one changed key, on a store of [`FILLER_KEYS`]: the Merkle path update
/// and the redb writes that `storage_commit` prices. A commit of one key is the baseline (the
/// fixed cost of a commit: the root, the redb transaction, its fsync).
fn measure_commit(bench: &Bench, height: &mut u64, options: &Options) -> (f64, f64) {
    let mut commit = |keys: usize| {
        // Changed keys spread over the filler, with values new at this height.
        let stride = FILLER_KEYS / keys;
        let changes: Changes = (0..keys)
            .map(|i| (filler_key(i * stride), Some(height.to_le_bytes().to_vec())))
            .collect();
        let started = Instant::now();
        let prepared = bench
            .db
            .prepare(*height, changes)
            .expect("the state root of a commit");
        bench
            .db
            .commit(prepared, &BlockRecord::default())
            .expect("the state store commits");
        *height += 1;
        started.elapsed()
    };
    let (mut many, mut one) = (Vec::new(), Vec::new());
    for round in 0..=options.repeats {
        let (t, t1) = (commit(COMMIT_KEYS), commit(1));
        if round > 0 {
            many.push(t);
            one.push(t1);
        }
    }
    let ns = (median(many) - median(one)).max(0.0) / (COMMIT_KEYS - 1) as f64;
    (COSTS.storage_commit as f64, ns)
}

/// Measures every row and compares each with the unit.
pub fn calibrate(options: &Options) -> Report {
    let inputs = Inputs::new();
    let bench = Bench::new(&inputs, Compiler::Cranelift);
    let singlepass = options
        .singlepass
        .then(|| Bench::new(&inputs, Compiler::Singlepass));
    let wanted = |name: &str| {
        options
            .only
            .as_ref()
            .is_none_or(|o| name.contains(o.as_str()))
    };
    enum Source {
        Probe(Probe),
        Instantiate,
        /// A module's wat, and how many timed compiles of it.
        Compile(String, usize),
        Commit,
    }
    type Spec = (String, String, &'static str, bool, Source);
    let mut specs: Vec<Spec> = Vec::new();
    let mut push = |name: &str, what: &str, kind, source| {
        specs.push((name.into(), what.into(), kind, false, source))
    };
    for probe in probes::instruction_probes() {
        push(probe.name, probe.what, "wasm", Source::Probe(probe));
    }
    push(
        "instantiate",
        "a new instance and a call that returns at once",
        "host",
        Source::Instantiate,
    );
    push(
        "compile per byte",
        "validate and compile uploaded code (upload_byte_gas)",
        "chain",
        Source::Compile(probes::code_module(60), options.repeats),
    );
    for probe in probes::host_probes(&inputs) {
        push(probe.name, probe.what, "host", Source::Probe(probe));
    }
    push(
        "storage commit per key",
        "a key's Merkle path and redb write when its block commits (storage_commit)",
        "chain",
        Source::Commit,
    );
    for probe in probes::adversarial_probes() {
        let kind = if probe.imports.is_empty() {
            "wasm"
        } else {
            "host"
        };
        specs.push((
            probe.name.into(),
            probe.what.into(),
            kind,
            true,
            Source::Probe(probe),
        ));
    }
    for (name, what, wat) in probes::compile_bombs() {
        let repeats = options.repeats.min(2);
        specs.push((
            name.into(),
            what.into(),
            "chain",
            true,
            Source::Compile(wat, repeats),
        ));
    }
    // Adversarial rows are compared with the friendly rows' unit: keep `plain` for it when
    // only adversarial rows match (a filter that matches no row measures nothing).
    let reference_needed = specs
        .iter()
        .any(|(name, _, _, adv, _)| *adv && wanted(name))
        && !specs
            .iter()
            .any(|(name, _, _, adv, _)| !adv && wanted(name));
    specs.retain(|(name, _, _, adv, _)| {
        wanted(name) || (reference_needed && !adv && name == "plain")
    });
    // Gas per unit is deterministic; time per unit is sampled once per pass (on each compiler).
    type Sample = (f64, Vec<f64>, Vec<f64>);
    let mut samples: Vec<Sample> = specs
        .iter()
        .map(|_| (0.0, Vec::new(), Vec::new()))
        .collect();
    // The next height each bench's commit row writes (the seed is height 0).
    let mut heights = (1, 1);
    let run = |bench: &Bench, source: &Source, height: &mut u64| match source {
        Source::Probe(probe) => measure(bench, &inputs, probe, options),
        Source::Instantiate => measure_instantiate(bench, options),
        Source::Compile(wat, repeats) => measure_compile(bench, wat, *repeats),
        Source::Commit => measure_commit(bench, height, options),
    };
    for _ in 0..options.passes.max(1) {
        for ((name, .., source), (gas, times, sp_times)) in specs.iter().zip(&mut samples) {
            let (g, ns) = run(&bench, source, &mut heights.0);
            *gas = g;
            times.push(ns);
            if let Some(sp) = &singlepass {
                let (sp_gas, sp_ns) = run(sp, source, &mut heights.1);
                assert_eq!(
                    sp_gas, g,
                    "{name}: Singlepass and Cranelift charge different gas"
                );
                sp_times.push(sp_ns);
            }
        }
    }
    let middle = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times.get(times.len() / 2).copied()
    };
    let mut rows: Vec<Row> = specs
        .iter()
        .zip(samples)
        .map(
            |((name, what, kind, adversarial, _), (gas, times, sp_times))| {
                let ns = middle(times).unwrap_or(0.0);
                let sp_ns = middle(sp_times);
                Row {
                    name: name.clone(),
                    what: what.clone(),
                    kind,
                    adversarial: *adversarial,
                    gas_per_unit: gas,
                    ns_per_unit: ns,
                    ns_per_gas: ns / gas.max(f64::MIN_POSITIVE),
                    ratio: 0.0,
                    singlepass_ratio: sp_ns.map(|sp| sp / ns.max(f64::MIN_POSITIVE)),
                }
            },
        )
        .collect();
    let logs: Vec<f64> = rows
        .iter()
        .filter(|r| !r.adversarial)
        .map(|r| r.ns_per_gas.max(1e-9).ln())
        .collect();
    let unit = (logs.iter().sum::<f64>() / logs.len().max(1) as f64).exp();
    for row in &mut rows {
        row.ratio = row.ns_per_gas / unit;
    }
    Report {
        table_version: COST_TABLE_VERSION,
        rows,
        unit_ns_per_gas: unit,
        cpu: cpu_model(),
    }
}

/// The CPU's model name and thread count, as reports name the machine.
pub fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{model}, {threads} threads")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, adversarial: bool, ratio: f64) -> Row {
        Row {
            name: name.into(),
            what: String::new(),
            kind: "wasm",
            adversarial,
            gas_per_unit: 1.0,
            ns_per_unit: ratio,
            ns_per_gas: ratio,
            ratio,
            singlepass_ratio: None,
        }
    }

    #[test]
    fn friendly_rows_fail_either_way_adversarial_rows_only_above() {
        assert!(row("f", false, 1.2).within_band());
        assert!(!row("f", false, 1.3).within_band());
        assert!(!row("f", false, 0.7).within_band());
        // An overcharged worst case is not a danger; one that buys more than 2x is.
        assert!(row("a", true, 0.05).within_band());
        assert!(row("a", true, 1.9).within_band());
        assert!(!row("a", true, 2.1).within_band());
        let report = Report {
            table_version: COST_TABLE_VERSION,
            rows: vec![
                row("f", false, 0.7),
                row("a", true, 0.05),
                row("b", true, 1.5),
            ],
            unit_ns_per_gas: 1.0,
            cpu: String::new(),
        };
        // The adversarial row at 1.5 is further from the unit than the friendly one at 0.7 (in
        // log); the one at 0.05 is below the unit, so it is not a candidate at all.
        assert_eq!(report.worst().map(|w| w.name.as_str()), Some("b"));
        assert!(!report.passes());
    }

    /// Every probe deploys, runs its unit (signature checks succeed, or the probe traps) and
    /// costs gas, the same on both compilers (the calibration panics otherwise). Times are not
    /// checked here: that is the calibration's job, not a test's.
    #[test]
    fn every_probe_runs_and_costs_gas() {
        let report = calibrate(&Options {
            passes: 1,
            repeats: 1,
            target_gas: 1,
            only: None,
            singlepass: true,
        });
        assert_eq!(
            report.rows.len(),
            // instantiate, compile per byte and storage commit per key have no probe
            probes::instruction_probes().len()
                + 3
                + probes::host_probes(&Inputs::new()).len()
                + probes::adversarial_probes().len()
                + probes::compile_bombs().len()
        );
        for row in &report.rows {
            assert!(
                row.gas_per_unit >= 1.0,
                "{}: {} gas",
                row.name,
                row.gas_per_unit
            );
        }
        assert!(report.rows.iter().all(|r| r.singlepass_ratio.is_some()));
        let json = report.to_json();
        assert_eq!(json["cost_table_version"], COST_TABLE_VERSION);
        assert!(report.to_text().contains("sp/cl"));
        assert!(report.to_text().contains("crypto.p256-verify"));
    }

    /// Every probe runs at the size a calibration runs it, within the limits one transaction
    /// has (the events, write and result caps): a probe that only ran with one iteration
    /// would fail the calibration, not this test.
    #[test]
    fn every_probe_runs_at_calibration_size() {
        let inputs = Inputs::new();
        let bench = Bench::new(&inputs, Compiler::Cranelift);
        let options = Options::default();
        let probes = probes::instruction_probes()
            .into_iter()
            .chain(probes::host_probes(&inputs))
            .chain(probes::adversarial_probes());
        for probe in probes {
            let wat = probes::module(&probe, &inputs, probe.per_iteration);
            bench.deploy(PROBE, &wat::parse_str(wat).expect("probe wat"));
            let iterations = iterations(&bench, &probe, &options);
            // `run` panics with the failure if the probe fails at this size.
            let (_, gas) = bench.run(PROBE, iterations);
            // A probe holds the target's gas, unless its own cap (a transaction's limits)
            // stops it first: a row timed over a sliver of work would be noise.
            assert!(
                iterations == probe.max_iterations || gas >= options.target_gas / 2,
                "{}: {iterations} iterations, {gas} gas",
                probe.name
            );
        }
    }

    #[test]
    fn input_segments_do_not_overlap() {
        let mut segments = Inputs::new().segments();
        segments.sort();
        for pair in segments.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                a.0 as usize + a.1.len() <= b.0 as usize,
                "{} overlaps {}",
                a.0,
                b.0
            );
        }
    }
}
