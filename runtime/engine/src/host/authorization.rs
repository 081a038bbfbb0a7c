//! `bot:contract/authorization`: access grants and registered services (Y.4464 7.2.1, 10.3 to
//! 10.5), as the chain holds them. A contract checks that whoever asks holds the right it
//! needs; refusing is the contract's own error, not the host's.

// Host functions take the canonical ABI flattening of their WIT parameters.
#![allow(clippy::too_many_arguments)]

use wasmer::RuntimeError;

use super::devices::{charge_returned, read_address};
use super::guest::{self, Env, backend, charge, field};
use crate::abi::layout;
use crate::execute::HostTrap;
use crate::gas::COSTS;
use crate::iot::Right;

/// An `option<string>` argument flattened as (tag, ptr, len).
fn read_option_name(
    env: &mut Env,
    (tag, ptr, len): (i32, i32, i32),
    what: &str,
) -> Result<Option<String>, RuntimeError> {
    match tag {
        0 => Ok(None),
        1 => {
            let limit = env.data().host_limits.max_key_bytes;
            Ok(Some(guest::read_string(
                env, ptr as u32, len as u32, limit, what,
            )?))
        }
        other => Err(HostTrap::violation(format!(
            "{what} has option tag {other}; expected 0 or 1"
        ))),
    }
}

pub(crate) fn check(
    mut env: Env,
    holder_ptr: i32,
    holder_len: i32,
    case: i32,
    target_ptr: i32,
    target_len: i32,
    name_tag: i32,
    name_ptr: i32,
    name_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    // One read for the exact right, a second for the same right over every stream or method.
    let narrow = name_tag == 1 && case != 1;
    let reads = if narrow { 2 } else { 1 };
    let mut bytes = u64::from(holder_len as u32) + u64::from(target_len as u32);
    if narrow {
        bytes += u64::from(name_len as u32);
    }
    charge(
        &mut env,
        "authorization.check",
        COSTS
            .storage_get
            .for_bytes(bytes)
            .and_then(|c| c.checked_add(COSTS.storage_get.base * (reads - 1))),
    )?;
    let holder = read_address(&mut env, holder_ptr, holder_len, "grant holder")?;
    let target = read_address(&mut env, target_ptr, target_len, "right target")?;
    let name = (name_tag, name_ptr, name_len);
    let right = match case {
        0 => Right::ReadData {
            device: target,
            stream: read_option_name(&mut env, name, "right stream")?,
        },
        1 => Right::Command { device: target },
        2 => Right::CallService {
            service: target,
            method: read_option_name(&mut env, name, "right method")?,
        },
        other => {
            return Err(HostTrap::violation(format!(
                "right has case {other}; expected 0 (read-data), 1 (command) or 2 (call-service)"
            )));
        }
    };
    let data = env.data();
    let grant = data
        .host()?
        .grant(&holder, &right, data.block.time_ms)
        .map_err(backend)?;
    let ret = ret as u32;
    use layout::grant as g;
    let Some(grant) = grant else {
        return guest::write_u8(&mut env, field(ret, g::TAG)?, 0);
    };
    charge_returned(&mut env, "authorization.check", 40)?;
    guest::write_u8(&mut env, field(ret, g::TAG)?, 1)?;
    guest::write_list_at(&mut env, field(ret, g::GRANTER)?, &grant.granter.0)?;
    match grant.expires_ms {
        Some(at) => {
            guest::write_u8(&mut env, field(ret, g::EXPIRES_TAG)?, 1)?;
            guest::write_u64(&mut env, field(ret, g::EXPIRES)?, at)?;
        }
        None => guest::write_u8(&mut env, field(ret, g::EXPIRES_TAG)?, 0)?,
    }
    guest::write_u64(&mut env, field(ret, g::GRANTED_AT)?, grant.granted_at)
}

pub(crate) fn get_service(
    mut env: Env,
    addr_ptr: i32,
    addr_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "authorization.get-service",
        COSTS.storage_get.for_bytes(addr_len as u32 as u64),
    )?;
    let contract = read_address(&mut env, addr_ptr, addr_len, "service address")?;
    let service = env.data().host()?.service(&contract).map_err(backend)?;
    let ret = ret as u32;
    use layout::service as s;
    let Some(service) = service else {
        return guest::write_u8(&mut env, field(ret, s::TAG)?, 0);
    };
    let bytes = 49 + service.name.len() + service.description.len();
    charge_returned(&mut env, "authorization.get-service", bytes)?;
    guest::write_u8(&mut env, field(ret, s::TAG)?, 1)?;
    guest::write_list_at(&mut env, field(ret, s::CONTRACT)?, &service.contract.0)?;
    guest::write_list_at(&mut env, field(ret, s::OWNER)?, &service.owner.0)?;
    guest::write_list_at(&mut env, field(ret, s::NAME)?, service.name.as_bytes())?;
    let description = service.description.as_bytes();
    guest::write_list_at(&mut env, field(ret, s::DESCRIPTION)?, description)?;
    guest::write_u8(&mut env, field(ret, s::GRANTED)?, u8::from(service.granted))?;
    guest::write_u64(
        &mut env,
        field(ret, s::REGISTERED_AT)?,
        service.registered_at,
    )
}
