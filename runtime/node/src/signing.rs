//! Consensus signatures: secp256k1 ECDSA (low s) over a SHA-256 digest of a domain tag, the
//! chain id and the borsh encoding of what is signed, so a vote on one chain or for one purpose
//! is never valid on another.

use async_trait::async_trait;
use borsh::BorshSerialize;
use bot_chain::Keypair;
use malachitebft_app_channel::app::types::core::SigningScheme as _;
use malachitebft_app_channel::app::types::core::{
    Round, SignedMessage, ValidatorProof, VoteExtensionScope,
};
use malachitebft_app_channel::{Signer, Verifier};
use malachitebft_signing::{Error, VerificationResult};
use sha2::{Digest, Sha256};

use crate::context::{BlockId, BotContext, Height, K256, Proposal, PublicKey, Signature, Vote};

/// The digest signed for `what` under `tag` on `chain_id`.
pub fn digest(tag: &str, chain_id: &str, what: &impl BorshSerialize) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"bot/consensus/");
    h.update(tag.as_bytes());
    h.update([0]);
    h.update((chain_id.len() as u32).to_le_bytes());
    h.update(chain_id.as_bytes());
    h.update(borsh::to_vec(what).unwrap_or_default());
    h.finalize().into()
}

/// What a proposer signs at the end of a proposal stream: everything its `Init` says
/// (a relaying peer that changed the valid round would otherwise go unnoticed) and the block.
pub fn stream_digest(
    chain_id: &str,
    height: Height,
    round: Round,
    valid_round: Round,
    block: BlockId,
) -> [u8; 32] {
    let rounds = (round.as_i64(), valid_round.as_i64());
    digest("proposal-stream", chain_id, &(height, rounds, block))
}

pub fn verify(digest: &[u8; 32], signature: &Signature, key: &PublicKey) -> bool {
    bot_crypto::secp256k1_verify(digest, &signature.0, &key.0).unwrap_or(false)
}

/// Signs and verifies consensus messages for one chain.
#[derive(Clone)]
pub struct ConsensusSigner {
    chain_id: String,
    key: Option<Keypair>,
}

impl ConsensusSigner {
    pub fn new(chain_id: &str, key: Option<Keypair>) -> ConsensusSigner {
        ConsensusSigner {
            chain_id: chain_id.to_string(),
            key,
        }
    }

    pub fn sign(&self, digest: &[u8; 32]) -> Result<Signature, Error> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| Error::from_source("this node has no validator key"))?;
        Ok(Signature(key.sign_digest(digest).0))
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }
}

#[async_trait]
impl Signer<BotContext> for ConsensusSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<BotContext, Vote>, Error> {
        let signature = self.sign(&digest("vote", &self.chain_id, &vote))?;
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<BotContext, Proposal>, Error> {
        let signature = self.sign(&digest("proposal", &self.chain_id, &proposal))?;
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        _scope: VoteExtensionScope<BotContext>,
        _extension: bytes::Bytes,
    ) -> Result<SignedMessage<BotContext, bytes::Bytes>, Error> {
        Err(Error::from_source(
            "vote extensions are disabled on this chain",
        ))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<BotContext>, Error> {
        let preimage = ValidatorProof::<BotContext>::signing_bytes(&public_key, &peer_id);
        let signature = self.sign(&digest("validator-proof", &self.chain_id, &preimage))?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

#[async_trait]
impl Verifier<BotContext> for ConsensusSigner {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        let digest = digest("vote", &self.chain_id, vote);
        Ok(VerificationResult::from_bool(verify(
            &digest, signature, public_key,
        )))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        let digest = digest("proposal", &self.chain_id, proposal);
        Ok(VerificationResult::from_bool(verify(
            &digest, signature, public_key,
        )))
    }

    async fn verify_signed_vote_extension(
        &self,
        _scope: &VoteExtensionScope<BotContext>,
        _extension: &bytes::Bytes,
        _signature: &Signature,
        _public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(VerificationResult::Invalid)
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<BotContext>,
    ) -> Result<VerificationResult, Error> {
        let Ok(key) = K256::decode_public_key(&proof.public_key) else {
            return Ok(VerificationResult::Invalid);
        };
        let digest = digest("validator-proof", &self.chain_id, &proof.preimage());
        Ok(VerificationResult::from_bool(verify(
            &digest,
            &proof.signature,
            &key,
        )))
    }
}
