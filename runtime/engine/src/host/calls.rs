//! `bot:contract/calls`: synchronous calls to other contracts. The callee runs in its own
//! instance on the same store, with forwarded gas and its own overlay layer: its writes and
//! events fold into the caller's on success and vanish on failure.

// Host functions take the canonical ABI flattening of their WIT parameters.
#![allow(clippy::too_many_arguments)]

use wasmer::{FunctionEnvMut, RuntimeError};

use super::guest::{self, Env, charge, charge_more, field};
use crate::abi::layout;
use crate::execute::{FailureKind, FrameSpec, HostTrap, TxEnv, run_callee};
use crate::gas::{COSTS, HostCost};
use crate::iot::{Right, ServiceCall};
use crate::primitives::Address;

/// `call-error-kind` discriminants, in WIT order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallErrorKind {
    ContractError = 0,
    Trap = 1,
    OutOfGas = 2,
    NotFound = 3,
    DepthExceeded = 4,
    Reentrancy = 5,
}

struct CallError {
    kind: CallErrorKind,
    code: u32,
    message: String,
}

impl CallError {
    fn new(kind: CallErrorKind, message: String) -> CallError {
        CallError {
            kind,
            code: 0,
            message,
        }
    }
}

pub(crate) fn call(
    env: Env,
    addr_ptr: i32,
    addr_len: i32,
    method_ptr: i32,
    method_len: i32,
    args_ptr: i32,
    args_len: i32,
    gas_tag: i32,
    gas: i64,
    ret: i32,
) -> Result<(), RuntimeError> {
    let request = [
        addr_ptr, addr_len, method_ptr, method_len, args_ptr, args_len, gas_tag,
    ];
    call_contract(env, request, gas, ret, false)
}

pub(crate) fn query(
    env: Env,
    addr_ptr: i32,
    addr_len: i32,
    method_ptr: i32,
    method_len: i32,
    args_ptr: i32,
    args_len: i32,
    gas_tag: i32,
    gas: i64,
    ret: i32,
) -> Result<(), RuntimeError> {
    let request = [
        addr_ptr, addr_len, method_ptr, method_len, args_ptr, args_len, gas_tag,
    ];
    call_contract(env, request, gas, ret, true)
}

fn call_contract(
    mut env: Env,
    request: [i32; 7],
    gas: i64,
    ret: i32,
    query: bool,
) -> Result<(), RuntimeError> {
    let [
        addr_ptr,
        addr_len,
        method_ptr,
        method_len,
        args_ptr,
        args_len,
        gas_tag,
    ] = request;
    let in_bytes = [addr_len, method_len, args_len]
        .iter()
        .map(|l| u64::from(*l as u32))
        .sum();
    let what = if query { "calls.query" } else { "calls.call" };
    charge(&mut env, what, COSTS.call_contract.for_bytes(in_bytes))?;
    if !query {
        guest::require_writable(&env, "a read-write call")?;
    }
    let limits = env.data().host_limits.clone();
    let addr = guest::read_bytes(
        &mut env,
        addr_ptr as u32,
        addr_len as u32,
        Address::LEN as u32,
        "contract address",
    )?;
    let contract = Address::from_slice(&addr).ok_or_else(|| {
        HostTrap::violation(format!(
            "{what}: contract address is {} bytes; addresses have 20",
            addr.len()
        ))
    })?;
    let method = guest::read_string(
        &mut env,
        method_ptr as u32,
        method_len as u32,
        limits.max_method_bytes,
        "method name",
    )?;
    let args = guest::read_bytes(
        &mut env,
        args_ptr as u32,
        args_len as u32,
        limits.max_args_bytes,
        "call arguments",
    )?;
    let requested = match gas_tag {
        0 => None,
        1 => Some(gas as u64),
        other => {
            return Err(HostTrap::violation(format!(
                "{what}: gas-limit option tag {other} is not 0 or 1"
            )));
        }
    };
    let result = nested_call(&mut env, contract, &method, &args, requested, query)?;
    write_call_result(env, what, ret as u32, result)
}

fn nested_call(
    env: &mut Env,
    contract: Address,
    method: &str,
    args: &[u8],
    requested: Option<u64>,
    query: bool,
) -> Result<Result<Vec<u8>, CallError>, RuntimeError> {
    let data = env.data();
    let engine = data.engine()?;
    let depth = data.frames.len() as u32;
    let max_depth = engine.config().limits.max_call_depth;
    if depth >= max_depth {
        return Ok(Err(CallError::new(
            CallErrorKind::DepthExceeded,
            format!(
                "calls may nest {max_depth} deep; this one would be {}",
                depth + 1
            ),
        )));
    }
    if !query && data.frames.iter().any(|f| f.contract == contract) {
        return Ok(Err(CallError::new(
            CallErrorKind::Reentrancy,
            format!(
                "{contract} is already executing in this call stack; re-entrant calls are refused"
            ),
        )));
    }
    let caller = data.frame()?.contract;
    let host = data.host()?;
    let code = match engine
        .module_for(&*host, &contract)
        .map_err(HostTrap::Engine)?
    {
        Ok(code) => code,
        Err(failure) => {
            let kind = if failure.kind == FailureKind::NotFound {
                CallErrorKind::NotFound
            } else {
                CallErrorKind::Trap
            };
            return Ok(Err(CallError::new(kind, failure.message)));
        }
    };
    let service_call = match authorize(env, caller, contract, method, query)? {
        Ok(call) => call,
        Err(refused) => return Ok(Err(refused)),
    };
    let read_only = query || env.data().frame()?.read_only || code.views.contains(method);
    // The callee's instance is paid for by the caller, then gets what it was given.
    charge(env, "instantiate", Some(code.instantiate_gas))?;
    let left = guest::gas_left(env)?;
    let forwarded = requested.map_or(left, |r| r.min(left));
    guest::reserve(env, forwarded)?;

    let data = env.data_mut();
    data.overlay.push();
    let events_before = (data.events.len(), data.event_bytes);
    let accesses_before = data.accesses.len();
    let commands_before = data.commands.len();
    let service_calls_before = data.service_calls.len();
    data.service_calls.extend(service_call);
    let spec = FrameSpec {
        contract,
        caller,
        read_only,
        method,
        args,
        gas: forwarded,
    };
    // Re-enters the executor: the one edge from host functions back into `execute`.
    let frame = run_callee(env, &engine, &code.module, spec);
    let data = env.data_mut();
    let frame = match frame {
        Ok(frame) => frame,
        Err(e) => {
            data.overlay.discard();
            return Err(HostTrap::Engine(e).into());
        }
    };
    if frame.result.is_ok() {
        data.overlay.commit();
    } else {
        data.overlay.discard();
        data.events.truncate(events_before.0);
        data.event_bytes = events_before.1;
        data.accesses.truncate(accesses_before);
        data.commands.truncate(commands_before);
        data.service_calls.truncate(service_calls_before);
    }
    // Give back what the callee did not use.
    refund(env, frame.gas_left)?;
    Ok(frame.result.map_err(|failure| {
        let (kind, code) = match failure.kind {
            FailureKind::Contract { code } => (CallErrorKind::ContractError, code),
            FailureKind::OutOfGas => (CallErrorKind::OutOfGas, 0),
            FailureKind::NotFound => (CallErrorKind::NotFound, 0),
            _ => (CallErrorKind::Trap, 0),
        };
        let message = match failure.kind {
            FailureKind::Contract { .. } => failure.message,
            _ => failure.to_string(),
        };
        CallError {
            kind,
            code,
            message,
        }
    }))
}

/// A contract calling a `granted` service is held to the rule an account calling it is: it
/// must own the service or hold a live `call-service` grant for the method, else the call is
/// refused as the service would refuse it (`unauthorized`, code 3). The lookups are charged
/// before they are made: the service record on every call, the grant (the exact method, then
/// every method) when one is needed. Queries are read-only and leave no trail, so they are
/// not held to it, as account queries are not.
fn authorize(
    env: &mut Env,
    caller: Address,
    contract: Address,
    method: &str,
    query: bool,
) -> Result<Result<Option<ServiceCall>, CallError>, RuntimeError> {
    if query {
        return Ok(Ok(None));
    }
    let what = "calls.call";
    charge_more(env, what, Some(COSTS.storage_get.base))?;
    let host = env.data().host()?;
    let Some(service) = host.service(&contract).map_err(guest::backend)? else {
        return Ok(Ok(None));
    };
    if !service.granted {
        return Ok(Ok(None));
    }
    let granted_by = if service.owner == caller {
        None
    } else {
        charge_more(env, what, Some(2 * COSTS.storage_get.base))?;
        let right = Right::CallService {
            service: contract,
            method: Some(method.to_string()),
        };
        let time_ms = env.data().block.time_ms;
        match host
            .grant(&caller, &right, time_ms)
            .map_err(guest::backend)?
        {
            Some(grant) => Some(grant.granter),
            None => {
                return Ok(Err(CallError {
                    kind: CallErrorKind::ContractError,
                    code: UNAUTHORIZED,
                    message: format!(
                        "{caller} may not call `{method}` on service `{}`: it holds no live grant to call it",
                        service.name
                    ),
                }));
            }
        }
    };
    Ok(Ok(Some(ServiceCall {
        accessor: caller,
        service: contract,
        method: method.to_string(),
        granted_by,
    })))
}

/// The SDK's reserved error code for a caller that may not do what it asked.
const UNAUTHORIZED: u32 = 3;

fn refund(env: &mut FunctionEnvMut<TxEnv>, gas: u64) -> Result<(), RuntimeError> {
    let remaining = env.data().frame()?.remaining.clone();
    let left = guest::gas_left(env)?;
    // left + gas <= the gas this frame had before forwarding, so it cannot overflow.
    remaining.set(env, wasmer::Value::I64(left.saturating_add(gas) as i64))?;
    Ok(())
}

fn write_call_result(
    mut env: Env,
    what: &'static str,
    ret: u32,
    result: Result<Vec<u8>, CallError>,
) -> Result<(), RuntimeError> {
    use layout::call_result as r;
    match result {
        Ok(bytes) => {
            charge_more(
                &mut env,
                what,
                HostCost::per_byte(COSTS.return_per_byte).for_bytes(bytes.len() as u64),
            )?;
            guest::write_u8(&mut env, field(ret, r::TAG)?, 0)?;
            guest::write_list_at(&mut env, field(ret, r::OK_PTR)?, &bytes)
        }
        Err(e) => {
            charge_more(
                &mut env,
                what,
                HostCost::per_byte(COSTS.return_per_byte).for_bytes(e.message.len() as u64),
            )?;
            guest::write_u8(&mut env, field(ret, r::TAG)?, 1)?;
            guest::write_u8(&mut env, field(ret, r::ERR_KIND)?, e.kind as u8)?;
            guest::write_u32(&mut env, field(ret, r::ERR_CODE)?, e.code)?;
            guest::write_list_at(&mut env, field(ret, r::ERR_MSG_PTR)?, e.message.as_bytes())
        }
    }
}
