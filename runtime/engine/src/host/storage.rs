//! `bot:contract/storage`: the calling contract's key-value store, through the call stack's
//! overlay of uncommitted writes.

use wasmer::RuntimeError;

use super::guest::{self, Env, backend, charge, charge_more, field};
use crate::abi::layout;
use crate::execute::HostTrap;
use crate::gas::{COSTS, HostCost};
use crate::overlay::{ScanGas, ScanPrice};
use crate::primitives::{KeyRange, Order};

fn read_key(env: &mut Env, ptr: i32, len: i32, what: &str) -> Result<Vec<u8>, RuntimeError> {
    let limit = env.data().host_limits.max_key_bytes;
    guest::read_bytes(env, ptr as u32, len as u32, limit, what)
}

/// The committed-or-pending value of `key` for the executing contract.
fn lookup(env: &Env, key: &[u8]) -> Result<Option<Vec<u8>>, RuntimeError> {
    let data = env.data();
    let contract = data.frame()?.contract;
    data.overlay
        .get(&*data.host()?, &contract, key)
        .map_err(backend)
}

pub(crate) fn get(mut env: Env, key_ptr: i32, key_len: i32, ret: i32) -> Result<(), RuntimeError> {
    let cost = &COSTS.storage_get;
    charge(
        &mut env,
        "storage.get",
        cost.for_bytes(key_len as u32 as u64),
    )?;
    let key = read_key(&mut env, key_ptr, key_len, "storage.get key")?;
    let ret = ret as u32;
    use layout::option_list as o;
    match lookup(&env, &key)? {
        None => guest::write_u8(&mut env, field(ret, o::TAG)?, 0),
        Some(value) => {
            charge_more(
                &mut env,
                "storage.get",
                HostCost::per_byte(cost.per_byte + COSTS.return_per_byte)
                    .for_bytes(value.len() as u64),
            )?;
            env.data_mut().gas_use.storage_bytes_read += value.len() as u64;
            guest::write_u8(&mut env, field(ret, o::TAG)?, 1)?;
            guest::write_list_at(&mut env, field(ret, o::PTR)?, &value)
        }
    }
}

pub(crate) fn has(mut env: Env, key_ptr: i32, key_len: i32) -> Result<i32, RuntimeError> {
    charge(
        &mut env,
        "storage.has",
        COSTS.storage_has.for_bytes(key_len as u32 as u64),
    )?;
    let key = read_key(&mut env, key_ptr, key_len, "storage.has key")?;
    Ok(i32::from(lookup(&env, &key)?.is_some()))
}

pub(crate) fn set(
    mut env: Env,
    key_ptr: i32,
    key_len: i32,
    value_ptr: i32,
    value_len: i32,
) -> Result<(), RuntimeError> {
    let bytes = u64::from(key_len as u32) + u64::from(value_len as u32);
    charge(&mut env, "storage.set", COSTS.storage_set.for_bytes(bytes))?;
    guest::require_writable(&env, "storage.set")?;
    let key = read_key(&mut env, key_ptr, key_len, "storage.set key")?;
    let limit = env.data().host_limits.max_value_bytes;
    let value = guest::read_bytes(
        &mut env,
        value_ptr as u32,
        value_len as u32,
        limit,
        "storage.set value",
    )?;
    count_written(&mut env, bytes)?;
    let data = env.data_mut();
    let contract = data.frame()?.contract;
    data.gas_use.storage_bytes_written += bytes;
    let first = data.overlay.set(contract, key, Some(value));
    charge_commit(&mut env, "storage.set", first)
}

pub(crate) fn remove(mut env: Env, key_ptr: i32, key_len: i32) -> Result<(), RuntimeError> {
    charge(
        &mut env,
        "storage.remove",
        COSTS.storage_remove.for_bytes(key_len as u32 as u64),
    )?;
    guest::require_writable(&env, "storage.remove")?;
    let key = read_key(&mut env, key_ptr, key_len, "storage.remove key")?;
    count_written(&mut env, key.len() as u64)?;
    let data = env.data_mut();
    let contract = data.frame()?.contract;
    let first = data.overlay.set(contract, key, None);
    charge_commit(&mut env, "storage.remove", first)
}

/// Counts `bytes` against what one transaction may write, before they are stored.
fn count_written(env: &mut Env, bytes: u64) -> Result<(), RuntimeError> {
    let limit = env.data().host_limits.max_write_bytes;
    let data = env.data_mut();
    let total = data.written_bytes.saturating_add(bytes);
    if total > limit {
        return Err(HostTrap::violation(format!(
            "a transaction may write at most {limit} bytes of storage keys and values; this write would make {total}"
        )));
    }
    data.written_bytes = total;
    Ok(())
}

/// The commit price of a key written for the first time in this call stack: each key written
/// in a block costs a Merkle path update and a redb write at commit, however often it was set.
/// Charged after the write: if gas runs out the call fails and its writes are dropped.
fn charge_commit(env: &mut Env, name: &'static str, first: bool) -> Result<(), RuntimeError> {
    if first {
        charge_more(env, name, Some(COSTS.storage_commit))?;
    }
    Ok(())
}

/// Reads an `option<list<u8>>` argument, flattened as (tag, ptr, len).
fn read_bound(
    env: &mut Env,
    tag: i32,
    ptr: i32,
    len: i32,
    what: &str,
) -> Result<Option<Vec<u8>>, RuntimeError> {
    match tag {
        0 => Ok(None),
        1 => Ok(Some(read_key(env, ptr, len, what)?)),
        other => Err(HostTrap::violation(format!(
            "{what} has option tag {other}; expected 0 or 1"
        ))),
    }
}

#[allow(clippy::too_many_arguments)] // the canonical ABI flattening of its parameters
pub(crate) fn scan(
    mut env: Env,
    prefix_ptr: i32,
    prefix_len: i32,
    start_tag: i32,
    start_ptr: i32,
    start_len: i32,
    end_tag: i32,
    end_ptr: i32,
    end_len: i32,
    order: i32,
    limit: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let cost = &COSTS.storage_scan;
    let mut in_bytes = u64::from(prefix_len as u32);
    if start_tag == 1 {
        in_bytes += u64::from(start_len as u32);
    }
    if end_tag == 1 {
        in_bytes += u64::from(end_len as u32);
    }
    charge(&mut env, "storage.scan", cost.for_bytes(in_bytes))?;
    let prefix = read_key(&mut env, prefix_ptr, prefix_len, "storage.scan prefix")?;
    let start = read_bound(
        &mut env,
        start_tag,
        start_ptr,
        start_len,
        "storage.scan start",
    )?;
    let end = read_bound(&mut env, end_tag, end_ptr, end_len, "storage.scan end")?;
    let order = match order {
        0 => Order::Ascending,
        1 => Order::Descending,
        other => {
            return Err(HostTrap::violation(format!(
                "storage.scan order {other} is not 0 or 1"
            )));
        }
    };
    let limit = (limit as u32).min(env.data().host_limits.max_scan_page) as usize;
    let range = KeyRange::with_prefix(&prefix, start, end);
    let budget = guest::gas_left(&mut env)?;
    let price = ScanPrice {
        per_page: cost.base,
        per_entry: COSTS.storage_scan_per_entry,
        per_byte: cost.per_byte,
    };
    let scan = {
        let data = env.data();
        let contract = data.frame()?.contract;
        data.overlay
            .scan(
                &*data.host()?,
                &contract,
                &range,
                order,
                limit,
                ScanGas { price, budget },
            )
            .map_err(backend)?
    };
    env.data_mut().gas_use.storage_bytes_read += scan.bytes;
    if scan.out_of_gas {
        return charge_more(&mut env, "storage.scan", None);
    }
    charge_more(&mut env, "storage.scan", Some(scan.cost))?;
    let (entries, more) = (scan.entries, scan.more);
    let out_bytes: u64 = entries
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum();
    charge_more(
        &mut env,
        "storage.scan",
        COSTS.return_per_byte.checked_mul(out_bytes),
    )?;

    use layout::{entry, page};
    let ret = ret as u32;
    // entries.len() <= max_scan_page, so the array size fits easily in a u32.
    let array_ptr = guest::alloc(&mut env, entries.len() as u32 * entry::SIZE, entry::ALIGN)?;
    for (i, (key, value)) in entries.iter().enumerate() {
        let at = field(array_ptr, i as u32 * entry::SIZE)?;
        guest::write_list_at(&mut env, at, key)?;
        guest::write_list_at(&mut env, field(at, 8)?, value)?;
    }
    guest::write_u32(&mut env, field(ret, page::ENTRIES_PTR)?, array_ptr)?;
    guest::write_u32(
        &mut env,
        field(ret, page::ENTRIES_LEN)?,
        entries.len() as u32,
    )?;
    let next = match (more, entries.last(), order) {
        (true, Some((last, _)), Order::Ascending) => {
            let mut next = last.clone();
            next.push(0);
            Some(next)
        }
        (true, Some((last, _)), Order::Descending) => Some(last.clone()),
        _ => None,
    };
    match next {
        None => guest::write_u8(&mut env, field(ret, page::NEXT_TAG)?, 0),
        Some(next) => {
            guest::write_u8(&mut env, field(ret, page::NEXT_TAG)?, 1)?;
            guest::write_list_at(&mut env, field(ret, page::NEXT_PTR)?, &next)
        }
    }
}
