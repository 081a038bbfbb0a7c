//! `bot:contract/env`: facts about the call, transaction and block, all from the chain.

use wasmer::RuntimeError;

use super::guest::{self, Env, charge};
use crate::gas::COSTS;

fn write_list(
    mut env: Env,
    name: &'static str,
    ret: i32,
    bytes: &[u8],
) -> Result<(), RuntimeError> {
    charge(&mut env, name, COSTS.env_list.for_bytes(bytes.len() as u64))?;
    guest::write_list_at(&mut env, ret as u32, bytes)
}

pub(crate) fn caller(env: Env, ret: i32) -> Result<(), RuntimeError> {
    let address = env.data().frame()?.caller;
    write_list(env, "env.caller", ret, &address.0)
}

pub(crate) fn origin(env: Env, ret: i32) -> Result<(), RuntimeError> {
    let address = env.data().origin;
    write_list(env, "env.origin", ret, &address.0)
}

pub(crate) fn self_address(env: Env, ret: i32) -> Result<(), RuntimeError> {
    let address = env.data().frame()?.contract;
    write_list(env, "env.self-address", ret, &address.0)
}

pub(crate) fn tx_hash(env: Env, ret: i32) -> Result<(), RuntimeError> {
    let hash = env.data().tx_hash;
    write_list(env, "env.tx-hash", ret, &hash)
}

pub(crate) fn chain_id(env: Env, ret: i32) -> Result<(), RuntimeError> {
    let chain_id = env.data().block.chain_id.clone();
    write_list(env, "env.chain-id", ret, chain_id.as_bytes())
}

pub(crate) fn block_height(mut env: Env) -> Result<i64, RuntimeError> {
    charge(&mut env, "env.block-height", Some(COSTS.env.base))?;
    Ok(env.data().block.height as i64)
}

pub(crate) fn block_time(mut env: Env) -> Result<i64, RuntimeError> {
    charge(&mut env, "env.block-time", Some(COSTS.env.base))?;
    Ok(env.data().block.time_ms as i64)
}

pub(crate) fn gas_left(mut env: Env) -> Result<i64, RuntimeError> {
    charge(&mut env, "env.gas-left", Some(COSTS.env.base))?;
    Ok(guest::gas_left(&mut env)? as i64)
}
