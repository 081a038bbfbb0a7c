//! Shared setup for the integration tests and benches: builds the repository's contracts once
//! per process and runs them on a real engine over in-memory state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bot_engine::{
    Address, BlockContext, CallRequest, Compiler, Engine, EngineConfig, MemoryHost, Outcome,
};

/// The directory of built contract `.wasm` files (examples and test contracts), built on first use.
pub fn contracts_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = cargo_bot::build::repo_root();
        let target = root.join("target/contracts");
        let build = |manifest: &str| {
            cargo_bot::build::build_workspace(&root.join(manifest), &target)
                .unwrap_or_else(|e| panic!("building {manifest}: {e:#}"))
        };
        build("examples/Cargo.toml");
        build("tests/contracts/Cargo.toml")
    })
}

/// The bytes of a contract built from this repository (`counter`, `probe`, ...).
pub fn wasm(name: &str) -> Vec<u8> {
    let path = contracts_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The path of a file in tests/fixtures.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub const ALICE: Address = Address([0xa1; 20]);
pub const BOB: Address = Address([0xb0; 20]);

pub fn block() -> BlockContext {
    BlockContext {
        height: 42,
        time_ms: 1_700_000_123_456,
        chain_id: "bot-test".into(),
    }
}

/// An engine and an in-memory chain state: deploy contracts, call them, commit their writes.
pub struct Chain {
    pub engine: Engine,
    pub host: Arc<MemoryHost>,
    pub gas_limit: u64,
}

impl Chain {
    pub fn new(compiler: Compiler) -> Chain {
        Chain::with_config(EngineConfig {
            compiler,
            ..EngineConfig::default()
        })
    }

    pub fn with_config(config: EngineConfig) -> Chain {
        Chain {
            engine: Engine::new(config).expect("engine"),
            host: Arc::new(MemoryHost::new()),
            gas_limit: 50_000_000,
        }
    }

    /// Validates, compiles and places `wasm` at `address`; panics if it fails the deploy check.
    pub fn deploy(&self, address: Address, wasm: &[u8]) {
        self.engine
            .prepare(wasm)
            .expect("engine")
            .expect("deploy check");
        let code = self.host.put_code(wasm);
        self.host.put_contract(address, code);
    }

    pub fn request(
        &self,
        contract: Address,
        method: &str,
        args: Vec<u8>,
        read_only: bool,
    ) -> CallRequest {
        CallRequest {
            contract,
            caller: ALICE,
            origin: ALICE,
            tx_hash: if read_only { [0; 32] } else { [7; 32] },
            method: method.to_string(),
            args,
            gas_limit: self.gas_limit,
            read_only,
        }
    }

    /// Runs a request and commits its writes if it succeeded.
    pub fn run(&self, request: &CallRequest) -> Outcome {
        let outcome = self
            .engine
            .execute(self.host.clone(), &block(), request)
            .expect("no host failure");
        if outcome.result.is_ok() {
            self.host.apply(&outcome.writes);
        }
        outcome
    }

    /// Calls `method` with borsh-encoded `args` as ALICE and commits the writes on success.
    pub fn call<A: borsh::BorshSerialize>(
        &self,
        contract: Address,
        method: &str,
        args: &A,
    ) -> Outcome {
        self.send(contract, method, args, false)
    }

    /// A read-only query.
    pub fn query<A: borsh::BorshSerialize>(
        &self,
        contract: Address,
        method: &str,
        args: &A,
    ) -> Outcome {
        self.send(contract, method, args, true)
    }

    fn send<A: borsh::BorshSerialize>(
        &self,
        contract: Address,
        method: &str,
        args: &A,
        read_only: bool,
    ) -> Outcome {
        let args = borsh::to_vec(args).expect("args encode");
        self.run(&self.request(contract, method, args, read_only))
    }
}

/// Decodes a successful outcome's borsh result.
pub fn decode<T: borsh::BorshDeserialize>(outcome: &Outcome) -> T {
    let bytes = outcome
        .result
        .as_ref()
        .unwrap_or_else(|f| panic!("call failed: {f}"));
    borsh::from_slice(bytes).unwrap_or_else(|e| panic!("result does not decode: {e}"))
}

/// The module the devnet stopped on: its one function body lacks the `end` that closes it.
/// Built from a valid module by dropping that byte and shortening the lengths around it.
pub fn unclosed_body_module() -> Vec<u8> {
    let wasm = wat::parse_str(
        r#"(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    // Walk the sections (id, LEB128 size: every size here fits one byte) to the code section.
    let mut at = 8;
    while wasm[at] != 10 {
        at += 2 + wasm[at + 1] as usize;
    }
    let (size_at, count_at) = (at + 1, at + 2);
    assert!(wasm[size_at] < 0x80 && wasm[count_at] == 2);
    // The last body: its size byte, then its bytes, the last of which is its `end`.
    let mut body = count_at + 1;
    body += 1 + wasm[body] as usize;
    assert_eq!(
        *wasm.last().unwrap(),
        0x0b,
        "the module ends with the body's `end`"
    );
    let mut cut = wasm[..wasm.len() - 1].to_vec();
    cut[size_at] -= 1;
    cut[body] -= 1;
    cut
}
