//! Reading and writing the calling contract's memory under the canonical ABI, and charging
//! its gas. Every guest pointer and length is checked; a bad one is a deterministic
//! [`HostTrap::Violation`], never a host panic.

use wasmer::{FunctionEnvMut, RuntimeError, Value};

use crate::execute::{HostTrap, TxEnv};

pub(crate) type Env<'a> = FunctionEnvMut<'a, TxEnv>;

/// Charges `cost` for one call of the host function `name` before any work is done. `None`
/// (an overflowed price) can never be paid. Running out marks the meter exhausted, as Metering
/// does.
pub(crate) fn charge(
    env: &mut Env,
    name: &'static str,
    cost: Option<u64>,
) -> Result<(), RuntimeError> {
    debit(env, Some((name, true)), cost)
}

/// Charges a further fee of the same call of `name` (the bytes it returns, say).
pub(crate) fn charge_more(
    env: &mut Env,
    name: &'static str,
    cost: Option<u64>,
) -> Result<(), RuntimeError> {
    debit(env, Some((name, false)), cost)
}

/// Sets gas aside for a callee. Not a fee: what the callee uses is recorded as it happens, and
/// what it leaves is given back.
pub(crate) fn reserve(env: &mut Env, gas: u64) -> Result<(), RuntimeError> {
    debit(env, None, Some(gas))
}

fn debit(
    env: &mut Env,
    fee: Option<(&'static str, bool)>,
    cost: Option<u64>,
) -> Result<(), RuntimeError> {
    let frame = env.data().frame()?;
    let (remaining, exhausted) = (frame.remaining.clone(), frame.exhausted.clone());
    let left = match remaining.get(env) {
        Value::I64(v) => v as u64,
        _ => 0,
    };
    match cost {
        Some(cost) if cost <= left => {
            remaining.set(env, Value::I64((left - cost) as i64))?;
            if let Some((name, new_call)) = fee {
                env.data_mut().gas_use.record(name, new_call, cost);
            }
            Ok(())
        }
        _ => {
            exhausted.set(env, Value::I32(1))?;
            Err(HostTrap::OutOfGas.into())
        }
    }
}

/// Gas left to the executing contract.
pub(crate) fn gas_left(env: &mut Env) -> Result<u64, RuntimeError> {
    let remaining = env.data().frame()?.remaining.clone();
    Ok(match remaining.get(env) {
        Value::I64(v) => v as u64,
        _ => 0,
    })
}

fn out_of_bounds(what: &str, ptr: u32, len: u64, size: u64) -> RuntimeError {
    HostTrap::violation(format!(
        "{what}: bytes {ptr}..{} are outside the contract's memory of {size} bytes",
        u64::from(ptr) + len
    ))
}

/// Refuses `len` bytes at `ptr` unless they are inside the guest's memory; reads nothing.
pub(crate) fn check_range(
    env: &mut Env,
    ptr: u32,
    len: u32,
    what: &str,
) -> Result<(), RuntimeError> {
    let view = env.data().frame()?.memory.view(env);
    let size = view.data_size();
    if u64::from(ptr) + u64::from(len) > size {
        return Err(out_of_bounds(what, ptr, len.into(), size));
    }
    Ok(())
}

/// Copies `len` bytes at `ptr` out of the guest; refuses more than `limit` bytes.
pub(crate) fn read_bytes(
    env: &mut Env,
    ptr: u32,
    len: u32,
    limit: u32,
    what: &str,
) -> Result<Vec<u8>, RuntimeError> {
    if len > limit {
        return Err(HostTrap::violation(format!(
            "{what} is {len} bytes; the limit is {limit}"
        )));
    }
    check_range(env, ptr, len, what)?;
    let view = env.data().frame()?.memory.view(env);
    let size = view.data_size();
    let mut buf = vec![0u8; len as usize];
    view.read(u64::from(ptr), &mut buf)
        .map_err(|_| out_of_bounds(what, ptr, len.into(), size))?;
    Ok(buf)
}

/// Like [`read_bytes`], and the bytes must be UTF-8.
pub(crate) fn read_string(
    env: &mut Env,
    ptr: u32,
    len: u32,
    limit: u32,
    what: &str,
) -> Result<String, RuntimeError> {
    let bytes = read_bytes(env, ptr, len, limit, what)?;
    String::from_utf8(bytes).map_err(|e| HostTrap::violation(format!("{what} is not UTF-8: {e}")))
}

pub(crate) fn read_u8(env: &mut Env, at: u32) -> Result<u8, RuntimeError> {
    Ok(read_bytes(env, at, 1, 1, "return area")?[0])
}

pub(crate) fn read_u32(env: &mut Env, at: u32) -> Result<u32, RuntimeError> {
    let b = read_bytes(env, at, 4, 4, "return area")?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes `bytes` at `at` in the guest's memory.
pub(crate) fn write_at(env: &mut Env, at: u32, bytes: &[u8]) -> Result<(), RuntimeError> {
    let view = env.data().frame()?.memory.view(env);
    let size = view.data_size();
    if u64::from(at) + bytes.len() as u64 > size {
        return Err(out_of_bounds("return area", at, bytes.len() as u64, size));
    }
    view.write(u64::from(at), bytes)
        .map_err(|_| out_of_bounds("return area", at, bytes.len() as u64, size))
}

pub(crate) fn write_u8(env: &mut Env, at: u32, value: u8) -> Result<(), RuntimeError> {
    write_at(env, at, &[value])
}

pub(crate) fn write_u64(env: &mut Env, at: u32, value: u64) -> Result<(), RuntimeError> {
    write_at(env, at, &value.to_le_bytes())
}

pub(crate) fn write_u32(env: &mut Env, at: u32, value: u32) -> Result<(), RuntimeError> {
    write_at(env, at, &value.to_le_bytes())
}

/// Allocates `bytes.len()` bytes in the guest with its `cabi_realloc` (metered guest code) and
/// copies `bytes` there. Returns (ptr, len). An empty list needs no allocation.
pub(crate) fn write_bytes(
    env: &mut Env,
    bytes: &[u8],
    align: u32,
) -> Result<(u32, u32), RuntimeError> {
    let len = u32::try_from(bytes.len()).map_err(|_| {
        HostTrap::violation("a value of more than 4 GiB cannot be passed to a contract")
    })?;
    let ptr = alloc(env, len, align)?;
    if len > 0 {
        write_at(env, ptr, bytes)?;
    }
    Ok((ptr, len))
}

/// Allocates `size` bytes aligned to `align` in the guest with its `cabi_realloc` (metered
/// guest code), for the host to fill. Zero bytes need no allocation: the pointer is `align`,
/// as the canonical ABI gives an empty list.
pub(crate) fn alloc(env: &mut Env, size: u32, align: u32) -> Result<u32, RuntimeError> {
    if size == 0 {
        return Ok(align);
    }
    let realloc = env.data().frame()?.realloc.clone();
    env.data_mut().allocating = true;
    let ptr = realloc.call(env, 0, 0, align as i32, size as i32);
    env.data_mut().allocating = false;
    Ok(ptr? as u32)
}

/// Writes a `list<u8>` into the guest and its (ptr, len) at `at`.
pub(crate) fn write_list_at(env: &mut Env, at: u32, bytes: &[u8]) -> Result<(), RuntimeError> {
    let (ptr, len) = write_bytes(env, bytes, 1)?;
    write_u32(env, at, ptr)?;
    write_u32(env, field(at, 4)?, len)
}

/// Refuses writes from a read-only call.
pub(crate) fn require_writable(env: &Env, what: &str) -> Result<(), RuntimeError> {
    if env.data().frame()?.read_only {
        return Err(HostTrap::violation(format!(
            "{what} is not allowed in a read-only call"
        )));
    }
    Ok(())
}

/// Turns a state backend failure into a trap that aborts the whole execution as a host failure.
pub(crate) fn backend(e: crate::host::HostError) -> RuntimeError {
    HostTrap::Engine(crate::EngineError::Host(e)).into()
}

/// `base + offset` for a return-area field, refusing pointers that wrap around.
pub(crate) fn field(base: u32, offset: u32) -> Result<u32, RuntimeError> {
    base.checked_add(offset).ok_or_else(|| {
        HostTrap::violation(format!(
            "return area at {base} wraps around the address space"
        ))
    })
}
