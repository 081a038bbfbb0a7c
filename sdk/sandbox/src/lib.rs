//! Run a contract's compiled wasm on the real engine, with gas, over local in-memory state:
//! the harness contract authors use from `cargo test` (the native mock in `bot_sdk::testing`
//! has no gas; this has the chain's).
//!
//! The engine is not compiled into the project: each [`Sandbox`] talks to a `cargo bot
//! sandbox` process (the engine inside the installed `cargo-bot`, found as
//! [`SANDBOX_BIN_VAR`] names it or on `PATH`), one JSON line per request.
//!
//! ```no_run
//! use bot_sandbox::{Sandbox, project_wasm};
//! use serde_json::json;
//!
//! let wasm = project_wasm(env!("CARGO_MANIFEST_DIR")); // builds this project for wasm32
//! let mut chain = Sandbox::new();
//! let counter = chain.deploy(&wasm).unwrap();
//! chain.call_json(counter, "new", json!({"start": 5})).unwrap();
//! let receipt = chain.call(counter, "increment", &2u64);
//! assert_eq!(receipt.value::<u64>(), 7);
//! println!("increment used {} gas", receipt.gas_used);
//! ```

mod server;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, anyhow, bail};
pub use bot_sdk::Address;
pub use bot_sdk::testing::account;
use serde_json::{Value, json};

pub use server::{PROTOCOL_VERSION, SANDBOX_BIN_VAR};

/// The compiler the sandbox's engine uses; the chain's validators use Cranelift, and every
/// result, gas figure and write is the same on Singlepass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compiler {
    #[default]
    Cranelift,
    Singlepass,
}

impl Compiler {
    fn name(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Singlepass => "singlepass",
        }
    }
}

/// The block calls run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub height: u64,
    pub time_ms: u64,
}

/// Why a call failed: the engine's kind (`contract_error`, `out_of_gas`, `trap`,
/// `host_violation`, ...), its message, and the contract's code for a contract error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: String,
    pub message: String,
    pub code: Option<u32>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{} {code}: {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

/// An event a call emitted, its data as the contract encoded it (borsh).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub contract: Address,
    pub name: String,
    pub data: Vec<u8>,
}

/// One host function's share of a call's gas (or `instantiate`, the price of an instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUse {
    pub name: String,
    pub calls: u64,
    pub gas: u64,
}

/// Where a call's gas went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GasBreakdown {
    /// Instantiation and every host function the call used, in order of first use.
    pub host: Vec<HostUse>,
    pub storage_bytes_read: u64,
    pub storage_bytes_written: u64,
}

/// What a method call did: its result, the gas it used, its events and logs. Writes are
/// already applied if it succeeded.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub method: String,
    pub result: Result<Vec<u8>, Failure>,
    pub gas_used: u64,
    pub events: Vec<Event>,
    pub logs: Vec<String>,
    pub breakdown: GasBreakdown,
    json: Value,
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
        self.result.as_ref().err().and_then(|f| f.code)
    }

    /// The receipt as JSON, with the result and events decoded through the contract's ABI:
    /// `{"status", "result", "gas_used", "events", "logs", "error": {"kind", "message", "code"?,
    /// "name"?}}`. Values the ABI cannot describe are shown as 0x hex.
    pub fn to_json(&self) -> Value {
        self.json.clone()
    }
}

/// A local chain: in-memory state, a block and a caller, on the engine of a `cargo bot
/// sandbox` process that lives as long as this value.
pub struct Sandbox {
    server: Mutex<server::Server>,
    /// The block calls run in; [`Sandbox::advance_blocks`] moves it.
    pub block: Block,
    /// Who calls: the transaction signer of every call.
    pub caller: Address,
    /// Gas each call may use.
    pub gas_limit: u64,
}

impl Default for Sandbox {
    fn default() -> Sandbox {
        Sandbox::new()
    }
}

impl Sandbox {
    /// Cranelift, the default limits, empty state. Panics, saying what to install, if no
    /// `cargo-bot` can be started.
    pub fn new() -> Sandbox {
        Sandbox::with_compiler(Compiler::Cranelift)
    }

    pub fn with_compiler(compiler: Compiler) -> Sandbox {
        Sandbox::start(compiler).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// [`Sandbox::with_compiler`], with the reason if the server cannot be started.
    pub fn start(compiler: Compiler) -> Result<Sandbox> {
        Sandbox::start_server(None, compiler)
    }

    /// On the engine of the `cargo-bot` at `bin`, whatever the environment says.
    pub fn start_with(bin: impl Into<PathBuf>, compiler: Compiler) -> Result<Sandbox> {
        Sandbox::start_server(Some(bin.into()), compiler)
    }

    fn start_server(bin: Option<PathBuf>, compiler: Compiler) -> Result<Sandbox> {
        let server = server::Server::start(bin, compiler.name())?;
        Ok(Sandbox {
            server: Mutex::new(server),
            block: Block {
                height: 1,
                time_ms: 1_700_000_000_000,
            },
            caller: account("caller"),
            gas_limit: 100_000_000,
        })
    }

    /// Moves `blocks` blocks ahead, `ms_per_block` milliseconds each.
    pub fn advance_blocks(&mut self, blocks: u64, ms_per_block: u64) {
        self.block.height += blocks;
        self.block.time_ms += blocks * ms_per_block;
    }

    fn request(&self, request: Value) -> Result<Value> {
        let mut server = self.server.lock().unwrap_or_else(|e| e.into_inner());
        server.request(&request)
    }

    /// Deploys `wasm` at a fresh address (the first of a fixed sequence not holding a
    /// contract), after the chain's deploy check.
    pub fn deploy(&mut self, wasm: &[u8]) -> Result<Address> {
        let answer = self.request(json!({"deploy": {"wasm": hex0x(wasm)}}))?;
        parse_address(&answer["address"])
    }

    /// Deploys `wasm` at `address`, replacing the code there (its storage stays, as in an
    /// upgrade).
    pub fn deploy_at(&mut self, address: Address, wasm: &[u8]) -> Result<()> {
        self.request(json!({"deploy": {"wasm": hex0x(wasm), "at": address.to_string()}}))?;
        Ok(())
    }

    /// The ABI of the contract at `address` as JSON (what `cargo bot abi` prints), if it
    /// carries one.
    pub fn abi(&self, address: Address) -> Option<Value> {
        let answer = self
            .request(json!({"abi": {"contract": address.to_string()}}))
            .ok()?;
        Some(answer["abi"].clone()).filter(|a| !a.is_null())
    }

    fn run(&self, address: Address, method: &str, args: Vec<u8>, read_only: bool) -> Receipt {
        let answer = self
            .request(json!({"call": {
                "contract": address.to_string(),
                "method": method,
                "args": hex0x(&args),
                "read_only": read_only,
                "caller": self.caller.to_string(),
                "gas_limit": self.gas_limit,
                "height": self.block.height,
                "time_ms": self.block.time_ms,
            }}))
            .unwrap_or_else(|e| panic!("the sandbox could not run `{method}`: {e:#}"));
        receipt(method, answer)
            .unwrap_or_else(|e| panic!("the sandbox's answer to `{method}` is malformed: {e:#}"))
    }

    /// Calls `method` with borsh `args` (one argument as itself, several as a tuple, none as
    /// `&()`); its writes are kept if it succeeds.
    pub fn call<A: borsh::BorshSerialize + ?Sized>(
        &self,
        address: Address,
        method: &str,
        args: &A,
    ) -> Receipt {
        let args = borsh::to_vec(args).expect("arguments encode");
        self.run(address, method, args, false)
    }

    /// A read-only query: writes, events and read-write calls are refused.
    pub fn query<A: borsh::BorshSerialize + ?Sized>(
        &self,
        address: Address,
        method: &str,
        args: &A,
    ) -> Receipt {
        let args = borsh::to_vec(args).expect("arguments encode");
        self.run(address, method, args, true)
    }

    /// Turns JSON arguments (an object keyed by parameter name) into borsh through the
    /// contract's ABI; the error names the method or field that is wrong.
    pub fn encode_json(&self, address: Address, method: &str, args: &Value) -> Result<Vec<u8>> {
        let answer = self.request(json!({"encode": {
            "contract": address.to_string(),
            "method": method,
            "args": args,
        }}))?;
        parse_hex(&answer["bytes"])
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

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn parse_hex(value: &Value) -> Result<Vec<u8>> {
    let text = value
        .as_str()
        .ok_or_else(|| anyhow!("expected 0x hex, got {value}"))?;
    Ok(hex::decode(text.strip_prefix("0x").unwrap_or(text))?)
}

fn parse_address(value: &Value) -> Result<Address> {
    let bytes = parse_hex(value)?;
    let bytes: [u8; 20] = bytes
        .try_into()
        .map_err(|_| anyhow!("an address is 20 bytes: {value}"))?;
    Ok(Address(bytes))
}

fn number(value: &Value, what: &str) -> Result<u64> {
    value
        .as_u64()
        .ok_or_else(|| anyhow!("`{what}` is not a number: {value}"))
}

/// A receipt from the server's answer: `{"receipt": <its JSON>, "result": 0x hex or null,
/// "events": [{"contract", "name", "data": 0x hex}], "breakdown": {...}}`.
fn receipt(method: &str, answer: Value) -> Result<Receipt> {
    let json = answer["receipt"].clone();
    let result = if json["status"] == "ok" {
        Ok(parse_hex(&answer["result"])?)
    } else {
        let error = &json["error"];
        Err(Failure {
            kind: error["kind"].as_str().unwrap_or_default().to_string(),
            message: error["message"].as_str().unwrap_or_default().to_string(),
            code: error["code"].as_u64().map(|c| c as u32),
        })
    };
    let events = answer["events"]
        .as_array()
        .ok_or_else(|| anyhow!("no events"))?
        .iter()
        .map(|e| {
            Ok(Event {
                contract: parse_address(&e["contract"])?,
                name: e["name"].as_str().unwrap_or_default().to_string(),
                data: parse_hex(&e["data"])?,
            })
        })
        .collect::<Result<_>>()?;
    let breakdown = &answer["breakdown"];
    let host = breakdown["host"]
        .as_array()
        .ok_or_else(|| anyhow!("no gas breakdown"))?
        .iter()
        .map(|h| {
            Ok(HostUse {
                name: h["name"].as_str().unwrap_or_default().to_string(),
                calls: number(&h["calls"], "calls")?,
                gas: number(&h["gas"], "gas")?,
            })
        })
        .collect::<Result<_>>()?;
    let logs = json["logs"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(Receipt {
        method: method.to_string(),
        result,
        gas_used: number(&json["gas_used"], "gas_used")?,
        events,
        logs,
        breakdown: GasBreakdown {
            host,
            storage_bytes_read: number(&breakdown["storage_bytes_read"], "storage_bytes_read")?,
            storage_bytes_written: number(
                &breakdown["storage_bytes_written"],
                "storage_bytes_written",
            )?,
        },
        json,
    })
}

/// Builds the contract project at `dir` for wasm32 (once per test process) and returns the
/// stripped wasm of its contract. For a contract's `tests/`: `project_wasm(env!("CARGO_MANIFEST_DIR"))`.
/// Builds as `cargo bot build` does, into `dir/target` (for wasm32, so apart from the running
/// `cargo test`'s own artifacts): each reuses what the other built.
pub fn project_wasm(dir: impl AsRef<Path>) -> Vec<u8> {
    /// Project folders already built in this process, with their wasm.
    type Built = Vec<(PathBuf, Vec<u8>)>;
    static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
    let dir = dir.as_ref().to_path_buf();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, wasm)) = built.iter().find(|(d, _)| *d == dir) {
        return wasm.clone();
    }
    let wasm = build(&dir).unwrap_or_else(|e| panic!("{e:#}"));
    built.push((dir, wasm.clone()));
    wasm
}

fn build(dir: &Path) -> Result<Vec<u8>> {
    let contracts = bot_build::build_project(dir, None)
        .map_err(|e| anyhow!("building the contract in {}: {e:#}", dir.display()))?;
    let [contract] = contracts.as_slice() else {
        bail!(
            "{} builds {} contracts; use bot_build::build_project to pick one",
            dir.display(),
            contracts.len()
        );
    };
    std::fs::read(&contract.wasm).map_err(|e| anyhow!("reading {}: {e}", contract.wasm.display()))
}
