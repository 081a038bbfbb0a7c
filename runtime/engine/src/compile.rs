//! Compile a validated module to machine code with metering and instrumentation, and turn the
//! result into a serialized artifact the runtime engine loads.
//!
//! wasmer-middlewares' `Metering` serves exactly one module, so every compilation builds its own
//! compiling engine; the artifact is then loaded into the shared, compiler-less runtime engine
//! that every [`wasmer::Store`] uses.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmer::sys::{
    CompilerConfig, Cranelift, CraneliftOptLevel, EngineBuilder, Features, Singlepass,
};
use wasmer_middlewares::Metering;

use crate::config::{Compiler, EngineConfig};
use crate::gas::{COSTS, CostTable};
use crate::instrument::{INSTRUMENTATION_VERSION, Instrumentation};
use crate::validate::{CodeHash, ValidatedModule};

/// Why compilation failed. For a validated module this is a bug in the engine or wasmer, not a
/// property of the contract, so it is a host failure, never a deterministic outcome.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("compiling with {compiler}: {message}")]
    Compile {
        compiler: &'static str,
        message: String,
    },
    #[error("serializing the compiled module: {0}")]
    Serialize(String),
    #[error("loading the compiled module: {0}")]
    Deserialize(String),
}

/// Wasm features the compiler accepts: a superset of what validation lets through.
fn compiler_features() -> Features {
    let mut features = Features::none();
    features
        .bulk_memory(true)
        .reference_types(true)
        .multi_value(true);
    features
}

/// The cache key for a module's artifact: its code hash plus everything that decides the
/// machine code or whether the code is valid (compiler, wasmer version, instrumentation, cost
/// table, limits).
pub fn artifact_key(config: &EngineConfig, code_hash: &CodeHash) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bot-artifact\0");
    h.update(code_hash.0);
    h.update(config.compiler.name().as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(WASMER_VERSION.as_bytes());
    h.update(INSTRUMENTATION_VERSION.to_le_bytes());
    h.update(COSTS.fingerprint());
    // Every limit, not only those compiled in: a cached artifact stands for code that passed
    // validation under exactly these limits, so a hit needs no re-validation.
    h.update(format!("{:?}", config.limits).as_bytes());
    h.finalize().into()
}

/// The wasmer release this engine is pinned to (see the workspace Cargo.toml).
pub const WASMER_VERSION: &str = "7.4.2";

/// Compiles `module` and returns its serialized artifact.
pub fn compile_artifact(
    config: &EngineConfig,
    module: &ValidatedModule,
    costs: &CostTable,
) -> Result<Vec<u8>, CompileError> {
    let costs_for_metering = costs.clone();
    let memory_pages = module.memory_pages;
    // The initial limit is replaced before every call; it only has to be a valid i64.
    let metering = Arc::new(Metering::new(0, move |op: &wasmparser::Operator| {
        costs_for_metering.operator(op, memory_pages)
    }));
    let instrumentation = Arc::new(Instrumentation::new(
        module.functions.clone(),
        costs.clone(),
        config.limits.max_stack_slots,
        config.limits.max_memory_pages,
    ));
    let builder = match config.compiler {
        Compiler::Cranelift => {
            let mut c = Cranelift::new();
            c.canonicalize_nans(true)
                .opt_level(CraneliftOptLevel::Speed);
            c.push_middleware(metering);
            c.push_middleware(instrumentation);
            EngineBuilder::new(c)
        }
        Compiler::Singlepass => {
            let mut c = Singlepass::new();
            c.canonicalize_nans(true);
            c.push_middleware(metering);
            c.push_middleware(instrumentation);
            EngineBuilder::new(c)
        }
    };
    let engine: wasmer::Engine = builder
        .set_features(Some(compiler_features()))
        .engine()
        .into();
    let compiled =
        wasmer::Module::new(&engine, &module.wasm[..]).map_err(|e| CompileError::Compile {
            compiler: config.compiler.name(),
            message: e.to_string(),
        })?;
    let bytes = compiled
        .serialize()
        .map_err(|e| CompileError::Serialize(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Loads an artifact into the runtime engine.
///
/// The artifact must come from [`compile_artifact`] in this process or from the disk cache,
/// whose checksum ([`crate::cache`]) has been verified.
pub fn load_artifact(
    runtime: &wasmer::Engine,
    artifact: &[u8],
) -> Result<wasmer::Module, CompileError> {
    // SAFETY: the bytes were produced by `compile_artifact` with this wasmer version (the cache
    // key includes it) and their checksum was verified, so they are a well-formed artifact.
    unsafe { wasmer::Module::deserialize(runtime, artifact.to_vec()) }
        .map_err(|e| CompileError::Deserialize(e.to_string()))
}

/// The compiler-less engine that runs artifacts.
pub fn runtime_engine() -> wasmer::Engine {
    EngineBuilder::headless().engine().into()
}
