//! Commands that talk to a running chain over JSON-RPC: deploy, call, query, tx, block,
//! status, and the node and devnet processes themselves.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bot_chain::TxKind;
use bot_engine::Address;
use serde_json::{Value, json};

use crate::client::{self, Rpc};

fn parse_address(text: &str) -> Result<Address> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .ok()
        .and_then(|b| Address::from_slice(&b))
        .ok_or_else(|| anyhow!("`{text}` is not an address (0x + 40 hex digits)"))
}

fn parse_json_args(what: &str, text: Option<&str>) -> Result<Value> {
    match text {
        None => Ok(json!({})),
        Some(t) => serde_json::from_str(t).with_context(|| {
            format!("{what} is not JSON (an object keyed by parameter name, e.g. '{{\"by\": 2}}')")
        }),
    }
}

fn failed(receipt: &Value) -> bool {
    receipt["status"] != "ok"
}

/// What deploying produced.
pub struct Deployed {
    pub out: Value,
    pub ok: bool,
}

/// Uploads `file`'s code (if the chain does not have it) and instantiates it, running `init`
/// with JSON arguments encoded through the contract's ABI.
pub fn deploy(
    rpc: &Rpc,
    from: &str,
    file: &Path,
    init: Option<&str>,
    init_args: Option<&str>,
    salt: Option<&str>,
) -> Result<Deployed> {
    let key = client::key(from)?;
    let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let abi = bot_build::abi_of(&wasm)?;
    let args = match (init, &abi) {
        (None, _) => {
            if init_args.is_some() {
                bail!("--init-args needs --init METHOD");
            }
            Vec::new()
        }
        (Some(m), Some(abi)) => {
            let method = abi.require_method(m).map_err(|e| anyhow!(e))?;
            bot_abi::json::encode_args(abi, method, &parse_json_args("--init-args", init_args)?)?
        }
        (Some(_), None) if init_args.is_none() => Vec::new(),
        (Some(_), None) => bail!("{} has no ABI: --init-args needs one", file.display()),
    };
    let upload = rpc.transact(&key, TxKind::Upload { wasm }, None)?;
    if failed(&upload) {
        return Ok(Deployed {
            out: json!({ "status": "error", "step": "upload", "receipt": upload }),
            ok: false,
        });
    }
    let code_hex = upload["result_hex"].as_str().unwrap_or_default();
    let code: [u8; 32] = hex::decode(code_hex.trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow!("the upload's receipt carries no code hash"))?;
    let salt = match salt {
        Some(s) => s.as_bytes().to_vec(),
        // Distinct per deployment by default: the signer's next nonce makes a fresh address.
        None => {
            let account = rpc.call("bot_getAccount", json!([key.address().to_string()]))?;
            format!("deploy-{}", account["nonce"]).into_bytes()
        }
    };
    let instantiate = rpc.transact(
        &key,
        TxKind::Instantiate {
            code,
            salt,
            init: init.map(str::to_string),
            args,
        },
        None,
    )?;
    let ok = !failed(&instantiate);
    Ok(Deployed {
        out: json!({
            "status": if ok { "ok" } else { "error" },
            "address": instantiate["contract"],
            "tx_hash": instantiate["tx_hash"],
            "gas_used": instantiate["gas_used"],
            "height": instantiate["height"],
            "code_hash": code_hex,
            "upload_tx_hash": upload["tx_hash"],
            "upload_gas_used": upload["gas_used"],
            "events": instantiate["events"],
            "error": instantiate.get("error"),
        }),
        ok,
    })
}

/// Encodes JSON arguments through the ABI the chain holds for `contract`.
fn encode_call_args(
    rpc: &Rpc,
    contract: &Address,
    method: &str,
    args: Option<&str>,
) -> Result<Vec<u8>> {
    let abi = rpc.call("bot_getAbi", json!([contract.to_string()]))?;
    if abi.is_null() {
        if args.is_some() {
            bail!("the contract at {contract} has no ABI, so JSON arguments cannot be encoded");
        }
        return Ok(Vec::new());
    }
    let section = hex::decode(
        abi["section"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("0x"),
    )
    .context("the node's ABI section is not hex")?;
    let abi =
        bot_abi::ContractAbi::from_section(&section).map_err(|e| anyhow!("the node's ABI: {e}"))?;
    let m = abi.require_method(method).map_err(|e| anyhow!(e))?;
    Ok(bot_abi::json::encode_args(
        &abi,
        m,
        &parse_json_args("--args", args)?,
    )?)
}

/// Sends a call transaction and waits for its receipt.
pub fn call(
    rpc: &Rpc,
    from: &str,
    contract: &str,
    method: &str,
    args: Option<&str>,
    gas_limit: Option<u64>,
) -> Result<(Value, bool)> {
    let key = client::key(from)?;
    let contract = parse_address(contract)?;
    let args = encode_call_args(rpc, &contract, method, args)?;
    let receipt = rpc.transact(
        &key,
        TxKind::Call {
            contract,
            method: method.to_string(),
            args,
        },
        gas_limit,
    )?;
    let ok = !failed(&receipt);
    Ok((receipt, ok))
}

pub fn query(rpc: &Rpc, contract: &str, method: &str, args: Option<&str>) -> Result<(Value, bool)> {
    let contract = parse_address(contract)?;
    let args = parse_json_args("--args", args)?;
    let out = rpc.call(
        "bot_query",
        json!([{ "contract": contract.to_string(), "method": method, "args": args }]),
    )?;
    let ok = !failed(&out);
    Ok((out, ok))
}

pub fn block(rpc: &Rpc, id: &str) -> Result<Value> {
    let id = match id.parse::<u64>() {
        Ok(h) => json!(h),
        Err(_) => json!(id),
    };
    let block = rpc.call("bot_getBlock", json!([id]))?;
    if block.is_null() {
        bail!("no block {id} on this chain yet");
    }
    Ok(block)
}

pub fn tx(rpc: &Rpc, hash: &str) -> Result<Value> {
    let tx = rpc.call("bot_getTransaction", json!([hash]))?;
    if tx.is_null() {
        bail!("no transaction {hash} on this chain or in this node's mempool");
    }
    Ok(tx)
}

/// Runs one validator until SIGINT or SIGTERM.
pub fn node(home: &Path) -> Result<()> {
    let home = bot_node::Home::new(home);
    if !home.config_path().exists() {
        bail!(
            "{} is not a validator home (no node.json): `cargo bot devnet` creates them",
            home.dir.display()
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let node = bot_node::start(&home).await.map_err(|e| anyhow!("{e:#}"))?;
        eprintln!(
            "node {} serving JSON-RPC on http://{}",
            home.dir.display(),
            node.rpc
        );
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        #[cfg(unix)]
        let terminated = term.recv();
        #[cfg(not(unix))]
        let terminated = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        eprintln!("stopping");
        node.stop().await.map_err(|e| anyhow!("{e:#}"))
    })
}

/// `cargo bot devnet`: creates (or resumes) the devnet in `dir` and runs it until Ctrl-C.
pub fn devnet(json_out: bool, dir: &Path, nodes: Option<usize>, reset: bool) -> Result<()> {
    if reset && dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let existing = crate::devnet::homes(dir).len();
    if existing == 0 {
        crate::devnet::init(dir, nodes.unwrap_or(1))?;
    } else if let Some(n) = nodes
        && n != existing
    {
        bail!(
            "{} holds a devnet of {existing} validators, not {n}: pass --reset to start a new one",
            dir.display()
        );
    }
    let mut devnet = crate::devnet::Devnet::start(dir)?;
    if json_out {
        println!("{}", devnet.describe());
    } else {
        println!(
            "devnet `{}` with {} validator(s), home {}",
            crate::devnet::CHAIN_ID,
            devnet.rpcs.len(),
            dir.display()
        );
        for (i, rpc) in devnet.rpcs.iter().enumerate() {
            println!(
                "  node{i}  rpc {rpc}  log {}",
                crate::devnet::node_home(dir, i).join("node.log").display()
            );
        }
        println!("funded accounts: {}", client::DEV_ACCOUNTS.join(", "));
        println!("Ctrl-C stops it; running it again resumes from disk");
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let flag = stop.clone();
    runtime.spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    #[cfg(unix)]
    {
        let flag = stop.clone();
        let _guard = runtime.enter();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        runtime.spawn(async move {
            term.recv().await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }
    runtime.block_on(async {
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    devnet.stop();
    if !json_out {
        println!("devnet stopped");
    }
    Ok(())
}
