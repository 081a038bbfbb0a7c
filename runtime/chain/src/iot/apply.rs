//! The rules of the IoT transactions: who may change a device, service or grant, and what a
//! reading must prove. Each check failing is a receipt error naming the rule; the executor
//! then rolls back everything the transaction wrote.

use bot_engine::iot::{CommandRequest, DataAccess, ServiceCall};
use bot_engine::{Address, COSTS};

use super::model::{
    AccessRecord, Command, CommandState, Device, DeviceKey, DeviceStatus, Grant, Reading, Right,
    Service,
};
use super::tx::{IotTx, reading_digest, registration_digest, response_digest, rotation_digest};
use crate::exec::BlockView;
use crate::receipt::{ErrorKind, ReceiptEvent, TxError};
use crate::{ChainError, Hash, layout};

/// What [`IotExec::expire_next`] found at the next deadline due.
pub enum Expiry {
    /// It timed out now: its callback runs next.
    Expired(Box<Command>),
    /// Its callback needs more gas than the block has left: it waits. The deadline's key, to
    /// look past it.
    Later(Vec<u8>),
    /// No deadline is due.
    None,
}

/// Gas for decoding and checking an IoT transaction, before its reads, writes and signatures.
const OP_GAS: u64 = 50_000;

const MAX_KIND: usize = 64;
const MAX_METADATA: usize = 4096;
const MAX_STREAM: usize = 64;
const MAX_DATA: usize = 16 * 1024;
const MAX_NAME: usize = 64;
const MAX_DESCRIPTION: usize = 1024;
const MAX_ANSWER: usize = 4096;
/// Grants read at a time when a transfer revokes them all.
const REVOKE_PAGE: usize = 64;

fn error(kind: ErrorKind, message: impl Into<String>) -> TxError {
    TxError {
        kind,
        code: None,
        message: message.into(),
    }
}

/// A rule broken (a receipt error) or a local failure (disk) that is no one's fault.
pub(crate) enum Refused {
    Rule(TxError),
    Local(ChainError),
}

impl From<TxError> for Refused {
    fn from(e: TxError) -> Refused {
        Refused::Rule(e)
    }
}

impl From<ChainError> for Refused {
    fn from(e: ChainError) -> Refused {
        Refused::Local(e)
    }
}

type Step<T> = Result<T, Refused>;

/// What an IoT transaction did.
pub(crate) struct Applied {
    pub gas: u64,
    pub events: Vec<ReceiptEvent>,
    pub error: Option<TxError>,
    /// The command a device answered, whose callback the executor runs next.
    pub answered: Option<Command>,
}

/// A stream name: 1 to 64 bytes of letters, digits, `_`, `-` and `.`.
pub fn check_stream(stream: &str) -> Result<(), String> {
    let ok = !stream.is_empty()
        && stream.len() <= MAX_STREAM
        && stream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "stream `{stream}` is not 1 to {MAX_STREAM} letters, digits, `_`, `-` or `.`"
        ))
    }
}

fn check_len(what: &str, text: &str, max: usize) -> Step<()> {
    if text.len() > max {
        return Err(error(
            ErrorKind::Invalid,
            format!("{what} has {} bytes, the limit is {max}", text.len()),
        )
        .into());
    }
    Ok(())
}

/// A device key must be a point on its curve, in compressed form (one encoding per key).
fn check_key(key: &DeviceKey) -> Step<()> {
    let canonical =
        DeviceKey::new(key.kind, &key.sec1).map_err(|e| error(ErrorKind::Invalid, e))?;
    if canonical != *key {
        return Err(error(
            ErrorKind::Invalid,
            "a device key is given as a compressed SEC1 point",
        )
        .into());
    }
    Ok(())
}

/// Who may make a change to a device.
enum Manager {
    Owner,
    OwnerOrGateway,
}

/// The IoT rules over one block's view, for one transaction.
pub(crate) struct IotExec<'a> {
    pub view: &'a BlockView,
    pub chain_id: &'a str,
    pub height: u64,
    pub time_ms: u64,
    pub tx_hash: Hash,
    /// Readings kept per device stream; older ones are dropped.
    pub retention: u32,
    pub gas_used: u64,
    pub budget: u64,
    pub events: Vec<ReceiptEvent>,
    /// The command a response answered.
    pub answered: Option<Command>,
}

impl IotExec<'_> {
    /// Runs `tx` for `signer`. `Err` only for local failures.
    pub fn run(mut self, signer: Address, tx: &IotTx) -> Result<Applied, ChainError> {
        let result = self.charge(OP_GAS).and_then(|()| self.dispatch(signer, tx));
        let error = match result {
            Ok(()) => None,
            Err(Refused::Rule(e)) => Some(e),
            Err(Refused::Local(e)) => return Err(e),
        };
        Ok(Applied {
            gas: self.gas_used.min(self.budget),
            events: if error.is_some() {
                Vec::new()
            } else {
                self.events
            },
            answered: if error.is_some() { None } else { self.answered },
            error,
        })
    }

    fn dispatch(&mut self, signer: Address, tx: &IotTx) -> Step<()> {
        match tx {
            IotTx::RegisterDevice {
                key,
                kind,
                metadata,
                owner,
                gateway,
                proof,
            } => self.register_device(signer, key, kind, metadata, *owner, *gateway, proof),
            IotTx::UpdateDevice {
                device,
                status,
                metadata,
            } => self.update_device(signer, device, *status, metadata.as_deref()),
            IotTx::RotateKey { device, key, proof } => self.rotate_key(signer, device, key, proof),
            IotTx::TransferDevice { device, to } => self.transfer(signer, device, *to),
            IotTx::SetGateway { device, gateway } => self.set_gateway(signer, device, *gateway),
            IotTx::Report {
                device,
                stream,
                counter,
                data,
                signature,
            } => self.report(signer, device, stream, *counter, data, signature),
            IotTx::Respond {
                device,
                command,
                ok,
                data,
                signature,
            } => {
                let answered = self.respond(signer, device, *command, *ok, data, signature)?;
                self.answered = Some(answered);
                Ok(())
            }
            IotTx::RegisterService {
                contract,
                name,
                description,
                policy,
            } => {
                check_len("a service name", name, MAX_NAME)?;
                check_len("a service description", description, MAX_DESCRIPTION)?;
                if name.is_empty() {
                    return Err(error(ErrorKind::Invalid, "a service needs a name").into());
                }
                self.register_service(signer, contract, name, description, *policy)
            }
            IotTx::DeregisterService { contract } => {
                let service = self.service(contract)?;
                if service.owner != signer {
                    return Err(error(
                        ErrorKind::Unauthorized,
                        format!(
                            "{signer} does not own service {contract} (its owner is {})",
                            service.owner
                        ),
                    )
                    .into());
                }
                self.remove(layout::service(contract))?;
                self.emit(*contract, "service.deregistered", &service);
                Ok(())
            }
            IotTx::Grant {
                right,
                grantee,
                expires_ms,
            } => self.grant(signer, right, *grantee, *expires_ms),
            IotTx::Revoke { right, grantee } => {
                self.owner_of_target(signer, right)?;
                let key = layout::grant(right, grantee);
                let Some(grant) = self.get::<Grant>(&key)? else {
                    return Err(error(
                        ErrorKind::NotFound,
                        format!("{grantee} holds no grant to {}", right.describe()),
                    )
                    .into());
                };
                self.remove(key)?;
                self.emit(right.target(), "grant.revoked", &grant);
                Ok(())
            }
        }
    }

    fn charge(&mut self, gas: u64) -> Step<()> {
        self.gas_used = self.gas_used.saturating_add(gas);
        if self.gas_used > self.budget {
            return Err(error(
                ErrorKind::OutOfGas,
                format!(
                    "the transaction's {} gas do not cover the operation",
                    self.budget
                ),
            )
            .into());
        }
        Ok(())
    }

    fn get<T: borsh::BorshDeserialize>(&mut self, key: &[u8]) -> Step<Option<T>> {
        self.charge(COSTS.storage_get.base)?;
        Ok(self.view.decode(key)?)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Step<()> {
        let bytes = (key.len() + value.len()) as u64;
        self.charge(
            COSTS
                .storage_set
                .for_bytes(bytes)
                .unwrap_or(u64::MAX)
                .saturating_add(COSTS.storage_commit),
        )?;
        self.view.write(key, Some(value));
        Ok(())
    }

    fn put_borsh(&mut self, key: Vec<u8>, value: &impl borsh::BorshSerialize) -> Step<()> {
        self.put(key, borsh::to_vec(value).unwrap_or_default())
    }

    fn remove(&mut self, key: Vec<u8>) -> Step<()> {
        self.charge(
            COSTS
                .storage_remove
                .base
                .saturating_add(COSTS.storage_commit),
        )?;
        self.view.write(key, None);
        Ok(())
    }

    fn emit(&mut self, subject: Address, name: &str, data: &impl borsh::BorshSerialize) {
        self.events.push(ReceiptEvent {
            contract: subject,
            name: name.to_string(),
            data: borsh::to_vec(data).unwrap_or_default(),
        });
    }

    fn verify(&mut self, key: &DeviceKey, digest: &[u8; 32], signature: &[u8]) -> Step<bool> {
        let cost = match key.kind {
            super::KeyType::Secp256k1 => COSTS.secp256k1_verify.base,
            super::KeyType::P256 => COSTS.p256_verify.base,
        };
        self.charge(cost)?;
        Ok(key.verifies(digest, signature))
    }

    fn device(&mut self, id: &Address) -> Step<Device> {
        self.get::<Device>(&layout::device(id))?.ok_or_else(|| {
            error(ErrorKind::NotFound, format!("no device {id} is registered")).into()
        })
    }

    fn service(&mut self, contract: &Address) -> Step<Service> {
        self.get::<Service>(&layout::service(contract))?
            .ok_or_else(|| {
                error(
                    ErrorKind::NotFound,
                    format!("no service is registered at {contract}"),
                )
                .into()
            })
    }

    fn save(&mut self, device: &Device) -> Step<()> {
        self.put_borsh(layout::device(&device.id), device)
    }

    fn index(&mut self, prefix: Vec<u8>, id: &Address, present: bool) -> Step<()> {
        let mut key = prefix;
        key.extend_from_slice(&id.0);
        if present {
            self.put(key, Vec::new())
        } else {
            self.remove(key)
        }
    }

    /// The owner, or the gateway the device is behind, may manage it.
    fn managed_by(device: &Device, signer: &Address) -> Step<()> {
        if device.owner == *signer || device.gateway.as_ref() == Some(signer) {
            return Ok(());
        }
        Err(error(
            ErrorKind::Unauthorized,
            format!(
                "{signer} may not change device {}: only its owner {} or its gateway may",
                device.id, device.owner
            ),
        )
        .into())
    }

    fn owned_by(device: &Device, signer: &Address) -> Step<()> {
        if device.owner == *signer {
            return Ok(());
        }
        Err(error(
            ErrorKind::Unauthorized,
            format!(
                "{signer} does not own device {} (its owner is {})",
                device.id, device.owner
            ),
        )
        .into())
    }

    fn not_revoked(device: &Device) -> Step<()> {
        if device.status == DeviceStatus::Revoked {
            return Err(error(
                ErrorKind::DeviceRevoked,
                format!(
                    "device {} is revoked: it cannot be changed or used again",
                    device.id
                ),
            )
            .into());
        }
        Ok(())
    }

    /// The device's own account, or its gateway, may report and answer for it (10.6 b).
    fn speaks_for(device: &Device, signer: &Address, what: &str) -> Step<()> {
        if device.key.account() == Some(*signer) || device.gateway == Some(*signer) {
            return Ok(());
        }
        let gateway = match device.gateway {
            Some(g) => format!("its gateway {g}"),
            None => "its gateway (it has none)".to_string(),
        };
        Err(error(
            ErrorKind::Unauthorized,
            format!(
                "{signer} does not speak for device {}: only the device's own account or {gateway} may {what} for it",
                device.id
            ),
        )
        .into())
    }

    /// Only an active device reports and answers.
    fn active(device: &Device) -> Step<()> {
        match device.status {
            DeviceStatus::Active => Ok(()),
            DeviceStatus::Suspended => Err(error(
                ErrorKind::DeviceInactive,
                format!("device {} is suspended", device.id),
            )
            .into()),
            DeviceStatus::Revoked => Self::not_revoked(device),
        }
    }

    /// A registered, unrevoked device `signer` may change: as its owner, or (for status,
    /// metadata and keys) as its gateway.
    fn changeable(&mut self, signer: Address, id: &Address, who: Manager) -> Step<Device> {
        let device = self.device(id)?;
        match who {
            Manager::Owner => Self::owned_by(&device, &signer)?,
            Manager::OwnerOrGateway => Self::managed_by(&device, &signer)?,
        }
        Self::not_revoked(&device)?;
        Ok(device)
    }

    /// Stores a changed device and announces it.
    fn changed(&mut self, device: &mut Device, event: &str) -> Step<()> {
        device.updated_at = self.height;
        self.save(device)?;
        self.emit(device.id, event, &*device);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn register_device(
        &mut self,
        signer: Address,
        key: &DeviceKey,
        kind: &str,
        metadata: &str,
        owner: Option<Address>,
        gateway: Option<Address>,
        proof: &[u8],
    ) -> Step<()> {
        check_len("a device kind", kind, MAX_KIND)?;
        check_len("device metadata", metadata, MAX_METADATA)?;
        check_key(key)?;
        let owner = owner.unwrap_or(signer);
        if owner != signer {
            if gateway != Some(signer) {
                return Err(error(
                    ErrorKind::Unauthorized,
                    format!(
                        "{signer} may not register a device for {owner}: only the owner, or the gateway named for the device, may"
                    ),
                )
                .into());
            }
            // A gateway adds devices to an owner's name only with the owner's consent.
            self.charge(COSTS.storage_get.base)?;
            let right = Right::RegisterDevices { owner };
            if let Err(why) = super::read::check_grant(self.view, &right, &signer, self.time_ms)? {
                return Err(error(
                    ErrorKind::Unauthorized,
                    format!(
                        "gateway {signer} may not register a device for {owner}: {why} (the owner grants it)"
                    ),
                )
                .into());
            }
        }
        let digest = registration_digest(self.chain_id, key, &owner, gateway.as_ref());
        if !self.verify(key, &digest, proof)? {
            return Err(error(
                ErrorKind::InvalidProof,
                "the proof is not the device key's signature of this registration (owner, gateway, chain)",
            )
            .into());
        }
        let id = key.device_id();
        if self.get::<Device>(&layout::device(&id))?.is_some() {
            return Err(error(
                ErrorKind::AlreadyRegistered,
                format!("device {id} is already registered"),
            )
            .into());
        }
        let device = Device {
            id,
            key: key.clone(),
            key_version: 0,
            owner,
            gateway,
            kind: kind.to_string(),
            metadata: metadata.to_string(),
            status: DeviceStatus::Active,
            counter: 0,
            registered_at: self.height,
            updated_at: self.height,
        };
        self.save(&device)?;
        self.index(layout::devices_of_owner(&owner), &id, true)?;
        if let Some(g) = gateway {
            self.index(layout::devices_of_gateway(&g), &id, true)?;
        }
        self.emit(id, "device.registered", &device);
        Ok(())
    }

    fn update_device(
        &mut self,
        signer: Address,
        id: &Address,
        status: Option<DeviceStatus>,
        metadata: Option<&str>,
    ) -> Step<()> {
        let mut device = self.changeable(signer, id, Manager::OwnerOrGateway)?;
        if let Some(metadata) = metadata {
            check_len("device metadata", metadata, MAX_METADATA)?;
            device.metadata = metadata.to_string();
        }
        if let Some(status) = status {
            device.status = status;
        }
        self.changed(&mut device, "device.updated")
    }

    fn rotate_key(
        &mut self,
        signer: Address,
        id: &Address,
        key: &DeviceKey,
        proof: &[u8],
    ) -> Step<()> {
        let mut device = self.changeable(signer, id, Manager::OwnerOrGateway)?;
        check_key(key)?;
        let version = device.key_version.saturating_add(1);
        let digest = rotation_digest(self.chain_id, id, key, version);
        if !self.verify(key, &digest, proof)? {
            return Err(error(
                ErrorKind::InvalidProof,
                format!(
                    "the proof is not the new key's signature of rotation {version} of device {id}"
                ),
            )
            .into());
        }
        device.key = key.clone();
        device.key_version = version;
        self.changed(&mut device, "device.key_rotated")
    }

    fn transfer(&mut self, signer: Address, id: &Address, to: Address) -> Step<()> {
        let mut device = self.changeable(signer, id, Manager::Owner)?;
        self.index(layout::devices_of_owner(&device.owner), id, false)?;
        self.index(layout::devices_of_owner(&to), id, true)?;
        device.owner = to;
        // The grants over the device were its old owner's to give: they end with the
        // ownership, so no one reads or commands it on a grant its owner never gave.
        self.revoke_all(id)?;
        self.changed(&mut device, "device.transferred")
    }

    /// Removes every grant over `target`, each paid as a read and a removal, and announces
    /// each (`grant.revoked`).
    fn revoke_all(&mut self, target: &Address) -> Step<()> {
        let prefix = layout::grants(target, None);
        let mut after: Option<Vec<u8>> = None;
        loop {
            self.charge(COSTS.storage_scan.base)?;
            let page = self
                .view
                .scan_prefix(&prefix, after.as_deref(), false, REVOKE_PAGE)?;
            let Some((last, _)) = page.last() else {
                return Ok(());
            };
            after = Some(last.clone());
            for (key, value) in page {
                self.charge(
                    COSTS
                        .storage_scan
                        .for_bytes((key.len() + value.len()) as u64)
                        .unwrap_or(u64::MAX)
                        .saturating_add(COSTS.storage_scan_per_entry),
                )?;
                let grant: Grant = borsh::from_slice(&value)
                    .map_err(|e| ChainError::State(format!("corrupt grant entry: {e}")))?;
                self.remove(key)?;
                self.emit(*target, "grant.revoked", &grant);
            }
        }
    }

    fn set_gateway(&mut self, signer: Address, id: &Address, gateway: Option<Address>) -> Step<()> {
        let mut device = self.changeable(signer, id, Manager::Owner)?;
        if let Some(old) = device.gateway {
            self.index(layout::devices_of_gateway(&old), id, false)?;
        }
        if let Some(new) = gateway {
            self.index(layout::devices_of_gateway(&new), id, true)?;
        }
        device.gateway = gateway;
        self.changed(&mut device, "device.gateway_changed")
    }

    fn report(
        &mut self,
        signer: Address,
        id: &Address,
        stream: &str,
        counter: u64,
        data: &[u8],
        signature: &[u8],
    ) -> Step<()> {
        check_stream(stream).map_err(|e| error(ErrorKind::Invalid, e))?;
        if data.len() > MAX_DATA {
            return Err(error(
                ErrorKind::Invalid,
                format!(
                    "a reading has {} bytes, the limit is {MAX_DATA}",
                    data.len()
                ),
            )
            .into());
        }
        let mut device = self.device(id)?;
        Self::speaks_for(&device, &signer, "report")?;
        Self::active(&device)?;
        if counter <= device.counter {
            return Err(error(
                ErrorKind::Replay,
                format!(
                    "counter {counter} of device {id} is not above its last accepted counter {}: a replayed or reordered reading",
                    device.counter
                ),
            )
            .into());
        }
        let digest = reading_digest(self.chain_id, id, stream, counter, data);
        if !self.verify(&device.key, &digest, signature)? {
            return Err(error(
                ErrorKind::InvalidSignature,
                format!("the reading is not signed by the key of device {id}"),
            )
            .into());
        }
        let reading = Reading {
            device: *id,
            stream: stream.to_string(),
            counter,
            data: data.to_vec(),
            signature: signature.to_vec(),
            submitted_by: signer,
            height: self.height,
            time_ms: self.time_ms,
        };
        self.put_borsh(layout::reading(id, stream, counter), &reading)?;
        let count_key = layout::stream_count(id, stream);
        let mut count = self.get::<u32>(&count_key)?.unwrap_or(0).saturating_add(1);
        // Bounded retention: the stream keeps its newest readings.
        while count > self.retention.max(1) {
            self.charge(
                COSTS
                    .storage_scan
                    .base
                    .saturating_add(COSTS.storage_scan_per_entry),
            )?;
            let oldest = self
                .view
                .scan_prefix(&layout::stream(id, stream), None, false, 1)?;
            let Some((key, _)) = oldest.into_iter().next() else {
                break;
            };
            self.remove(key)?;
            count -= 1;
        }
        self.put_borsh(count_key, &count)?;
        device.counter = counter;
        self.save(&device)?;
        self.emit(*id, "device.reading", &reading);
        Ok(())
    }

    fn register_service(
        &mut self,
        signer: Address,
        contract: &Address,
        name: &str,
        description: &str,
        policy: super::AccessPolicy,
    ) -> Step<()> {
        if self
            .view
            .read(&layout::contract(contract))
            .map_err(|e| ChainError::State(e.0))?
            .is_none()
        {
            return Err(error(
                ErrorKind::NotFound,
                format!("no contract lives at {contract}"),
            )
            .into());
        }
        let creator = self
            .get::<[u8; 20]>(&layout::creator(contract))?
            .map(Address);
        if creator != Some(signer) {
            return Err(error(
                ErrorKind::Unauthorized,
                format!("{signer} did not instantiate {contract}: only its creator may register it as a service"),
            )
            .into());
        }
        let registered_at = match self.get::<Service>(&layout::service(contract))? {
            Some(old) => old.registered_at,
            None => self.height,
        };
        let service = Service {
            contract: *contract,
            owner: signer,
            name: name.to_string(),
            description: description.to_string(),
            policy,
            registered_at,
        };
        self.put_borsh(layout::service(contract), &service)?;
        self.emit(*contract, "service.registered", &service);
        Ok(())
    }

    /// The device's or service's owner, who alone grants and revokes rights over it.
    fn owner_of_target(&mut self, signer: Address, right: &Right) -> Step<()> {
        let owner = match right {
            Right::ReadData { device, .. } | Right::Command { device } => {
                self.device(device)?.owner
            }
            Right::CallService { service, .. } => self.service(service)?.owner,
            Right::RegisterDevices { owner } => *owner,
        };
        if owner != signer {
            return Err(error(
                ErrorKind::Unauthorized,
                format!(
                    "{signer} may not grant or revoke the right to {}: only its owner {owner} may",
                    right.describe()
                ),
            )
            .into());
        }
        Ok(())
    }

    fn grant(
        &mut self,
        signer: Address,
        right: &Right,
        grantee: Address,
        expires_ms: Option<u64>,
    ) -> Step<()> {
        match right {
            Right::ReadData {
                stream: Some(s), ..
            } => check_stream(s).map_err(|e| error(ErrorKind::Invalid, e))?,
            Right::CallService {
                method: Some(m), ..
            } if m.is_empty() || m.len() > 64 => {
                return Err(error(ErrorKind::Invalid, "a method name has 1 to 64 bytes").into());
            }
            _ => {}
        }
        self.owner_of_target(signer, right)?;
        if let Some(e) = expires_ms
            && e <= self.time_ms
        {
            return Err(error(
                ErrorKind::Invalid,
                format!(
                    "the grant would expire at {e}, not after this block's time {}",
                    self.time_ms
                ),
            )
            .into());
        }
        let grant = Grant {
            right: right.clone(),
            grantee,
            granter: signer,
            expires_ms,
            granted_at: self.height,
        };
        self.put_borsh(layout::grant(right, &grantee), &grant)?;
        self.emit(right.target(), "grant.added", &grant);
        Ok(())
    }

    /// Whether `accessor` may call `method` on `contract` now. A contract that is not a
    /// service, or whose policy is open, lets anyone call; a granted service lets its owner and
    /// its grantees, and records each call in its audit trail.
    pub fn authorize_call(
        &mut self,
        accessor: Address,
        contract: &Address,
        method: &str,
    ) -> Step<()> {
        let Some(service) = self.get::<Service>(&layout::service(contract))? else {
            return Ok(());
        };
        if service.policy == super::AccessPolicy::Open {
            return Ok(());
        }
        let right = Right::CallService {
            service: *contract,
            method: Some(method.to_string()),
        };
        let granted_by = if service.owner == accessor {
            None
        } else {
            match super::read::check_grant(self.view, &right, &accessor, self.time_ms)? {
                Ok(grant) => Some(grant.granter),
                Err(why) => {
                    return Err(error(
                        ErrorKind::Unauthorized,
                        format!(
                            "{accessor} may not call `{method}` on service `{}`: {why}",
                            service.name
                        ),
                    )
                    .into());
                }
            }
        };
        self.record_call(accessor, right, granted_by)
    }

    /// Appends a contract's call of a granted service (checked by the engine as
    /// [`IotExec::authorize_call`] checks an account's) to the service's audit trail.
    pub fn record_service_call(&mut self, call: &ServiceCall) -> Step<()> {
        let right = Right::CallService {
            service: call.service,
            method: Some(call.method.clone()),
        };
        self.record_call(call.accessor, right, call.granted_by)
    }

    fn record_call(
        &mut self,
        accessor: Address,
        right: Right,
        granted_by: Option<Address>,
    ) -> Step<()> {
        let action = match &right {
            Right::CallService {
                method: Some(m), ..
            } => format!("call {m}"),
            other => format!("call {}", other.describe()),
        };
        self.record(AccessRecord {
            seq: 0,
            accessor,
            right,
            action,
            granted_by,
            tx_hash: self.tx_hash.to_vec(),
            height: self.height,
            time_ms: self.time_ms,
        })
    }

    /// Appends a contract's read of a device's readings to the device's audit trail.
    pub fn record_read(&mut self, access: &DataAccess) -> Step<()> {
        self.record(AccessRecord {
            seq: 0,
            accessor: access.accessor,
            right: Right::ReadData {
                device: access.device,
                stream: Some(access.stream.clone()),
            },
            action: format!("read {} readings of {}", access.readings, access.stream),
            granted_by: access.granted_by,
            tx_hash: self.tx_hash.to_vec(),
            height: self.height,
            time_ms: self.time_ms,
        })
    }

    /// Stores a command a contract sent in a call that succeeded, and records it in the
    /// device's audit trail.
    pub fn record_command(&mut self, request: &CommandRequest) -> Step<()> {
        let next = self.get::<u64>(layout::NEXT_COMMAND)?.unwrap_or(0);
        if request.id != next {
            return Err(ChainError::State(format!(
                "the engine numbered a command {} where the chain's next id is {next}",
                request.id
            ))
            .into());
        }
        let deadline = self
            .height
            .saturating_add(u64::from(request.timeout_blocks.max(1)) - 1);
        let command = Command {
            id: request.id,
            device: request.device,
            service: request.service,
            command: request.command.clone(),
            payload: request.payload.clone(),
            callback: request.callback.clone(),
            callback_gas: request.callback_gas,
            granted_by: request.granted_by,
            tx_hash: self.tx_hash.to_vec(),
            sent_at: self.height,
            deadline,
            state: CommandState::Pending,
        };
        self.put_borsh(layout::command(&command.device, command.id), &command)?;
        self.put(
            layout::deadline(deadline, command.id),
            command.device.0.to_vec(),
        )?;
        self.put_borsh(layout::NEXT_COMMAND.to_vec(), &(next + 1))?;
        self.emit(command.device, "command.sent", &command);
        self.record(AccessRecord {
            seq: 0,
            accessor: command.service,
            right: Right::Command {
                device: command.device,
            },
            action: format!("command {} #{}", command.command, command.id),
            granted_by: command.granted_by,
            tx_hash: self.tx_hash.to_vec(),
            height: self.height,
            time_ms: self.time_ms,
        })
    }

    /// A device's signed answer to a pending command; returns the command, answered.
    fn respond(
        &mut self,
        signer: Address,
        id: &Address,
        command_id: u64,
        ok: bool,
        data: &[u8],
        signature: &[u8],
    ) -> Step<Command> {
        if data.len() > MAX_ANSWER {
            return Err(error(
                ErrorKind::Invalid,
                format!(
                    "an answer has {} bytes, the limit is {MAX_ANSWER}",
                    data.len()
                ),
            )
            .into());
        }
        let device = self.device(id)?;
        Self::speaks_for(&device, &signer, "answer")?;
        Self::active(&device)?;
        let key = layout::command(id, command_id);
        let Some(mut command) = self.get::<Command>(&key)? else {
            return Err(error(
                ErrorKind::NotFound,
                format!("device {id} was sent no command #{command_id}"),
            )
            .into());
        };
        match command.state {
            CommandState::Pending if self.height <= command.deadline => {}
            CommandState::Pending | CommandState::TimedOut { .. } => {
                return Err(error(
                    ErrorKind::TimedOut,
                    format!(
                        "command #{command_id} timed out: it had to be answered by block {}",
                        command.deadline
                    ),
                )
                .into());
            }
            CommandState::Answered { height, .. } => {
                return Err(error(
                    ErrorKind::AlreadyAnswered,
                    format!("command #{command_id} was answered at block {height}"),
                )
                .into());
            }
        }
        // The answer's transaction carries the callback, so a block's gas limit bounds the
        // callbacks it runs: its gas limit must cover the callback's gas too.
        if self.budget.saturating_sub(self.gas_used) < command.callback_gas {
            return Err(error(
                ErrorKind::OutOfGas,
                format!(
                    "answering command #{command_id} runs its callback with {} gas: the transaction's {} gas do not cover it",
                    command.callback_gas, self.budget
                ),
            )
            .into());
        }
        let digest = response_digest(self.chain_id, id, command_id, ok, data);
        if !self.verify(&device.key, &digest, signature)? {
            return Err(error(
                ErrorKind::InvalidSignature,
                format!("the answer is not signed by the key of device {id}"),
            )
            .into());
        }
        command.state = CommandState::Answered {
            ok,
            data: data.to_vec(),
            signature: signature.to_vec(),
            responder: signer,
            height: self.height,
        };
        self.put_borsh(key, &command)?;
        self.remove(layout::deadline(command.deadline, command_id))?;
        self.emit(*id, "command.answered", &command);
        // The callback's gas, in full: the executor runs it next.
        self.charge(command.callback_gas)?;
        Ok(command)
    }

    /// Times out the pending command with the earliest deadline (then the lowest id), if that
    /// deadline is this block or before; returns it. Its callback's gas is charged here, so a
    /// budget that does not cover it refuses (and the caller undoes the step).
    pub fn expire_next(&mut self, after: Option<&[u8]>) -> Step<Expiry> {
        let first = self.view.scan_prefix(layout::DEADLINES, after, false, 1)?;
        let Some((key, device)) = first.into_iter().next() else {
            return Ok(Expiry::None);
        };
        let corrupt = || Refused::Local(ChainError::State("corrupt command deadline".into()));
        let number = |at: usize| -> Step<u64> {
            key.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
                .ok_or_else(corrupt)
        };
        let (deadline, command_id) = (number(2)?, number(10)?);
        if deadline > self.height {
            return Ok(Expiry::None);
        }
        let device = Address::from_slice(&device).ok_or_else(corrupt)?;
        let mut command = self
            .get::<Command>(&layout::command(&device, command_id))?
            .ok_or_else(corrupt)?;
        // Its callback's gas, reserved before anything is written; if the block has not that
        // much left, it waits for a block that has, and those after it may go first.
        if self.gas_used.saturating_add(command.callback_gas) > self.budget {
            return Ok(Expiry::Later(key));
        }
        self.charge(command.callback_gas)?;
        command.state = CommandState::TimedOut {
            height: self.height,
        };
        self.put_borsh(layout::command(&device, command_id), &command)?;
        self.remove(key)?;
        self.emit(device, "command.timed_out", &command);
        Ok(Expiry::Expired(Box::new(command)))
    }

    /// Appends to the target's audit trail.
    fn record(&mut self, mut record: AccessRecord) -> Step<()> {
        let target = record.right.target();
        let next_key = layout::audit_next(&target);
        let seq = self.get::<u64>(&next_key)?.unwrap_or(0);
        record.seq = seq;
        self.put_borsh(layout::audit_record(&target, seq), &record)?;
        self.put_borsh(next_key, &(seq + 1))?;
        self.emit(target, "access.recorded", &record);
        Ok(())
    }
}
