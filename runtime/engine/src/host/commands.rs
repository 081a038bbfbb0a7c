//! `bot:contract/commands`: commands to devices (Y.4464 10.6 steps 3 to 6). `send` checks the
//! device and the sender's right to command it, charges the callback's gas, and adds the
//! request to the call's commands, which the chain stores if the call succeeds; `reply` hands a
//! callback the answer the chain is delivering.

// Host functions take the canonical ABI flattening of their WIT parameters.
#![allow(clippy::too_many_arguments)]

use wasmer::RuntimeError;

use super::devices::{charge_returned, read_address};
use super::guest::{self, Env, backend, charge, charge_more, field};
use crate::abi::layout;
use crate::execute::HostTrap;
use crate::gas::COSTS;
use crate::iot::{CommandRequest, DeviceStatus, Right, command_limits as limits};

/// `commands.send-error` discriminants, in WIT order.
#[derive(Clone, Copy)]
enum SendError {
    NoDevice = 0,
    NotGranted = 1,
    Inactive = 2,
}

fn read_name(
    env: &mut Env,
    (ptr, len): (i32, i32),
    max: u32,
    what: &str,
) -> Result<String, RuntimeError> {
    let name = guest::read_string(env, ptr as u32, len as u32, max, what)?;
    if name.is_empty() {
        return Err(HostTrap::violation(format!("{what} is empty")));
    }
    Ok(name)
}

/// The request, or why the device will not get it.
fn request(
    env: &mut Env,
    (device_ptr, device_len): (i32, i32),
    command: (i32, i32),
    (payload_ptr, payload_len): (i32, i32),
    timeout: u32,
    callback: (i32, i32),
    callback_gas: u64,
) -> Result<Result<CommandRequest, SendError>, RuntimeError> {
    // The device and the grant are read; the request is stored by the chain, which charges
    // its writes (and the audit record) from the gas the call leaves.
    let bytes = [device_len, command.1, payload_len, callback.1]
        .iter()
        .map(|l| u64::from(*l as u32))
        .sum();
    charge(
        env,
        "commands.send",
        COSTS
            .storage_get
            .for_bytes(bytes)
            .and_then(|c| c.checked_add(COSTS.storage_get.base)),
    )?;
    guest::require_writable(env, "commands.send")?;
    let device = read_address(env, device_ptr, device_len, "command device")?;
    let command = read_name(env, command, limits::MAX_NAME, "command name")?;
    let payload = guest::read_bytes(
        env,
        payload_ptr as u32,
        payload_len as u32,
        limits::MAX_PAYLOAD,
        "command payload",
    )?;
    let callback = read_name(env, callback, limits::MAX_CALLBACK, "callback method")?;
    if timeout == 0 || timeout > limits::MAX_TIMEOUT_BLOCKS {
        return Err(HostTrap::violation(format!(
            "command timeout is {timeout} blocks; it must be 1 to {}",
            limits::MAX_TIMEOUT_BLOCKS
        )));
    }
    if callback_gas > limits::MAX_CALLBACK_GAS {
        return Err(HostTrap::violation(format!(
            "callback gas {callback_gas} is over the limit of {}",
            limits::MAX_CALLBACK_GAS
        )));
    }
    let data = env.data();
    let host = data.host()?;
    let service = data.frame()?.contract;
    let time_ms = data.block.time_ms;
    let Some(info) = host.device(&device).map_err(backend)? else {
        return Ok(Err(SendError::NoDevice));
    };
    let granted_by = if info.owner == service {
        None
    } else {
        match host
            .grant(&service, &Right::Command { device }, time_ms)
            .map_err(backend)?
        {
            Some(grant) => Some(grant.granter),
            None => return Ok(Err(SendError::NotGranted)),
        }
    };
    if info.status != DeviceStatus::Active {
        return Ok(Err(SendError::Inactive));
    }
    // The callback's gas is paid now: whatever happens later, it is there.
    charge_more(env, "commands.send", Some(callback_gas))?;
    let data = env.data();
    let first = host.next_command_id().map_err(backend)?;
    let id = first.saturating_add(data.commands.len() as u64);
    Ok(Ok(CommandRequest {
        id,
        service,
        device,
        command,
        payload,
        timeout_blocks: timeout,
        callback,
        callback_gas,
        granted_by,
    }))
}

pub(crate) fn send(
    mut env: Env,
    device_ptr: i32,
    device_len: i32,
    command_ptr: i32,
    command_len: i32,
    payload_ptr: i32,
    payload_len: i32,
    timeout: i32,
    callback_ptr: i32,
    callback_len: i32,
    callback_gas: i64,
    ret: i32,
) -> Result<(), RuntimeError> {
    let request = request(
        &mut env,
        (device_ptr, device_len),
        (command_ptr, command_len),
        (payload_ptr, payload_len),
        timeout as u32,
        (callback_ptr, callback_len),
        callback_gas as u64,
    )?;
    let ret = ret as u32;
    use layout::send_result as o;
    match request {
        Ok(request) => {
            let id = request.id;
            env.data_mut().commands.push(request);
            guest::write_u8(&mut env, field(ret, o::TAG)?, 0)?;
            guest::write_u64(&mut env, field(ret, o::OK)?, id)
        }
        Err(e) => {
            guest::write_u8(&mut env, field(ret, o::TAG)?, 1)?;
            guest::write_u8(&mut env, field(ret, o::ERR)?, e as u8)
        }
    }
}

pub(crate) fn reply(mut env: Env, ret: i32) -> Result<(), RuntimeError> {
    charge(&mut env, "commands.reply", Some(COSTS.env.base))?;
    let data = env.data();
    // Only the callback's own frame is given the reply, not the contracts it calls.
    let reply = data.reply.clone().filter(|_| data.frames.len() == 1);
    let ret = ret as u32;
    use layout::reply as r;
    let Some(reply) = reply else {
        return guest::write_u8(&mut env, field(ret, r::TAG)?, 0);
    };
    charge_returned(
        &mut env,
        "commands.reply",
        28 + reply.command.len() + reply.data.len(),
    )?;
    guest::write_u8(&mut env, field(ret, r::TAG)?, 1)?;
    guest::write_u64(&mut env, field(ret, r::ID)?, reply.id)?;
    guest::write_list_at(&mut env, field(ret, r::DEVICE)?, &reply.device.0)?;
    guest::write_list_at(&mut env, field(ret, r::COMMAND)?, reply.command.as_bytes())?;
    guest::write_u8(&mut env, field(ret, r::STATUS)?, reply.status as u8)?;
    guest::write_list_at(&mut env, field(ret, r::DATA)?, &reply.data)?;
    guest::write_u64(&mut env, field(ret, r::HEIGHT)?, reply.height)
}
