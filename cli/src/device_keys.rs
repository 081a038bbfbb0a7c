//! Device keys on this machine (`~/.bot/devices/NAME.json`): what `cargo bot device` and the
//! gateway simulator sign readings and registrations with. A device is named by its key's
//! name here and by its id (an address) on the chain; commands take either.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use bot_chain::iot::{DeviceSigner, KeyType};
use bot_engine::Address;
use serde_json::json;

use crate::client::bot_home;

fn dir() -> PathBuf {
    bot_home().join("devices")
}

fn path(name: &str) -> PathBuf {
    dir().join(format!("{name}.json"))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("a device name is letters, digits, - and _: `{name}`");
    }
    Ok(())
}

/// The device key called `name`.
pub fn load(name: &str) -> Result<DeviceSigner> {
    let path = path(name);
    let text = std::fs::read_to_string(&path).map_err(|_| {
        anyhow!(
            "no device key `{name}` in {}: register the device with `cargo bot device register {name}`",
            dir().display()
        )
    })?;
    let stored: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let kind: KeyType = serde_json::from_value(stored["type"].clone())
        .with_context(|| format!("{}: `type` is secp256k1 or p256", path.display()))?;
    let secret = hex::decode(stored["secret"].as_str().unwrap_or_default())
        .with_context(|| format!("{}: `secret` is not hex", path.display()))?;
    DeviceSigner::from_secret(kind, &secret)
        .ok_or_else(|| anyhow!("{} does not hold a valid {kind:?} secret", path.display()))
}

/// A fresh key from the system's randomness (not stored yet).
pub fn generate(kind: KeyType) -> Result<DeviceSigner> {
    let mut secret = [0u8; 32];
    loop {
        getrandom::fill(&mut secret).map_err(|e| anyhow!("no system randomness: {e}"))?;
        if let Some(key) = DeviceSigner::from_secret(kind, &secret) {
            return Ok(key);
        }
    }
}

/// Stores `key` as `name`, replacing an earlier key of that name (kept as `NAME.json.old`).
pub fn save(name: &str, key: &DeviceSigner) -> Result<()> {
    check_name(name)?;
    let dir = dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = path(name);
    let text = json!({
        "type": key.kind(),
        "secret": hex::encode(key.secret()),
        "id": key.public().device_id().to_string(),
    });
    let fresh = dir.join(format!("{name}.json.new"));
    let _ = std::fs::remove_file(&fresh);
    bot_node::config::write_secret(&fresh, &format!("{text:#}\n"))?;
    if path.exists() {
        std::fs::rename(&path, dir.join(format!("{name}.json.old")))
            .with_context(|| format!("keeping the old key of {}", path.display()))?;
    }
    std::fs::rename(&fresh, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Whether a key called `name` is stored.
pub fn exists(name: &str) -> bool {
    path(name).exists()
}

/// A device given as an address, or as the name of a stored device key.
pub fn resolve(text: &str) -> Result<Address> {
    if text.starts_with("0x") {
        return text.parse().map_err(|e: String| anyhow!(e));
    }
    Ok(load(text)?.public().device_id())
}

/// The account a device's key signs transactions as: a secp256k1 device key is also an account
/// key; a P-256 one cannot sign transactions, so its gateway sends for it.
pub fn account(device: &DeviceSigner) -> Result<bot_chain::Keypair> {
    bot_chain::Keypair::from_secret(&device.secret())
        .filter(|_| device.kind() == KeyType::Secp256k1)
        .ok_or_else(|| {
            anyhow!("a P-256 device cannot sign transactions: its gateway sends for it (--gateway)")
        })
}
