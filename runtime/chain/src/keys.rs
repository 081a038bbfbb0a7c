//! Account keys: secp256k1 (k256). An address is the last 20 bytes of the Keccak-256 of the
//! uncompressed public key (without its 0x04 tag), as on Ethereum, so wallets' keys map over.

use bot_engine::Address;
use k256::ecdsa::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The address of a secp256k1 public key (SEC1, compressed or not).
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_sec1_point(false);
    let digest = bot_crypto::keccak256(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[12..]);
    Address(address)
}

/// A signing key and its address.
#[derive(Clone)]
pub struct Keypair {
    key: SigningKey,
    address: Address,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keypair({})", self.address)
    }
}

impl Keypair {
    /// The key with these 32 secret bytes; `None` if they are not a valid scalar.
    pub fn from_secret(secret: &[u8]) -> Option<Keypair> {
        let key = SigningKey::from_slice(secret).ok()?;
        let address = address_of(key.verifying_key());
        Some(Keypair { key, address })
    }

    /// A key derived from a name: for devnets and tests only, never for value. The same name
    /// gives the same key everywhere (`dev0`, `validator1`...).
    pub fn dev(name: &str) -> Keypair {
        (0u32..)
            .find_map(|attempt| {
                let mut h = Sha256::new();
                h.update(b"bot/dev-key/");
                h.update(name.as_bytes());
                h.update(attempt.to_le_bytes());
                Keypair::from_secret(&h.finalize())
            })
            .unwrap_or_else(|| unreachable!("a valid scalar turns up within a few attempts"))
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The compressed SEC1 public key (33 bytes).
    pub fn public_key(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_sec1_point(true)
            .as_bytes()
            .to_vec()
    }

    /// A recoverable signature of a 32-byte digest: 64 bytes (r ‖ s, low s) and the recovery id.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> ([u8; 64], u8) {
        let (sig, id) = self.key.sign_prehash_recoverable(digest);
        // Only low-s signatures are valid (one signature per message, no malleability).
        let (sig, id) = match sig.normalize_s() {
            normalized if normalized != sig => (normalized, id.to_byte() ^ 1),
            _ => (sig, id.to_byte()),
        };
        (sig.to_bytes().into(), id)
    }
}

/// The address that signed `digest`, from a recoverable signature.
pub fn recover(digest: &[u8; 32], signature: &[u8; 64], recovery_id: u8) -> Option<Address> {
    let sec1 = bot_crypto::secp256k1_recover(digest, signature, recovery_id).ok()?;
    let key = VerifyingKey::from_sec1_bytes(&sec1).ok()?;
    Some(address_of(&key))
}
