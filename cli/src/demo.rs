//! The quickstart demo: build the counter example, deploy it on in-memory state, call it, and
//! show results and gas on both compilers.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bot_engine::{
    Address, BlockContext, CallRequest, Compiler, Engine, EngineConfig, MemoryHost, Outcome,
};

use crate::build;

/// One step of the demo and what it produced.
pub struct Step {
    pub method: &'static str,
    pub arg: Option<u64>,
    pub outcome: Outcome,
    /// The same call's gas on Singlepass.
    pub singlepass_gas: u64,
}

pub const CONTRACT: Address = Address([0xc0; 20]);
pub const USER: Address = Address([0x0a; 20]);

fn run_on(engine: &Engine, host: &Arc<MemoryHost>, method: &str, args: Vec<u8>) -> Result<Outcome> {
    let block = BlockContext {
        height: 1,
        time_ms: 1_700_000_000_000,
        chain_id: "bot-demo".into(),
    };
    let call = CallRequest {
        contract: CONTRACT,
        caller: USER,
        origin: USER,
        tx_hash: [1; 32],
        method: method.to_string(),
        args,
        gas_limit: 10_000_000,
        // `get` is a #[view]: the engine runs it read-only from the contract's ABI.
        read_only: false,
    };
    let outcome = engine
        .execute(host.clone(), &block, &call)
        .with_context(|| format!("running {method}"))?;
    Ok(outcome)
}

/// Builds the counter example; returns its .wasm file.
pub fn counter_wasm() -> Result<std::path::PathBuf> {
    let root = build::repo_root();
    let out = build::build_workspace(
        &root.join("examples/Cargo.toml"),
        &root.join("target/contracts"),
    )?;
    Ok(out.join("counter.wasm"))
}

/// Builds and runs the counter; returns the steps it took.
pub fn run() -> Result<Vec<Step>> {
    let wasm_path = counter_wasm()?;
    let wasm =
        std::fs::read(&wasm_path).with_context(|| format!("reading {}", wasm_path.display()))?;

    let cranelift = Engine::new(EngineConfig::default())?;
    let singlepass = Engine::new(EngineConfig {
        compiler: Compiler::Singlepass,
        ..EngineConfig::default()
    })?;
    // Two independent states, one per compiler, fed the same calls.
    let (a, b) = (Arc::new(MemoryHost::new()), Arc::new(MemoryHost::new()));
    for (engine, host) in [(&cranelift, &a), (&singlepass, &b)] {
        if let Err(e) = engine.prepare(&wasm)? {
            bail!("counter.wasm fails the deploy check: {e}");
        }
        let code = host.put_code(&wasm);
        host.put_contract(CONTRACT, code);
    }
    let plan: [(&'static str, Option<u64>); 4] = [
        ("new", Some(5)),
        ("increment", Some(3)),
        ("increment", Some(4)),
        ("get", None),
    ];
    let mut steps = Vec::new();
    for (method, arg) in plan {
        let args = arg.map(|v| v.to_le_bytes().to_vec()).unwrap_or_default();
        let outcome = run_on(&cranelift, &a, method, args.clone())?;
        let other = run_on(&singlepass, &b, method, args)?;
        if other.result != outcome.result
            || other.writes != outcome.writes
            || other.gas_used != outcome.gas_used
        {
            bail!(
                "cranelift and singlepass disagree on {method}: {:?} with {} gas vs {:?} with {} gas",
                outcome.result,
                outcome.gas_used,
                other.result,
                other.gas_used
            );
        }
        a.apply(&outcome.writes);
        b.apply(&other.writes);
        steps.push(Step {
            method,
            arg,
            singlepass_gas: other.gas_used,
            outcome,
        });
    }
    Ok(steps)
}

/// The devnet half of the demo: a new devnet of `nodes` validators in a temporary folder, the
/// counter deployed through it, called from two accounts and queried, then the IoT flow of
/// [`crate::demo_iot`] and the device-sociability example of [`crate::demo_sociability`]; what
/// each step returned.
pub fn on_devnet(wasm: &std::path::Path, nodes: usize) -> Result<serde_json::Value> {
    use serde_json::json;
    let dir = tempfile::tempdir()?;
    crate::devnet::init(dir.path(), nodes)?;
    let mut devnet = crate::devnet::Devnet::start(dir.path())?;
    let result = (|| {
        let rpc = crate::client::Rpc::new(&devnet.rpcs[0]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while rpc.status()?["height"].as_u64().unwrap_or(0) < 1 {
            if std::time::Instant::now() > deadline {
                bail!("the devnet produced no block within 120 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let deployed = crate::chain_cmds::deploy(
            &rpc,
            "alice",
            wasm,
            Some("new"),
            Some(r#"{"start": 5}"#),
            None,
        )?;
        if !deployed.ok {
            bail!("deploying failed: {}", deployed.out);
        }
        let address = deployed.out["address"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let (a, _) = crate::chain_cmds::call(
            &rpc,
            "alice",
            &address,
            "increment",
            Some(r#"{"by": 3}"#),
            None,
        )?;
        let (b, _) = crate::chain_cmds::call(
            &rpc,
            "bob",
            &address,
            "increment",
            Some(r#"{"by": 4}"#),
            None,
        )?;
        let (q, _) = crate::chain_cmds::query(&rpc, &address, "get", None)?;
        let iot = crate::demo_iot::run(&rpc, &address)?;
        let contracts = wasm
            .parent()
            .ok_or_else(|| anyhow::anyhow!("{} has no folder", wasm.display()))?;
        let sociability = crate::demo_sociability::run(&rpc, contracts)?;
        let status = rpc.status()?;
        Ok(json!({
            "validators": devnet.rpcs.len(),
            "deploy": deployed.out,
            "calls": [a, b],
            "query": q,
            "iot": iot,
            "sociability": sociability,
            "status": status,
        }))
    })();
    devnet.stop();
    result
}
