//! Unit-test a contract natively with plain `cargo test`: the SDK's host calls go to an
//! in-memory environment instead of the chain. Set the caller, the block and the contracts
//! yours calls; then call your contract's methods as ordinary Rust and inspect storage, events
//! and logs.
//!
//! ```
//! use bot_sdk::testing;
//!
//! testing::set_caller(testing::account("alice"));
//! testing::set_block(7, 1_700_000_000_000);
//! bot_sdk::events::emit("hello", &42u64);
//! assert_eq!(testing::events()[0].name, "hello");
//! assert_eq!(testing::events()[0].decode::<u64>(), 42);
//! ```
//!
//! Each test thread has its own environment (cargo runs every test on its own thread), so
//! tests do not see each other's state; [`reset`] starts over inside one test. A contract
//! that aborts panics with the abort message, so `#[should_panic(expected = "...")]` and
//! [`aborts`] work. Gas is not metered here: for gas, run the compiled wasm on the real engine
//! (the `bot-testing` crate).
//!
//! What the mock enforces like the chain: `#[view]` methods cannot write or emit (when called
//! through [`invoke`]), queries to other contracts are read-only, crypto is the chain's own
//! implementation, storage scans page and order exactly as the host's do.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use crate::calls::{CallError, CallErrorKind};
use crate::{Address, ContractError};

pub(crate) mod host;
mod things;

pub use things::{
    DataRead, SentCommand, data_reads, grant, push_reading, register_device, register_service,
    revoke, sent_commands, set_reply,
};

/// A contract your contract calls, mocked: gets the method and borsh arguments, returns borsh
/// bytes or the callee's error.
pub type MockContract = Box<dyn FnMut(&str, &[u8]) -> Result<Vec<u8>, ContractError>>;

/// An event the contract emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: Vec<u8>,
}

impl Event {
    /// The payload decoded as `T`; panics (failing the test) if it is not a `T`.
    pub fn decode<T: borsh::BorshDeserialize>(&self) -> T {
        borsh::from_slice(&self.data).unwrap_or_else(|e| {
            panic!(
                "event `{}` does not decode as {}: {e}",
                self.name,
                std::any::type_name::<T>()
            )
        })
    }
}

/// A call your contract made to another contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCall {
    pub contract: Address,
    pub method: String,
    pub args: Vec<u8>,
    /// Made with `calls::query`: the callee could not write.
    pub read_only: bool,
}

pub(crate) struct World {
    pub(crate) storage: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(crate) caller: Address,
    pub(crate) origin: Address,
    pub(crate) self_address: Address,
    pub(crate) block_height: u64,
    pub(crate) block_time: u64,
    pub(crate) tx_hash: [u8; 32],
    pub(crate) chain_id: String,
    pub(crate) gas_left: u64,
    pub(crate) events: Vec<Event>,
    pub(crate) logs: Vec<String>,
    pub(crate) contracts: HashMap<Address, MockContract>,
    pub(crate) calls: Vec<RecordedCall>,
    /// Nesting of read-only scopes: views run through [`invoke`], [`as_view`].
    pub(crate) read_only: u32,
    pub(crate) things: things::Things,
}

impl Default for World {
    fn default() -> World {
        World {
            storage: BTreeMap::new(),
            caller: account("caller"),
            origin: account("caller"),
            self_address: account("contract"),
            block_height: 1,
            block_time: 1_700_000_000_000,
            tx_hash: [0; 32],
            chain_id: "bot-test".to_string(),
            gas_left: u64::MAX,
            events: Vec::new(),
            logs: Vec::new(),
            contracts: HashMap::new(),
            calls: Vec::new(),
            read_only: 0,
            things: things::Things::default(),
        }
    }
}

thread_local! {
    static WORLD: RefCell<World> = RefCell::new(World::default());
}

/// Runs `f` on this thread's environment. Not re-entrant: mocks of other contracts run outside.
pub(crate) fn with<R>(f: impl FnOnce(&mut World) -> R) -> R {
    WORLD.with(|w| f(&mut w.borrow_mut()))
}

/// A deterministic test address named by a string: the first 20 bytes of its SHA-256.
pub fn account(name: &str) -> Address {
    let digest = bot_crypto::sha256(name.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[..20]);
    Address(a)
}

/// Starts over: empty storage, no events, logs or mocks, default caller and block.
pub fn reset() {
    with(|w| *w = World::default());
}

/// The account calling the contract; also becomes the transaction's origin.
pub fn set_caller(caller: Address) {
    with(|w| {
        w.caller = caller;
        w.origin = caller;
    });
}

/// The transaction's signer, when it differs from the caller (a contract calling yours).
pub fn set_origin(origin: Address) {
    with(|w| w.origin = origin);
}

pub fn set_self_address(address: Address) {
    with(|w| w.self_address = address);
}

/// The block the call runs in: height and time in milliseconds since the Unix epoch.
pub fn set_block(height: u64, time_ms: u64) {
    with(|w| {
        w.block_height = height;
        w.block_time = time_ms;
    });
}

/// Moves `blocks` blocks ahead, `ms_per_block` milliseconds each.
pub fn advance_blocks(blocks: u64, ms_per_block: u64) {
    with(|w| {
        w.block_height += blocks;
        w.block_time += blocks * ms_per_block;
    });
}

pub fn set_tx_hash(hash: [u8; 32]) {
    with(|w| w.tx_hash = hash);
}

pub fn set_chain_id(chain_id: &str) {
    with(|w| w.chain_id = chain_id.to_string());
}

/// What `env::gas_left()` reports (gas is not metered natively).
pub fn set_gas_left(gas: u64) {
    with(|w| w.gas_left = gas);
}

/// Every event emitted since the start (or the last [`take_events`]).
pub fn events() -> Vec<Event> {
    with(|w| w.events.clone())
}

/// The events so far, clearing them.
pub fn take_events() -> Vec<Event> {
    with(|w| std::mem::take(&mut w.events))
}

/// `runtime::log` lines so far.
pub fn logs() -> Vec<String> {
    with(|w| w.logs.clone())
}

/// The raw value at `key` in the contract's storage.
pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    with(|w| w.storage.get(key).cloned())
}

/// Writes a raw value, e.g. to set up state an older version of the contract left.
pub fn storage_set(key: &[u8], value: &[u8]) {
    with(|w| w.storage.insert(key.to_vec(), value.to_vec()));
}

/// All of the contract's storage, in key order.
pub fn storage() -> BTreeMap<Vec<u8>, Vec<u8>> {
    with(|w| w.storage.clone())
}

/// Answers calls and queries to `address` with `handler`.
pub fn mock_contract(
    address: Address,
    handler: impl FnMut(&str, &[u8]) -> Result<Vec<u8>, ContractError> + 'static,
) {
    with(|w| w.contracts.insert(address, Box::new(handler)));
}

/// The calls and queries the contract made to other contracts so far.
pub fn calls() -> Vec<RecordedCall> {
    with(|w| w.calls.clone())
}

/// Runs `f` read-only, as the chain runs a `#[view]` or a query: a write or an event aborts.
pub fn as_view<R>(f: impl FnOnce() -> R) -> R {
    let _scope = ReadOnly::enter();
    f()
}

/// Runs `f` and returns the message it aborted (or panicked) with, or `None` if it finished.
/// Nothing in the environment is rolled back: on the chain, nothing of an aborted call is kept.
pub fn aborts<R>(f: impl FnOnce() -> R) -> Option<String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match outcome {
        Ok(_) => None,
        Err(payload) => Some(match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(payload) => match payload.downcast::<&str>() {
                Ok(s) => s.to_string(),
                Err(_) => "panic".to_string(),
            },
        }),
    }
}

/// Calls `method` through the contract's entry point, as a transaction would: borsh `args` in,
/// borsh bytes or the contract's error out, state loaded and saved by the generated code.
/// Methods the ABI marks `#[view]` run read-only.
///
/// `S` is the contract's state struct; a method's arguments are borsh-encoded in order, so pass
/// a single argument as itself, several as a tuple and none as `&()`.
pub fn invoke<S: crate::ContractState, A: borsh::BorshSerialize + ?Sized>(
    method: &str,
    args: &A,
) -> Result<Vec<u8>, ContractError> {
    use crate::Contract as _;
    let bytes = borsh::to_vec(args).expect("test arguments encode");
    S::Entry::invoke(method.to_string(), bytes)
}

/// Like [`invoke`], decoding the result as `T`.
pub fn invoke_as<
    S: crate::ContractState,
    T: borsh::BorshDeserialize,
    A: borsh::BorshSerialize + ?Sized,
>(
    method: &str,
    args: &A,
) -> Result<T, ContractError> {
    let bytes = invoke::<S, A>(method, args)?;
    Ok(borsh::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "`{method}` returned bytes that are not a {}: {e}",
            std::any::type_name::<T>()
        )
    }))
}

/// A read-only scope; the generated code opens one around each `#[view]`.
#[doc(hidden)]
pub struct ReadOnly(());

impl ReadOnly {
    pub fn enter() -> ReadOnly {
        with(|w| w.read_only += 1);
        ReadOnly(())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        with(|w| w.read_only -= 1);
    }
}

pub(crate) fn call_error(kind: CallErrorKind, code: u32, message: String) -> CallError {
    CallError {
        kind,
        code,
        message,
    }
}
