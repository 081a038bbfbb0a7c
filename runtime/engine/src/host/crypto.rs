//! `bot:contract/crypto`: hashes and signature checks. Malformed inputs are `crypto-error`
//! results the contract handles, not traps; a wrong signature is `ok(false)`.

// Host functions take the canonical ABI flattening of their WIT parameters.
#![allow(clippy::too_many_arguments)]

use bot_crypto::CryptoError;
use wasmer::RuntimeError;

use super::guest::{self, Env, charge, charge_more, field};
use crate::abi::layout;
use crate::gas::{COSTS, HostCost};

/// Charges for and reads `n` byte-list arguments given as (ptr, len) pairs.
fn inputs<const N: usize>(
    env: &mut Env,
    name: &'static str,
    cost: &HostCost,
    args: [(i32, i32); N],
) -> Result<[Vec<u8>; N], RuntimeError> {
    let bytes: u64 = args.iter().map(|(_, len)| u64::from(*len as u32)).sum();
    charge(env, name, cost.for_bytes(bytes))?;
    let limit = env.data().host_limits.max_hash_input_bytes;
    let mut out: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
    for (slot, (ptr, len)) in out.iter_mut().zip(args) {
        *slot = guest::read_bytes(env, ptr as u32, len as u32, limit, "crypto input")?;
    }
    Ok(out)
}

fn hash_result(
    mut env: Env,
    name: &'static str,
    ret: i32,
    digest: &[u8],
) -> Result<(), RuntimeError> {
    charge_more(
        &mut env,
        name,
        HostCost::per_byte(COSTS.return_per_byte).for_bytes(digest.len() as u64),
    )?;
    guest::write_list_at(&mut env, ret as u32, digest)
}

pub(crate) fn sha256(mut env: Env, ptr: i32, len: i32, ret: i32) -> Result<(), RuntimeError> {
    let [data] = inputs(&mut env, "crypto.sha256", &COSTS.sha256, [(ptr, len)])?;
    hash_result(env, "crypto.sha256", ret, &bot_crypto::sha256(&data))
}

pub(crate) fn keccak256(mut env: Env, ptr: i32, len: i32, ret: i32) -> Result<(), RuntimeError> {
    let [data] = inputs(&mut env, "crypto.keccak256", &COSTS.keccak256, [(ptr, len)])?;
    hash_result(env, "crypto.keccak256", ret, &bot_crypto::keccak256(&data))
}

/// Writes a `result<bool, crypto-error>`.
fn write_verdict(
    mut env: Env,
    ret: i32,
    verdict: Result<bool, CryptoError>,
) -> Result<(), RuntimeError> {
    use layout::result_bool as r;
    let ret = ret as u32;
    let (tag, payload) = match verdict {
        Ok(valid) => (0, u8::from(valid)),
        Err(e) => (1, e as u8),
    };
    guest::write_u8(&mut env, field(ret, r::TAG)?, tag)?;
    guest::write_u8(&mut env, field(ret, r::PAYLOAD)?, payload)
}

/// Checks (hash or message, signature, public key).
type SignatureCheck = fn(&[u8], &[u8], &[u8]) -> Result<bool, CryptoError>;

/// A three-input signature check, charged by `cost`, answering `result<bool, crypto-error>` at `ret`.
fn verify(
    mut env: Env,
    name: &'static str,
    cost: &HostCost,
    args: [(i32, i32); 3],
    ret: i32,
    check: SignatureCheck,
) -> Result<(), RuntimeError> {
    let [a, b, c] = inputs(&mut env, name, cost, args)?;
    write_verdict(env, ret, check(&a, &b, &c))
}

pub(crate) fn secp256k1_verify(
    env: Env,
    hash_ptr: i32,
    hash_len: i32,
    sig_ptr: i32,
    sig_len: i32,
    key_ptr: i32,
    key_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let args = [(hash_ptr, hash_len), (sig_ptr, sig_len), (key_ptr, key_len)];
    verify(
        env,
        "crypto.secp256k1-verify",
        &COSTS.secp256k1_verify,
        args,
        ret,
        bot_crypto::secp256k1_verify,
    )
}

pub(crate) fn secp256k1_recover(
    mut env: Env,
    hash_ptr: i32,
    hash_len: i32,
    sig_ptr: i32,
    sig_len: i32,
    recovery_id: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let [hash, sig] = inputs(
        &mut env,
        "crypto.secp256k1-recover",
        &COSTS.secp256k1_recover,
        [(hash_ptr, hash_len), (sig_ptr, sig_len)],
    )?;
    use layout::result_list as r;
    let ret = ret as u32;
    let recovered = u8::try_from(recovery_id)
        .map_err(|_| CryptoError::InvalidRecoveryId)
        .and_then(|id| bot_crypto::secp256k1_recover(&hash, &sig, id));
    match recovered {
        Ok(key) => {
            charge_more(
                &mut env,
                "crypto.secp256k1-recover",
                HostCost::per_byte(COSTS.return_per_byte).for_bytes(key.len() as u64),
            )?;
            guest::write_u8(&mut env, field(ret, r::TAG)?, 0)?;
            guest::write_list_at(&mut env, field(ret, r::OK_PTR)?, &key)
        }
        Err(e) => {
            guest::write_u8(&mut env, field(ret, r::TAG)?, 1)?;
            guest::write_u8(&mut env, field(ret, r::ERR)?, e as u8)
        }
    }
}

pub(crate) fn ed25519_verify(
    env: Env,
    msg_ptr: i32,
    msg_len: i32,
    sig_ptr: i32,
    sig_len: i32,
    key_ptr: i32,
    key_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let args = [(msg_ptr, msg_len), (sig_ptr, sig_len), (key_ptr, key_len)];
    verify(
        env,
        "crypto.ed25519-verify",
        &COSTS.ed25519_verify,
        args,
        ret,
        bot_crypto::ed25519_verify,
    )
}

pub(crate) fn p256_verify(
    env: Env,
    hash_ptr: i32,
    hash_len: i32,
    sig_ptr: i32,
    sig_len: i32,
    key_ptr: i32,
    key_len: i32,
    ret: i32,
) -> Result<(), RuntimeError> {
    let args = [(hash_ptr, hash_len), (sig_ptr, sig_len), (key_ptr, key_len)];
    verify(
        env,
        "crypto.p256-verify",
        &COSTS.p256_verify,
        args,
        ret,
        bot_crypto::p256_verify,
    )
}
