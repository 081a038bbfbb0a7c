//! `cargo bot sandbox`: the engine a contract project's tests use through the `bot-sandbox`
//! crate, served over stdin/stdout one JSON line at a time, so the project never compiles it.
//!
//! The server greets with `{"bot_sandbox": bot_sandbox::PROTOCOL_VERSION, "cost_table": N}`, then answers
//! each request line with one line, until its input closes:
//! - `{"deploy": {"wasm": 0x, "at"?: address}}` → `{"address"}`
//! - `{"call": {"contract", "method", "args": 0x borsh, "read_only", "caller", "gas_limit",
//!   "height", "time_ms"}}` → `{"receipt": JSON, "result": 0x|null, "events": [{"contract",
//!   "name", "data": 0x}], "breakdown": {"host": [{"name", "calls", "gas"}],
//!   "storage_bytes_read", "storage_bytes_written"}}`
//! - `{"encode": {"contract", "method", "args": JSON}}` → `{"bytes": 0x}`
//! - `{"abi": {"contract"}}` → `{"abi": JSON|null}`
//!
//! A request that breaks a rule gets `{"error": message}`; the server goes on.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, anyhow, bail};
use bot_node::rpc::hex0x;
use bot_sandbox_engine::{Address, Compiler, Sandbox};
use serde_json::{Value, json};

use bot_sandbox::PROTOCOL_VERSION;

/// Serves requests from `input` to `output` until `input` ends.
pub fn serve(compiler: Compiler, input: impl BufRead, mut output: impl Write) -> Result<()> {
    let mut sandbox = Sandbox::with_compiler(compiler);
    let hello = json!({
        "bot_sandbox": PROTOCOL_VERSION,
        "cost_table": bot_engine::COST_TABLE_VERSION,
    });
    writeln!(output, "{hello}")?;
    output.flush()?;
    for line in input.lines() {
        let line = line.context("reading a request")?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = serde_json::from_str::<Value>(&line)
            .map_err(|e| anyhow!("a request is one JSON object per line: {e}"))
            .and_then(|request| answer(&mut sandbox, &request))
            .unwrap_or_else(|e| json!({ "error": format!("{e:#}") }));
        writeln!(output, "{answer}")?;
        output.flush()?;
    }
    Ok(())
}

fn answer(sandbox: &mut Sandbox, request: &Value) -> Result<Value> {
    let Some((op, body)) = request.as_object().and_then(|o| o.iter().next()) else {
        bail!("a request is an object naming one of deploy, call, encode, abi: {request}");
    };
    match op.as_str() {
        "deploy" => {
            let wasm = hex_field(body, "wasm")?;
            let address = match body.get("at") {
                Some(at) => {
                    let at = address(at)?;
                    sandbox.deploy_at(at, &wasm)?;
                    at
                }
                None => sandbox.deploy(&wasm)?,
            };
            Ok(json!({ "address": address.to_string() }))
        }
        "call" => call(sandbox, body),
        "encode" => {
            let contract = address(&body["contract"])?;
            let bytes = sandbox.encode_json(contract, text(body, "method")?, &body["args"])?;
            Ok(json!({ "bytes": hex0x(&bytes) }))
        }
        "abi" => {
            let abi = sandbox.abi(address(&body["contract"])?);
            Ok(json!({ "abi": abi.map(|a| serde_json::to_value(&*a)).transpose()? }))
        }
        other => bail!("unknown request `{other}`: expected deploy, call, encode or abi"),
    }
}

fn call(sandbox: &mut Sandbox, body: &Value) -> Result<Value> {
    sandbox.caller = address(&body["caller"])?;
    sandbox.gas_limit = number(body, "gas_limit")?;
    sandbox.block.height = number(body, "height")?;
    sandbox.block.time_ms = number(body, "time_ms")?;
    let read_only = body["read_only"]
        .as_bool()
        .ok_or_else(|| anyhow!("`read_only` is true or false"))?;
    let receipt = sandbox.call_raw(
        address(&body["contract"])?,
        text(body, "method")?,
        hex_field(body, "args")?,
        read_only,
    );
    let events: Vec<Value> = receipt
        .events
        .iter()
        .map(
            |e| json!({"contract": e.contract.to_string(), "name": e.name, "data": hex0x(&e.data)}),
        )
        .collect();
    let host: Vec<Value> = receipt
        .breakdown
        .host
        .iter()
        .map(|h| json!({"name": h.name, "calls": h.calls, "gas": h.gas}))
        .collect();
    Ok(json!({
        "receipt": receipt.to_json(),
        "result": receipt.result.as_ref().ok().map(|r| hex0x(r)),
        "events": events,
        "breakdown": {
            "host": host,
            "storage_bytes_read": receipt.breakdown.storage_bytes_read,
            "storage_bytes_written": receipt.breakdown.storage_bytes_written,
        },
    }))
}

fn text<'a>(body: &'a Value, field: &str) -> Result<&'a str> {
    body[field]
        .as_str()
        .ok_or_else(|| anyhow!("`{field}` is a string"))
}

fn number(body: &Value, field: &str) -> Result<u64> {
    body[field]
        .as_u64()
        .ok_or_else(|| anyhow!("`{field}` is an unsigned integer"))
}

fn hex_field(body: &Value, field: &str) -> Result<Vec<u8>> {
    let text = text(body, field)?;
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| anyhow!("`{field}` is not 0x hex: {e}"))
}

fn address(value: &Value) -> Result<Address> {
    let text = value
        .as_str()
        .ok_or_else(|| anyhow!("an address is a 0x string: {value}"))?;
    text.parse()
        .map_err(|e| anyhow!("`{text}` is not an address: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(requests: &[Value]) -> Vec<Value> {
        let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
        let mut output = Vec::new();
        serve(Compiler::Cranelift, input.as_bytes(), &mut output).unwrap();
        String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn bad_requests_are_answered_by_name_and_the_server_goes_on() {
        let answers = session(&[
            json!("not an object"),
            json!({"launch": {}}),
            json!({"deploy": {"wasm": "0xzz"}}),
            json!({"deploy": {"wasm": "0x0061736d"}}),
            json!({"abi": {"contract": "0x00"}}),
        ]);
        assert_eq!(answers[0]["bot_sandbox"], json!(PROTOCOL_VERSION));
        let errors: Vec<&str> = answers[1..]
            .iter()
            .map(|a| a["error"].as_str().unwrap())
            .collect();
        assert!(errors[0].contains("naming one of deploy"), "{}", errors[0]);
        assert!(
            errors[1].contains("unknown request `launch`"),
            "{}",
            errors[1]
        );
        assert!(errors[2].contains("`wasm` is not 0x hex"), "{}", errors[2]);
        assert!(errors[3].contains("deploy check"), "{}", errors[3]);
        assert!(errors[4].contains("not an address"), "{}", errors[4]);
    }
}
