//! The demo's third part, on the same devnet: a thermometer registered by its owner reports
//! signed readings (a replay is refused), the counter becomes a service only grantees may call,
//! carol is refused, granted, calls it, and leaves an audit record; her grant is then checked
//! against a state proof, as an off-chain service would. Keys stay in memory: the demo writes
//! nothing to `~/.bot`.

use anyhow::{Result, bail};
use bot_chain::iot::{
    AccessPolicy, DeviceSigner, IotTx, KeyType, Right, reading_digest, registration_digest,
};
use bot_chain::{Keypair, TxKind};
use bot_engine::Address;
use serde_json::{Value, json};

use crate::client::{self, Rpc};

pub(crate) fn ok(what: &str, receipt: Value) -> Result<Value> {
    if receipt["status"] != "ok" {
        bail!("{what} failed: {}", receipt["error"]["message"]);
    }
    Ok(receipt)
}

/// A device with its own secp256k1 key, kept in memory, registered on the chain.
pub(crate) struct OwnDevice {
    pub signer: DeviceSigner,
    pub id: Address,
    /// Its key as an account: it sends its own readings, answers and calls.
    pub account: Keypair,
    pub registered: Value,
}

impl OwnDevice {
    /// Makes a key and has `owner` register it as a `kind` device.
    pub fn register(rpc: &Rpc, owner: &Keypair, kind: &str, metadata: &str) -> Result<OwnDevice> {
        let signer = crate::device_keys::generate(KeyType::Secp256k1)?;
        let key = signer.public();
        let id = key.device_id();
        let proof = signer.sign(&registration_digest(
            &rpc.chain_id()?,
            &key,
            &owner.address(),
            None,
        ));
        let register = IotTx::RegisterDevice {
            key,
            kind: kind.into(),
            metadata: metadata.into(),
            owner: None,
            gateway: None,
            proof,
        };
        let registered = ok(
            &format!("registering the {kind}"),
            rpc.transact(owner, TxKind::Iot(register), None)?,
        )?;
        let account = crate::device_keys::account(&signer)?;
        Ok(OwnDevice {
            signer,
            id,
            account,
            registered,
        })
    }

    /// Its reading number `counter` of `stream`, signed.
    pub fn report(&self, chain_id: &str, stream: &str, counter: u64, data: Vec<u8>) -> TxKind {
        let signature = self
            .signer
            .sign(&reading_digest(chain_id, &self.id, stream, counter, &data));
        TxKind::Iot(IotTx::Report {
            device: self.id,
            stream: stream.into(),
            counter,
            data,
            signature,
        })
    }
}

/// Runs the flow against `counter` (deployed by alice); what each step returned.
pub fn run(rpc: &Rpc, counter: &str) -> Result<Value> {
    let alice = client::key("alice")?;
    let carol = client::key("carol")?;
    let chain_id = rpc.chain_id()?;
    let counter: Address = counter.parse().map_err(anyhow::Error::msg)?;

    let thermo = OwnDevice::register(rpc, &alice, "thermometer", r#"{"room":"lab"}"#)?;
    let (id, registered, device_account) = (thermo.id, thermo.registered.clone(), &thermo.account);
    let report = |counter: u64, celsius: f64| {
        let data = json!({ "celsius": celsius }).to_string().into_bytes();
        thermo.report(&chain_id, "temperature", counter, data)
    };
    let mut readings = Vec::new();
    for (n, celsius) in [(1, 21.5), (2, 21.7), (3, 22.0)] {
        readings.push(ok(
            "a reading",
            rpc.transact(device_account, report(n, celsius), None)?,
        )?);
    }
    let replay = match rpc.transact(device_account, report(3, 99.0), None) {
        Ok(r) => bail!("a replayed reading was accepted: {r}"),
        Err(e) => e.to_string(),
    };
    let latest = rpc.call(
        "bot_getReadings",
        json!([{ "device": id.to_string(), "stream": "temperature", "newest_first": true, "limit": 1 }]),
    )?;

    // The counter becomes a granted service.
    let service = IotTx::RegisterService {
        contract: counter,
        name: "counter".into(),
        description: "counts, for its grantees".into(),
        policy: AccessPolicy::Granted,
    };
    ok(
        "registering the service",
        rpc.transact(&alice, TxKind::Iot(service), None)?,
    )?;
    let increment = || TxKind::Call {
        contract: counter,
        method: "increment".into(),
        args: borsh::to_vec(&1u64).unwrap_or_default(),
    };
    let refused = match rpc.transact(&carol, increment(), None) {
        Ok(r) => bail!("an ungranted call was accepted: {r}"),
        Err(e) => e.to_string(),
    };
    let right = Right::CallService {
        service: counter,
        method: Some("increment".into()),
    };
    let grant = IotTx::Grant {
        right: right.clone(),
        grantee: carol.address(),
        expires_ms: None,
    };
    ok(
        "granting carol",
        rpc.transact(&alice, TxKind::Iot(grant), None)?,
    )?;
    let called = ok("carol's call", rpc.transact(&carol, increment(), None)?)?;
    let audit = rpc.call("bot_getAudit", json!([{ "target": counter.to_string() }]))?;
    let check = crate::iot_cmds::check_grant(rpc, &right, &carol.address())?;
    Ok(json!({
        "device": id.to_string(),
        "registered": registered,
        "readings": readings,
        "replay_refused": replay,
        "latest": latest.get(0).cloned().unwrap_or(Value::Null),
        "ungranted_call_refused": refused,
        "granted_call": called,
        "audit": audit,
        "grant_check": check,
    }))
}
