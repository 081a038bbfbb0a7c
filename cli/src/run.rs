//! `cargo bot run`: a contract on the real engine over local state, with JSON arguments and
//! results through its ABI.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use bot_sandbox_engine::{Address, Compiler, Receipt, Sandbox};

/// What `cargo bot run` was asked to do.
pub struct RunArgs {
    pub file: PathBuf,
    /// Keeps state here between runs; ephemeral without it.
    pub state: Option<PathBuf>,
    pub init: Option<String>,
    pub init_args: Option<String>,
    pub call: Option<String>,
    pub args: Option<String>,
    pub caller: Option<String>,
    pub gas_limit: Option<u64>,
    pub compiler: Compiler,
}

/// What the run did: the contract's address and the receipts of init and the call.
pub struct Run {
    pub address: Address,
    pub init: Option<Receipt>,
    pub call: Option<Receipt>,
}

/// Where `cargo bot run` deploys: the same address every run, so `--state` keeps its storage
/// across rebuilds of the contract (as an upgrade would).
pub fn run_address() -> Address {
    bot_sandbox_engine::account("cargo-bot-run/contract")
}

/// An address as `0x` + 40 hex digits, or a name turned into a test account (`alice`).
pub fn parse_address(text: &str) -> Result<Address> {
    if text.starts_with("0x") || (text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())) {
        text.parse::<Address>().map_err(|e| {
            anyhow!("--caller {text}: {e} (write 0x and 40 hex digits, or a name such as `alice`)")
        })
    } else if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(bot_sandbox_engine::account(text))
    } else {
        bail!("--caller {text}: write an address (0x and 40 hex digits) or a name such as `alice`")
    }
}

fn json_arg(flag: &str, text: Option<&str>) -> Result<serde_json::Value> {
    match text {
        None => Ok(serde_json::Value::Null),
        Some(t) => serde_json::from_str(t).with_context(|| {
            format!(
                "{flag} is not JSON: write an object keyed by parameter name, e.g. '{{\"by\": 2}}'"
            )
        }),
    }
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.bin")
}

pub fn run(args: &RunArgs) -> Result<Run> {
    if args.init.is_none() && args.call.is_none() {
        bail!("nothing to run: pass --call METHOD (and --init METHOD to initialize first)");
    }
    if args.init.is_none() && args.init_args.is_some() {
        bail!("--init-args needs --init METHOD");
    }
    if args.call.is_none() && args.args.is_some() {
        bail!("--args needs --call METHOD");
    }
    let wasm =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let init_args = json_arg("--init-args", args.init_args.as_deref())?;
    let call_args = json_arg("--args", args.args.as_deref())?;
    let mut sandbox = match &args.state {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            Sandbox::load(args.compiler, &state_file(dir))?
        }
        None => Sandbox::with_compiler(args.compiler),
    };
    if let Some(caller) = &args.caller {
        sandbox.caller = parse_address(caller)?;
    }
    if let Some(limit) = args.gas_limit {
        sandbox.gas_limit = limit;
    }
    let address = run_address();
    sandbox
        .deploy_at(address, &wasm)
        .with_context(|| format!("deploying {}", args.file.display()))?;
    let mut run = Run {
        address,
        init: None,
        call: None,
    };
    if let Some(method) = &args.init {
        let receipt = sandbox.call_json(address, method, init_args)?;
        let failed = !receipt.is_ok();
        run.init = Some(receipt);
        if failed {
            return Ok(run);
        }
    }
    if let Some(method) = &args.call {
        let bytes = sandbox.encode_json(address, method, &call_args)?;
        // Views run read-only on the chain; the engine enforces it from the ABI either way.
        run.call = Some(sandbox.call_raw(address, method, bytes, false));
    }
    if let Some(dir) = &args.state {
        sandbox.save(&state_file(dir))?;
    }
    Ok(run)
}
