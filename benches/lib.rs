//! Shared pieces of the benchmarks: a contract deployed on our engine, and the baselines it is
//! measured against (raw wasmer, wasmi) running the same bytes.

use std::sync::Arc;

use bot_engine::{Address, BlockContext, CallRequest, Engine, EngineConfig, MemoryHost};
use wasmer::{Instance, Module, Store, TypedFunction};

pub const CONTRACT: Address = Address([0xbe; 20]);

/// Where the raw baselines put `invoke`'s argument bytes (free in every bench module: below
/// the probes' heap, above their data).
pub const ARGS_AT: u32 = 12288;

/// A contract deployed on our engine over an in-memory host, with one call ready to run.
pub struct Deployed {
    pub engine: Engine,
    pub host: Arc<MemoryHost>,
    pub call: CallRequest,
    pub block: BlockContext,
}

impl Deployed {
    pub fn new(wasm: &[u8]) -> Deployed {
        Deployed::with(wasm, EngineConfig::default())
    }

    pub fn with(wasm: &[u8], config: EngineConfig) -> Deployed {
        let engine = Engine::new(config).expect("the engine starts");
        engine
            .prepare(wasm)
            .expect("the engine compiles")
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

    /// Sets the call's argument bytes (the probes read an iteration count from them).
    pub fn args(mut self, args: &[u8]) -> Deployed {
        self.call.args = args.to_vec();
        self
    }

    /// Runs the call; its gas. Panics if the call fails: a bench that fails measures nothing.
    pub fn run(&self) -> u64 {
        let outcome = self
            .engine
            .execute(self.host.clone(), &self.block, &self.call)
            .expect("the memory host does not fail");
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        outcome.gas_used
    }
}

/// A plain Cranelift engine with no middleware: what "raw wasmer" means in every ratio.
pub fn raw_engine() -> wasmer::Engine {
    let mut compiler = wasmer::sys::Cranelift::new();
    compiler.canonicalize_nans(true);
    wasmer::sys::EngineBuilder::new(compiler).engine().into()
}

pub fn raw_module(engine: &wasmer::Engine, wasm: &[u8]) -> Module {
    Module::new(engine, wasm).expect("raw module compiles")
}

pub fn raw_store(engine: &wasmer::Engine) -> Store {
    Store::new(engine.clone())
}

/// Calls `invoke` on a raw wasmer instance with `args` written at [`ARGS_AT`].
pub fn raw_call(store: &mut Store, instance: &Instance, args: &[u8]) -> i32 {
    if !args.is_empty() {
        let memory = instance
            .exports
            .get_memory("memory")
            .expect("exports memory");
        memory
            .view(store)
            .write(u64::from(ARGS_AT), args)
            .expect("args fit");
    }
    let invoke: TypedFunction<(i32, i32, i32, i32), i32> = instance
        .exports
        .get_typed_function(store, "invoke")
        .expect("exports invoke");
    invoke
        .call(store, 0, 0, ARGS_AT as i32, args.len() as i32)
        .expect("raw call succeeds")
}

/// Instantiates `module` on raw wasmer with no imports and calls `invoke`.
pub fn raw_run(engine: &wasmer::Engine, module: &Module, args: &[u8]) -> i32 {
    let mut store = raw_store(engine);
    let instance =
        Instance::new(&mut store, module, &wasmer::imports! {}).expect("raw instantiate");
    raw_call(&mut store, &instance, args)
}

/// wasmi, the interpreter, with its default configuration, optionally metering fuel (its
/// counterpart of our gas).
pub fn wasmi_engine(fuel: bool) -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config.consume_fuel(fuel);
    wasmi::Engine::new(&config)
}

/// Instantiates `module` on wasmi with no imports and calls `invoke` with `args` written at
/// [`ARGS_AT`].
pub fn wasmi_run(engine: &wasmi::Engine, module: &wasmi::Module, args: &[u8]) -> i32 {
    let mut store = wasmi::Store::new(engine, ());
    // Refused only when the engine does not meter fuel, which then needs none.
    let _ = store.set_fuel(u64::MAX / 2);
    let linker = wasmi::Linker::<()>::new(engine);
    let instance = linker
        .instantiate_and_start(&mut store, module)
        .expect("wasmi instantiate");
    if !args.is_empty() {
        let memory = instance
            .get_memory(&store, "memory")
            .expect("exports memory");
        memory
            .write(&mut store, ARGS_AT as usize, args)
            .expect("args fit");
    }
    let invoke = instance
        .get_typed_func::<(i32, i32, i32, i32), i32>(&store, "invoke")
        .expect("exports invoke");
    invoke
        .call(&mut store, (0, 0, ARGS_AT as i32, args.len() as i32))
        .expect("wasmi call succeeds")
}

/// The calibration's probe for `name` (an instruction class or host row) with one unit per
/// loop iteration, as wasm; run it with [`iterations`] as the call's arguments.
pub fn probe_wasm(name: &str) -> Vec<u8> {
    let inputs = bot_calibrate::probes::Inputs::new();
    let probe = bot_calibrate::probes::instruction_probes()
        .into_iter()
        .chain(bot_calibrate::probes::host_probes(&inputs))
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no calibration probe named {name}"));
    let wat = bot_calibrate::probes::module(&probe, &inputs, probe.per_iteration);
    wat::parse_str(wat).expect("probe wat parses")
}

/// A probe's argument bytes: the number of loop iterations.
pub fn iterations(n: u32) -> [u8; 4] {
    n.to_le_bytes()
}
