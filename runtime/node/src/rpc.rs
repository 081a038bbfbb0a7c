//! JSON-RPC 2.0 over HTTP and WebSocket (one port, loopback by default). Hashes, addresses and
//! byte strings are 0x hex; contract arguments and results are JSON through the contract's ABI
//! where it has one. Method names and shapes are listed in the README's RPC section.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bot_chain::{Block, Chain, ChainError, Receipt, SignedTx, TxKind};
use bot_engine::Address;
use jsonrpsee::server::{
    PendingSubscriptionSink, RpcModule, Server, ServerHandle, SubscriptionMessage,
};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::app::ChainEvent;
use crate::config::RpcConfig;
use crate::gossip::Gossip;
use crate::lane::Lane;
use crate::mempool::Mempool;

/// Invalid parameters (a field missing, a hash that is not hex...).
pub const INVALID_PARAMS: i32 = -32602;
/// The transaction broke a rule (signature, chain id, nonce, size, permission, mempool limits).
pub const TX_REJECTED: i32 = -32000;
/// The call or query failed (engine, contract not found, ABI mismatch).
pub const CALL_FAILED: i32 = -32001;
/// The node failed (store): not the caller's fault.
pub const NODE_ERROR: i32 = -32603;

pub struct RpcState {
    pub chain: Arc<Chain>,
    pub mempool: Arc<Mempool>,
    pub gossip: Option<Gossip>,
    pub events: broadcast::Sender<ChainEvent>,
    pub validator: Option<Address>,
    /// `[{"name", "address", "public_key", "power"}]` from genesis.
    pub validators: Value,
    /// Where queries and simulations run: a few at a time, never on consensus's thread.
    pub runs: Lane,
    pub limits: RpcConfig,
    /// Proposal streams consensus refused (counted by the app).
    pub refused_streams: Arc<AtomicU64>,
}

fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(code, message.into(), None::<()>)
}

pub(crate) fn bad(message: impl Into<String>) -> ErrorObjectOwned {
    err(INVALID_PARAMS, message)
}

pub(crate) fn node(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(NODE_ERROR, e.to_string())
}

type RpcResult = Result<Value, ErrorObjectOwned>;

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn parse_hex(what: &str, text: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|_| bad(format!("{what} is not hex: `{text}`")))
}

pub fn parse_address(text: &str) -> Result<Address, ErrorObjectOwned> {
    Address::from_slice(&parse_hex("address", text)?)
        .ok_or_else(|| bad(format!("an address is 20 bytes (40 hex digits): `{text}`")))
}

pub fn parse_hash(text: &str) -> Result<[u8; 32], ErrorObjectOwned> {
    parse_hex("hash", text)?
        .try_into()
        .map_err(|_| bad(format!("a hash is 32 bytes (64 hex digits): `{text}`")))
}

fn one<T: serde::de::DeserializeOwned>(params: &Params) -> Result<T, ErrorObjectOwned> {
    let mut seq = params.sequence();
    seq.next::<T>().map_err(|e| bad(e.message().to_string()))
}

/// A block as JSON: the header, its hash and its transactions' hashes.
pub fn block_json(block: &Block) -> Value {
    let h = &block.header;
    json!({
        "height": h.height,
        "hash": hex0x(&block.hash()),
        "chain_id": h.chain_id,
        "time_ms": h.time_ms,
        "prev_hash": hex0x(&h.prev_hash),
        "proposer": h.proposer.to_string(),
        "txs_root": hex0x(&h.txs_root),
        "receipts_root": hex0x(&h.receipts_root),
        "state_root": hex0x(&h.state_root),
        "gas_used": h.gas_used,
        "txs": block.txs.iter().map(|t| hex0x(&t.hash())).collect::<Vec<_>>(),
    })
}

fn tx_json(tx: &SignedTx) -> Value {
    let mut out = json!({
        "hash": hex0x(&tx.hash()),
        "signer": tx.signer().map(|a| a.to_string()).unwrap_or_default(),
        "nonce": tx.tx.nonce,
        "gas_limit": tx.tx.gas_limit,
        "kind": tx.tx.kind.name(),
    });
    match &tx.tx.kind {
        TxKind::Upload { wasm } => out["code_bytes"] = json!(wasm.len()),
        TxKind::Instantiate {
            code,
            salt,
            init,
            args,
        } => {
            out["code"] = json!(hex0x(code));
            out["salt"] = json!(hex0x(salt));
            out["init"] = json!(init);
            out["args"] = json!(hex0x(args));
        }
        TxKind::Call {
            contract,
            method,
            args,
        } => {
            out["contract"] = json!(contract.to_string());
            out["method"] = json!(method);
            out["args"] = json!(hex0x(args));
        }
        TxKind::Transfer { to, amount } => {
            out["to"] = json!(to.to_string());
            out["amount"] = json!(amount.to_string());
        }
        TxKind::Permit {
            account,
            deploy,
            transact,
        } => {
            out["account"] = json!(account.to_string());
            out["deploy"] = json!(deploy);
            out["transact"] = json!(transact);
        }
        TxKind::Iot(op) => out["iot"] = serde_json::to_value(op).unwrap_or_default(),
    }
    out
}

/// A receipt as JSON; the result and events are decoded through the ABI of the contract they
/// come from when there is one (`method` names the method whose result this is).
pub fn receipt_json(chain: &Chain, receipt: &Receipt, method: Option<(&Address, &str)>) -> Value {
    let abi_of = |a: &Address| chain.contract_abi(a).ok().flatten();
    let result = match method.and_then(|(c, m)| Some((abi_of(c)?, m))) {
        Some((abi, m)) if receipt.is_ok() => abi
            .method(m)
            .and_then(|m| bot_abi::json::decode_result(&abi, m, &receipt.result).ok()),
        _ => None,
    };
    let events: Vec<Value> = receipt
        .events
        .iter()
        .map(|e| {
            let data = abi_of(&e.contract)
                .and_then(|abi| bot_abi::json::decode_event(&abi, &e.name, &e.data)?.ok())
                .or_else(|| bot_chain::iot::event_json(&e.name, &e.data))
                .unwrap_or_else(|| json!(hex0x(&e.data)));
            json!({ "contract": e.contract.to_string(), "name": e.name, "data": data })
        })
        .collect();
    let mut out = json!({
        "tx_hash": hex0x(&receipt.tx_hash),
        "signer": receipt.signer.to_string(),
        "status": if receipt.is_ok() { "ok" } else { "error" },
        "gas_used": receipt.gas_used,
        "result": result.unwrap_or_else(|| if receipt.result.is_empty() { Value::Null } else { json!(hex0x(&receipt.result)) }),
        "result_hex": hex0x(&receipt.result),
        "events": events,
    });
    if let Some(c) = &receipt.contract {
        out["contract"] = json!(c.to_string());
    }
    if let Some(e) = &receipt.error {
        out["error"] = json!({ "kind": e.kind.name(), "code": e.code, "message": e.message });
    }
    out
}

fn call_of(tx: &SignedTx) -> Option<(Address, String)> {
    match &tx.tx.kind {
        TxKind::Call {
            contract, method, ..
        } => Some((*contract, method.clone())),
        _ => None,
    }
}

/// A committed receipt: its block height, index and transaction (`None` for a receipt the
/// chain made itself: a command timed out at the block's end).
type Committed = (u64, u32, Option<SignedTx>, Receipt);

fn committed_tx(chain: &Chain, hash: &[u8; 32]) -> Result<Option<Committed>, ErrorObjectOwned> {
    let Some((height, index, receipt)) = chain.receipt(hash).map_err(node)? else {
        return Ok(None);
    };
    let block = chain
        .block(height)
        .map_err(node)?
        .ok_or_else(|| node("a receipt's block is missing"))?;
    let tx = block.txs.get(index as usize).cloned();
    Ok(Some((height, index, tx, receipt)))
}

fn status(s: &RpcState) -> RpcResult {
    let head = s.chain.head().map_err(node)?;
    Ok(json!({
        "chain_id": s.chain.chain_id(),
        "height": head.height,
        "app_hash": hex0x(&head.state_root),
        "block_hash": hex0x(&head.hash()),
        "time_ms": head.time_ms,
        "peers": s.gossip.as_ref().map_or(0, |g| g.peers()),
        "mempool": s.mempool.len(),
        "gossip_rejected": s.gossip.as_ref().map_or(0, |g| g.rejected()),
        "proposal_streams_refused": s.refused_streams.load(Ordering::Relaxed),
        "equivocations": crate::app::evidence_count(&s.chain).map_err(node)?,
        "validator": s.validator.map(|a| a.to_string()),
    }))
}

fn send_transaction(s: &RpcState, hex_tx: &str) -> RpcResult {
    let bytes = parse_hex("transaction", hex_tx)?;
    let tx =
        SignedTx::decode(&bytes, s.chain.params()).map_err(|e| err(TX_REJECTED, e.to_string()))?;
    let hash = tx.hash();
    let admitted = s
        .chain
        .check_tx(&tx)
        .map_err(|e| err(TX_REJECTED, e.to_string()))?;
    if s.chain.receipt(&hash).map_err(node)?.is_some() {
        return Err(err(TX_REJECTED, "transaction is already committed"));
    }
    s.mempool
        .insert(tx, hash, admitted.signer, admitted.next_nonce)
        .map_err(|e| err(TX_REJECTED, e.to_string()))?;
    if let Some(g) = &s.gossip {
        g.publish(bytes);
    }
    Ok(json!({ "tx_hash": hex0x(&hash) }))
}

fn block_by(s: &RpcState, id: &Value) -> RpcResult {
    let height = match id {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| bad("a height is a non-negative integer"))?,
        Value::String(t) if t == "latest" => s.chain.height().map_err(node)?,
        Value::String(t) if t.starts_with("0x") => {
            match s.chain.db().block_height(&parse_hash(t)?).map_err(node)? {
                Some(h) => h,
                None => return Ok(Value::Null),
            }
        }
        Value::String(t) => t.parse().map_err(|_| {
            bad(format!(
                "`{t}` is neither a height, `latest` nor a 0x block hash"
            ))
        })?,
        _ => return Err(bad("give a height, `latest` or a 0x block hash")),
    };
    Ok(s.chain
        .block(height)
        .map_err(node)?
        .map_or(Value::Null, |b| block_json(&b)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryParams {
    contract: String,
    method: String,
    #[serde(default)]
    args: Option<Value>,
    /// 0x hex borsh arguments, instead of `args`.
    #[serde(default)]
    args_hex: Option<String>,
    #[serde(default)]
    gas_limit: Option<u64>,
}

fn query(s: &RpcState, p: QueryParams) -> RpcResult {
    let contract = parse_address(&p.contract)?;
    let abi = s
        .chain
        .contract_abi(&contract)
        .map_err(|e| err(CALL_FAILED, e.to_string()))?;
    let args = match (&p.args_hex, &p.args, &abi) {
        (Some(h), _, _) => parse_hex("args_hex", h)?,
        (None, args, Some(abi)) => {
            let m = abi
                .require_method(&p.method)
                .map_err(|e| err(CALL_FAILED, e))?;
            bot_abi::json::encode_args(abi, m, args.as_ref().unwrap_or(&json!({})))
                .map_err(|e| err(CALL_FAILED, e.to_string()))?
        }
        (None, None, None) => Vec::new(),
        (None, Some(_), None) => {
            return Err(err(
                CALL_FAILED,
                format!("the contract at {contract} has no ABI: pass args_hex"),
            ));
        }
    };
    let limits = &s.limits;
    let gas = p.gas_limit.unwrap_or(limits.query_gas);
    if gas > limits.max_query_gas {
        return Err(bad(format!(
            "gas_limit {gas} is above what this node runs a query with ({})",
            limits.max_query_gas
        )));
    }
    let outcome = s
        .chain
        .query(contract, &p.method, args, gas)
        .map_err(|e| err(CALL_FAILED, e.to_string()))?;
    let mut out = json!({ "gas_used": outcome.gas_used });
    match outcome.result {
        Ok(bytes) => {
            let decoded = abi.as_ref().and_then(|abi| {
                bot_abi::json::decode_result(abi, abi.method(&p.method)?, &bytes).ok()
            });
            out["status"] = json!("ok");
            out["result"] = decoded.unwrap_or_else(|| json!(hex0x(&bytes)));
            out["result_hex"] = json!(hex0x(&bytes));
        }
        Err(f) => {
            out["status"] = json!("error");
            out["result"] = Value::Null;
            out["error"] = json!({ "kind": f.kind.name(), "message": f.message });
        }
    }
    Ok(out)
}

fn simulate(s: &RpcState, hex_tx: &str) -> RpcResult {
    let tx = SignedTx::decode(&parse_hex("transaction", hex_tx)?, s.chain.params())
        .map_err(|e| err(TX_REJECTED, e.to_string()))?;
    let receipt = s.chain.simulate(&tx).map_err(|e| match e {
        ChainError::State(_) => node(e),
        e => err(TX_REJECTED, e.to_string()),
    })?;
    let call = call_of(&tx);
    Ok(receipt_json(
        &s.chain,
        &receipt,
        call.as_ref().map(|(c, m)| (c, m.as_str())),
    ))
}

fn events_matching(
    chain: &Chain,
    height: u64,
    contract: Option<Address>,
    name: Option<&str>,
) -> Vec<Value> {
    let Ok(receipts) = chain.db().receipts(height) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for bytes in receipts {
        let Ok(receipt) = Receipt::from_bytes(&bytes) else {
            continue;
        };
        let rendered = receipt_json(chain, &receipt, None);
        for (event, json) in receipt
            .events
            .iter()
            .zip(rendered["events"].as_array().cloned().unwrap_or_default())
        {
            if contract.is_some_and(|c| c != event.contract)
                || name.is_some_and(|n| n != event.name)
            {
                continue;
            }
            let mut json = json;
            json["height"] = json!(height);
            json["tx_hash"] = json!(hex0x(&receipt.tx_hash));
            out.push(json);
        }
    }
    out
}

fn module(
    state: Arc<RpcState>,
) -> Result<RpcModule<RpcState>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::from_arc(state);
    m.register_blocking_method("bot_status", |_, s, _| status(&s))?;
    crate::rpc_iot::register(&mut m)?;
    m.register_blocking_method("bot_getEvidence", |_, s, _| -> RpcResult {
        Ok(Value::from(crate::app::evidence(&s.chain).map_err(node)?))
    })?;
    m.register_blocking_method("bot_validators", |_, s, _| -> RpcResult {
        Ok(s.validators.clone())
    })?;
    m.register_blocking_method("bot_sendTransaction", |p, s, _| {
        send_transaction(&s, &one::<String>(&p)?)
    })?;
    m.register_async_method("bot_simulate", |p, s, _| async move {
        let tx = one::<String>(&p)?;
        let lane = s.clone();
        lane.runs
            .run(move || simulate(&s, &tx))
            .await
            .map_err(node)?
    })?;
    m.register_blocking_method("bot_getTransaction", |p, s, _| -> RpcResult {
        let hash = parse_hash(&one::<String>(&p)?)?;
        Ok(match committed_tx(&s.chain, &hash)? {
            Some((height, index, tx, receipt)) => {
                let call = tx.as_ref().and_then(call_of);
                let mut out = match &tx {
                    Some(tx) => tx_json(tx),
                    None => json!({ "hash": hex0x(&hash), "kind": "command_timeout" }),
                };
                out["height"] = json!(height);
                out["index"] = json!(index);
                out["receipt"] = receipt_json(
                    &s.chain,
                    &receipt,
                    call.as_ref().map(|(c, m)| (c, m.as_str())),
                );
                out
            }
            None if s.mempool.contains(&hash) => json!({ "hash": hex0x(&hash), "pending": true }),
            None => match s.mempool.dropped(&hash) {
                Some(why) => json!({ "hash": hex0x(&hash), "dropped": why }),
                None => Value::Null,
            },
        })
    })?;
    m.register_blocking_method("bot_getReceipt", |p, s, _| -> RpcResult {
        let hash = parse_hash(&one::<String>(&p)?)?;
        Ok(match committed_tx(&s.chain, &hash)? {
            Some((height, index, tx, receipt)) => {
                let call = tx.as_ref().and_then(call_of);
                let mut out = receipt_json(
                    &s.chain,
                    &receipt,
                    call.as_ref().map(|(c, m)| (c, m.as_str())),
                );
                out["height"] = json!(height);
                out["index"] = json!(index);
                out
            }
            None => Value::Null,
        })
    })?;
    m.register_blocking_method("bot_getBlock", |p, s, _| block_by(&s, &one::<Value>(&p)?))?;
    m.register_blocking_method("bot_getEvents", |p, s, _| -> RpcResult {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct EventsAt {
            height: u64,
            contract: Option<String>,
            name: Option<String>,
        }
        // Every receipt's events: the transactions', then the commands timed out at its end.
        let q = one::<EventsAt>(&p)?;
        let contract = q.contract.as_deref().map(parse_address).transpose()?;
        Ok(Value::Array(events_matching(
            &s.chain,
            q.height,
            contract,
            q.name.as_deref(),
        )))
    })?;
    m.register_async_method("bot_query", |p, s, _| async move {
        let q = one::<QueryParams>(&p)?;
        let lane = s.clone();
        lane.runs.run(move || query(&s, q)).await.map_err(node)?
    })?;
    m.register_blocking_method("bot_getAbi", |p, s, _| -> RpcResult {
        let contract = parse_address(&one::<String>(&p)?)?;
        let abi = s.chain.contract_abi(&contract).map_err(|e| err(CALL_FAILED, e.to_string()))?;
        // `section` is the ABI's own (borsh) encoding, for clients that decode it themselves.
        Ok(abi.map_or(Value::Null, |a| {
            json!({ "abi": serde_json::to_value(&*a).unwrap_or(Value::Null), "section": hex0x(&a.to_section()) })
        }))
    })?;
    m.register_blocking_method("bot_getAccount", |p, s, _| -> RpcResult {
        let address = parse_address(&one::<String>(&p)?)?;
        let account = s.chain.account(&address).map_err(node)?;
        Ok(json!({ "address": address.to_string(), "nonce": account.nonce, "balance": account.balance.to_string() }))
    })?;
    m.register_blocking_method("bot_getProof", |p, s, _| -> RpcResult {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ProofParams {
            key: String,
            height: Option<u64>,
        }
        let q = one::<ProofParams>(&p)?;
        let key = parse_hex("key", &q.key)?;
        let height = match q.height {
            Some(h) => h,
            None => s.chain.height().map_err(node)?,
        };
        let proof = s
            .chain
            .prove(&key, height)
            .map_err(|e| err(CALL_FAILED, e.to_string()))?;
        Ok(json!({
            "height": proof.height,
            "key": hex0x(&key),
            "value": proof.value.as_ref().map(|v| hex0x(v)),
            "root": hex0x(&proof.root),
            "proof": hex0x(&proof.to_bytes()),
        }))
    })?;
    m.register_subscription(
        "bot_subscribeBlocks",
        "bot_block",
        "bot_unsubscribeBlocks",
        |_, pending, s, _| async move {
            follow(pending, s, |s, height| {
                s.chain
                    .block(height)
                    .ok()
                    .flatten()
                    .map(|b| vec![block_json(&b)])
                    .unwrap_or_default()
            })
            .await
        },
    )?;
    m.register_subscription(
        "bot_subscribeEvents",
        "bot_event",
        "bot_unsubscribeEvents",
        |p, pending, s, _| async move {
            #[derive(serde::Deserialize, Default)]
            #[serde(deny_unknown_fields)]
            struct Filter {
                contract: Option<String>,
                name: Option<String>,
            }
            let filter: Filter = p
                .sequence()
                .optional_next()
                .ok()
                .flatten()
                .unwrap_or_default();
            let contract = match filter.contract.as_deref().map(parse_address).transpose() {
                Ok(c) => c,
                Err(e) => {
                    pending.reject(e).await;
                    return;
                }
            };
            let name = filter.name;
            follow(pending, s, move |s, height| {
                events_matching(&s.chain, height, contract, name.as_deref())
            })
            .await
        },
    )?;
    Ok(m)
}

/// Sends what `render` makes of each newly committed height until the subscriber leaves.
async fn follow(
    pending: PendingSubscriptionSink,
    s: Arc<RpcState>,
    render: impl Fn(&RpcState, u64) -> Vec<Value> + Send + 'static,
) {
    let mut rx = s.events.subscribe();
    let Ok(sink) = pending.accept().await else {
        return;
    };
    loop {
        let height = tokio::select! {
            _ = sink.closed() => return,
            event = rx.recv() => match event {
                Ok(ChainEvent::Committed { height }) => height,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        for item in render(&s, height) {
            let Ok(raw) = serde_json::value::to_raw_value(&item) else {
                continue;
            };
            let msg = SubscriptionMessage::from(raw);
            if sink.send(msg).await.is_err() {
                return;
            }
        }
    }
}

/// Serves the RPC on `addr` until the handle is stopped or dropped, within `state.limits`.
pub async fn serve(addr: SocketAddr, state: RpcState) -> eyre::Result<(SocketAddr, ServerHandle)> {
    let limits = &state.limits;
    let config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(8 << 20)
        .max_connections(limits.max_connections)
        .max_subscriptions_per_connection(limits.max_subscriptions_per_connection)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
            limits.max_batch,
        ))
        .build();
    let origins = tower::ServiceBuilder::new().layer(crate::rpc_origin::OriginFilterLayer::new(
        limits.allowed_origins.clone(),
    ));
    let server = Server::builder()
        .set_config(config)
        .set_http_middleware(origins)
        .build(addr)
        .await
        .map_err(|e| eyre::eyre!("JSON-RPC cannot listen on {addr}: {e}"))?;
    let local = server.local_addr()?;
    let handle = server.start(module(Arc::new(state))?);
    Ok((local, handle))
}
