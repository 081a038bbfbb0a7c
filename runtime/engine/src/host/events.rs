//! `bot:contract/events`: events join the call's result and are dropped if it fails.

use wasmer::RuntimeError;

use super::guest::{self, Env, charge};
use crate::execute::HostTrap;
use crate::gas::COSTS;
use crate::primitives::Event;

pub(crate) fn emit(
    mut env: Env,
    name_ptr: i32,
    name_len: i32,
    data_ptr: i32,
    data_len: i32,
) -> Result<(), RuntimeError> {
    let bytes = u64::from(name_len as u32) + u64::from(data_len as u32);
    charge(&mut env, "events.emit", COSTS.emit.for_bytes(bytes))?;
    guest::require_writable(&env, "events.emit")?;
    let limits = env.data().host_limits.clone();
    // A running total, not a sum over the events so far: that made each emit cost more than
    // the last (a thousand small events took 3x the time their gas bought).
    let (count, emitted) = (env.data().events.len(), env.data().event_bytes);
    if count >= limits.max_events as usize {
        return Err(HostTrap::violation(format!(
            "a transaction may emit at most {} events",
            limits.max_events
        )));
    }
    if emitted.saturating_add(bytes) > limits.max_event_bytes {
        return Err(HostTrap::violation(format!(
            "a transaction may emit at most {} bytes of event names and data; this event would make {}",
            limits.max_event_bytes,
            emitted.saturating_add(bytes)
        )));
    }
    let name = guest::read_string(
        &mut env,
        name_ptr as u32,
        name_len as u32,
        limits.max_event_name_bytes,
        "event name",
    )?;
    let data = guest::read_bytes(
        &mut env,
        data_ptr as u32,
        data_len as u32,
        limits.max_event_data_bytes,
        "event data",
    )?;
    let tx = env.data_mut();
    let contract = tx.frame()?.contract;
    tx.event_bytes += (name.len() + data.len()) as u64;
    tx.events.push(Event {
        contract,
        name,
        data,
    });
    Ok(())
}
