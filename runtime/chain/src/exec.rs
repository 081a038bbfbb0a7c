//! Executing transactions in order against committed state plus the block's earlier writes.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use bot_engine::iot::{CommandReply, DeviceInfo, GrantInfo, ReadingInfo, ReplyStatus, ServiceInfo};
use bot_engine::{
    Address, BlockContext, CallRequest, CodeHash, Engine, Entries, Failure, FailureKind, Host,
    HostError, HostScan, KeyRange, Order, Outcome,
};
use bot_state::{Changes, Snapshot};
use sha2::{Digest, Sha256};

use crate::genesis::{Access, Params, Permission};
use crate::iot::{
    CallbackRun, Command, DeviceStatus, Expiry, IotExec, IotTx, Refused, contract_view,
};
use crate::layout::{self, AccountState};
use crate::receipt::{ErrorKind, Receipt, ReceiptEvent, TxError};
use crate::tx::{Checked, SignedTx, TxKind, intrinsic_gas};
use crate::{ChainError, Hash};

/// Committed state with the block's pending writes on top: the engine's [`Host`] while a
/// block executes, and for queries (with nothing pending).
pub struct BlockView {
    base: Snapshot,
    pending: RwLock<Pending>,
}

/// Each write's key and the pending value it replaced (`None`: there was none).
type Journal = Vec<(Vec<u8>, Option<Option<Vec<u8>>>)>;

#[derive(Default)]
struct Pending {
    changes: Changes,
    /// To roll back a failed transaction's writes.
    journal: Journal,
    /// The keys and values of `changes`, in bytes.
    bytes: usize,
}

fn entry_bytes(key: &[u8], value: &Option<Vec<u8>>) -> usize {
    key.len() + value.as_ref().map_or(0, Vec::len)
}

impl Pending {
    /// Sets `key` to `value`, returning what it replaced.
    fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> Option<Option<Vec<u8>>> {
        self.bytes += entry_bytes(&key, &value);
        let before = self.changes.insert(key.clone(), value);
        if let Some(old) = &before {
            self.bytes -= entry_bytes(&key, old);
        }
        before
    }

    /// Undoes a [`Pending::put`] of `key` that replaced `before`.
    fn undo(&mut self, key: Vec<u8>, before: Option<Option<Vec<u8>>>) {
        let now = match before {
            Some(v) => {
                self.bytes += entry_bytes(&key, &v);
                self.changes.insert(key.clone(), v)
            }
            None => self.changes.remove(&key),
        };
        if let Some(now) = &now {
            self.bytes -= entry_bytes(&key, now);
        }
    }
}

/// A pending write as a scan walks it: the key and its value (`None`: removed).
type Change<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

fn host_error(e: bot_state::StateError) -> HostError {
    HostError(e.to_string())
}

impl BlockView {
    pub fn new(base: Snapshot) -> BlockView {
        BlockView {
            base,
            pending: RwLock::new(Pending::default()),
        }
    }

    fn pending(&self) -> std::sync::RwLockReadGuard<'_, Pending> {
        self.pending.read().unwrap_or_else(|e| e.into_inner())
    }

    fn pending_mut(&self) -> std::sync::RwLockWriteGuard<'_, Pending> {
        self.pending.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        if let Some(v) = self.pending().changes.get(key) {
            return Ok(v.clone());
        }
        self.base.get(key).map_err(host_error)
    }

    pub fn write(&self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let mut p = self.pending_mut();
        let before = p.put(key.clone(), value);
        p.journal.push((key, before));
    }

    /// The bytes of keys and values the block has written so far.
    pub fn pending_bytes(&self) -> usize {
        self.pending().bytes
    }

    pub fn mark(&self) -> usize {
        self.pending().journal.len()
    }

    /// Undoes every write since `mark`.
    pub fn rollback(&self, mark: usize) {
        let mut p = self.pending_mut();
        while p.journal.len() > mark {
            let Some((key, before)) = p.journal.pop() else {
                break;
            };
            p.undo(key, before);
        }
    }

    pub fn take_changes(&self) -> Changes {
        let mut p = self.pending_mut();
        p.journal.clear();
        p.bytes = 0;
        std::mem::take(&mut p.changes)
    }

    pub(crate) fn decode<T: borsh::BorshDeserialize>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, ChainError> {
        match self.read(key).map_err(|e| ChainError::State(e.0))? {
            Some(bytes) => borsh::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ChainError::State(format!("corrupt state entry: {e}"))),
            None => Ok(None),
        }
    }

    pub fn account(&self, address: &Address) -> Result<AccountState, ChainError> {
        Ok(self.decode(&layout::account(address))?.unwrap_or_default())
    }

    fn put_account(&self, address: &Address, account: &AccountState) {
        self.write(
            layout::account(address),
            Some(borsh::to_vec(account).unwrap_or_default()),
        );
    }

    /// Up to `limit` entries with keys in [`start`, `end`), in key order or reversed: the
    /// block's pending writes over committed state.
    pub fn scan_keys(
        &self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        descending: bool,
        limit: usize,
    ) -> Result<Entries, ChainError> {
        Ok(self
            .scan_walk(start, end, descending, limit, u64::MAX)?
            .entries)
    }

    /// [`BlockView::scan_keys`], stepping over at most `max_walk` entries: the block's pending
    /// writes in the way (removals included) and the committed entries read, each counted in
    /// [`HostScan::walked`]. Committed state is read a page at a time, as the merge needs it.
    pub fn scan_walk(
        &self,
        start: Vec<u8>,
        end: Option<Vec<u8>>,
        descending: bool,
        limit: usize,
        max_walk: u64,
    ) -> Result<HostScan, ChainError> {
        let mut scan = HostScan::default();
        if limit == 0 || end.as_ref().is_some_and(|e| *e <= start) {
            return Ok(scan);
        }
        let pending = self.pending();
        let bounds = (
            Bound::Included(start.as_slice()),
            end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        );
        let in_range = pending.changes.range::<[u8], _>(bounds);
        let changes: Box<dyn Iterator<Item = Change<'_>>> = if descending {
            Box::new(in_range.rev())
        } else {
            Box::new(in_range)
        };
        let mut changes = changes.peekable();
        // What of the committed range is left to read, and what was read but not merged yet.
        let (mut low, mut high) = (start, end);
        let mut read: VecDeque<(Vec<u8>, Vec<u8>)> = VecDeque::new();
        let mut read_all = false;
        let mut page = limit;
        while scan.entries.len() < limit {
            if read.is_empty() && !read_all {
                let n = usize::try_from(max_walk - scan.walked)
                    .unwrap_or(usize::MAX)
                    .min(page);
                if n == 0 {
                    scan.cut = true;
                    break;
                }
                let upper = high.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                let got = self
                    .base
                    .scan(Bound::Included(low.as_slice()), upper, descending, n)?;
                scan.walked += got.len() as u64;
                read_all = got.len() < n;
                match got.last() {
                    Some((last, _)) if descending => high = Some(last.clone()),
                    Some((last, _)) => {
                        low = last.clone();
                        low.push(0);
                    }
                    None => {}
                }
                page = page.saturating_mul(2);
                read.extend(got);
            }
            let next_read = read.front().map(|(k, _)| k.as_slice());
            let take_change = match (changes.peek(), next_read) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((k, _)), Some(r)) if descending => k.as_slice() >= r,
                (Some((k, _)), Some(r)) => k.as_slice() <= r,
            };
            if !take_change {
                scan.entries.extend(read.pop_front());
                continue;
            }
            if scan.walked >= max_walk {
                scan.cut = true;
                break;
            }
            let Some((key, value)) = changes.next() else {
                break;
            };
            scan.walked += 1;
            if read.front().is_some_and(|(k, _)| k == key) {
                read.pop_front();
            }
            if let Some(value) = value {
                scan.entries.push((key.clone(), value.clone()));
            }
        }
        Ok(scan)
    }

    /// Every entry whose key starts with `prefix`, from `after` (exclusive) on, up to `limit`.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        descending: bool,
        limit: usize,
    ) -> Result<Entries, ChainError> {
        let range = KeyRange::with_prefix(prefix, None, None);
        let (mut start, mut end) = (range.start.unwrap_or_default(), range.end);
        if let Some(after) = after {
            if descending {
                end = Some(after.to_vec());
            } else {
                start = after.to_vec();
                start.push(0);
            }
        }
        self.scan_keys(start, end, descending, limit)
    }

    pub fn access(&self) -> Result<Access, ChainError> {
        self.decode(layout::ACCESS)?
            .ok_or_else(|| ChainError::State("the state holds no access rules".into()))
    }
}

impl Host for BlockView {
    fn get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        self.read(&layout::storage(contract, key))
    }

    fn scan(
        &self,
        contract: &Address,
        range: &KeyRange,
        order: Order,
        limit: usize,
        max_walk: u64,
    ) -> Result<HostScan, HostError> {
        if range.is_empty() || limit == 0 {
            return Ok(HostScan::default());
        }
        let prefix = layout::storage_prefix(contract);
        let within = |k: &Option<Vec<u8>>| k.as_ref().map(|k| layout::storage(contract, k));
        // The contract's keys, narrowed to `range`: bounds of the global key space.
        let global = KeyRange::with_prefix(&prefix, within(&range.start), within(&range.end));
        let mut scan = self
            .scan_walk(
                global.start.unwrap_or_default(),
                global.end,
                order == Order::Descending,
                limit,
                max_walk,
            )
            .map_err(|e| HostError(e.to_string()))?;
        for (k, _) in &mut scan.entries {
            k.drain(..prefix.len());
        }
        Ok(scan)
    }

    fn contract_code(&self, contract: &Address) -> Result<Option<CodeHash>, HostError> {
        match self.read(&layout::contract(contract))? {
            Some(bytes) => Ok(Some(CodeHash(bytes.as_slice().try_into().map_err(
                |_| HostError(format!("contract {contract} has a corrupt code hash")),
            )?))),
            None => Ok(None),
        }
    }

    fn code(&self, hash: &CodeHash) -> Result<Option<Arc<[u8]>>, HostError> {
        Ok(self.read(&layout::code(hash))?.map(Arc::from))
    }

    fn device(&self, id: &Address) -> Result<Option<DeviceInfo>, HostError> {
        contract_view::device(self, id)
    }

    fn readings(
        &self,
        device: &Address,
        stream: &str,
        after: u64,
        newest_first: bool,
        limit: usize,
    ) -> Result<Vec<ReadingInfo>, HostError> {
        contract_view::readings(self, device, stream, after, newest_first, limit)
    }

    fn grant(
        &self,
        holder: &Address,
        right: &bot_engine::iot::Right,
        time_ms: u64,
    ) -> Result<Option<GrantInfo>, HostError> {
        contract_view::grant(self, holder, right, time_ms)
    }

    fn service(&self, contract: &Address) -> Result<Option<ServiceInfo>, HostError> {
        contract_view::service(self, contract)
    }

    fn next_command_id(&self) -> Result<u64, HostError> {
        contract_view::next_command_id(self)
    }
}

/// The address a contract instantiated by `creator` from `code` with `salt` lives at.
pub fn contract_address(creator: &Address, code: &Hash, salt: &[u8]) -> Address {
    let mut h = Sha256::new();
    h.update(b"bot/contract/v1\0");
    h.update(creator.0);
    h.update(code);
    h.update((salt.len() as u32).to_le_bytes());
    h.update(salt);
    let digest = h.finalize();
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[12..]);
    Address(a)
}

/// Whether `signer` may send `kind`: anyone on an open chain; on a consortium chain the listed
/// accounts, and a registered device's own account its readings, its answers to commands and
/// calls to contracts while it is active (a device is an identity of its own once its owner
/// registered it, Y.4464 10.6 a, and deals with other devices and services, Appendix II.4).
pub(crate) fn permitted(
    view: &BlockView,
    access: &Access,
    signer: &Address,
    kind: &TxKind,
) -> Result<bool, ChainError> {
    if access.transact == Permission::Anyone || access.transactors.contains(signer) {
        return Ok(true);
    }
    // A device speaks only while its owner is a member: removing an owner silences its devices.
    let member = |owner: &Address| access.transactors.contains(owner);
    Ok(match kind {
        TxKind::Iot(IotTx::Report { device, .. } | IotTx::Respond { device, .. }) => view
            .device(device)?
            .is_some_and(|d| d.key.account() == Some(*signer) && member(&d.owner)),
        // A secp256k1 device's id is its account's address.
        TxKind::Call { .. } => view.device(signer)?.is_some_and(|d| {
            d.key.account() == Some(*signer) && d.status == DeviceStatus::Active && member(&d.owner)
        }),
        _ => false,
    })
}

/// Why a transaction cannot be in a block at this point (it is not executed at all).
#[derive(Debug)]
pub(crate) enum Skip {
    Nonce { expected: u64, got: u64 },
    NotPermitted,
}

impl Skip {
    /// Whether the transaction can never run (its nonce is used, its signer may not
    /// transact), as opposed to not yet (its nonce is still ahead).
    pub fn is_final(&self) -> bool {
        match self {
            Skip::Nonce { expected, got } => got < expected,
            Skip::NotPermitted => true,
        }
    }

    pub fn reason(&self, signer: &Address) -> String {
        match self {
            Skip::Nonce { expected, got } => {
                format!("nonce {got} of {signer} is not its next nonce {expected}")
            }
            Skip::NotPermitted => format!("{signer} is not permitted to transact on this chain"),
        }
    }
}

fn error(kind: ErrorKind, message: impl Into<String>) -> TxError {
    TxError {
        kind,
        code: None,
        message: message.into(),
    }
}

fn from_failure(f: &Failure) -> TxError {
    TxError {
        kind: ErrorKind::from(&f.kind),
        code: match f.kind {
            FailureKind::Contract { code } => Some(code),
            _ => None,
        },
        message: f.message.clone(),
    }
}

/// Runs transactions of one block in order.
pub(crate) struct Executor<'a> {
    pub engine: &'a Engine,
    pub view: Arc<BlockView>,
    pub block: BlockContext,
    pub params: &'a Params,
}

/// The parts of a receipt a transaction kind decides.
struct Effect {
    gas: u64,
    result: Vec<u8>,
    contract: Option<Address>,
    events: Vec<ReceiptEvent>,
    error: Option<TxError>,
}

impl Effect {
    fn ok(gas: u64, result: Vec<u8>) -> Effect {
        Effect {
            gas,
            result,
            contract: None,
            events: Vec::new(),
            error: None,
        }
    }

    fn failed(gas: u64, error: TxError) -> Effect {
        Effect {
            error: Some(error),
            ..Effect::ok(gas, Vec::new())
        }
    }
}

impl Executor<'_> {
    /// Executes `tx` (as `checked` statelessly) on top of the block so far. `Err(Skip)` leaves
    /// the state untouched; a receipt (success or failure) means the nonce advanced and the
    /// transaction belongs in the block.
    pub fn apply(
        &self,
        tx: &SignedTx,
        checked: &Checked,
    ) -> Result<Result<Receipt, Skip>, ChainError> {
        let Checked {
            signer,
            size,
            hash: tx_hash,
        } = *checked;
        // Permission first: a signer who may not transact never will by waiting.
        let access = self.view.access()?;
        if !permitted(&self.view, &access, &signer, &tx.tx.kind)? {
            return Ok(Err(Skip::NotPermitted));
        }
        let mut account = self.view.account(&signer)?;
        if tx.tx.nonce != account.nonce {
            return Ok(Err(Skip::Nonce {
                expected: account.nonce,
                got: tx.tx.nonce,
            }));
        }
        account.nonce += 1;
        self.view.put_account(&signer, &account);
        let intrinsic = intrinsic_gas(self.params, size);
        let budget = tx.tx.gas_limit.saturating_sub(intrinsic);
        let mark = self.view.mark();
        let effect = self.effect(tx, signer, &access, budget, tx_hash)?;
        if effect.error.is_some() {
            self.view.rollback(mark);
        }
        Ok(Ok(Receipt {
            tx_hash,
            signer,
            gas_used: intrinsic.saturating_add(effect.gas).min(tx.tx.gas_limit),
            result: effect.result,
            contract: effect.contract,
            events: effect.events,
            error: effect.error,
        }))
    }

    fn may_deploy(access: &Access, signer: &Address) -> bool {
        access.deploy == Permission::Anyone || access.deployers.contains(signer)
    }

    fn effect(
        &self,
        tx: &SignedTx,
        signer: Address,
        access: &Access,
        budget: u64,
        tx_hash: Hash,
    ) -> Result<Effect, ChainError> {
        Ok(match &tx.tx.kind {
            TxKind::Upload { wasm } => {
                let cost = self
                    .params
                    .upload_byte_gas
                    .saturating_mul(wasm.len() as u64);
                if cost > budget {
                    return Ok(Effect::failed(
                        budget,
                        error(
                            ErrorKind::OutOfGas,
                            format!("uploading {} bytes costs {cost} gas", wasm.len()),
                        ),
                    ));
                }
                if !Self::may_deploy(access, &signer) {
                    return Ok(Effect::failed(
                        cost,
                        error(
                            ErrorKind::Unauthorized,
                            format!("{signer} may not deploy code"),
                        ),
                    ));
                }
                let validated = match self.engine.validate(wasm) {
                    Ok(validated) => validated,
                    Err(e) => {
                        return Ok(Effect::failed(
                            cost,
                            error(ErrorKind::InvalidCode, e.to_string()),
                        ));
                    }
                };
                // Functions that make the compiler work harder than their size says pay for
                // the bytes they weigh (validation, linear in the size, is what `cost` paid).
                let compile_bytes = bot_engine::COSTS.compile_bytes(&validated);
                let cost = self.params.upload_byte_gas.saturating_mul(compile_bytes);
                if cost > budget {
                    return Ok(Effect::failed(
                        budget,
                        error(
                            ErrorKind::OutOfGas,
                            format!(
                                "uploading {} bytes costs {cost} gas: its functions weigh {compile_bytes} bytes to compile",
                                wasm.len()
                            ),
                        ),
                    ));
                }
                let hash = CodeHash::of(wasm);
                let key = layout::code(&hash);
                if self
                    .view
                    .read(&key)
                    .map_err(|e| ChainError::State(e.0))?
                    .is_none()
                {
                    self.view.write(key, Some(wasm.clone()));
                }
                Effect::ok(cost, hash.0.to_vec())
            }
            TxKind::Instantiate {
                code,
                salt,
                init,
                args,
            } => {
                if !Self::may_deploy(access, &signer) {
                    return Ok(Effect::failed(
                        0,
                        error(
                            ErrorKind::Unauthorized,
                            format!("{signer} may not deploy contracts"),
                        ),
                    ));
                }
                let code = CodeHash(*code);
                if self
                    .view
                    .code(&code)
                    .map_err(|e| ChainError::State(e.0))?
                    .is_none()
                {
                    return Ok(Effect::failed(
                        0,
                        error(
                            ErrorKind::NotFound,
                            format!("no code with hash {}", code.to_hex()),
                        ),
                    ));
                }
                let address = contract_address(&signer, &code.0, salt);
                let key = layout::contract(&address);
                if self
                    .view
                    .read(&key)
                    .map_err(|e| ChainError::State(e.0))?
                    .is_some()
                {
                    return Ok(Effect::failed(
                        0,
                        error(
                            ErrorKind::AddressTaken,
                            format!("{address} already holds a contract: use another salt"),
                        ),
                    ));
                }
                self.view.write(key, Some(code.0.to_vec()));
                self.view
                    .write(layout::creator(&address), Some(signer.0.to_vec()));
                let mut effect = match init {
                    Some(method) => self.call(signer, address, method, args, budget, tx_hash)?,
                    None => Effect::ok(0, Vec::new()),
                };
                if effect.error.is_none() {
                    effect.contract = Some(address);
                }
                effect
            }
            TxKind::Call {
                contract,
                method,
                args,
            } => {
                let mut iot = self.iot(tx_hash, budget);
                let events = match iot.authorize_call(signer, contract, method) {
                    Ok(()) => std::mem::take(&mut iot.events),
                    Err(Refused::Rule(e)) => {
                        return Ok(Effect::failed(iot.gas_used.min(budget), e));
                    }
                    Err(Refused::Local(e)) => return Err(e),
                };
                let checked = iot.gas_used;
                let mut effect =
                    self.call(signer, *contract, method, args, budget - checked, tx_hash)?;
                effect.gas = effect.gas.saturating_add(checked);
                if effect.error.is_none() {
                    effect.events.splice(0..0, events);
                }
                effect
            }
            TxKind::Iot(op) => {
                let applied = self.iot(tx_hash, budget).run(signer, op)?;
                let mut events = applied.events;
                // An answer goes on to the command's callback, with the gas its transaction
                // reserved for it in full (the sender paid as much when it sent the command);
                // the `command.callback` event says what it used.
                if let (Some(command), IotTx::Respond { ok, data, .. }) = (applied.answered, op) {
                    let status = if *ok {
                        ReplyStatus::Done
                    } else {
                        ReplyStatus::Failed
                    };
                    events.extend(self.deliver(&command, status, data.clone(), tx_hash)?);
                }
                Effect {
                    gas: applied.gas,
                    result: Vec::new(),
                    contract: None,
                    events,
                    error: applied.error,
                }
            }
            TxKind::Transfer { to, amount } => {
                let mut from = self.view.account(&signer)?;
                if from.balance < *amount {
                    return Ok(Effect::failed(
                        0,
                        error(
                            ErrorKind::InsufficientBalance,
                            format!("{signer} holds {}, not {amount}", from.balance),
                        ),
                    ));
                }
                from.balance -= amount;
                self.view.put_account(&signer, &from);
                let mut dest = self.view.account(to)?;
                dest.balance = dest.balance.saturating_add(*amount);
                self.view.put_account(to, &dest);
                Effect::ok(0, Vec::new())
            }
            TxKind::Permit {
                account,
                deploy,
                transact,
            } => {
                if !access.admins.contains(&signer) {
                    return Ok(Effect::failed(
                        0,
                        error(
                            ErrorKind::Unauthorized,
                            format!("{signer} is not an admin: only admins change permissions"),
                        ),
                    ));
                }
                let mut access = access.clone();
                for (set, allow) in [
                    (&mut access.deployers, *deploy),
                    (&mut access.transactors, *transact),
                ] {
                    if allow {
                        set.insert(*account);
                    } else {
                        set.remove(account);
                    }
                }
                self.view.write(
                    layout::ACCESS.to_vec(),
                    Some(borsh::to_vec(&access).unwrap_or_default()),
                );
                Effect::ok(0, Vec::new())
            }
        })
    }

    fn iot(&self, tx_hash: Hash, budget: u64) -> IotExec<'_> {
        IotExec {
            view: &self.view,
            chain_id: &self.block.chain_id,
            height: self.block.height,
            time_ms: self.block.time_ms,
            tx_hash,
            retention: self.params.reading_retention,
            gas_used: 0,
            budget,
            events: Vec::new(),
            answered: None,
        }
    }

    fn call(
        &self,
        signer: Address,
        contract: Address,
        method: &str,
        args: &[u8],
        budget: u64,
        tx_hash: Hash,
    ) -> Result<Effect, ChainError> {
        let request = CallRequest {
            contract,
            caller: signer,
            origin: signer,
            tx_hash,
            method: method.to_string(),
            args: args.to_vec(),
            gas_limit: budget,
            read_only: false,
        };
        self.run(&request, None)
    }

    /// Runs a call (or, with `reply`, a command's callback) and applies what it did if it
    /// succeeded: its writes, then the device data it read and the commands it sent, which
    /// are paid from the gas it left; if that is not enough, it fails whole.
    fn run(
        &self,
        request: &CallRequest,
        reply: Option<CommandReply>,
    ) -> Result<Effect, ChainError> {
        let host = self.view.clone();
        let outcome: Outcome = match reply {
            None => self.engine.execute(host, &self.block, request),
            Some(reply) => self.engine.deliver(host, &self.block, request, reply),
        }
        .map_err(|e| ChainError::Engine(e.to_string()))?;
        let budget = request.gas_limit;
        let result = match outcome.result {
            Ok(result) => result,
            Err(failure) => return Ok(Effect::failed(outcome.gas_used, from_failure(&failure))),
        };
        for (address, keys) in outcome.writes {
            for (key, value) in keys {
                self.view.write(layout::storage(&address, &key), value);
            }
        }
        let mut events: Vec<ReceiptEvent> = outcome
            .events
            .into_iter()
            .map(|e| ReceiptEvent {
                contract: e.contract,
                name: e.name,
                data: e.data,
            })
            .collect();
        let mut iot = self.iot(request.tx_hash, budget.saturating_sub(outcome.gas_used));
        let recorded = outcome
            .accesses
            .iter()
            .try_for_each(|access| iot.record_read(access))
            .and_then(|()| {
                outcome
                    .commands
                    .iter()
                    .try_for_each(|command| iot.record_command(command))
            })
            .and_then(|()| {
                outcome
                    .service_calls
                    .iter()
                    .try_for_each(|call| iot.record_service_call(call))
            });
        match recorded {
            Ok(()) => {}
            Err(Refused::Rule(e)) => return Ok(Effect::failed(budget, e)),
            Err(Refused::Local(e)) => return Err(e),
        }
        events.append(&mut iot.events);
        Ok(Effect {
            gas: outcome.gas_used.saturating_add(iot.gas_used),
            result,
            contract: None,
            events,
            error: None,
        })
    }

    /// Calls the callback of `command`, which ended as `reply` says, with the gas its sender
    /// paid. A failed callback keeps nothing it did, but the command stays ended; either way
    /// a `command.callback` event says how it went (and what gas it used). Returns the
    /// callback's events.
    fn deliver(
        &self,
        command: &Command,
        status: ReplyStatus,
        data: Vec<u8>,
        tx_hash: Hash,
    ) -> Result<Vec<ReceiptEvent>, ChainError> {
        let request = CallRequest {
            contract: command.service,
            caller: Address::default(),
            origin: Address::default(),
            tx_hash,
            method: command.callback.clone(),
            args: Vec::new(),
            gas_limit: command.callback_gas,
            read_only: false,
        };
        let reply = CommandReply {
            id: command.id,
            device: command.device,
            command: command.command.clone(),
            status,
            data,
            height: self.block.height,
        };
        let mark = self.view.mark();
        let effect = self.run(&request, Some(reply))?;
        if effect.error.is_some() {
            self.view.rollback(mark);
        }
        let run = CallbackRun {
            id: command.id,
            service: command.service,
            method: command.callback.clone(),
            gas_used: effect.gas,
            error: effect
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind, e.message)),
        };
        let mut events = if effect.error.is_none() {
            effect.events
        } else {
            Vec::new()
        };
        events.push(ReceiptEvent {
            contract: command.device,
            name: "command.callback".to_string(),
            data: borsh::to_vec(&run).unwrap_or_default(),
        });
        Ok(events)
    }

    /// Times out, at the end of the block, the pending commands whose deadline it is (or
    /// was), earliest deadlines and ids first, and runs their callbacks: at most
    /// [`MAX_TIMEOUTS_PER_BLOCK`], and as many as the gas the block's transactions left under
    /// its limit covers; the rest wait for the next block. Each gets a receipt after the
    /// transactions' receipts, under [`timeout_hash`] of its id, signed by no one (the zero
    /// address).
    pub fn expire(&self, block_gas_used: u64) -> Result<Vec<Receipt>, ChainError> {
        let mut receipts = Vec::new();
        // Callbacks get what the block's gas limit leaves after its transactions.
        let mut gas_left = self.params.block_gas_limit.saturating_sub(block_gas_used);
        // Deadlines passed over (their callbacks did not fit the gas left), at most so many.
        let mut after: Option<Vec<u8>> = None;
        let mut passed = 0;
        while receipts.len() < MAX_TIMEOUTS_PER_BLOCK && passed < MAX_TIMEOUTS_PASSED_OVER {
            let mut iot = self.iot([0; 32], gas_left);
            let mark = self.view.mark();
            let command = match iot.expire_next(after.as_deref()) {
                Ok(Expiry::Expired(command)) => *command,
                Ok(Expiry::Later(key)) => {
                    after = Some(key);
                    passed += 1;
                    continue;
                }
                Ok(Expiry::None) => break,
                // Out of the block's gas for the reads and writes: the rest wait.
                Err(Refused::Rule(_)) => {
                    self.view.rollback(mark);
                    break;
                }
                Err(Refused::Local(e)) => return Err(e),
            };
            let tx_hash = timeout_hash(command.id);
            let mut events = self.deliver(&command, ReplyStatus::TimedOut, Vec::new(), tx_hash)?;
            gas_left = gas_left.saturating_sub(iot.gas_used);
            events.splice(0..0, iot.events);
            receipts.push(Receipt {
                tx_hash,
                signer: Address::default(),
                error: None,
                gas_used: iot.gas_used,
                result: Vec::new(),
                contract: None,
                events,
            });
        }
        Ok(receipts)
    }
}

/// At most this many commands time out in one block; later ones wait for the next block.
pub const MAX_TIMEOUTS_PER_BLOCK: usize = 32;

/// A block looks past at most this many due commands whose callbacks need more gas than it
/// has left, so one big callback does not hold back the small ones behind it.
pub const MAX_TIMEOUTS_PASSED_OVER: usize = 64;

/// The receipt hash of command `id`'s timeout.
pub fn timeout_hash(id: u64) -> Hash {
    let mut h = Sha256::new();
    h.update(b"bot/command-timeout/v1\0");
    h.update(id.to_le_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use bot_state::{BlockRecord, StateDb};

    #[test]
    fn scans_merge_the_blocks_pending_writes_over_committed_state() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("s.redb")).unwrap();
        let me = Address([7; 20]);
        let other = Address([8; 20]);
        let mut base = Changes::new();
        for k in [b"a1", b"a2", b"a3", b"b1"] {
            base.insert(layout::storage(&me, k), Some(k.to_vec()));
        }
        base.insert(layout::storage(&other, b"a0"), Some(b"x".to_vec()));
        let prepared = db.prepare(0, base).unwrap();
        db.commit(prepared, &BlockRecord::default()).unwrap();

        let view = BlockView::new(db.snapshot().unwrap());
        view.write(layout::storage(&me, b"a2"), None);
        view.write(layout::storage(&me, b"a4"), Some(b"new".to_vec()));
        view.write(layout::storage(&me, b"a1"), Some(b"changed".to_vec()));
        let keys = |range: KeyRange, order, limit| -> Vec<(String, String)> {
            view.scan(&me, &range, order, limit, u64::MAX)
                .unwrap()
                .entries
                .into_iter()
                .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
                .collect()
        };
        let a = KeyRange::with_prefix(b"a", None, None);
        assert_eq!(
            keys(a.clone(), Order::Ascending, 10),
            [("a1", "changed"), ("a3", "a3"), ("a4", "new")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(
            keys(a.clone(), Order::Descending, 2),
            [("a4", "new"), ("a3", "a3")].map(|(k, v)| (k.into(), v.into()))
        );
        assert_eq!(keys(KeyRange::default(), Order::Ascending, 10).len(), 4);
        // Rolling back restores the committed view.
        let mark = view.mark();
        view.write(layout::storage(&me, b"a3"), None);
        assert_eq!(keys(a.clone(), Order::Ascending, 10).len(), 2);
        view.rollback(mark);
        assert_eq!(keys(a, Order::Ascending, 10).len(), 3);
        assert_eq!(view.get(&other, b"a0").unwrap(), Some(b"x".to_vec()));
    }
    /// A tiny deterministic generator, so the cases are the same on every run.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn scans_agree_with_a_plain_merge_over_many_random_states() {
        let me = Address([7; 20]);
        let key = |n: u64| format!("k{:03}", n % 60).into_bytes();
        for case in 0..40u64 {
            let mut seed = case;
            let dir = tempfile::tempdir().unwrap();
            let db = StateDb::open(&dir.path().join("s.redb")).unwrap();
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            let mut base = Changes::new();
            for _ in 0..lcg(&mut seed) % 50 {
                let k = key(lcg(&mut seed));
                model.insert(k.clone(), b"c".to_vec());
                base.insert(layout::storage(&me, &k), Some(b"c".to_vec()));
            }
            let prepared = db.prepare(0, base).unwrap();
            db.commit(prepared, &BlockRecord::default()).unwrap();
            let view = BlockView::new(db.snapshot().unwrap());
            for _ in 0..lcg(&mut seed) % 50 {
                let k = key(lcg(&mut seed));
                if lcg(&mut seed).is_multiple_of(2) {
                    model.remove(&k);
                    view.write(layout::storage(&me, &k), None);
                } else {
                    model.insert(k.clone(), b"p".to_vec());
                    view.write(layout::storage(&me, &k), Some(b"p".to_vec()));
                }
            }
            for _ in 0..8 {
                let (a, b) = (key(lcg(&mut seed)), key(lcg(&mut seed)));
                let range = KeyRange {
                    start: Some(a.clone().min(b.clone())),
                    end: Some(a.max(b)),
                };
                let limit = (lcg(&mut seed) % 12) as usize;
                let descending = lcg(&mut seed).is_multiple_of(2);
                let order = if descending {
                    Order::Descending
                } else {
                    Order::Ascending
                };
                let in_range = model.iter().filter(|(k, _)| range.contains(k));
                let expected: Entries = if descending {
                    in_range
                        .rev()
                        .take(limit)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    in_range
                        .take(limit)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                };
                let scan = view.scan(&me, &range, order, limit, u64::MAX).unwrap();
                assert_eq!(
                    scan.entries, expected,
                    "case {case}: {range:?} {order:?} {limit}"
                );
                assert!(!scan.cut);
            }
        }
    }

    #[test]
    fn a_scan_counts_every_entry_it_steps_over_and_stops_where_it_may() {
        let dir = tempfile::tempdir().unwrap();
        let db = StateDb::open(&dir.path().join("s.redb")).unwrap();
        let me = Address([7; 20]);
        let key = |n: u32| format!("k{n:03}").into_bytes();
        let mut base = Changes::new();
        for n in 0..100 {
            base.insert(layout::storage(&me, &key(n)), Some(vec![1; 8]));
        }
        let prepared = db.prepare(0, base).unwrap();
        db.commit(prepared, &BlockRecord::default()).unwrap();
        let view = BlockView::new(db.snapshot().unwrap());
        // An earlier transaction of the block removed the first half.
        for n in 0..50 {
            view.write(layout::storage(&me, &key(n)), None);
        }
        let all = KeyRange::with_prefix(b"k", None, None);
        let scan = view.scan(&me, &all, Order::Ascending, 1, u64::MAX).unwrap();
        assert_eq!(scan.entries, vec![(key(50), vec![1; 8])]);
        // 50 removals stepped over, and the committed entries read in pages of 1, 2, 4, .. 32
        // until one was not removed: what the engine charges for.
        assert_eq!(scan.walked, 50 + 63);
        assert!(!scan.cut);
        let bounded = view.scan(&me, &all, Order::Ascending, 1, 40).unwrap();
        assert!(bounded.cut && bounded.entries.is_empty(), "{bounded:?}");
        assert!(bounded.walked <= 40, "{}", bounded.walked);
        // Nothing in the way: the walk is the page.
        let tail = KeyRange::with_prefix(b"k", Some(key(90)), None);
        let scan = view
            .scan(&me, &tail, Order::Descending, 3, u64::MAX)
            .unwrap();
        assert_eq!(scan.walked, 3);
        assert_eq!(scan.entries[0].0, key(99));
    }
}
