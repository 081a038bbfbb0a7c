//! Talking to a node: a JSON-RPC client over HTTP, where to find the local devnet, which key
//! signs, and building, sending and waiting for transactions.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bot_chain::{Keypair, SignedTx, Transaction, TxKind};
use serde_json::{Value, json};

/// Where `cargo bot` keeps keys and the default devnet: `$BOT_HOME`, else `~/.bot`.
pub fn bot_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("BOT_HOME") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".bot")
}

pub fn default_devnet_home() -> PathBuf {
    bot_home().join("devnet")
}

/// The RPC to use: `--rpc`, else `$BOT_RPC`, else the first validator of the local devnet.
pub fn resolve_rpc(flag: Option<&str>) -> Result<String> {
    if let Some(url) = flag {
        return Ok(url.to_string());
    }
    if let Ok(url) = std::env::var("BOT_RPC") {
        return Ok(url);
    }
    let file = default_devnet_home().join("devnet.json");
    let text = std::fs::read_to_string(&file).map_err(|_| {
        anyhow!(
            "no RPC given and no local devnet at {}: start one with `cargo bot devnet`, or pass --rpc URL",
            file.display()
        )
    })?;
    let devnet: Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
    devnet["validators"][0]["rpc"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} lists no validator", file.display()))
}

/// Requests in one JSON-RPC batch: a node's default limit (`rpc.max_batch` in node.json).
pub const MAX_BATCH: usize = 32;

/// A JSON-RPC 2.0 client over HTTP.
pub struct Rpc {
    url: String,
    agent: ureq::Agent,
}

/// An error the node returned (as opposed to not reaching it).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    fn from_json(e: &Value) -> RpcError {
        RpcError {
            code: e["code"].as_i64().unwrap_or(0),
            message: e["message"].as_str().unwrap_or("unknown error").to_string(),
        }
    }
}

impl Rpc {
    pub fn new(url: &str) -> Rpc {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        Rpc {
            url: url.to_string(),
            agent,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts a JSON-RPC request (or batch) and reads the JSON reply.
    fn post(&self, body: &Value) -> Result<Value> {
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send_json(body)
            .with_context(|| format!("cannot reach the node at {}", self.url))?;
        response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_json()
            .with_context(|| format!("{} did not answer JSON-RPC", self.url))
    }

    pub fn call(&self, method: &str, params: Value) -> Result<Value> {
        let reply =
            self.post(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))?;
        match reply.get("error") {
            Some(e) => Err(RpcError::from_json(e).into()),
            None => Ok(reply["result"].clone()),
        }
    }

    pub fn status(&self) -> Result<Value> {
        self.call("bot_status", json!([]))
    }

    /// The chain id transactions for this node must carry.
    pub fn chain_id(&self) -> Result<String> {
        Ok(self.status()?["chain_id"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Signs `kind` as `key` with its next nonce and a gas limit from a dry run (with margin),
    /// sends it, and waits for its receipt.
    pub fn transact(&self, key: &Keypair, kind: TxKind, gas_limit: Option<u64>) -> Result<Value> {
        let tx = self.sign(key, kind, gas_limit)?;
        let hash = self.send(&tx)?;
        self.wait_receipt(&hash, Duration::from_secs(60))
    }

    pub fn sign(&self, key: &Keypair, kind: TxKind, gas_limit: Option<u64>) -> Result<SignedTx> {
        let chain_id = self.chain_id()?;
        let account = self.call("bot_getAccount", json!([key.address().to_string()]))?;
        let nonce = account["nonce"].as_u64().unwrap_or(0);
        let mut tx = Transaction {
            chain_id,
            nonce,
            gas_limit: gas_limit.unwrap_or(dry_run_gas()),
            kind,
        };
        if gas_limit.is_none() {
            let dry = self.call(
                "bot_simulate",
                json!([hex0x(&SignedTx::sign(tx.clone(), key).to_bytes())]),
            )?;
            if dry["status"] == "error" {
                bail!(
                    "the transaction would fail: {} ({})",
                    dry["error"]["message"].as_str().unwrap_or_default(),
                    dry["error"]["kind"].as_str().unwrap_or_default()
                );
            }
            let used = dry["gas_used"].as_u64().unwrap_or(0);
            tx.gas_limit = (used + used / 2 + 50_000).min(dry_run_gas());
        }
        Ok(SignedTx::sign(tx, key))
    }

    pub fn send(&self, tx: &SignedTx) -> Result<String> {
        let sent = self.call("bot_sendTransaction", json!([hex0x(&tx.to_bytes())]))?;
        Ok(sent["tx_hash"].as_str().unwrap_or_default().to_string())
    }

    /// Sends transactions in JSON-RPC batch requests (of at most [`MAX_BATCH`], what a node
    /// serves by default); each gets its hash or the node's refusal.
    pub fn send_batch(&self, txs: &[&SignedTx]) -> Result<Vec<Result<String, RpcError>>> {
        let mut out = Vec::with_capacity(txs.len());
        for chunk in txs.chunks(MAX_BATCH) {
            out.extend(self.send_one_batch(chunk)?);
        }
        Ok(out)
    }

    fn send_one_batch(&self, txs: &[&SignedTx]) -> Result<Vec<Result<String, RpcError>>> {
        let body: Vec<Value> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                json!({ "jsonrpc": "2.0", "id": i, "method": "bot_sendTransaction",
                        "params": [hex0x(&tx.to_bytes())] })
            })
            .collect();
        let reply = self.post(&Value::from(body))?;
        let Some(replies) = reply.as_array() else {
            bail!("{} answered a JSON-RPC batch with {reply}", self.url);
        };
        let mut out: Vec<Result<String, RpcError>> = (0..txs.len())
            .map(|_| {
                Err(RpcError {
                    code: 0,
                    message: "no reply in the batch".into(),
                })
            })
            .collect();
        for reply in replies {
            let Some(slot) = reply["id"].as_u64().and_then(|i| out.get_mut(i as usize)) else {
                continue;
            };
            *slot = match reply.get("error") {
                Some(e) => Err(RpcError::from_json(e)),
                None => Ok(reply["result"]["tx_hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()),
            };
        }
        Ok(out)
    }

    pub fn wait_receipt(&self, hash: &str, timeout: Duration) -> Result<Value> {
        let start = Instant::now();
        let mut poll = 0u64;
        loop {
            poll += 1;
            let receipt = self.call("bot_getReceipt", json!([hash]))?;
            if !receipt.is_null() {
                return Ok(receipt);
            }
            // Now and then: did the node give up on it?
            if poll.is_multiple_of(20)
                && let Some(why) =
                    self.call("bot_getTransaction", json!([hash]))?["dropped"].as_str()
            {
                bail!("the node dropped transaction {hash} without committing it: {why}");
            }
            if start.elapsed() > timeout {
                bail!(
                    "transaction {hash} was not committed within {}s",
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Named accounts every devnet funds (their keys derive from the name: for development only).
/// The gas a transaction may use before its dry run tells how much it needs: the default
/// genesis's per-transaction maximum.
fn dry_run_gas() -> u64 {
    bot_chain::Params::default().max_tx_gas
}

pub const DEV_ACCOUNTS: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

fn keys_dir() -> PathBuf {
    bot_home().join("keys")
}

/// The key called `name`: from the key store, a devnet account's, or a secp256k1 device's own.
pub fn key(name: &str) -> Result<Keypair> {
    let path = keys_dir().join(format!("{name}.key"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return hex::decode(text.trim())
            .ok()
            .and_then(|b| Keypair::from_secret(&b))
            .ok_or_else(|| anyhow!("{} does not hold a secp256k1 secret key", path.display()));
    }
    if DEV_ACCOUNTS.contains(&name) {
        return Ok(Keypair::dev(name));
    }
    // A secp256k1 device key is also the device's own account key.
    if crate::device_keys::exists(name) {
        return crate::device_keys::account(&crate::device_keys::load(name)?);
    }
    bail!(
        "no key `{name}`: create it with `cargo bot keys new {name}`, use a devnet account ({}), or a secp256k1 device's name",
        DEV_ACCOUNTS.join(", ")
    )
}

/// Creates a key called `name` from the system's randomness.
pub fn new_key(name: &str) -> Result<Keypair> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("a key name is letters, digits, - and _: `{name}`");
    }
    let dir = keys_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{name}.key"));
    if path.exists() {
        bail!("key `{name}` already exists at {}", path.display());
    }
    let mut secret = [0u8; 32];
    let key = loop {
        getrandom::fill(&mut secret).map_err(|e| anyhow!("no system randomness: {e}"))?;
        if let Some(key) = Keypair::from_secret(&secret) {
            break key;
        }
    };
    bot_node::config::write_secret(&path, &format!("{}\n", hex::encode(secret)))?;
    Ok(key)
}

/// Every key in the store, by name.
pub fn list_keys() -> Result<Vec<(String, Keypair)>> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(keys_dir()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "key")
                && let Some(name) = path.file_stem().and_then(|s| s.to_str())
            {
                out.push((name.to_string(), key(name)?));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
