//! Compiled contracts on the real engine, with gas, over local in-memory state: the engine
//! behind `cargo bot run` and behind `cargo bot sandbox`, the server a contract project's
//! tests talk to through the `bot-sandbox` crate (so a project never compiles the engine).
//!
//! ```no_run
//! use bot_sandbox_engine::Sandbox;
//! use serde_json::json;
//!
//! let wasm = std::fs::read("counter.wasm").unwrap();
//! let mut chain = Sandbox::new();
//! let counter = chain.deploy(&wasm).unwrap();
//! chain.call_json(counter, "new", json!({"start": 5})).unwrap();
//! let receipt = chain.call(counter, "increment", &2u64);
//! assert_eq!(receipt.value::<u64>(), 7);
//! println!("increment used {} gas", receipt.gas_used);
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use bot_abi::ContractAbi;
pub use bot_engine::{Address, Compiler, Failure, FailureKind};
use bot_engine::{
    BlockContext, CallRequest, CodeHash, Engine, EngineConfig, GasBreakdown, MemoryHost, Outcome,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// What a method call did: its result, the gas it used, its events and logs. Writes are
/// already applied if it succeeded.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub method: String,
    pub result: Result<Vec<u8>, Failure>,
    pub gas_used: u64,
    pub events: Vec<bot_engine::Event>,
    pub logs: Vec<String>,
    /// Where the gas went: instantiation, each host function, wasm instructions.
    pub breakdown: GasBreakdown,
    abi: Option<Arc<ContractAbi>>,
}

impl Receipt {
    /// Whether the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The result decoded as `T`; panics with the failure if the call failed (for tests).
    pub fn value<T: borsh::BorshDeserialize>(&self) -> T {
        match &self.result {
            Ok(bytes) => borsh::from_slice(bytes).unwrap_or_else(|e| {
                panic!(
                    "`{}` returned bytes that are not a {}: {e}",
                    self.method,
                    std::any::type_name::<T>()
                )
            }),
            Err(f) => panic!("`{}` failed: {f}", self.method),
        }
    }

    /// The failure; panics if the call succeeded (for tests).
    pub fn failure(&self) -> &Failure {
        match &self.result {
            Ok(_) => panic!("`{}` succeeded", self.method),
            Err(f) => f,
        }
    }

    /// The contract's own error code, if it failed with one.
    pub fn error_code(&self) -> Option<u32> {
        match &self.result {
            Err(Failure {
                kind: FailureKind::Contract { code },
                ..
            }) => Some(*code),
            _ => None,
        }
    }

    /// The receipt as JSON, with the result and events decoded through the contract's ABI:
    /// `{"status", "result", "gas_used", "events", "logs", "error": {"kind", "message", "code"?,
    /// "name"?}}`. Values the ABI cannot describe are shown as 0x hex.
    pub fn to_json(&self) -> Value {
        let abi = self.abi.as_deref();
        let hex = |b: &[u8]| Value::String(format!("0x{}", hex_string(b)));
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| {
                let data = abi
                    .and_then(|a| bot_abi::json::decode_event(a, &e.name, &e.data))
                    .and_then(Result::ok)
                    .unwrap_or_else(|| hex(&e.data));
                json!({ "contract": e.contract.to_string(), "name": e.name, "data": data })
            })
            .collect();
        let mut out = json!({
            "status": if self.is_ok() { "ok" } else { "error" },
            "method": self.method,
            "gas_used": self.gas_used,
            "events": events,
            "logs": self.logs,
        });
        match &self.result {
            Ok(bytes) => {
                let method = abi.and_then(|a| a.method(&self.method).map(|m| (a, m)));
                out["result"] = match method {
                    Some((a, m)) => {
                        bot_abi::json::decode_result(a, m, bytes).unwrap_or_else(|_| hex(bytes))
                    }
                    None if bytes.is_empty() => Value::Null,
                    None => hex(bytes),
                };
            }
            Err(f) => {
                out["result"] = Value::Null;
                let mut error = json!({ "kind": f.kind.name(), "message": f.message });
                if let FailureKind::Contract { code } = f.kind {
                    error["code"] = json!(code);
                    if let Some(def) = abi.and_then(|a| a.error(code)) {
                        error["name"] = json!(def.name);
                    }
                }
                out["error"] = error;
            }
        }
        out
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A local chain: an engine, in-memory state, a block and a caller.
pub struct Sandbox {
    engine: Engine,
    host: Arc<MemoryHost>,
    /// The block calls run in; [`Sandbox::advance_blocks`] moves it.
    pub block: BlockContext,
    /// Who calls: the transaction signer of every call.
    pub caller: Address,
    /// Gas each call may use.
    pub gas_limit: u64,
    /// ABIs by code hash, read once per code rather than on every call.
    abis: Mutex<HashMap<CodeHash, Option<Arc<ContractAbi>>>>,
}

impl Default for Sandbox {
    fn default() -> Sandbox {
        Sandbox::new()
    }
}

/// A deterministic account address for tests, named by a string (the same as
/// `bot_sdk::testing::account`).
pub fn account(name: &str) -> Address {
    let digest = Sha256::digest(name.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[..20]);
    Address(a)
}

impl Sandbox {
    /// Cranelift, the default limits, empty state.
    pub fn new() -> Sandbox {
        Sandbox::with_compiler(Compiler::Cranelift)
    }

    pub fn with_compiler(compiler: Compiler) -> Sandbox {
        Sandbox::with_state(compiler, MemoryHost::new())
    }

    /// Over existing state (see [`Sandbox::save`] and [`Sandbox::load`]).
    pub fn with_state(compiler: Compiler, host: MemoryHost) -> Sandbox {
        let engine = Engine::new(EngineConfig {
            compiler,
            ..EngineConfig::default()
        })
        .expect("an engine with the default configuration builds");
        Sandbox {
            engine,
            host: Arc::new(host),
            block: BlockContext {
                height: 1,
                time_ms: 1_700_000_000_000,
                chain_id: "bot-sandbox".into(),
            },
            caller: account("caller"),
            gas_limit: 100_000_000,
            abis: Mutex::default(),
        }
    }

    /// Loads state saved by [`Sandbox::save`] (a missing file is empty state).
    pub fn load(compiler: Compiler, file: &Path) -> Result<Sandbox> {
        let host = match std::fs::read(file) {
            Ok(bytes) => {
                MemoryHost::import(&bytes).map_err(|e| anyhow!("{}: {}", file.display(), e.0))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MemoryHost::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        Ok(Sandbox::with_state(compiler, host))
    }

    /// Writes the state to `file` (atomically: a crash leaves the old or the new state).
    pub fn save(&self, file: &Path) -> Result<()> {
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, self.host.export())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Moves `blocks` blocks ahead, `ms_per_block` milliseconds each.
    pub fn advance_blocks(&mut self, blocks: u64, ms_per_block: u64) {
        self.block.height += blocks;
        self.block.time_ms += blocks * ms_per_block;
    }

    /// Deploys `wasm` at a fresh address (the first of a fixed sequence not holding a
    /// contract, also in loaded state), after the chain's deploy check.
    pub fn deploy(&mut self, wasm: &[u8]) -> Result<Address> {
        use bot_engine::Host as _;
        let address = (1u64..)
            .map(|n| {
                let mut seed = b"bot-sandbox/contract/".to_vec();
                seed.extend_from_slice(&n.to_le_bytes());
                let digest = Sha256::digest(&seed);
                let mut address = [0u8; 20];
                address.copy_from_slice(&digest[..20]);
                Address(address)
            })
            .find(|a| matches!(self.host.contract_code(a), Ok(None)))
            .expect("the sequence of addresses is endless");
        self.deploy_at(address, wasm)?;
        Ok(address)
    }

    /// Deploys `wasm` at `address`, replacing the code there (its storage stays, as in an
    /// upgrade).
    pub fn deploy_at(&mut self, address: Address, wasm: &[u8]) -> Result<()> {
        match self.engine.prepare(wasm).map_err(|e| anyhow!("{e}"))? {
            Ok(_) => {}
            Err(e) => bail!("the contract fails the deploy check: {e}"),
        }
        let code = self.host.put_code(wasm);
        self.host.put_contract(address, code);
        Ok(())
    }

    /// The ABI of the contract at `address`, if it carries one.
    pub fn abi(&self, address: Address) -> Option<Arc<ContractAbi>> {
        use bot_engine::Host as _;
        let code = self.host.contract_code(&address).ok()??;
        let mut abis = self.abis.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(abi) = abis.get(&code) {
            return abi.clone();
        }
        let abi = self
            .host
            .code(&code)
            .ok()
            .flatten()
            .and_then(|wasm| self.engine.validate(&wasm).ok()?.abi);
        abis.insert(code, abi.clone());
        abi
    }

    fn run(&self, address: Address, method: &str, args: Vec<u8>, read_only: bool) -> Receipt {
        let request = CallRequest {
            contract: address,
            caller: self.caller,
            origin: self.caller,
            tx_hash: if read_only {
                [0; 32]
            } else {
                tx_hash(&self.block, method, &args)
            },
            method: method.to_string(),
            args,
            gas_limit: self.gas_limit,
            read_only,
        };
        let outcome: Outcome = match self
            .engine
            .execute(self.host.clone(), &self.block, &request)
        {
            Ok(outcome) => outcome,
            // The in-memory host does not fail; an engine failure is a bug worth a loud test.
            Err(e) => panic!("the engine failed (not the contract): {e}"),
        };
        if outcome.result.is_ok() && !read_only {
            self.host.apply(&outcome.writes);
        }
        Receipt {
            method: method.to_string(),
            result: outcome.result,
            gas_used: outcome.gas_used,
            events: outcome.events,
            logs: outcome.logs,
            breakdown: outcome.breakdown,
            abi: self.abi(address),
        }
    }

    /// Calls `method` with borsh `args` (one argument as itself, several as a tuple, none as
    /// `&()`); its writes are kept if it succeeds.
    pub fn call<A: borsh::BorshSerialize + ?Sized>(
        &self,
        address: Address,
        method: &str,
        args: &A,
    ) -> Receipt {
        self.run(
            address,
            method,
            borsh::to_vec(args).expect("arguments encode"),
            false,
        )
    }

    /// A read-only query: writes, events and read-write calls are refused.
    pub fn query<A: borsh::BorshSerialize + ?Sized>(
        &self,
        address: Address,
        method: &str,
        args: &A,
    ) -> Receipt {
        self.run(
            address,
            method,
            borsh::to_vec(args).expect("arguments encode"),
            true,
        )
    }

    /// Turns JSON arguments (an object keyed by parameter name) into borsh through the
    /// contract's ABI; the error names the method or field that is wrong.
    pub fn encode_json(&self, address: Address, method: &str, args: &Value) -> Result<Vec<u8>> {
        let abi = self
            .abi(address)
            .ok_or_else(|| anyhow!("the contract at {address} has no ABI: JSON arguments need one (build it with #[bot_sdk::contract])"))?;
        let m = abi.require_method(method).map_err(|e| anyhow!(e))?;
        Ok(bot_abi::json::encode_args(&abi, m, args)?)
    }

    /// [`Sandbox::call`] with JSON arguments.
    pub fn call_json(&self, address: Address, method: &str, args: Value) -> Result<Receipt> {
        let bytes = self.encode_json(address, method, &args)?;
        Ok(self.run(address, method, bytes, false))
    }

    /// [`Sandbox::query`] with JSON arguments.
    pub fn query_json(&self, address: Address, method: &str, args: Value) -> Result<Receipt> {
        let bytes = self.encode_json(address, method, &args)?;
        Ok(self.run(address, method, bytes, true))
    }

    /// Runs a call with raw argument bytes.
    pub fn call_raw(
        &self,
        address: Address,
        method: &str,
        args: Vec<u8>,
        read_only: bool,
    ) -> Receipt {
        self.run(address, method, args, read_only)
    }
}

/// A transaction hash for a sandbox call: distinct per block, method and arguments.
fn tx_hash(block: &BlockContext, method: &str, args: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(block.height.to_le_bytes());
    h.update(method.as_bytes());
    h.update(args);
    h.finalize().into()
}
