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

/// At most this many log lines are kept per call; the rest are dropped.
const MAX_LOG_LINES: usize = 1_000;

pub(crate) fn log(mut env: Env, ptr: i32, len: i32) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "runtime.log",
        COSTS.log.for_bytes(len as u32 as u64),
    )?;
    let line = message(&mut env, ptr, len)?;
    let logs = &mut env.data_mut().logs;
    if logs.len() < MAX_LOG_LINES {
        logs.push(line);
    }
    Ok(())
}
