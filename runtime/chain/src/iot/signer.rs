//! A device's private key, for the tools that act as a device: the CLI, the gateway simulator
//! and tests. The chain itself only ever verifies.

use sha2::{Digest, Sha256};

use super::model::{DeviceKey, KeyType};

/// A device's secret key on either curve.
#[derive(Clone)]
pub enum DeviceSigner {
    Secp256k1(k256::ecdsa::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for DeviceSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceSigner({:?}, {})",
            self.kind(),
            self.public().device_id()
        )
    }
}

impl DeviceSigner {
    /// The key with these 32 secret bytes; `None` if they are not a valid scalar.
    pub fn from_secret(kind: KeyType, secret: &[u8]) -> Option<DeviceSigner> {
        Some(match kind {
            KeyType::Secp256k1 => {
                DeviceSigner::Secp256k1(k256::ecdsa::SigningKey::from_slice(secret).ok()?)
            }
            KeyType::P256 => DeviceSigner::P256(p256::ecdsa::SigningKey::from_slice(secret).ok()?),
        })
    }

    /// A key derived from a name: for devnets, simulators and tests only.
    pub fn dev(kind: KeyType, name: &str) -> DeviceSigner {
        (0u32..)
            .find_map(|attempt| {
                let mut h = Sha256::new();
                h.update(b"bot/dev-device-key/");
                h.update(name.as_bytes());
                h.update(attempt.to_le_bytes());
                DeviceSigner::from_secret(kind, &h.finalize())
            })
            .unwrap_or_else(|| unreachable!("a valid scalar turns up within a few attempts"))
    }

    pub fn kind(&self) -> KeyType {
        match self {
            DeviceSigner::Secp256k1(_) => KeyType::Secp256k1,
            DeviceSigner::P256(_) => KeyType::P256,
        }
    }

    pub fn secret(&self) -> [u8; 32] {
        match self {
            DeviceSigner::Secp256k1(k) => k.to_bytes().into(),
            DeviceSigner::P256(k) => k.to_bytes().into(),
        }
    }

    pub fn public(&self) -> DeviceKey {
        let sec1 = match self {
            DeviceSigner::Secp256k1(k) => k.verifying_key().to_sec1_point(true).as_bytes().to_vec(),
            DeviceSigner::P256(k) => k.verifying_key().to_sec1_point(true).as_bytes().to_vec(),
        };
        DeviceKey {
            kind: self.kind(),
            sec1,
        }
    }

    /// A 64-byte r ‖ s signature of `digest` (low s on secp256k1, as the chain requires).
    pub fn sign(&self, digest: &[u8; 32]) -> Vec<u8> {
        use k256::ecdsa::signature::hazmat::PrehashSigner;
        match self {
            DeviceSigner::Secp256k1(k) => {
                let sig: k256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .unwrap_or_else(|_| unreachable!("a 32-byte prehash is always signable"));
                sig.normalize_s().to_bytes().to_vec()
            }
            DeviceSigner::P256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .unwrap_or_else(|_| unreachable!("a 32-byte prehash is always signable"));
                sig.to_bytes().to_vec()
            }
        }
    }
}
