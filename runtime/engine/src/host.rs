//! The engine's view of chain state (the [`Host`] trait) and the host functions contracts
//! import, one file per WIT interface under `host/`.

use std::sync::Arc;

use wasmer::{AsStoreMut, Function, FunctionEnv, Imports, Module};

use crate::abi;
use crate::execute::TxEnv;
use crate::iot::{DeviceInfo, GrantInfo, ReadingInfo, Right, ServiceInfo};
use crate::primitives::{Address, HostScan, KeyRange, Order};
use crate::validate::CodeHash;

pub(crate) mod authorization;
pub(crate) mod calls;
pub(crate) mod commands;
pub(crate) mod crypto;
pub(crate) mod devices;
pub(crate) mod env;
pub(crate) mod events;
pub(crate) mod guest;
pub(crate) mod runtime;
pub(crate) mod storage;

/// A failure of the state backend itself (a disk error, say). Not a contract's fault and not
/// deterministic: the engine returns it as an [`crate::EngineError`], never in a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HostError(pub String);

/// Committed chain state as the engine reads it. The engine never writes through this trait:
/// a call's writes come back in its [`crate::Outcome`] and the chain applies them.
pub trait Host: Send + Sync {
    /// The committed value of `key` in `contract`'s store.
    fn get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, HostError>;

    /// Up to `limit` committed entries of `contract` with keys in `range`, in `order`,
    /// stepping over at most `max_walk` entries to find them (the caller pays for each one
    /// [`HostScan::walked`] counts, so a host never does unpaid work).
    fn scan(
        &self,
        contract: &Address,
        range: &KeyRange,
        order: Order,
        limit: usize,
        max_walk: u64,
    ) -> Result<HostScan, HostError>;

    /// The code a contract runs, or `None` if no contract lives at `contract`.
    fn contract_code(&self, contract: &Address) -> Result<Option<CodeHash>, HostError>;

    /// Uploaded code by hash.
    fn code(&self, hash: &CodeHash) -> Result<Option<Arc<[u8]>>, HostError>;

    // The chain's IoT registries (Y.4464 10.3 to 10.7). A host without them (a bare engine,
    // `cargo bot run`) knows no devices, grants or services.

    /// The registered device `id`.
    fn device(&self, _id: &Address) -> Result<Option<DeviceInfo>, HostError> {
        Ok(None)
    }

    /// Up to `limit` readings of `stream` of `device` with counters above `after`, oldest
    /// first; or the newest `limit`, newest first, if `newest_first`.
    fn readings(
        &self,
        _device: &Address,
        _stream: &str,
        _after: u64,
        _newest_first: bool,
        _limit: usize,
    ) -> Result<Vec<ReadingInfo>, HostError> {
        Ok(Vec::new())
    }

    /// The grant by which `holder` has `right` at block time `time_ms` (the exact right, or
    /// the same right over every stream or method), if it holds a live one.
    fn grant(
        &self,
        _holder: &Address,
        _right: &Right,
        _time_ms: u64,
    ) -> Result<Option<GrantInfo>, HostError> {
        Ok(None)
    }

    /// The contract `contract` as a registered service.
    fn service(&self, _contract: &Address) -> Result<Option<ServiceInfo>, HostError> {
        Ok(None)
    }

    /// The id the next command sent on the chain gets.
    fn next_command_id(&self) -> Result<u64, HostError> {
        Ok(0)
    }
}

/// A host function for one ABI import, bound to `env`.
pub(crate) fn host_function(
    store: &mut impl AsStoreMut,
    env: &FunctionEnv<TxEnv>,
    module: &str,
    name: &str,
) -> Option<Function> {
    use Function as F;
    let s = store;
    Some(match (module, name) {
        (abi::STORAGE, "get") => F::new_typed_with_env(s, env, storage::get),
        (abi::STORAGE, "set") => F::new_typed_with_env(s, env, storage::set),
        (abi::STORAGE, "remove") => F::new_typed_with_env(s, env, storage::remove),
        (abi::STORAGE, "has") => F::new_typed_with_env(s, env, storage::has),
        (abi::STORAGE, "scan") => F::new_typed_with_env(s, env, storage::scan),
        (abi::ENV, "caller") => F::new_typed_with_env(s, env, env::caller),
        (abi::ENV, "origin") => F::new_typed_with_env(s, env, env::origin),
        (abi::ENV, "self-address") => F::new_typed_with_env(s, env, env::self_address),
        (abi::ENV, "block-height") => F::new_typed_with_env(s, env, env::block_height),
        (abi::ENV, "block-time") => F::new_typed_with_env(s, env, env::block_time),
        (abi::ENV, "tx-hash") => F::new_typed_with_env(s, env, env::tx_hash),
        (abi::ENV, "chain-id") => F::new_typed_with_env(s, env, env::chain_id),
        (abi::ENV, "gas-left") => F::new_typed_with_env(s, env, env::gas_left),
        (abi::EVENTS, "emit") => F::new_typed_with_env(s, env, events::emit),
        (abi::CRYPTO, "sha256") => F::new_typed_with_env(s, env, crypto::sha256),
        (abi::CRYPTO, "keccak256") => F::new_typed_with_env(s, env, crypto::keccak256),
        (abi::CRYPTO, "secp256k1-verify") => {
            F::new_typed_with_env(s, env, crypto::secp256k1_verify)
        }
        (abi::CRYPTO, "secp256k1-recover") => {
            F::new_typed_with_env(s, env, crypto::secp256k1_recover)
        }
        (abi::CRYPTO, "ed25519-verify") => F::new_typed_with_env(s, env, crypto::ed25519_verify),
        (abi::CRYPTO, "p256-verify") => F::new_typed_with_env(s, env, crypto::p256_verify),
        (abi::CALLS, "call") => F::new_typed_with_env(s, env, calls::call),
        (abi::CALLS, "query") => F::new_typed_with_env(s, env, calls::query),
        (abi::RUNTIME, "abort") => F::new_typed_with_env(s, env, runtime::abort),
        (abi::RUNTIME, "log") => F::new_typed_with_env(s, env, runtime::log),
        (abi::DEVICES, "get") => F::new_typed_with_env(s, env, devices::get),
        (abi::DEVICES, "readings") => F::new_typed_with_env(s, env, devices::readings),
        (abi::DEVICES, "latest") => F::new_typed_with_env(s, env, devices::latest),
        (abi::AUTHORIZATION, "check") => F::new_typed_with_env(s, env, authorization::check),
        (abi::AUTHORIZATION, "get-service") => {
            F::new_typed_with_env(s, env, authorization::get_service)
        }
        (abi::COMMANDS, "send") => F::new_typed_with_env(s, env, commands::send),
        (abi::COMMANDS, "reply") => F::new_typed_with_env(s, env, commands::reply),
        _ => return None,
    })
}

/// The imports `module` asks for, and nothing else (a trivial contract pays for few).
pub(crate) fn imports_for(
    store: &mut impl AsStoreMut,
    env: &FunctionEnv<TxEnv>,
    module: &Module,
) -> Imports {
    let mut imports = Imports::new();
    for import in module.imports().functions() {
        // Validation admitted only ABI imports, so every lookup succeeds; one that did not
        // would surface as a link error when instantiating.
        let module = abi::canonical_module(import.module());
        if let Some(f) = module.and_then(|m| host_function(store, env, m, import.name())) {
            imports.define(import.module(), import.name(), f);
        }
    }
    imports
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmer::{Store, Type};

    #[test]
    fn every_abi_import_has_a_host_function_of_its_type() {
        let mut store = Store::new(crate::compile::runtime_engine());
        let env = FunctionEnv::new(&mut store, TxEnv::default());
        let to_type = |t: &abi::ValType| match t {
            abi::ValType::I32 => Type::I32,
            abi::ValType::I64 => Type::I64,
        };
        for import in abi::IMPORTS {
            let f =
                host_function(&mut store, &env, import.module, import.name).unwrap_or_else(|| {
                    panic!("no host function for {}#{}", import.module, import.name)
                });
            let ty = f.ty(&store);
            let params: Vec<Type> = import.params.iter().map(to_type).collect();
            let results: Vec<Type> = import.results.iter().map(to_type).collect();
            assert_eq!(
                ty.params(),
                &params[..],
                "{}#{} params",
                import.module,
                import.name
            );
            assert_eq!(
                ty.results(),
                &results[..],
                "{}#{} results",
                import.module,
                import.name
            );
        }
    }
}
