//! `cargo bot watch`: follows the chain as it commits — each block, and the events of its
//! transactions and of the commands that timed out at its end (device registrations,
//! readings, commands and answers, grants, access records, contract events) — optionally only
//! those about one device, contract or event name.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::client::Rpc;

/// What to follow.
pub struct Watch {
    /// Start after this height (default: the current head).
    pub from: Option<u64>,
    /// Only events emitted by this device, service or contract (an address).
    pub subject: Option<String>,
    /// Only events with this name (`device.reading`, `incremented`...).
    pub event: Option<String>,
    /// Stop after this many blocks (default: until interrupted).
    pub blocks: Option<u64>,
    /// Print blocks even when none of their events match.
    pub quiet_blocks: bool,
}

/// Follows the chain, calling `out` with each block and each matching event (as JSON with a
/// `type` of `block` or `event`).
pub fn watch(rpc: &Rpc, w: &Watch, mut out: impl FnMut(&Value)) -> Result<()> {
    let head = rpc.status()?["height"].as_u64().unwrap_or(0);
    let mut next = w.from.map_or(head + 1, |f| f + 1);
    let mut seen = 0u64;
    let mut idle = Instant::now();
    while w.blocks.is_none_or(|n| seen < n) {
        let block = rpc.call("bot_getBlock", json!([next]))?;
        if block.is_null() {
            if idle.elapsed() > Duration::from_secs(120) {
                bail!("no block {next} for two minutes: is the chain running?");
            }
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        idle = Instant::now();
        let mut q = json!({ "height": next });
        if let Some(subject) = &w.subject {
            q["contract"] = json!(subject);
        }
        if let Some(name) = &w.event {
            q["name"] = json!(name);
        }
        let events: Vec<Value> = rpc
            .call("bot_getEvents", json!([q]))?
            .as_array()
            .into_iter()
            .flatten()
            .map(|event| {
                json!({
                    "type": "event",
                    "height": next,
                    "tx_hash": event["tx_hash"],
                    "subject": event["contract"],
                    "name": event["name"],
                    "data": event["data"],
                })
            })
            .collect();
        if !w.quiet_blocks || !events.is_empty() {
            out(&json!({
                "type": "block",
                "height": next,
                "hash": block["hash"],
                "time_ms": block["time_ms"],
                "txs": block["txs"].as_array().map_or(0, Vec::len),
            }));
        }
        for e in &events {
            out(e);
        }
        seen += 1;
        next += 1;
    }
    Ok(())
}

/// One line of text for a watched item.
pub fn line(item: &Value) -> String {
    if item["type"] == "block" {
        return format!(
            "block {}  {} txs  {}",
            item["height"],
            item["txs"],
            item["hash"].as_str().unwrap_or_default()
        );
    }
    let data = &item["data"];
    let detail = match item["name"].as_str().unwrap_or_default() {
        "device.reading" => format!(
            "{} #{} {}",
            data["stream"].as_str().unwrap_or_default(),
            data["counter"],
            if data["value"].is_null() {
                data["data"].clone()
            } else {
                data["value"].clone()
            }
        ),
        "command.sent" | "command.answered" | "command.timed_out" => format!(
            "#{} {} -> {}  {}",
            data["id"],
            data["command"].as_str().unwrap_or_default(),
            data["service"].as_str().unwrap_or_default(),
            match data["state"].as_str() {
                Some("answered") if data["value"].is_null() => data["data"].to_string(),
                Some("answered") => data["value"].to_string(),
                Some(state) => state.to_string(),
                None => String::new(),
            }
        ),
        _ => data.to_string(),
    };
    format!(
        "  {} {}  {}",
        item["name"].as_str().unwrap_or_default(),
        item["subject"].as_str().unwrap_or_default(),
        detail
    )
}
