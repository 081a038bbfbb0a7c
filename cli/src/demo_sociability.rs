//! The demo's fourth part, on the same devnet: Y.4464 Appendix II.4, device sociability. Two
//! grocers run detergent stores (examples/detergent-store); alice's washing machine, a device
//! with its own key, has an agent (examples/washer-agent) with the rules she set. The machine
//! reports a full level (nothing happens), then a low one and asks its agent to check: the agent
//! orders from the cheaper store within her price and tells the machine with a command, which
//! the machine acknowledges. Keys stay in memory.

use std::path::Path;

use anyhow::{Result, anyhow, bail};
use bot_chain::TxKind;
use bot_chain::iot::{IotTx, Right};
use serde_json::{Value, json};

use crate::chain_cmds;
use crate::client::{self, Rpc};
use crate::demo_iot::{OwnDevice, ok};

/// Deploys one of the example contracts in `contracts` as `from`; its address.
fn deploy(rpc: &Rpc, contracts: &Path, name: &str, from: &str, init_args: Value) -> Result<String> {
    let wasm = contracts.join(format!("{name}.wasm"));
    let deployed = chain_cmds::deploy(
        rpc,
        from,
        &wasm,
        Some("new"),
        Some(&init_args.to_string()),
        None,
    )?;
    if !deployed.ok {
        bail!("deploying {name} failed: {}", deployed.out);
    }
    deployed.out["address"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("deploying {name} gave no address"))
}

fn call(rpc: &Rpc, from: &str, contract: &str, method: &str, args: Value) -> Result<Value> {
    let (out, succeeded) =
        chain_cmds::call(rpc, from, contract, method, Some(&args.to_string()), None)?;
    if !succeeded {
        bail!("{method} failed: {}", out["error"]["message"]);
    }
    Ok(out)
}

/// Runs the flow with the example contracts built in `contracts`; what each step returned.
pub fn run(rpc: &Rpc, contracts: &Path) -> Result<Value> {
    let chain_id = rpc.chain_id()?;
    let alice = client::key("alice")?;
    let mut stores = Vec::new();
    for (grocer, price) in [("bob", 9), ("carol", 7)] {
        let store = deploy(
            rpc,
            contracts,
            "detergent_store",
            grocer,
            json!({ "name": grocer }),
        )?;
        let stock = json!({ "product": "detergent", "price": price, "quantity": 5 });
        call(rpc, grocer, &store, "stock", stock)?;
        stores.push((grocer, store));
    }

    let washer = OwnDevice::register(rpc, &alice, "washing-machine", r#"{"room":"utility"}"#)?;
    let rules = json!({
        "stores": [stores[0].1, stores[1].1],
        "product": "detergent",
        "below_ml": 200,
        "quantity": 1,
        "max_price": 8,
    });
    let agent = deploy(
        rpc,
        contracts,
        "washer_agent",
        "alice",
        json!({ "washer": washer.id.to_string(), "rules": rules }),
    )?;
    for (grocer, store) in &stores {
        call(
            rpc,
            grocer,
            store,
            "credit",
            json!({ "customer": agent, "amount": 20 }),
        )?;
    }
    let agent_address = agent.parse().map_err(anyhow::Error::msg)?;
    for right in [
        Right::ReadData {
            device: washer.id,
            stream: Some("detergent".into()),
        },
        Right::Command { device: washer.id },
    ] {
        let grant = IotTx::Grant {
            right,
            grantee: agent_address,
            expires_ms: None,
        };
        ok(
            "a grant to the agent",
            rpc.transact(&alice, TxKind::Iot(grant), None)?,
        )?;
    }

    // The machine reports its level and asks its agent to check, from its own account.
    let check = || TxKind::Call {
        contract: agent_address,
        method: "check".into(),
        args: Vec::new(),
    };
    let mut levels = Vec::new();
    for (counter, level) in [(1, 900), (2, 150)] {
        let data = json!({ "level_ml": level }).to_string().into_bytes();
        let report = washer.report(&chain_id, "detergent", counter, data);
        ok(
            "a level reading",
            rpc.transact(&washer.account, report, None)?,
        )?;
        levels.push(ok(
            "the agent's check",
            rpc.transact(&washer.account, check(), None)?,
        )?);
    }

    // The agent told the machine; the machine acknowledges, signed with its key.
    let pending = rpc.call(
        "bot_getCommands",
        json!([{ "device": washer.id.to_string(), "pending": true }]),
    )?;
    let command = pending["commands"]
        .get(0)
        .cloned()
        .ok_or_else(|| anyhow!("the agent sent the machine no command"))?;
    let id = command["id"]
        .as_u64()
        .ok_or_else(|| anyhow!("a command without an id: {command}"))?;
    let answer = crate::iot_cmds::answer(&chain_id, &washer.signer, id, true, br#"{"shown":true}"#);
    let acknowledged = ok(
        "the machine's answer",
        rpc.transact(&washer.account, TxKind::Iot(answer), None)?,
    )?;
    let (last, _) = chain_cmds::query(rpc, &agent, "last_purchase", None)?;
    let (credit, _) = chain_cmds::query(
        rpc,
        &stores[1].1,
        "credit_of",
        Some(&json!({ "customer": agent }).to_string()),
    )?;
    Ok(json!({
        "store_a": stores[0].1,
        "store_b": stores[1].1,
        "washer": washer.id.to_string(),
        "agent": agent,
        "full_check": levels[0],
        "low_check": levels[1],
        "command": command,
        "acknowledged": acknowledged,
        "last_purchase": last["result"],
        "agent_credit_at_b": credit["result"],
    }))
}
