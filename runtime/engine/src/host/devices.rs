//! `bot:contract/devices`: the chain's device registry and readings (Y.4464 10.6, 10.7). The
//! registry is public; a device's readings are for its owner and the holders of its owner's
//! `read-data` grant, and each read joins the call's data accesses, which the chain writes to
//! the device's audit trail if the call succeeds.

// Host functions take the canonical ABI flattening of their WIT parameters.
#![allow(clippy::too_many_arguments)]

use wasmer::RuntimeError;

use super::guest::{self, Env, backend, charge, charge_more, field};
use crate::abi::layout;
use crate::execute::HostTrap;
use crate::gas::{COSTS, HostCost};
use crate::iot::{DataAccess, MAX_READINGS_PER_CALL, ReadingInfo, Right};
use crate::primitives::Address;

/// `devices.read-error` discriminants, in WIT order.
#[derive(Clone, Copy)]
enum ReadError {
    NoDevice = 0,
    NotGranted = 1,
}

pub(crate) fn read_address(
    env: &mut Env,
    ptr: i32,
    len: i32,
    what: &str,
) -> Result<Address, RuntimeError> {
    let bytes = guest::read_bytes(env, ptr as u32, len as u32, 20, what)?;
    Address::from_slice(&bytes).ok_or_else(|| {
        HostTrap::violation(format!("{what} is {} bytes; addresses are 20", bytes.len()))
    })
}

/// Charges what a value of `bytes` bytes read from the registry and returned costs.
pub(crate) fn charge_returned(
    env: &mut Env,
    name: &'static str,
    bytes: usize,
) -> Result<(), RuntimeError> {
    env.data_mut().gas_use.storage_bytes_read += bytes as u64;
    charge_more(
        env,
        name,
        HostCost::per_byte(COSTS.storage_get.per_byte + COSTS.return_per_byte)
            .for_bytes(bytes as u64),
    )
}

pub(crate) fn get(mut env: Env, id_ptr: i32, id_len: i32, ret: i32) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "devices.get",
        COSTS.storage_get.for_bytes(id_len as u32 as u64),
    )?;
    let id = read_address(&mut env, id_ptr, id_len, "devices.get id")?;
    let device = env.data().host()?.device(&id).map_err(backend)?;
    let ret = ret as u32;
    use layout::device as d;
    let Some(device) = device else {
        return guest::write_u8(&mut env, field(ret, d::TAG)?, 0);
    };
    let bytes = 40 + device.public_key.len() + device.kind.len() + device.metadata.len();
    charge_returned(&mut env, "devices.get", bytes)?;
    guest::write_u8(&mut env, field(ret, d::TAG)?, 1)?;
    guest::write_list_at(&mut env, field(ret, d::ID)?, &device.id.0)?;
    guest::write_list_at(&mut env, field(ret, d::OWNER)?, &device.owner.0)?;
    match device.gateway {
        Some(gateway) => {
            guest::write_u8(&mut env, field(ret, d::GATEWAY_TAG)?, 1)?;
            guest::write_list_at(&mut env, field(ret, d::GATEWAY)?, &gateway.0)?;
        }
        None => guest::write_u8(&mut env, field(ret, d::GATEWAY_TAG)?, 0)?,
    }
    guest::write_list_at(&mut env, field(ret, d::KIND)?, device.kind.as_bytes())?;
    guest::write_list_at(
        &mut env,
        field(ret, d::METADATA)?,
        device.metadata.as_bytes(),
    )?;
    guest::write_u8(&mut env, field(ret, d::STATUS)?, device.status as u8)?;
    guest::write_u8(&mut env, field(ret, d::KEY_TYPE)?, device.key_type as u8)?;
    guest::write_list_at(&mut env, field(ret, d::PUBLIC_KEY)?, &device.public_key)?;
    guest::write_u32(&mut env, field(ret, d::KEY_VERSION)?, device.key_version)?;
    guest::write_u64(&mut env, field(ret, d::COUNTER)?, device.counter)?;
    guest::write_u64(
        &mut env,
        field(ret, d::REGISTERED_AT)?,
        device.registered_at,
    )
}

/// The readings the executing contract may read, or why not; records the access.
fn read(
    env: &mut Env,
    name: &'static str,
    (id_ptr, id_len, stream_ptr, stream_len): (i32, i32, i32, i32),
    after: u64,
    newest_first: bool,
    limit: u32,
) -> Result<Result<Vec<ReadingInfo>, ReadError>, RuntimeError> {
    // The device, then the grant's two possible keys.
    let base = COSTS.storage_get.base.checked_mul(3);
    let bytes = u64::from(id_len as u32) + u64::from(stream_len as u32);
    charge(
        env,
        name,
        base.and_then(|b| COSTS.storage_scan.for_bytes(bytes)?.checked_add(b)),
    )?;
    let device = read_address(env, id_ptr, id_len, "device id")?;
    let limit_bytes = env.data().host_limits.max_key_bytes;
    let stream = guest::read_string(
        env,
        stream_ptr as u32,
        stream_len as u32,
        limit_bytes,
        "stream",
    )?;
    let data = env.data();
    let host = data.host()?;
    let accessor = data.frame()?.contract;
    let time_ms = data.block.time_ms;
    let Some(info) = host.device(&device).map_err(backend)? else {
        return Ok(Err(ReadError::NoDevice));
    };
    let granted_by = if info.owner == accessor {
        None
    } else {
        let right = Right::ReadData {
            device,
            stream: Some(stream.clone()),
        };
        match host.grant(&accessor, &right, time_ms).map_err(backend)? {
            Some(grant) => Some(grant.granter),
            None => return Ok(Err(ReadError::NotGranted)),
        }
    };
    let limit = limit.min(MAX_READINGS_PER_CALL) as usize;
    let readings = host
        .readings(&device, &stream, after, newest_first, limit)
        .map_err(backend)?;
    let out: usize = readings
        .iter()
        .map(|r| r.stream.len() + r.data.len() + 24)
        .sum();
    let per_entry = COSTS
        .storage_scan_per_entry
        .checked_mul(readings.len() as u64);
    let per_byte = HostCost::per_byte(COSTS.storage_scan.per_byte + COSTS.return_per_byte)
        .for_bytes(out as u64);
    env.data_mut().gas_use.storage_bytes_read += out as u64;
    charge_more(
        env,
        name,
        per_entry.zip(per_byte).and_then(|(a, b)| a.checked_add(b)),
    )?;
    env.data_mut().accesses.push(DataAccess {
        accessor,
        device,
        stream,
        readings: readings.len() as u32,
        granted_by,
    });
    Ok(Ok(readings))
}

/// Writes a `reading` record at `at`.
fn write_reading(env: &mut Env, at: u32, reading: &ReadingInfo) -> Result<(), RuntimeError> {
    use layout::reading as r;
    guest::write_list_at(env, field(at, r::STREAM)?, reading.stream.as_bytes())?;
    guest::write_u64(env, field(at, r::COUNTER)?, reading.counter)?;
    guest::write_list_at(env, field(at, r::DATA)?, &reading.data)?;
    guest::write_u64(env, field(at, r::HEIGHT)?, reading.height)?;
    guest::write_u64(env, field(at, r::TIME_MS)?, reading.time_ms)
}

pub(crate) fn readings(
    mut env: Env,
    id_ptr: i32,
    id_len: i32,
    stream_ptr: i32,
    stream_len: i32,
    after: i64,
    limit: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let ids = (id_ptr, id_len, stream_ptr, stream_len);
    let read = read(
        &mut env,
        "devices.readings",
        ids,
        after as u64,
        false,
        limit as u32,
    )?;
    let ret = ret as u32;
    use layout::readings_result as o;
    let readings = match read {
        Ok(readings) => readings,
        Err(e) => {
            guest::write_u8(&mut env, field(ret, o::TAG)?, 1)?;
            return guest::write_u8(&mut env, field(ret, o::ERR)?, e as u8);
        }
    };
    use layout::reading as r;
    // At most MAX_READINGS_PER_CALL records: the array size fits easily in a u32.
    let array = guest::alloc(&mut env, readings.len() as u32 * r::SIZE, r::ALIGN)?;
    for (i, reading) in readings.iter().enumerate() {
        write_reading(&mut env, field(array, i as u32 * r::SIZE)?, reading)?;
    }
    guest::write_u8(&mut env, field(ret, o::TAG)?, 0)?;
    guest::write_u32(&mut env, field(ret, o::OK_PTR)?, array)?;
    guest::write_u32(&mut env, field(ret, o::OK_LEN)?, readings.len() as u32)
}

pub(crate) fn latest(
    mut env: Env,
    id_ptr: i32,
    id_len: i32,
    stream_ptr: i32,
    stream_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let ids = (id_ptr, id_len, stream_ptr, stream_len);
    let read = read(&mut env, "devices.latest", ids, 0, true, 1)?;
    let ret = ret as u32;
    use layout::latest_result as o;
    match read {
        Err(e) => {
            guest::write_u8(&mut env, field(ret, o::TAG)?, 1)?;
            guest::write_u8(&mut env, field(ret, o::ERR)?, e as u8)
        }
        Ok(readings) => {
            guest::write_u8(&mut env, field(ret, o::TAG)?, 0)?;
            match readings.first() {
                None => guest::write_u8(&mut env, field(ret, o::OPTION_TAG)?, 0),
                Some(reading) => {
                    guest::write_u8(&mut env, field(ret, o::OPTION_TAG)?, 1)?;
                    write_reading(&mut env, field(ret, o::READING)?, reading)
                }
            }
        }
    }
}
