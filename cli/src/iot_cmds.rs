//! `cargo bot device | service | grant | data`: the IoT procedures of Y.4464 clause 10 from the
//! command line. Each change is a signed transaction (dry-run first, so a broken rule is
//! reported before anything is sent); each read is a JSON-RPC call.

use anyhow::{Result, anyhow, bail};
use bot_chain::iot::{
    AccessPolicy, DeviceSigner, DeviceStatus, IotTx, KeyType, Right, reading_digest,
    registration_digest, response_digest, rotation_digest, verify_grant_proof,
};
use bot_chain::{StateProof, TxKind};
use bot_engine::Address;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::client::{self, Rpc};
use crate::device_keys;

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Register a device: creates its key here (`~/.bot/devices/NAME.json`) unless it exists,
    /// and puts the key on the chain with a proof that the key's holder agrees.
    Register {
        /// The device key's local name.
        name: String,
        #[arg(long, value_enum, default_value = "secp256k1")]
        key_type: KeyTypeArg,
        /// What the device is (thermometer, washing-machine...).
        #[arg(long, default_value = "sensor")]
        kind: String,
        /// The owner's description of the device (JSON).
        #[arg(long, default_value = "{}")]
        metadata: String,
        /// The gateway that speaks for the device (an address or a key name).
        #[arg(long)]
        gateway: Option<String>,
        /// The owner, when a gateway registers for its owner (default: the signer).
        #[arg(long)]
        owner: Option<String>,
        /// The signing key: the owner, or the gateway registering for the owner.
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Change a device's status or metadata (its owner or gateway).
    Update {
        device: String,
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long)]
        metadata: Option<String>,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Give the device a new key (made here; the old one is kept as NAME.json.old).
    RotateKey {
        /// The device key's local name.
        name: String,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Give a device to another owner.
    Transfer {
        device: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Move a device behind another gateway (`--gateway none` for none).
    SetGateway {
        device: String,
        #[arg(long)]
        gateway: String,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// List registered devices.
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        gateway: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show one device.
    Show { device: String },
    /// Send a reading signed by the device's key, from the device's own account or, with
    /// `--gateway`, from its gateway's.
    Report {
        /// The device key's local name.
        name: String,
        #[arg(long)]
        stream: String,
        /// The reading, as JSON.
        #[arg(long)]
        data: String,
        /// The reading's counter (default: one above the last accepted).
        #[arg(long)]
        counter: Option<u64>,
        /// Send it as this gateway key.
        #[arg(long)]
        gateway: Option<String>,
    },
    /// The commands service contracts sent a device, oldest first, and how each ended.
    Commands {
        device: String,
        /// Only those still waiting for an answer.
        #[arg(long)]
        pending: bool,
        /// From this command id on.
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Answer a command, signed by the device's key, from the device's own account or, with
    /// `--gateway`, from its gateway's. The sending contract's callback gets the answer.
    Respond {
        /// The device key's local name.
        name: String,
        /// The command's id (`cargo bot device commands`).
        id: u64,
        /// The answer, as JSON.
        #[arg(long, default_value = "{}")]
        data: String,
        /// The device did not do what was asked (`--data` says why).
        #[arg(long)]
        failed: bool,
        /// Send it as this gateway key.
        #[arg(long)]
        gateway: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum KeyTypeArg {
    Secp256k1,
    P256,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum StatusArg {
    Active,
    Suspended,
    Revoked,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PolicyArg {
    Open,
    Granted,
}

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register a contract you instantiated as an IoT service (again: update its manifest).
    Register {
        contract: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// `granted`: only the owner and grantees may call it, and each call is recorded.
        #[arg(long, value_enum, default_value = "open")]
        policy: PolicyArg,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Remove a service from the registry (the contract stays).
    Deregister {
        contract: String,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    List {
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    Show {
        contract: String,
    },
}

/// The right a grant command is about: exactly one of `--read`, `--command`, `--call`.
#[derive(clap::Args)]
pub struct RightArgs {
    /// Read a device's data (all streams, or `--stream`).
    #[arg(long, group = "right")]
    read: Option<String>,
    #[arg(long, requires = "read")]
    stream: Option<String>,
    /// Command a device.
    #[arg(long, group = "right")]
    command: Option<String>,
    /// Call a service (all methods, or `--method`).
    #[arg(long, group = "right")]
    call: Option<String>,
    #[arg(long, requires = "call")]
    method: Option<String>,
    /// Register devices owned by this account, as their gateway (the owner's consent).
    #[arg(long, group = "right", value_name = "OWNER")]
    register_devices: Option<String>,
}

impl RightArgs {
    fn right(&self) -> Result<Right> {
        Ok(
            match (
                &self.read,
                &self.command,
                &self.call,
                &self.register_devices,
            ) {
                (Some(d), None, None, None) => Right::ReadData {
                    device: device_keys::resolve(d)?,
                    stream: self.stream.clone(),
                },
                (None, Some(d), None, None) => Right::Command {
                    device: device_keys::resolve(d)?,
                },
                (None, None, Some(s), None) => Right::CallService {
                    service: address(s)?,
                    method: self.method.clone(),
                },
                (None, None, None, Some(owner)) => Right::RegisterDevices {
                    owner: address(owner)?,
                },
                _ => bail!(
                    "name the right with one of --read DEVICE, --command DEVICE, --call SERVICE, --register-devices OWNER"
                ),
            },
        )
    }
}

#[derive(Subcommand)]
pub enum GrantCommand {
    /// Grant a right over your device or service.
    Add {
        #[command(flatten)]
        right: RightArgs,
        /// Who gets it (an address or a key name).
        #[arg(long)]
        to: String,
        /// Seconds of block time until it expires (default: never).
        #[arg(long)]
        expires_in: Option<u64>,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Withdraw a grant.
    Revoke {
        #[command(flatten)]
        right: RightArgs,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// The grants over a device or service.
    List {
        /// The device or service.
        target: String,
        #[arg(long)]
        grantee: Option<String>,
    },
    /// Whether `--grantee` holds the right now, verified here against the latest header's
    /// state root with a Merkle proof (what an off-chain service does, Y.4464 10.5).
    Check {
        #[command(flatten)]
        right: RightArgs,
        #[arg(long)]
        grantee: String,
    },
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// A device stream's newest reading.
    Latest {
        device: String,
        #[arg(long)]
        stream: String,
    },
    /// A device stream's readings with counters in [--from, --to].
    Range {
        device: String,
        #[arg(long)]
        stream: String,
        #[arg(long)]
        from: Option<u64>,
        #[arg(long)]
        to: Option<u64>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// A device's or service's audit trail: who accessed it, when, under which grant.
    Audit {
        target: String,
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// An account: an address, or the name of a key (stored or a devnet account).
fn address(text: &str) -> Result<Address> {
    if text.starts_with("0x") {
        return text.parse().map_err(|e: String| anyhow!(e));
    }
    Ok(client::key(text)?.address())
}

/// A device or an account: a device key name is tried before an account key name.
pub fn device_or_account(text: &str) -> Result<Address> {
    if !text.starts_with("0x") && device_keys::exists(text) {
        return device_keys::resolve(text);
    }
    address(text)
}

fn metadata_json(text: &str) -> Result<String> {
    serde_json::from_str::<Value>(text).map_err(|e| anyhow!("--metadata is not JSON: {e}"))?;
    Ok(text.to_string())
}

/// What a command printed and whether it succeeded.
pub struct Output {
    pub value: Value,
    pub ok: bool,
}

fn transact(rpc: &Rpc, from: &str, op: IotTx) -> Result<Output> {
    send(rpc, &client::key(from)?, op)
}

/// Sends `op` as `key`; the receipt, with the operation's name as `op`.
fn send(rpc: &Rpc, key: &bot_chain::Keypair, op: IotTx) -> Result<Output> {
    let name = op.name();
    let mut receipt = rpc.transact(key, TxKind::Iot(op), None)?;
    receipt["op"] = json!(name);
    let ok = receipt["status"] == "ok";
    Ok(Output { value: receipt, ok })
}

fn read(value: Value) -> Result<Output> {
    Ok(Output { value, ok: true })
}

fn device_json(rpc: &Rpc, id: &Address) -> Result<Value> {
    let device = rpc.call("bot_getDevice", json!([id.to_string()]))?;
    if device.is_null() {
        bail!("no device {id} is registered");
    }
    Ok(device)
}

pub fn device(rpc: &Rpc, command: &DeviceCommand) -> Result<Output> {
    match command {
        DeviceCommand::Register {
            name,
            key_type,
            kind,
            metadata,
            gateway,
            owner,
            from,
        } => {
            let key_type = match key_type {
                KeyTypeArg::Secp256k1 => KeyType::Secp256k1,
                KeyTypeArg::P256 => KeyType::P256,
            };
            let signer = if device_keys::exists(name) {
                let signer = device_keys::load(name)?;
                if signer.kind() != key_type {
                    bail!(
                        "device key `{name}` exists and is {:?}, not {key_type:?}",
                        signer.kind()
                    );
                }
                signer
            } else {
                device_keys::generate(key_type)?
            };
            let gateway = gateway.as_deref().map(address).transpose()?;
            let owner = owner.as_deref().map(address).transpose()?;
            let owner_then = owner.unwrap_or(client::key(from)?.address());
            let key = signer.public();
            let proof = signer.sign(&registration_digest(
                &rpc.chain_id()?,
                &key,
                &owner_then,
                gateway.as_ref(),
            ));
            let out = transact(
                rpc,
                from,
                IotTx::RegisterDevice {
                    key,
                    kind: kind.clone(),
                    metadata: metadata_json(metadata)?,
                    owner,
                    gateway,
                    proof,
                },
            )?;
            if out.ok && !device_keys::exists(name) {
                device_keys::save(name, &signer)?;
            }
            let mut value = out.value;
            value["device"] = json!(signer.public().device_id().to_string());
            Ok(Output { value, ok: out.ok })
        }
        DeviceCommand::Update {
            device,
            status,
            metadata,
            from,
        } => {
            if status.is_none() && metadata.is_none() {
                bail!("nothing to update: give --status or --metadata");
            }
            let status = status.map(|s| match s {
                StatusArg::Active => DeviceStatus::Active,
                StatusArg::Suspended => DeviceStatus::Suspended,
                StatusArg::Revoked => DeviceStatus::Revoked,
            });
            let metadata = metadata.as_deref().map(metadata_json).transpose()?;
            let device = device_keys::resolve(device)?;
            transact(
                rpc,
                from,
                IotTx::UpdateDevice {
                    device,
                    status,
                    metadata,
                },
            )
        }
        DeviceCommand::RotateKey { name, from } => {
            let old = device_keys::load(name)?;
            let id = old.public().device_id();
            let current = device_json(rpc, &id)?;
            let version = current["key_version"].as_u64().unwrap_or(0) as u32 + 1;
            let new = device_keys::generate(old.kind())?;
            let key = new.public();
            let proof = new.sign(&rotation_digest(&rpc.chain_id()?, &id, &key, version));
            let out = transact(
                rpc,
                from,
                IotTx::RotateKey {
                    device: id,
                    key,
                    proof,
                },
            )?;
            if out.ok {
                device_keys::save(name, &new)?;
            }
            Ok(out)
        }
        DeviceCommand::Transfer { device, to, from } => transact(
            rpc,
            from,
            IotTx::TransferDevice {
                device: device_keys::resolve(device)?,
                to: address(to)?,
            },
        ),
        DeviceCommand::SetGateway {
            device,
            gateway,
            from,
        } => {
            let gateway = match gateway.as_str() {
                "none" => None,
                g => Some(address(g)?),
            };
            let device = device_keys::resolve(device)?;
            transact(rpc, from, IotTx::SetGateway { device, gateway })
        }
        DeviceCommand::List {
            owner,
            gateway,
            kind,
            limit,
        } => {
            let mut q = json!({ "limit": limit });
            if let Some(o) = owner {
                q["owner"] = json!(address(o)?.to_string());
            }
            if let Some(g) = gateway {
                q["gateway"] = json!(address(g)?.to_string());
            }
            if let Some(k) = kind {
                q["kind"] = json!(k);
            }
            read(rpc.call("bot_listDevices", json!([q]))?["devices"].take())
        }
        DeviceCommand::Show { device } => read(device_json(rpc, &device_keys::resolve(device)?)?),
        DeviceCommand::Report {
            name,
            stream,
            data,
            counter,
            gateway,
        } => {
            let signer = device_keys::load(name)?;
            let id = signer.public().device_id();
            serde_json::from_str::<Value>(data).map_err(|e| anyhow!("--data is not JSON: {e}"))?;
            let counter = match counter {
                Some(c) => *c,
                None => device_json(rpc, &id)?["counter"].as_u64().unwrap_or(0) + 1,
            };
            let data = data.as_bytes().to_vec();
            let signature = signer.sign(&reading_digest(
                &rpc.chain_id()?,
                &id,
                stream,
                counter,
                &data,
            ));
            let op = IotTx::Report {
                device: id,
                stream: stream.clone(),
                counter,
                data,
                signature,
            };
            send(rpc, &speaker(&signer, gateway.as_deref())?, op)
        }
        DeviceCommand::Commands {
            device,
            pending,
            from,
            limit,
        } => {
            let device = device_keys::resolve(device)?;
            let q = json!({ "device": device.to_string(), "pending": pending, "from": from, "limit": limit });
            read(rpc.call("bot_getCommands", json!([q]))?["commands"].take())
        }
        DeviceCommand::Respond {
            name,
            id,
            data,
            failed,
            gateway,
        } => {
            let signer = device_keys::load(name)?;
            serde_json::from_str::<Value>(data).map_err(|e| anyhow!("--data is not JSON: {e}"))?;
            let op = answer(&rpc.chain_id()?, &signer, *id, !failed, data.as_bytes());
            send(rpc, &speaker(&signer, gateway.as_deref())?, op)
        }
    }
}

/// The account that sends for a device: its gateway's key if given, else its own (a
/// secp256k1 device key is also an account key).
fn speaker(signer: &DeviceSigner, gateway: Option<&str>) -> Result<bot_chain::Keypair> {
    match gateway {
        Some(g) => client::key(g),
        None => device_keys::account(signer),
    }
}

/// A device's signed answer to command `id`.
pub fn answer(chain_id: &str, signer: &DeviceSigner, id: u64, ok: bool, data: &[u8]) -> IotTx {
    let device = signer.public().device_id();
    IotTx::Respond {
        device,
        command: id,
        ok,
        data: data.to_vec(),
        signature: signer.sign(&response_digest(chain_id, &device, id, ok, data)),
    }
}

pub fn service(rpc: &Rpc, command: &ServiceCommand) -> Result<Output> {
    match command {
        ServiceCommand::Register {
            contract,
            name,
            description,
            policy,
            from,
        } => transact(
            rpc,
            from,
            IotTx::RegisterService {
                contract: address(contract)?,
                name: name.clone(),
                description: description.clone(),
                policy: match policy {
                    PolicyArg::Open => AccessPolicy::Open,
                    PolicyArg::Granted => AccessPolicy::Granted,
                },
            },
        ),
        ServiceCommand::Deregister { contract, from } => transact(
            rpc,
            from,
            IotTx::DeregisterService {
                contract: address(contract)?,
            },
        ),
        ServiceCommand::List { limit } => {
            read(rpc.call("bot_listServices", json!([{ "limit": limit }]))?)
        }
        ServiceCommand::Show { contract } => {
            let contract = address(contract)?;
            let service = rpc.call("bot_getService", json!([contract.to_string()]))?;
            if service.is_null() {
                bail!("no service is registered at {contract}");
            }
            read(service)
        }
    }
}

pub fn grant(rpc: &Rpc, command: &GrantCommand) -> Result<Output> {
    match command {
        GrantCommand::Add {
            right,
            to,
            expires_in,
            from,
        } => {
            let expires_ms = match expires_in {
                Some(secs) => {
                    let head = rpc.call("bot_getBlock", json!(["latest"]))?;
                    let now = head["time_ms"].as_u64().unwrap_or(0);
                    Some(now + secs.saturating_mul(1000))
                }
                None => None,
            };
            transact(
                rpc,
                from,
                IotTx::Grant {
                    right: right.right()?,
                    grantee: device_or_account(to)?,
                    expires_ms,
                },
            )
        }
        GrantCommand::Revoke { right, to, from } => transact(
            rpc,
            from,
            IotTx::Revoke {
                right: right.right()?,
                grantee: device_or_account(to)?,
            },
        ),
        GrantCommand::List { target, grantee } => {
            let mut q = json!({ "target": device_or_account(target)?.to_string() });
            if let Some(g) = grantee {
                q["grantee"] = json!(device_or_account(g)?.to_string());
            }
            read(rpc.call("bot_listGrants", json!([q]))?)
        }
        GrantCommand::Check { right, grantee } => {
            let value = check_grant(rpc, &right.right()?, &device_or_account(grantee)?)?;
            let ok = value["granted"] == true;
            Ok(Output { value, ok })
        }
    }
}

/// Whether `grantee` holds `right` now, checked on this machine: the node's proofs of the grant
/// keys verified against the state root of the header it answered at (Y.4464 10.5). A refusal
/// must prove every key that could grant the right; an answer its own proofs contradict is an
/// error. (The header comes from the same node: a service that trusts no node checks the
/// header's commit certificate, or takes the root from a node it does trust.)
pub fn check_grant(rpc: &Rpc, right: &Right, grantee: &Address) -> Result<Value> {
    let mut q = serde_json::to_value(right)?;
    q["grantee"] = json!(grantee.to_string());
    let answer = rpc.call("bot_checkGrant", json!([q]))?;
    let height = answer["height"].as_u64().unwrap_or(0);
    let header = rpc.call("bot_getBlock", json!([height]))?;
    let hex_field =
        |v: &Value| hex::decode(v.as_str().unwrap_or_default().trim_start_matches("0x"));
    let root: [u8; 32] = hex_field(&header["state_root"])
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or_else(|| anyhow!("block {height} has no state root"))?;
    let time = header["time_ms"].as_u64().unwrap_or(0);
    let mut proven_keys = Vec::new();
    let mut verdicts = Vec::new();
    for p in answer["proofs"].as_array().into_iter().flatten() {
        let bytes = hex_field(&p["proof"]).map_err(|e| anyhow!("a proof is not hex: {e}"))?;
        let proof = StateProof::from_bytes(&bytes).map_err(|e| anyhow!(e))?;
        proven_keys.push(proof.key.clone());
        verdicts.push(verify_grant_proof(&proof, &root, right, grantee, time));
    }
    // A grant any proof shows, else the first refusal's reason (the exact right's).
    let verdict = match verdicts.iter().position(Result::is_ok) {
        Some(i) => verdicts.swap_remove(i),
        None if verdicts.is_empty() => Err("the node sent no proof".to_string()),
        None => verdicts.swap_remove(0),
    };
    // A refusal must prove every key that could have granted the right, or a lying node could
    // hide a grant by proving only another key's absence.
    if verdict.is_err() {
        let needed = std::iter::once(right.clone())
            .chain(right.wildcard())
            .map(|r| bot_chain::layout::grant(&r, grantee));
        for key in needed {
            if !proven_keys.contains(&key) {
                bail!(
                    "the node's refusal does not prove the absence of every grant that could allow this: do not trust it"
                );
            }
        }
    }
    if verdict.is_ok() != (answer["granted"] == true) {
        bail!("the node's answer does not match its own proof: do not trust this node");
    }
    let mut value = json!({
        "granted": verdict.is_ok(),
        "verified_at": { "height": height, "state_root": header["state_root"] },
    });
    match verdict {
        Ok(grant) => value["grant"] = serde_json::to_value(grant)?,
        Err(reason) => value["reason"] = json!(reason),
    }
    Ok(value)
}

pub fn data(rpc: &Rpc, command: &DataCommand) -> Result<Output> {
    match command {
        DataCommand::Latest { device, stream } => {
            let device = device_keys::resolve(device)?;
            let q = json!({ "device": device.to_string(), "stream": stream, "newest_first": true, "limit": 1 });
            let readings = rpc.call("bot_getReadings", json!([q]))?;
            match readings.get(0) {
                Some(r) => read(r.clone()),
                None => bail!("device {device} has no readings in stream `{stream}`"),
            }
        }
        DataCommand::Range {
            device,
            stream,
            from,
            to,
            limit,
        } => {
            let device = device_keys::resolve(device)?;
            let q = json!({ "device": device.to_string(), "stream": stream, "from": from, "to": to, "limit": limit });
            read(rpc.call("bot_getReadings", json!([q]))?)
        }
        DataCommand::Audit {
            target,
            from,
            limit,
        } => {
            let q = json!({ "target": device_or_account(target)?.to_string(), "from": from, "limit": limit });
            read(rpc.call("bot_getAudit", json!([q]))?)
        }
    }
}
