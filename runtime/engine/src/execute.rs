//! Running a contract call: the [`Engine`], the per-transaction environment host functions
//! share, one frame per contract on the call stack, and turning traps into [`Outcome`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmer::{
    AsStoreMut, FunctionEnv, FunctionEnvMut, Global, Instance, InstantiationError, Memory, Module,
    RuntimeError, Store, TypedFunction, Value,
};

use crate::abi::{self, layout};
use crate::cache::{ArtifactKey, DiskCache, DiskLoad, LoadedCode, MemoryCache};
use crate::compile::{self, CompileError};
use crate::config::{EngineConfig, HostLimits};
use crate::gas::{COSTS, GasBreakdown, HostCost};
use crate::host::{self, Host, HostError};
use crate::instrument::{METERING_EXHAUSTED, METERING_REMAINING, STACK_SLOTS};
use crate::iot::{CommandReply, CommandRequest, DataAccess, ServiceCall};
use crate::overlay::Overlay;
use crate::primitives::{Address, BlockContext, CallRequest, Event, Writes};
use crate::validate::{self, CodeHash, ValidatedModule, ValidationError};

/// A failure of the engine or its host, not of the contract: nothing about it is deterministic,
/// so it never goes into a block. The caller retries or stops.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("state backend: {0}")]
    Host(#[from] HostError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("wasmer: {0}")]
    Wasmer(String),
    #[error("opening the artifact cache at {path}: {error}")]
    Cache { path: String, error: std::io::Error },
}

/// Why a call failed, deterministically: the same on every node and backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The contract returned its own error with this code.
    Contract {
        code: u32,
    },
    /// The contract called `abort`.
    Aborted,
    /// A wasm trap (unreachable, division by zero, out-of-bounds access...).
    Trap,
    /// A host function refused the contract's request (bad pointer, oversized input,
    /// a write in a query...).
    HostViolation,
    OutOfGas,
    /// The stack budget was exceeded: recursion too deep.
    StackOverflow,
    /// No contract at the called address.
    NotFound,
    /// The contract's code does not pass validation under this engine's limits.
    InvalidCode,
}

impl FailureKind {
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Contract { .. } => "contract_error",
            FailureKind::Aborted => "aborted",
            FailureKind::Trap => "trap",
            FailureKind::HostViolation => "host_violation",
            FailureKind::OutOfGas => "out_of_gas",
            FailureKind::StackOverflow => "stack_overflow",
            FailureKind::NotFound => "not_found",
            FailureKind::InvalidCode => "invalid_code",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

/// The deterministic result of a call. Writes and events are empty unless the call succeeded;
/// logs are kept either way but are for developers only and never part of consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub result: Result<Vec<u8>, Failure>,
    pub gas_used: u64,
    pub events: Vec<Event>,
    pub writes: Writes,
    /// Device data the call read, for the devices' audit trails.
    pub accesses: Vec<DataAccess>,
    /// Commands to devices the call sent, for the chain to store.
    pub commands: Vec<CommandRequest>,
    /// Granted services its contracts called, for the services' audit trails.
    pub service_calls: Vec<ServiceCall>,
    pub logs: Vec<String>,
    /// Where the gas went (instantiation, each host function, the rest in wasm instructions).
    pub breakdown: GasBreakdown,
}

/// Traps raised by host functions, carried through wasmer as a [`RuntimeError`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostTrap {
    #[error("out of gas")]
    OutOfGas,
    #[error("{0}")]
    Abort(String),
    #[error("{0}")]
    Violation(String),
    #[error(transparent)]
    Engine(EngineError),
}

impl HostTrap {
    pub fn violation(message: impl Into<String>) -> RuntimeError {
        RuntimeError::user(Box::new(HostTrap::Violation(message.into())))
    }
}

impl From<HostTrap> for RuntimeError {
    fn from(trap: HostTrap) -> RuntimeError {
        RuntimeError::user(Box::new(trap))
    }
}

/// One contract on the call stack.
pub(crate) struct Frame {
    pub contract: Address,
    pub caller: Address,
    pub read_only: bool,
    pub memory: Memory,
    pub realloc: TypedFunction<(i32, i32, i32, i32), i32>,
    pub remaining: Global,
    pub exhausted: Global,
}

/// State shared by every host function of one top-level call.
pub(crate) struct TxEnv {
    pub engine: Option<Engine>,
    pub host: Option<Arc<dyn Host>>,
    pub block: BlockContext,
    pub host_limits: HostLimits,
    pub origin: Address,
    pub tx_hash: [u8; 32],
    pub frames: Vec<Frame>,
    pub overlay: Overlay,
    pub events: Vec<Event>,
    /// Bytes of the names and data of `events`, against `max_event_bytes`.
    pub event_bytes: u64,
    pub accesses: Vec<DataAccess>,
    pub commands: Vec<CommandRequest>,
    pub service_calls: Vec<ServiceCall>,
    /// The reply a command callback is being given.
    pub reply: Option<CommandReply>,
    pub logs: Vec<String>,
    /// Bytes of `logs`, against the cap on what is kept.
    pub log_bytes: usize,
    pub gas_use: GasBreakdown,
    /// Bytes of storage keys and values written so far, against `max_write_bytes`.
    pub written_bytes: u64,
    /// Set while the host runs the contract's `cabi_realloc`, which may not call the host.
    pub allocating: bool,
}

/// An environment with no engine or state: what a store holds while the transaction's
/// environment is lent to a callee's store, and what tests bind host functions to.
impl Default for TxEnv {
    fn default() -> TxEnv {
        TxEnv {
            engine: None,
            host: None,
            block: BlockContext {
                height: 0,
                time_ms: 0,
                chain_id: String::new(),
            },
            host_limits: HostLimits::default(),
            origin: Address::default(),
            tx_hash: [0; 32],
            frames: Vec::new(),
            overlay: Overlay::new(),
            events: Vec::new(),
            event_bytes: 0,
            accesses: Vec::new(),
            commands: Vec::new(),
            service_calls: Vec::new(),
            reply: None,
            logs: Vec::new(),
            log_bytes: 0,
            gas_use: GasBreakdown::default(),
            written_bytes: 0,
            allocating: false,
        }
    }
}

impl TxEnv {
    /// The frame of the contract that is executing; host functions only run while one is,
    /// and not while the host itself is calling the contract's allocator (an allocator that
    /// called the host could recurse on the native stack without bound).
    pub fn frame(&self) -> Result<&Frame, RuntimeError> {
        if self.allocating {
            return Err(HostTrap::violation(
                "cabi_realloc called a host function while the host was allocating in the contract; allocators may not call the host",
            ));
        }
        self.frames.last().ok_or_else(|| {
            HostTrap::Engine(EngineError::Wasmer(
                "host function called outside a call".into(),
            ))
            .into()
        })
    }

    pub fn host(&self) -> Result<Arc<dyn Host>, RuntimeError> {
        self.host.clone().ok_or_else(|| {
            HostTrap::Engine(EngineError::Wasmer("no state backend bound".into())).into()
        })
    }

    pub fn engine(&self) -> Result<Engine, RuntimeError> {
        self.engine
            .clone()
            .ok_or_else(|| HostTrap::Engine(EngineError::Wasmer("no engine bound".into())).into())
    }
}

/// Where a frame's contract comes from and what it may do.
pub(crate) struct FrameSpec<'a> {
    pub contract: Address,
    pub caller: Address,
    pub read_only: bool,
    pub method: &'a str,
    pub args: &'a [u8],
    pub gas: u64,
}

/// How a frame ended.
pub(crate) struct FrameResult {
    pub result: Result<Vec<u8>, Failure>,
    pub gas_left: u64,
}

/// Counters of where modules came from, for tests and `cargo bot` output.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub memory_hits: AtomicU64,
    pub disk_hits: AtomicU64,
    pub disk_corrupt: AtomicU64,
    pub compiles: AtomicU64,
}

struct Inner {
    config: EngineConfig,
    runtime: wasmer::Engine,
    memory: MemoryCache,
    disk: Option<DiskCache>,
    stats: CacheStats,
}

/// Validates, compiles, caches and runs contracts. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let disk = match &config.disk_cache {
            Some(dir) => Some(DiskCache::open(dir).map_err(|error| EngineError::Cache {
                path: dir.display().to_string(),
                error,
            })?),
            None => None,
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                memory: MemoryCache::new(config.memory_cache_entries),
                runtime: compile::runtime_engine(),
                config,
                disk,
                stats: CacheStats::default(),
            }),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> &CacheStats {
        &self.inner.stats
    }

    /// Drops every module from the in-memory cache (the disk cache stays).
    pub fn clear_memory_cache(&self) {
        self.inner.memory.clear();
    }

    /// The static deploy check.
    pub fn validate(&self, wasm: &[u8]) -> Result<ValidatedModule, ValidationError> {
        validate::validate(wasm, &self.inner.config.limits)
    }

    /// Validates and compiles `wasm` into the caches, as a deploy does.
    pub fn prepare(
        &self,
        wasm: &[u8],
    ) -> Result<Result<ValidatedModule, ValidationError>, EngineError> {
        let validated = match self.validate(wasm) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        self.load(&validated)?;
        Ok(Ok(validated))
    }

    fn key(&self, code_hash: &CodeHash) -> ArtifactKey {
        compile::artifact_key(&self.inner.config, code_hash)
    }

    /// A compiled module from the memory cache, else the disk cache (a verified artifact).
    fn cached(&self, key: &ArtifactKey) -> Option<LoadedCode> {
        let inner = &self.inner;
        if let Some(module) = inner.memory.get(key) {
            inner.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Some(module);
        }
        let disk = inner.disk.as_ref()?;
        match disk.load(key) {
            DiskLoad::Hit(declared, artifact) => {
                match compile::load_artifact(&inner.runtime, &artifact) {
                    Ok(module) => {
                        inner.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                        let code = LoadedCode::new(module, &declared);
                        inner.memory.insert(*key, code.clone());
                        Some(code)
                    }
                    Err(_) => {
                        inner.stats.disk_corrupt.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                }
            }
            DiskLoad::Corrupt => {
                inner.stats.disk_corrupt.fetch_add(1, Ordering::Relaxed);
                None
            }
            DiskLoad::Miss => None,
        }
    }

    /// The loaded module for validated code: cached, else freshly compiled (and then cached).
    fn load(&self, validated: &ValidatedModule) -> Result<LoadedCode, EngineError> {
        let key = self.key(&validated.code_hash);
        match self.cached(&key) {
            Some(module) => Ok(module),
            None => self.compile(validated, key),
        }
    }

    /// Compiles validated code and puts it in both caches.
    fn compile(
        &self,
        validated: &ValidatedModule,
        key: ArtifactKey,
    ) -> Result<LoadedCode, EngineError> {
        let inner = &self.inner;
        let artifact = compile::compile_artifact(&inner.config, validated, &COSTS)?;
        inner.stats.compiles.fetch_add(1, Ordering::Relaxed);
        let module = compile::load_artifact(&inner.runtime, &artifact)?;
        if let Some(disk) = &inner.disk {
            // A failed write only means a recompile after restart.
            let _ = disk.store(&key, &validated.declared, &artifact);
        }
        let code = LoadedCode::new(module, &validated.declared);
        inner.memory.insert(key, code.clone());
        Ok(code)
    }

    /// The module a contract address runs, or the deterministic reason it cannot run.
    pub(crate) fn module_for(
        &self,
        host: &dyn Host,
        contract: &Address,
    ) -> Result<Result<LoadedCode, Failure>, EngineError> {
        let Some(code_hash) = host.contract_code(contract)? else {
            return Ok(Err(Failure::new(
                FailureKind::NotFound,
                format!("no contract at {contract}"),
            )));
        };
        // A cached artifact was compiled from this very code under these very limits (both
        // are in the key), so it needs neither the code nor a second validation.
        let key = self.key(&code_hash);
        if let Some(module) = self.cached(&key) {
            return Ok(Ok(module));
        }
        let Some(wasm) = host.code(&code_hash)? else {
            return Err(EngineError::Host(HostError(format!(
                "contract {contract} names code {code_hash}, which is not stored"
            ))));
        };
        match self.validate(&wasm) {
            Ok(validated) => Ok(Ok(self.compile(&validated, key)?)),
            Err(e) => Ok(Err(Failure::new(FailureKind::InvalidCode, e.to_string()))),
        }
    }

    /// Runs one top-level call against `host`'s committed state.
    pub fn execute(
        &self,
        host: Arc<dyn Host>,
        block: &BlockContext,
        call: &CallRequest,
    ) -> Result<Outcome, EngineError> {
        self.run(host, block, call, None)
    }

    /// Runs a command's callback: `call` names the contract that sent the command and its
    /// callback method, which reads `reply` through `commands.reply`.
    pub fn deliver(
        &self,
        host: Arc<dyn Host>,
        block: &BlockContext,
        call: &CallRequest,
        reply: CommandReply,
    ) -> Result<Outcome, EngineError> {
        self.run(host, block, call, Some(reply))
    }

    fn run(
        &self,
        host: Arc<dyn Host>,
        block: &BlockContext,
        call: &CallRequest,
        reply: Option<CommandReply>,
    ) -> Result<Outcome, EngineError> {
        let fail = |failure: Failure, gas_used: u64| Outcome {
            result: Err(failure),
            gas_used,
            events: Vec::new(),
            writes: Writes::new(),
            accesses: Vec::new(),
            commands: Vec::new(),
            service_calls: Vec::new(),
            logs: Vec::new(),
            breakdown: GasBreakdown::default(),
        };
        if call.gas_limit < COSTS.instantiate {
            return Ok(fail(out_of_gas(call.gas_limit), call.gas_limit));
        }
        let code = match self.module_for(&*host, &call.contract)? {
            Ok(code) => code,
            Err(failure) => {
                let mut outcome = fail(failure, COSTS.instantiate);
                outcome
                    .breakdown
                    .record("instantiate", true, COSTS.instantiate);
                return Ok(outcome);
            }
        };
        let instantiate = code.instantiate_gas;
        if call.gas_limit < instantiate {
            let mut outcome = fail(out_of_gas(call.gas_limit), call.gas_limit);
            outcome
                .breakdown
                .record("instantiate", true, call.gas_limit);
            return Ok(outcome);
        }
        let mut store = Store::new(self.inner.runtime.clone());
        let env = FunctionEnv::new(
            &mut store,
            TxEnv {
                engine: Some(self.clone()),
                host: Some(host),
                block: block.clone(),
                host_limits: self.inner.config.host_limits.clone(),
                origin: call.origin,
                tx_hash: call.tx_hash,
                reply,
                ..TxEnv::default()
            },
        );
        env.as_mut(&mut store)
            .gas_use
            .record("instantiate", true, instantiate);
        let spec = FrameSpec {
            contract: call.contract,
            caller: call.caller,
            read_only: call.read_only || code.views.contains(&call.method),
            method: &call.method,
            args: &call.args,
            gas: call.gas_limit - instantiate,
        };
        let frame = run_frame(&mut store, &env, &code.module, spec)?;
        let data = env.as_mut(&mut store);
        let logs = std::mem::take(&mut data.logs);
        let breakdown = std::mem::take(&mut data.gas_use);
        let gas_used = call.gas_limit - frame.gas_left;
        Ok(match frame.result {
            Ok(bytes) => Outcome {
                result: Ok(bytes),
                gas_used,
                events: std::mem::take(&mut data.events),
                writes: std::mem::take(&mut data.overlay).into_writes(),
                accesses: std::mem::take(&mut data.accesses),
                commands: std::mem::take(&mut data.commands),
                service_calls: std::mem::take(&mut data.service_calls),
                logs,
                breakdown,
            },
            // The frame saw its budget after instantiation; the caller knows its own limit.
            Err(failure) if failure.kind == FailureKind::OutOfGas => Outcome {
                logs,
                breakdown,
                ..fail(out_of_gas(call.gas_limit), gas_used)
            },
            Err(failure) => Outcome {
                logs,
                breakdown,
                ..fail(failure, gas_used)
            },
        })
    }
}

fn out_of_gas(limit: u64) -> Failure {
    Failure::new(
        FailureKind::OutOfGas,
        format!("out of gas: the limit was {limit}"),
    )
}

fn trap_message(code: wasmer_types::TrapCode) -> &'static str {
    use wasmer_types::TrapCode::*;
    match code {
        StackOverflow => "native stack exhausted",
        HeapAccessOutOfBounds => "out of bounds memory access",
        HeapMisaligned => "misaligned memory access",
        TableAccessOutOfBounds => "out of bounds table access",
        IndirectCallToNull => "indirect call to a null table entry",
        BadSignature => "indirect call signature mismatch",
        IntegerOverflow => "integer overflow",
        IntegerDivisionByZero => "integer division by zero",
        BadConversionToInteger => "invalid conversion to integer",
        UnreachableCodeReached => "unreachable executed",
        UnalignedAtomic => "unaligned atomic access",
        UncaughtException | UninitializedExnRef => "exception",
        YieldOutsideAsyncContext | HostInterrupt => "interrupted",
        ReadonlyTableModified => "read-only table modified",
    }
}

/// The globals the instrumentation exported from a running instance.
struct Meter {
    remaining: Global,
    exhausted: Global,
    stack: Global,
}

impl Meter {
    fn remaining(&self, store: &mut impl AsStoreMut) -> u64 {
        match self.remaining.get(store) {
            Value::I64(v) => v as u64,
            _ => 0,
        }
    }

    fn exhausted(&self, store: &mut impl AsStoreMut) -> bool {
        !matches!(self.exhausted.get(store), Value::I32(0))
    }

    fn stack_overflowed(&self, store: &mut impl AsStoreMut, limit: u32) -> bool {
        matches!(self.stack.get(store), Value::I32(v) if v as u32 > limit)
    }

    fn gas_left(&self, store: &mut impl AsStoreMut) -> u64 {
        if self.exhausted(store) {
            0
        } else {
            self.remaining(store)
        }
    }
}

/// Turns a trap into a deterministic failure, or passes on a host failure.
fn classify(
    store: &mut impl AsStoreMut,
    meter: &Meter,
    gas: u64,
    max_stack_slots: u32,
    error: RuntimeError,
) -> Result<Failure, EngineError> {
    if meter.exhausted(store) {
        return Ok(out_of_gas(gas));
    }
    let error = match error.downcast::<HostTrap>() {
        Ok(HostTrap::OutOfGas) => return Ok(out_of_gas(gas)),
        Ok(HostTrap::Abort(message)) => return Ok(Failure::new(FailureKind::Aborted, message)),
        Ok(HostTrap::Violation(message)) => {
            return Ok(Failure::new(FailureKind::HostViolation, message));
        }
        Ok(HostTrap::Engine(e)) => return Err(e),
        Err(error) => error,
    };
    if meter.stack_overflowed(store, max_stack_slots) {
        return Ok(Failure::new(
            FailureKind::StackOverflow,
            format!("stack budget of {max_stack_slots} slots exceeded: recursion too deep"),
        ));
    }
    Ok(match error.to_trap() {
        Some(code) => Failure::new(FailureKind::Trap, trap_message(code)),
        None => Failure::new(FailureKind::Trap, "trap"),
    })
}

/// Runs a nested call's frame in a store of its own, so the callee's instance and memory are
/// freed the moment it returns. (In the caller's store they would live until the transaction
/// ends: a loop of calls would pile up instances until the process runs out of mappings.)
/// The transaction's environment moves into the callee's store for the call and back after;
/// the callers' frames it carries are only read for their addresses meanwhile, never used.
pub(crate) fn run_callee(
    env: &mut FunctionEnvMut<'_, TxEnv>,
    engine: &Engine,
    module: &Module,
    spec: FrameSpec<'_>,
) -> Result<FrameResult, EngineError> {
    let tx = std::mem::take(env.data_mut());
    let mut store = Store::new(engine.inner.runtime.clone());
    let callee = FunctionEnv::new(&mut store, tx);
    let result = run_frame(&mut store, &callee, module, spec);
    *env.data_mut() = std::mem::take(callee.as_mut(&mut store));
    result
}

/// Instantiates `module` as the contract of `spec`, calls `invoke`, and pops the frame again.
pub(crate) fn run_frame(
    store: &mut impl AsStoreMut,
    env: &FunctionEnv<TxEnv>,
    module: &Module,
    spec: FrameSpec<'_>,
) -> Result<FrameResult, EngineError> {
    let imports = host::imports_for(store, env, module);
    let instance = match Instance::new(store, module, &imports) {
        Ok(instance) => instance,
        Err(InstantiationError::Start(e)) => {
            // Data segments that do not fit the memory trap at instantiation: deterministic.
            let message = match e.to_trap() {
                Some(code) => format!("instantiation failed: {}", trap_message(code)),
                None => "instantiation failed".to_string(),
            };
            // No contract code ran, so only instantiation is charged.
            return Ok(FrameResult {
                result: Err(Failure::new(FailureKind::Trap, message)),
                gas_left: spec.gas,
            });
        }
        Err(e) => return Err(EngineError::Wasmer(e.to_string())),
    };
    let wasmer_err = |e: wasmer::ExportError| EngineError::Wasmer(e.to_string());
    let exports = &instance.exports;
    let meter = Meter {
        remaining: exports
            .get_global(METERING_REMAINING)
            .map_err(wasmer_err)?
            .clone(),
        exhausted: exports
            .get_global(METERING_EXHAUSTED)
            .map_err(wasmer_err)?
            .clone(),
        stack: exports.get_global(STACK_SLOTS).map_err(wasmer_err)?.clone(),
    };
    let memory = exports
        .get_memory(abi::EXPORT_MEMORY)
        .map_err(wasmer_err)?
        .clone();
    let realloc = exports
        .get_typed_function::<(i32, i32, i32, i32), i32>(store, abi::EXPORT_REALLOC)
        .map_err(|e| EngineError::Wasmer(e.to_string()))?;
    let invoke = exports
        .get_typed_function::<(i32, i32, i32, i32), i32>(store, abi::EXPORT_INVOKE)
        .map_err(|e| EngineError::Wasmer(e.to_string()))?;
    let post = exports
        .get_typed_function::<i32, ()>(store, abi::EXPORT_POST_INVOKE)
        .ok();
    let wasmer_set = |e: RuntimeError| EngineError::Wasmer(e.to_string());
    meter
        .remaining
        .set(store, Value::I64(spec.gas as i64))
        .map_err(wasmer_set)?;

    env.as_mut(store).frames.push(Frame {
        contract: spec.contract,
        caller: spec.caller,
        read_only: spec.read_only,
        memory,
        realloc,
        remaining: meter.remaining.clone(),
        exhausted: meter.exhausted.clone(),
    });
    let outcome = call_invoke(store, env, &invoke, post.as_ref(), spec.method, spec.args);
    env.as_mut(store).frames.pop();

    let max_stack_slots = env
        .as_ref(store)
        .engine
        .as_ref()
        .map_or(u32::MAX, |e| e.config().limits.max_stack_slots);
    let result = match outcome {
        Ok(result) => result,
        Err(error) => Err(classify(store, &meter, spec.gas, max_stack_slots, error)?),
    };
    Ok(FrameResult {
        result,
        gas_left: meter.gas_left(store),
    })
}

/// Lowers the method and args into the guest, calls `invoke`, and lifts its result.
fn call_invoke(
    store: &mut impl AsStoreMut,
    env: &FunctionEnv<TxEnv>,
    invoke: &TypedFunction<(i32, i32, i32, i32), i32>,
    post: Option<&TypedFunction<i32, ()>>,
    method: &str,
    args: &[u8],
) -> Result<Result<Vec<u8>, Failure>, RuntimeError> {
    let mut env_mut = env.clone().into_mut(store);
    let (method_ptr, method_len) = host::guest::write_bytes(&mut env_mut, method.as_bytes(), 1)?;
    let (args_ptr, args_len) = host::guest::write_bytes(&mut env_mut, args, 1)?;
    let ret = invoke.call(
        store,
        method_ptr as i32,
        method_len as i32,
        args_ptr as i32,
        args_len as i32,
    )?;
    let mut env_mut = env.clone().into_mut(store);
    let ret = ret as u32;
    use layout::invoke_result as r;
    let tag = host::guest::read_u8(&mut env_mut, ret + r::TAG)?;
    let result = match tag {
        0 => {
            let ptr = host::guest::read_u32(&mut env_mut, ret + r::OK_PTR)?;
            let len = host::guest::read_u32(&mut env_mut, ret + r::OK_LEN)?;
            let limit = env_mut.data().host_limits.max_result_bytes;
            if len > limit {
                return Err(HostTrap::violation(format!(
                    "the call's result is {len} bytes; the limit is {limit}"
                )));
            }
            // Copying the result out is the call's work: paid before it is done.
            host::guest::charge(
                &mut env_mut,
                "invoke result",
                HostCost::per_byte(COSTS.return_per_byte).for_bytes(u64::from(len)),
            )?;
            Ok(host::guest::read_bytes(
                &mut env_mut,
                ptr,
                len,
                limit,
                "invoke result",
            )?)
        }
        1 => {
            let code = host::guest::read_u32(&mut env_mut, ret + r::ERR_CODE)?;
            let ptr = host::guest::read_u32(&mut env_mut, ret + r::ERR_MSG_PTR)?;
            let len = host::guest::read_u32(&mut env_mut, ret + r::ERR_MSG_LEN)?;
            let limit = env_mut.data().host_limits.max_message_bytes;
            let message =
                host::guest::read_bytes(&mut env_mut, ptr, len.min(limit), limit, "error message")?;
            Err(Failure::new(
                FailureKind::Contract { code },
                String::from_utf8_lossy(&message).into_owned(),
            ))
        }
        other => {
            return Err(HostTrap::violation(format!(
                "invoke returned result tag {other}; expected 0 or 1"
            )));
        }
    };
    if let Some(post) = post {
        post.call(store, ret as i32)?;
    }
    Ok(result)
}
