//! The native stand-ins for the host functions, with the signatures wit-bindgen gives the real
//! ones. Rules the chain enforces with a trap here abort (panic) with the same wording.

use super::{Event, RecordedCall, call_error, with};
use crate::Address;

pub(crate) fn writable(what: &str) {
    if with(|w| w.read_only > 0) {
        crate::runtime::abort(&format!(
            "{what} in a read-only call (a #[view] or a query): views may not write or emit events"
        ));
    }
}

pub(crate) use super::things::host::{authorization, commands, devices};

pub(crate) mod storage {
    use super::{with, writable};
    use crate::bindings::bot::contract::storage::{Entry, Order, Page};

    /// The host's cap on a scan page.
    const MAX_PAGE: u32 = 1024;

    pub(crate) fn get(key: &[u8]) -> Option<Vec<u8>> {
        with(|w| w.storage.get(key).cloned())
    }

    pub(crate) fn set(key: &[u8], value: &[u8]) {
        writable("storage.set");
        with(|w| w.storage.insert(key.to_vec(), value.to_vec()));
    }

    pub(crate) fn remove(key: &[u8]) {
        writable("storage.remove");
        with(|w| w.storage.remove(key));
    }

    pub(crate) fn has(key: &[u8]) -> bool {
        with(|w| w.storage.contains_key(key))
    }

    pub(crate) fn scan(
        prefix: &[u8],
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
        limit: u32,
    ) -> Page {
        let limit = limit.min(MAX_PAGE) as usize;
        let in_range = |k: &Vec<u8>| {
            k.starts_with(prefix)
                && start.is_none_or(|s| k.as_slice() >= s)
                && end.is_none_or(|e| k.as_slice() < e)
        };
        with(|w| {
            let matching: Box<dyn Iterator<Item = (&Vec<u8>, &Vec<u8>)>> = match order {
                Order::Ascending => Box::new(w.storage.iter().filter(|(k, _)| in_range(k))),
                Order::Descending => Box::new(w.storage.iter().rev().filter(|(k, _)| in_range(k))),
            };
            let mut matching = matching.peekable();
            let mut entries = Vec::new();
            while entries.len() < limit {
                let Some((k, v)) = matching.next() else { break };
                entries.push(Entry {
                    key: k.clone(),
                    value: v.clone(),
                });
            }
            let more = matching.peek().is_some();
            let next = match (more, entries.last(), order) {
                (true, Some(last), Order::Ascending) => {
                    let mut next = last.key.clone();
                    next.push(0);
                    Some(next)
                }
                (true, Some(last), Order::Descending) => Some(last.key.clone()),
                _ => None,
            };
            Page { entries, next }
        })
    }
}

pub(crate) mod env {
    use super::with;

    pub(crate) fn caller() -> Vec<u8> {
        with(|w| w.caller.0.to_vec())
    }

    pub(crate) fn origin() -> Vec<u8> {
        with(|w| w.origin.0.to_vec())
    }

    pub(crate) fn self_address() -> Vec<u8> {
        with(|w| w.self_address.0.to_vec())
    }

    pub(crate) fn block_height() -> u64 {
        with(|w| w.block_height)
    }

    pub(crate) fn block_time() -> u64 {
        with(|w| w.block_time)
    }

    pub(crate) fn tx_hash() -> Vec<u8> {
        with(|w| w.tx_hash.to_vec())
    }

    pub(crate) fn chain_id() -> String {
        with(|w| w.chain_id.clone())
    }

    pub(crate) fn gas_left() -> u64 {
        with(|w| w.gas_left)
    }
}

pub(crate) mod events {
    use super::{Event, with, writable};

    pub(crate) fn emit(name: &str, data: &[u8]) {
        writable("events.emit");
        with(|w| {
            w.events.push(Event {
                name: name.to_string(),
                data: data.to_vec(),
            })
        });
    }
}

pub(crate) mod crypto {
    use crate::bindings::bot::contract::crypto::CryptoError;

    fn error(e: bot_crypto::CryptoError) -> CryptoError {
        match e {
            bot_crypto::CryptoError::InvalidHash => CryptoError::InvalidHash,
            bot_crypto::CryptoError::InvalidSignature => CryptoError::InvalidSignature,
            bot_crypto::CryptoError::InvalidPublicKey => CryptoError::InvalidPublicKey,
            bot_crypto::CryptoError::InvalidRecoveryId => CryptoError::InvalidRecoveryId,
        }
    }

    pub fn sha256(data: &[u8]) -> Vec<u8> {
        bot_crypto::sha256(data).to_vec()
    }

    pub fn keccak256(data: &[u8]) -> Vec<u8> {
        bot_crypto::keccak256(data).to_vec()
    }

    pub fn secp256k1_verify(hash: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
        bot_crypto::secp256k1_verify(hash, sig, key).map_err(error)
    }

    pub fn secp256k1_recover(hash: &[u8], sig: &[u8], id: u8) -> Result<Vec<u8>, CryptoError> {
        bot_crypto::secp256k1_recover(hash, sig, id).map_err(error)
    }

    pub fn ed25519_verify(message: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
        bot_crypto::ed25519_verify(message, sig, key).map_err(error)
    }

    pub fn p256_verify(hash: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
        bot_crypto::p256_verify(hash, sig, key).map_err(error)
    }
}

pub(crate) mod calls {
    use super::{Address, RecordedCall, call_error, with, writable};
    use crate::calls::{CallError, CallErrorKind};

    fn dispatch(
        contract: &[u8],
        method: &str,
        args: &[u8],
        read_only: bool,
    ) -> Result<Vec<u8>, CallError> {
        let address = Address::from_host(contract.to_vec());
        with(|w| {
            w.calls.push(RecordedCall {
                contract: address,
                method: method.to_string(),
                args: args.to_vec(),
                read_only,
            })
        });
        // The handler runs outside the environment's borrow: it may use the testing API.
        let Some(mut handler) = with(|w| w.contracts.remove(&address)) else {
            return Err(call_error(
                CallErrorKind::NotFound,
                0,
                format!("no contract mocked at {address}: use testing::mock_contract"),
            ));
        };
        let _scope = read_only.then(super::super::ReadOnly::enter);
        let result = handler(method, args);
        with(|w| w.contracts.insert(address, handler));
        result.map_err(|e| call_error(CallErrorKind::ContractError, e.code, e.message))
    }

    pub(crate) fn call(
        contract: &[u8],
        method: &str,
        args: &[u8],
        _gas_limit: Option<u64>,
    ) -> Result<Vec<u8>, CallError> {
        writable("calls.call");
        dispatch(contract, method, args, false)
    }

    pub(crate) fn query(
        contract: &[u8],
        method: &str,
        args: &[u8],
        _gas_limit: Option<u64>,
    ) -> Result<Vec<u8>, CallError> {
        dispatch(contract, method, args, true)
    }
}

pub(crate) mod runtime {
    use super::with;

    pub(crate) fn abort(message: &str) {
        panic!("{message}");
    }

    pub(crate) fn log(message: &str) {
        with(|w| w.logs.push(message.to_string()));
    }
}
