//! `bot:contract/runtime`: abort with a message, and debug logs that never reach consensus.

use wasmer::RuntimeError;

use super::guest::{self, Env, charge};
use crate::execute::HostTrap;
use crate::gas::COSTS;

/// Reads a message, keeping at most the message limit (longer ones are cut, not refused).
fn message(env: &mut Env, ptr: i32, len: i32) -> Result<String, RuntimeError> {
    let limit = env.data().host_limits.max_message_bytes;
    let len = (len as u32).min(limit);
    let bytes = guest::read_bytes(env, ptr as u32, len, limit, "message")?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn abort(mut env: Env, ptr: i32, len: i32) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "runtime.abort",
        COSTS.abort.for_bytes(len as u32 as u64),
    )?;
    let message = message(&mut env, ptr, len)?;
    Err(HostTrap::Abort(message).into())
}

/// Log lines kept per transaction, and the bytes after which no more are kept. A line past
/// either is charged and its range checked (the outcome is the same) but never read: decoding
/// and keeping 4 KiB lines took ~20x the time their gas buys (issue 19's calibration).
const MAX_LOG_LINES: usize = 1_000;
const MAX_LOG_BYTES: usize = 64 * 1024;

pub(crate) fn log(mut env: Env, ptr: i32, len: i32) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "runtime.log",
        COSTS.log.for_bytes(len as u32 as u64),
    )?;
    let data = env.data();
    let limit = data.host_limits.max_message_bytes;
    let len = (len as u32).min(limit);
    if data.logs.len() >= MAX_LOG_LINES || data.log_bytes >= MAX_LOG_BYTES {
        return guest::check_range(&mut env, ptr as u32, len, "message");
    }
    let bytes = guest::read_bytes(&mut env, ptr as u32, len, limit, "message")?;
    // Lossy decoding of bytes that are not UTF-8 costs ~5 ns a byte: such a line is kept as
    // its length (the SDK's `log` takes a `&str`, so only hand-written wasm sends one).
    let line = String::from_utf8(bytes)
        .unwrap_or_else(|e| format!("<{} bytes, not UTF-8>", e.as_bytes().len()));
    let data = env.data_mut();
    data.log_bytes += line.len();
    data.logs.push(line);
    Ok(())
}
