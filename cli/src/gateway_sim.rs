//! `cargo bot gateway simulate`: a gateway with N constrained P-256 devices behind it, so a
//! user sees the IoT flow without hardware. It registers the devices it does not find on the
//! chain (for `--owner`, as their gateway), then streams signed readings at `--rate` per second
//! for `--duration` seconds, round-robin over the devices, answers the commands service
//! contracts send them (checking about once a second), and reports what committed.
//!
//! The devices' keys derive from the gateway's address and their index, so running it again
//! resumes the same devices, their counters continuing from the chain's.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bot_chain::iot::{DeviceSigner, IotTx, KeyType, reading_digest, registration_digest};
use bot_chain::{Keypair, SignedTx, Transaction, TxKind};
use bot_engine::Address;
use serde_json::{Value, json};

use crate::client::{self, Rpc};

/// Each transaction's gas limit: a registration or a reading uses about 5 to 7 million (P-256
/// check, 3 to 4 written keys).
const GAS: u64 = 20_000_000;

/// What the simulator is asked to do.
pub struct Simulation {
    pub devices: usize,
    /// Readings per second, over all devices.
    pub rate: f64,
    pub duration: Duration,
    pub gateway: String,
    pub owner: Option<String>,
    pub stream: String,
}

struct SimDevice {
    signer: DeviceSigner,
    id: Address,
    counter: u64,
}

/// A device's key: derived, for simulation only.
pub fn device_key(gateway: &Address, index: usize) -> DeviceSigner {
    DeviceSigner::dev(KeyType::P256, &format!("gateway-sim/{gateway}/{index}"))
}

/// A plausible reading: a slow temperature wave, different per device.
fn reading(index: usize, counter: u64) -> Vec<u8> {
    let phase = (counter as f64 / 20.0) + index as f64;
    let celsius = (20.0 + 3.0 * phase.sin()) * 10.0;
    json!({ "celsius": celsius.round() / 10.0, "seq": counter })
        .to_string()
        .into_bytes()
}

struct Sender<'a> {
    key: &'a Keypair,
    chain_id: String,
    nonce: u64,
}

impl Sender<'_> {
    fn sign(&mut self, kind: TxKind, gas_limit: u64) -> SignedTx {
        let tx = SignedTx::sign(
            Transaction {
                chain_id: self.chain_id.clone(),
                nonce: self.nonce,
                gas_limit,
                kind,
            },
            self.key,
        );
        self.nonce += 1;
        tx
    }
}

/// Answers, as each device, the pending commands to the gateway's devices it has not answered
/// yet: every simulated device does what it is asked and says so with its latest counter. Each
/// answer is signed and sent before the next, so a refused one leaves no gap in the nonces and
/// is tried again at the next poll. The hash of the last answer sent.
fn answer_commands(
    rpc: &Rpc,
    sender: &mut Sender<'_>,
    devices: &[SimDevice],
    by_id: &HashMap<Address, usize>,
    answered: &mut HashSet<u64>,
) -> Result<Option<String>> {
    let q = json!({ "gateway": sender.key.address().to_string(), "pending": true, "limit": 1000 });
    let pending = rpc.call("bot_getCommands", json!([q]))?;
    let mut last = None;
    for command in pending["commands"].as_array().into_iter().flatten() {
        let (Some(id), Some(device)) = (
            command["id"].as_u64(),
            command["device"]
                .as_str()
                .and_then(|d| d.parse::<Address>().ok()),
        ) else {
            continue;
        };
        let Some(device) = by_id.get(&device).map(|i| &devices[*i]) else {
            continue;
        };
        if answered.contains(&id) {
            continue;
        }
        let data = json!({ "done": command["command"], "counter": device.counter }).to_string();
        let op =
            crate::iot_cmds::answer(&sender.chain_id, &device.signer, id, true, data.as_bytes());
        // The answer's transaction also carries the command's callback.
        let callback_gas = command["callback_gas"].as_u64().unwrap_or(0);
        let tx = sender.sign(TxKind::Iot(op), GAS.saturating_add(callback_gas));
        match rpc.send(&tx) {
            Ok(hash) => {
                answered.insert(id);
                last = Some(hash);
            }
            Err(e) => {
                sender.nonce -= 1;
                eprintln!("an answer to command #{id} was refused: {e:#}");
            }
        }
    }
    Ok(last)
}

pub fn simulate(rpc: &Rpc, sim: &Simulation, progress: bool) -> Result<Value> {
    if sim.devices == 0 || sim.devices > 10_000 {
        bail!("--devices is 1 to 10,000, not {}", sim.devices);
    }
    if !(sim.rate > 0.0 && sim.rate <= 10_000.0) {
        bail!("--rate is readings per second, above 0 and at most 10,000");
    }
    bot_chain::iot::check_stream(&sim.stream).map_err(anyhow::Error::msg)?;
    let gateway = client::key(&sim.gateway)?;
    let owner = match &sim.owner {
        Some(o) => client::key(o)?.address(),
        None => gateway.address(),
    };
    if owner != gateway.address() {
        let consent = json!({
            "right": "register_devices",
            "owner": owner.to_string(),
            "grantee": gateway.address().to_string(),
        });
        if rpc.call("bot_checkGrant", json!([consent]))?["granted"] != json!(true) {
            bail!(
                "{owner} has not let gateway {} register devices in its name: the owner runs `cargo bot grant add --register-devices {owner} --to {} --from <owner>`",
                gateway.address(),
                gateway.address()
            );
        }
    }
    let chain_id = rpc.chain_id()?;
    let nonce = rpc.call("bot_getAccount", json!([gateway.address().to_string()]))?["nonce"]
        .as_u64()
        .unwrap_or(0);
    let mut sender = Sender {
        key: &gateway,
        chain_id: chain_id.clone(),
        nonce,
    };

    // Register the devices the chain does not know yet, in one batch.
    let mut devices = Vec::new();
    let mut registrations = Vec::new();
    for index in 0..sim.devices {
        let signer = device_key(&gateway.address(), index);
        let id = signer.public().device_id();
        let known = rpc.call("bot_getDevice", json!([id.to_string()]))?;
        let counter = known["counter"].as_u64().unwrap_or(0);
        if known.is_null() {
            let key = signer.public();
            let proof = signer.sign(&registration_digest(
                &chain_id,
                &key,
                &owner,
                Some(&gateway.address()),
            ));
            registrations.push(sender.sign(
                TxKind::Iot(IotTx::RegisterDevice {
                    key,
                    kind: "simulated-thermometer".into(),
                    metadata: json!({ "simulator": true, "index": index }).to_string(),
                    owner: Some(owner),
                    gateway: Some(gateway.address()),
                    proof,
                }),
                GAS,
            ));
        }
        devices.push(SimDevice {
            signer,
            id,
            counter,
        });
    }
    let registered = registrations.len();
    for chunk in registrations.chunks(client::MAX_BATCH * 8) {
        let refs: Vec<&SignedTx> = chunk.iter().collect();
        let hashes = rpc.send_batch(&refs)?;
        for hash in hashes {
            let receipt = rpc.wait_receipt(&hash?, Duration::from_secs(60))?;
            if receipt["status"] != "ok" {
                bail!(
                    "registering a device failed: {}",
                    receipt["error"]["message"]
                );
            }
        }
    }
    if progress {
        eprintln!(
            "gateway {}: {} devices ({} newly registered for {owner}), {} readings/s for {}s",
            gateway.address(),
            devices.len(),
            registered,
            sim.rate,
            sim.duration.as_secs()
        );
    }

    // Stream readings on a fixed schedule; a reading that cannot go out in time is skipped,
    // not queued, as a real gateway drops stale samples.
    let interval = Duration::from_secs_f64(1.0 / sim.rate);
    let start = Instant::now();
    let mut next = start;
    let (mut sent, mut refused, mut index) = (0u64, 0u64, 0usize);
    let mut last_hash = None;
    let mut last_report = start;
    let mut last_poll = start;
    let by_id: HashMap<Address, usize> =
        devices.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
    let mut answered = HashSet::new();
    while start.elapsed() < sim.duration {
        if last_poll.elapsed() >= Duration::from_secs(1) {
            last_poll = Instant::now();
            if let Some(hash) = answer_commands(rpc, &mut sender, &devices, &by_id, &mut answered)?
            {
                last_hash = Some(hash);
            }
        }
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        }
        next += interval;
        let device = &mut devices[index % sim.devices];
        let counter = device.counter + 1;
        let data = reading(index % sim.devices, counter);
        let signature = device.signer.sign(&reading_digest(
            &chain_id,
            &device.id,
            &sim.stream,
            counter,
            &data,
        ));
        let tx = sender.sign(
            TxKind::Iot(IotTx::Report {
                device: device.id,
                stream: sim.stream.clone(),
                counter,
                data,
                signature,
            }),
            GAS,
        );
        match rpc.send(&tx) {
            Ok(hash) => {
                device.counter = counter;
                sent += 1;
                last_hash = Some(hash);
            }
            Err(e) => {
                refused += 1;
                sender.nonce -= 1;
                if refused == 1 {
                    eprintln!("a reading was refused: {e:#}");
                }
            }
        }
        index += 1;
        if progress && last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            eprintln!(
                "  {:>5.1}s  sent {sent}  refused {refused}",
                start.elapsed().as_secs_f64()
            );
        }
    }
    // The gateway's transactions commit in nonce order: the last one committing means all did.
    let last = match &last_hash {
        Some(hash) => Some(rpc.wait_receipt(hash, Duration::from_secs(60))?),
        None => None,
    };
    let committed_height = last.as_ref().and_then(|r| r["height"].as_u64());
    Ok(json!({
        "gateway": gateway.address().to_string(),
        "devices": devices.iter().map(|d| json!({ "id": d.id.to_string(), "counter": d.counter })).collect::<Vec<_>>(),
        "registered": registered,
        "readings_sent": sent,
        "readings_refused": refused,
        "commands_answered": answered.len(),
        "last_height": committed_height,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}
