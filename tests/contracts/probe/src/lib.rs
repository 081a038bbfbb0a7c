//! A contract with one method per engine feature, for the integration tests.

use bot_sdk::borsh::{BorshDeserialize, BorshSerialize};
use bot_sdk::calls::CallErrorKind;
use bot_sdk::crypto::CryptoError;
use bot_sdk::storage::Order;
use bot_sdk::{Address, ContractError, args, calls, crypto, env, events, ok, runtime, storage};

struct Probe;

#[derive(BorshSerialize, BorshDeserialize)]
#[borsh(crate = "bot_sdk::borsh")]
struct Scan {
    prefix: Vec<u8>,
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    descending: bool,
    limit: u32,
}

#[derive(BorshSerialize, BorshDeserialize)]
#[borsh(crate = "bot_sdk::borsh")]
struct Call {
    contract: Address,
    method: String,
    args: Vec<u8>,
    gas: Option<u64>,
}

fn crypto_code(e: CryptoError) -> u8 {
    e as u8
}

fn kind_code(k: CallErrorKind) -> u8 {
    k as u8
}

#[inline(never)]
fn recurse(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        1 + recurse(std::hint::black_box(n - 1))
    }
}

impl bot_sdk::Contract for Probe {
    fn invoke(method: String, input: Vec<u8>) -> Result<Vec<u8>, ContractError> {
        bot_sdk::guard();
        match method.as_str() {
            "put" => {
                let (key, value): (Vec<u8>, Vec<u8>) = args(&input)?;
                storage::set(&key, &value);
                ok(&())
            }
            "get" => {
                let key: Vec<u8> = args(&input)?;
                ok(&storage::get(&key))
            }
            "has" => {
                let key: Vec<u8> = args(&input)?;
                ok(&storage::has(&key))
            }
            "remove" => {
                let key: Vec<u8> = args(&input)?;
                storage::remove(&key);
                ok(&())
            }
            "scan" => {
                let s: Scan = args(&input)?;
                let order = if s.descending {
                    Order::Descending
                } else {
                    Order::Ascending
                };
                let page = storage::scan(
                    &s.prefix,
                    s.start.as_deref(),
                    s.end.as_deref(),
                    order,
                    s.limit,
                );
                let entries: Vec<(Vec<u8>, Vec<u8>)> =
                    page.entries.into_iter().map(|e| (e.key, e.value)).collect();
                ok(&(entries, page.next))
            }
            "batch" => {
                // Writes and removes, then scans in the same call: the scan sees them.
                let (puts, removes, s): (Vec<(Vec<u8>, Vec<u8>)>, Vec<Vec<u8>>, Scan) =
                    args(&input)?;
                for (k, v) in &puts {
                    storage::set(k, v);
                }
                for k in &removes {
                    storage::remove(k);
                }
                let order = if s.descending {
                    Order::Descending
                } else {
                    Order::Ascending
                };
                let page = storage::scan(
                    &s.prefix,
                    s.start.as_deref(),
                    s.end.as_deref(),
                    order,
                    s.limit,
                );
                let entries: Vec<(Vec<u8>, Vec<u8>)> =
                    page.entries.into_iter().map(|e| (e.key, e.value)).collect();
                ok(&(entries, page.next))
            }
            "env" => ok(&(
                env::caller(),
                env::origin(),
                env::self_address(),
                env::block_height(),
                env::block_time(),
                env::tx_hash(),
                env::chain_id(),
                env::gas_left(),
            )),
            "emit" => {
                let (name, data): (String, Vec<u8>) = args(&input)?;
                events::emit_raw(&name, &data);
                ok(&())
            }
            "hash" => {
                let data: Vec<u8> = args(&input)?;
                ok(&(crypto::sha256(&data), crypto::keccak256(&data)))
            }
            "secp256k1_verify" => {
                let (hash, sig, key): (Vec<u8>, Vec<u8>, Vec<u8>) = args(&input)?;
                ok(&crypto::secp256k1_verify(&hash, &sig, &key).map_err(crypto_code))
            }
            "secp256k1_recover" => {
                let (hash, sig, id): (Vec<u8>, Vec<u8>, u8) = args(&input)?;
                ok(&crypto::secp256k1_recover(&hash, &sig, id).map_err(crypto_code))
            }
            "ed25519_verify" => {
                let (msg, sig, key): (Vec<u8>, Vec<u8>, Vec<u8>) = args(&input)?;
                ok(&crypto::ed25519_verify(&msg, &sig, &key).map_err(crypto_code))
            }
            "p256_verify" => {
                let (hash, sig, key): (Vec<u8>, Vec<u8>, Vec<u8>) = args(&input)?;
                ok(&crypto::p256_verify(&hash, &sig, &key).map_err(crypto_code))
            }
            "call" | "query" => {
                let c: Call = args(&input)?;
                let result = if method == "call" {
                    calls::call(&c.contract, &c.method, &RawArgs(&c.args), c.gas)
                } else {
                    calls::query(&c.contract, &c.method, &RawArgs(&c.args), c.gas)
                };
                ok(&result.map_err(|e| (kind_code(e.kind), e.code, e.message)))
            }
            "put_then_call" => {
                // Writes, then calls: the caller's write must survive a failing callee.
                let (key, c): (Vec<u8>, Call) = args(&input)?;
                storage::set(&key, b"before");
                let result = calls::call(&c.contract, &c.method, &RawArgs(&c.args), c.gas);
                ok(&result.map_err(|e| (kind_code(e.kind), e.code, e.message)))
            }
            "put_then_fail" => {
                let key: Vec<u8> = args(&input)?;
                storage::set(&key, b"never");
                events::emit_raw("never", b"");
                Err(ContractError::new(
                    ContractError::FIRST_CUSTOM + 7,
                    "failed after writing",
                ))
            }
            "fail" => {
                let (code, message): (u32, String) = args(&input)?;
                Err(ContractError::new(code, &message))
            }
            "abort" => {
                let message: String = args(&input)?;
                runtime::abort(&message)
            }
            "panic" => {
                let message: String = args(&input)?;
                panic!("{message}")
            }
            "log" => {
                let message: String = args(&input)?;
                runtime::log(&message);
                ok(&())
            }
            "loop" => {
                storage::set(b"loop", b"started");
                let mut i: u64 = 0;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "spin" => {
                // A loop that writes nothing: runs in a query until its gas ends.
                let mut i: u64 = 0;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "recurse" => {
                let n: u64 = args(&input)?;
                ok(&recurse(n))
            }
            "grow" => {
                let pages: u32 = args(&input)?;
                ok(&(core::arch::wasm32::memory_grow(0, pages as usize) as i32 as i64))
            }
            "alloc" => {
                // Allocates and touches `bytes` bytes: memory growth through the allocator.
                let bytes: u32 = args(&input)?;
                let v = vec![7u8; bytes as usize];
                ok(&(v.iter().map(|&b| u64::from(b)).sum::<u64>()))
            }
            "echo" => Ok(input),
            other => Err(ContractError::unknown_method(other)),
        }
    }
}

/// Bytes that are already borsh-encoded arguments, passed through as they are.
struct RawArgs<'a>(&'a [u8]);

impl BorshSerialize for RawArgs<'_> {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(self.0)
    }
}

bot_sdk::export!(Probe);
