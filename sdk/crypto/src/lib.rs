//! The chain's hash and signature rules: one implementation for the engine's `crypto` host
//! functions and for the SDK's native test environment, so a contract's unit tests see exactly
//! what validators will.
//!
//! Signatures are strict: secp256k1 accepts only low-s signatures (no malleable twins),
//! Ed25519 uses `verify_strict`, and every malformed input is a [`CryptoError`] naming what
//! was wrong rather than a `false`.

use k256::ecdsa::signature::hazmat::PrehashVerifier as _;
use sha2::Digest as _;

/// What was malformed; the discriminants are the WIT `crypto-error` cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CryptoError {
    /// A message hash that is not 32 bytes.
    InvalidHash = 0,
    InvalidSignature = 1,
    InvalidPublicKey = 2,
    InvalidRecoveryId = 3,
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

pub fn keccak256(data: &[u8]) -> [u8; 32] {
    sha3::Keccak256::digest(data).into()
}

fn hash32(hash: &[u8]) -> Result<(), CryptoError> {
    if hash.len() == 32 {
        Ok(())
    } else {
        Err(CryptoError::InvalidHash)
    }
}

/// ECDSA over secp256k1: a 32-byte prehash, a 64-byte r||s signature, a SEC1 public key.
/// A high-s signature is valid arithmetic but not accepted: `Ok(false)`.
pub fn secp256k1_verify(hash: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
    hash32(hash)?;
    let sig = k256::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)?;
    let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(key)
        .map_err(|_| CryptoError::InvalidPublicKey)?;
    if sig.normalize_s() != sig {
        return Ok(false);
    }
    Ok(key.verify_prehash(hash, &sig).is_ok())
}

/// The compressed 33-byte SEC1 key that made a low-s signature of `hash`.
pub fn secp256k1_recover(hash: &[u8], sig: &[u8], recovery_id: u8) -> Result<Vec<u8>, CryptoError> {
    hash32(hash)?;
    let sig = k256::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)?;
    if sig.normalize_s() != sig {
        return Err(CryptoError::InvalidSignature);
    }
    let id =
        k256::ecdsa::RecoveryId::from_byte(recovery_id).ok_or(CryptoError::InvalidRecoveryId)?;
    let key = k256::ecdsa::VerifyingKey::recover_from_prehash(hash, &sig, id)
        .map_err(|_| CryptoError::InvalidSignature)?;
    Ok(key.to_sec1_bytes().into_vec())
}

/// Ed25519 over the message itself, strict verification.
pub fn ed25519_verify(message: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
    let sig =
        ed25519_dalek::Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)?;
    let key: [u8; 32] = key.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| CryptoError::InvalidPublicKey)?;
    Ok(key.verify_strict(message, &sig).is_ok())
}

/// ECDSA over P-256 (what IoT secure elements sign with): 32-byte prehash, 64-byte r||s.
pub fn p256_verify(hash: &[u8], sig: &[u8], key: &[u8]) -> Result<bool, CryptoError> {
    hash32(hash)?;
    let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)?;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
        .map_err(|_| CryptoError::InvalidPublicKey)?;
    Ok(key.verify_prehash(hash, &sig).is_ok())
}
