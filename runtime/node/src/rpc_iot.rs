//! The IoT registries over JSON-RPC: devices, readings, commands, services, grants (with a
//! proof for the off-chain check of Y.4464 10.5) and audit trails. Each method takes one object of named
//! parameters; lists are paged with `after`/`from` and `limit` (at most 1,000).

use bot_chain::iot::{DeviceFilter, Right, check_grant, command_json, reading_json};
use bot_engine::Address;
use jsonrpsee::server::RpcModule;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::rpc::{RpcState, bad, hex0x, node, parse_address};

type RpcResult = Result<Value, ErrorObjectOwned>;

fn named<T: serde::de::DeserializeOwned>(
    params: &Params,
    method: &str,
) -> Result<T, ErrorObjectOwned> {
    let value: Value = params
        .sequence()
        .next()
        .map_err(|e| bad(format!("{method}: {}", e.message())))?;
    serde_json::from_value(value).map_err(|e| bad(format!("{method}: {e}")))
}

fn address(text: &Option<String>) -> Result<Option<Address>, ErrorObjectOwned> {
    text.as_deref().map(parse_address).transpose()
}

/// How many items a list call returns: what it asked for (100 by default), at most the
/// node's `rpc.max_list`.
fn page(s: &RpcState, limit: Option<usize>) -> usize {
    limit.unwrap_or(100).clamp(1, s.limits.max_list)
}

fn to_json(value: impl serde::Serialize) -> RpcResult {
    serde_json::to_value(value).map_err(node)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListDevices {
    owner: Option<String>,
    gateway: Option<String>,
    kind: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Readings {
    device: String,
    stream: String,
    from: Option<u64>,
    to: Option<u64>,
    #[serde(default)]
    newest_first: bool,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grants {
    target: String,
    grantee: Option<String>,
    limit: Option<usize>,
}

// (`deny_unknown_fields` does not combine with `flatten`.)
#[derive(Deserialize)]
struct CheckGrant {
    #[serde(flatten)]
    right: Right,
    grantee: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Audit {
    target: String,
    from: Option<u64>,
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Commands {
    /// One device's commands, or those of every device behind `gateway`.
    device: Option<String>,
    gateway: Option<String>,
    from: Option<u64>,
    #[serde(default)]
    pending: bool,
    limit: Option<usize>,
    /// Where a previous call stopped (its `next`), to go on from.
    cursor: Option<Cursor>,
}

/// Where a list of commands goes on: at this device, from this command id.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Cursor {
    device: String,
    from: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandId {
    device: String,
    id: u64,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    after: Option<String>,
    limit: Option<usize>,
}

/// The grant check with what an off-chain service needs to verify it without trusting this
/// node: the height, its state root and a proof of the grant's key.
fn check(s: &RpcState, q: CheckGrant) -> RpcResult {
    let grantee = parse_address(&q.grantee)?;
    let head = s.chain.head().map_err(node)?;
    let view = s.chain.view().map_err(node)?;
    let answer = check_grant(&view, &q.right, &grantee, head.time_ms).map_err(node)?;
    // Prove what decided: the grant found, or else the absence (or expiry) of every key that
    // could grant the right (the exact right and the same right over every stream or method).
    let keys: Vec<Vec<u8>> = match &answer {
        Ok(grant) => vec![bot_chain::layout::grant(&grant.right, &grantee)],
        Err(_) => std::iter::once(q.right.clone())
            .chain(q.right.wildcard())
            .map(|r| bot_chain::layout::grant(&r, &grantee))
            .collect(),
    };
    let mut proofs = Vec::new();
    for key in keys {
        let proof = s.chain.prove(&key, head.height).map_err(node)?;
        proofs.push(json!({ "key": hex0x(&key), "proof": hex0x(&proof.to_bytes()) }));
    }
    let mut out = json!({
        "granted": answer.is_ok(),
        "height": head.height,
        "time_ms": head.time_ms,
        "state_root": hex0x(&head.state_root),
        "proofs": proofs,
    });
    match answer {
        Ok(grant) => out["grant"] = to_json(grant)?,
        Err(reason) => out["reason"] = json!(reason),
    }
    Ok(out)
}

/// One device's commands, or those of the devices behind a gateway (in device order), at
/// most `limit` and reading at most `rpc.max_list_scan` index entries and commands: `next`
/// is the cursor to pass to go on, `null` once every command was listed.
fn commands(s: &RpcState, q: Commands) -> RpcResult {
    let view = s.chain.view().map_err(node)?;
    let limit = page(s, q.limit);
    let mut budget = s.limits.max_list_scan;
    let resume = match &q.cursor {
        Some(c) => Some((parse_address(&c.device)?, c.from)),
        None => None,
    };
    let mut out = Vec::new();
    let mut next = None;
    match (address(&q.device)?, address(&q.gateway)?) {
        (Some(device), None) => {
            let from = resume.map_or(q.from.unwrap_or(0), |(_, from)| from);
            let found = view
                .commands(&device, from, q.pending, limit, budget)
                .map_err(node)?;
            out.extend(found.items.iter().map(command_json));
            next = found.next.map(|from| Cursor {
                device: device.to_string(),
                from,
            });
        }
        (None, Some(gateway)) => {
            let filter = DeviceFilter {
                gateway: Some(&gateway),
                ..Default::default()
            };
            // The cursor's device is where the last call stopped: it is read again from its
            // command, then the devices after it.
            let base = q.from.unwrap_or(0);
            let (mut current, mut from) = match resume {
                Some((device, from)) => (Some(device), from),
                None => (None, base),
            };
            let mut after: Option<Address> = None;
            'devices: loop {
                if budget == 0 {
                    // Go on after the last device read through (none of its commands left).
                    next = after.map(|device| Cursor {
                        device: device.to_string(),
                        from: u64::MAX,
                    });
                    break;
                }
                let devices: Vec<Address> = match current.take() {
                    Some(device) => vec![device],
                    None => {
                        let found = view
                            .devices(filter, after.as_ref(), 64, budget)
                            .map_err(node)?;
                        budget = budget.saturating_sub(found.scanned.max(1));
                        if found.items.is_empty() {
                            if found.next.is_some() {
                                continue;
                            }
                            break;
                        }
                        found.items.iter().map(|d| d.id).collect()
                    }
                };
                for device in devices {
                    after = Some(device);
                    if budget == 0 || out.len() >= limit {
                        next = Some(Cursor {
                            device: device.to_string(),
                            from,
                        });
                        break 'devices;
                    }
                    let found = view
                        .commands(&device, from, q.pending, limit - out.len(), budget)
                        .map_err(node)?;
                    budget = budget.saturating_sub(found.scanned.max(1));
                    out.extend(found.items.iter().map(command_json));
                    if let Some(at) = found.next {
                        next = Some(Cursor {
                            device: device.to_string(),
                            from: at,
                        });
                        break 'devices;
                    }
                    from = base;
                }
            }
        }
        _ => return Err(bad("bot_getCommands: give `device` or `gateway`")),
    }
    Ok(json!({ "commands": out, "next": next }))
}

pub fn register(m: &mut RpcModule<RpcState>) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    m.register_blocking_method("bot_getDevice", |p, s, _| -> RpcResult {
        let id = parse_address(&named::<String>(&p, "bot_getDevice")?)?;
        to_json(s.chain.view().map_err(node)?.device(&id).map_err(node)?)
    })?;
    m.register_blocking_method("bot_listDevices", |p, s, _| -> RpcResult {
        let q: ListDevices = named(&p, "bot_listDevices")?;
        let (owner, gateway) = (address(&q.owner)?, address(&q.gateway)?);
        let filter = DeviceFilter {
            owner: owner.as_ref(),
            gateway: gateway.as_ref(),
            kind: q.kind.as_deref(),
        };
        let after = address(&q.after)?;
        let view = s.chain.view().map_err(node)?;
        let found = view
            .devices(
                filter,
                after.as_ref(),
                page(&s, q.limit),
                s.limits.max_list_scan,
            )
            .map_err(node)?;
        Ok(json!({
            "devices": to_json(found.items)?,
            "next": found.next.map(|a| a.to_string()),
        }))
    })?;
    m.register_blocking_method("bot_getReadings", |p, s, _| -> RpcResult {
        let q: Readings = named(&p, "bot_getReadings")?;
        let device = parse_address(&q.device)?;
        bot_chain::iot::check_stream(&q.stream).map_err(bad)?;
        let view = s.chain.view().map_err(node)?;
        let readings = view
            .readings(
                &device,
                &q.stream,
                q.from,
                q.to,
                q.newest_first,
                page(&s, q.limit),
            )
            .map_err(node)?;
        Ok(Value::Array(readings.iter().map(reading_json).collect()))
    })?;
    m.register_blocking_method("bot_getService", |p, s, _| -> RpcResult {
        let contract = parse_address(&named::<String>(&p, "bot_getService")?)?;
        to_json(
            s.chain
                .view()
                .map_err(node)?
                .service(&contract)
                .map_err(node)?,
        )
    })?;
    m.register_blocking_method("bot_listServices", |p, s, _| -> RpcResult {
        let q: Page = p
            .sequence()
            .optional_next()
            .map_err(|e| bad(format!("bot_listServices: {}", e.message())))?
            .unwrap_or_default();
        let after = address(&q.after)?;
        let view = s.chain.view().map_err(node)?;
        to_json(
            view.services(after.as_ref(), page(&s, q.limit))
                .map_err(node)?,
        )
    })?;
    m.register_blocking_method("bot_listGrants", |p, s, _| -> RpcResult {
        let q: Grants = named(&p, "bot_listGrants")?;
        let target = parse_address(&q.target)?;
        let grantee = address(&q.grantee)?;
        let view = s.chain.view().map_err(node)?;
        to_json(
            view.grants(&target, grantee.as_ref(), page(&s, q.limit))
                .map_err(node)?,
        )
    })?;
    m.register_blocking_method("bot_checkGrant", |p, s, _| {
        check(&s, named(&p, "bot_checkGrant")?)
    })?;
    m.register_blocking_method("bot_getCommands", |p, s, _| {
        commands(&s, named(&p, "bot_getCommands")?)
    })?;
    m.register_blocking_method("bot_getCommand", |p, s, _| -> RpcResult {
        let q: CommandId = named(&p, "bot_getCommand")?;
        let device = parse_address(&q.device)?;
        let view = s.chain.view().map_err(node)?;
        Ok(view
            .command(&device, q.id)
            .map_err(node)?
            .map_or(Value::Null, |c| command_json(&c)))
    })?;
    m.register_blocking_method("bot_getAudit", |p, s, _| -> RpcResult {
        let q: Audit = named(&p, "bot_getAudit")?;
        let target = parse_address(&q.target)?;
        let view = s.chain.view().map_err(node)?;
        to_json(
            view.audit(&target, q.from.unwrap_or(0), page(&s, q.limit))
                .map_err(node)?,
        )
    })?;
    Ok(())
}
