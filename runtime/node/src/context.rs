//! The types Malachite is generic over, for this chain: heights, validators (secp256k1, the
//! same keys and addresses as accounts), the value agreed on (a block's hash; the block travels
//! in proposal parts), proposals, votes and the signing scheme.

use std::fmt;

use borsh::{BorshDeserialize, BorshSerialize};
use bot_chain::Hash;
use bot_engine::Address;
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::{
    self as mc, LinearTimeouts, NilOrVal, Round, VoteType, VotingPower,
};

/// The chain's context for Malachite.
#[derive(Clone, Copy, Debug, Default)]
pub struct BotContext;

#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the account address of its consensus key.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct ValidatorAddress(pub Address);

impl fmt::Display for ValidatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl mc::Address for ValidatorAddress {}

/// The value consensus decides: the hash of a block. The block itself is streamed in proposal
/// parts and kept by the application until decided.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct BlockId(pub Hash);

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl mc::Value for BlockId {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        *self
    }
}

/// Borsh for a [`Round`] as the i64 Malachite gives it: -1 (nil) to `u32::MAX`. Anything else
/// is refused as it is decoded, so no round a peer sends reaches Malachite's
/// `Round::from(i64)`, which panics on it.
pub mod round_borsh {
    use std::io;

    use borsh::{BorshDeserialize, BorshSerialize};
    use malachitebft_app_channel::app::types::core::Round;

    pub fn serialize<W: io::Write>(round: &Round, writer: &mut W) -> io::Result<()> {
        round.as_i64().serialize(writer)
    }

    pub fn deserialize<R: io::Read>(reader: &mut R) -> io::Result<Round> {
        let round = i64::deserialize_reader(reader)?;
        super::round_of(round).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// The round `round` names, if it is one (-1 is nil).
pub fn round_of(round: i64) -> Result<Round, String> {
    if round < -1 || round > i64::from(u32::MAX) {
        return Err(format!(
            "round {round} is out of range: rounds are -1 (nil) to {}",
            u32::MAX
        ));
    }
    Ok(Round::from(round))
}

/// A proposal stream: `Init`, the block's bytes in `Data` chunks, then `Fin` with the
/// proposer's signature over the whole stream, so a relaying peer cannot forge or alter it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init(ProposalInit),
    Data(Vec<u8>),
    Fin(ProposalFin),
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalInit {
    pub height: Height,
    #[borsh(
        serialize_with = "round_borsh::serialize",
        deserialize_with = "round_borsh::deserialize"
    )]
    pub round: Round,
    #[borsh(
        serialize_with = "round_borsh::serialize",
        deserialize_with = "round_borsh::deserialize"
    )]
    pub valid_round: Round,
    pub proposer: ValidatorAddress,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalFin {
    pub signature: Signature,
}

impl mc::ProposalPart<BotContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init(_))
    }

    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin(_))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    pub height: Height,
    #[borsh(
        serialize_with = "round_borsh::serialize",
        deserialize_with = "round_borsh::deserialize"
    )]
    pub round: Round,
    pub value: BlockId,
    #[borsh(
        serialize_with = "round_borsh::serialize",
        deserialize_with = "round_borsh::deserialize"
    )]
    pub pol_round: Round,
    pub proposer: ValidatorAddress,
}

impl mc::Proposal<BotContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockId {
        &self.value
    }

    fn take_value(self) -> BlockId {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.proposer
    }
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    pub precommit: bool,
    pub height: Height,
    #[borsh(
        serialize_with = "round_borsh::serialize",
        deserialize_with = "round_borsh::deserialize"
    )]
    pub round: Round,
    pub value: Option<BlockId>,
    pub validator: ValidatorAddress,
    /// Only to satisfy `Vote::value`'s borrow; always equal to `value`.
    #[borsh(skip)]
    nil_or_val: NilOrVal<BlockId>,
}

impl Vote {
    pub fn new(
        vote_type: VoteType,
        height: Height,
        round: Round,
        value: NilOrVal<BlockId>,
        validator: ValidatorAddress,
    ) -> Vote {
        Vote {
            precommit: vote_type == VoteType::Precommit,
            height,
            round,
            value: match value {
                NilOrVal::Nil => None,
                NilOrVal::Val(v) => Some(v),
            },
            validator,
            nil_or_val: value,
        }
    }

    /// Rebuilds the derived field after decoding.
    pub fn decoded(mut self) -> Vote {
        self.nil_or_val = self.value.map_or(NilOrVal::Nil, NilOrVal::Val);
        self
    }
}

impl mc::Vote<BotContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockId> {
        &self.nil_or_val
    }

    fn take_value(self) -> NilOrVal<BlockId> {
        self.nil_or_val
    }

    fn vote_type(&self) -> VoteType {
        if self.precommit {
            VoteType::Precommit
        } else {
            VoteType::Prevote
        }
    }

    fn validator_address(&self) -> &ValidatorAddress {
        &self.validator
    }

    fn extension(&self) -> Option<&mc::SignedExtension<BotContext>> {
        None
    }

    fn take_extension(&mut self) -> Option<mc::SignedExtension<BotContext>> {
        None
    }

    /// Vote extensions are disabled on this chain.
    fn extend(self, _extension: mc::SignedExtension<BotContext>) -> Self {
        self
    }
}

/// A 64-byte secp256k1 ECDSA signature (r ‖ s, low s) over a SHA-256 digest.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..8]))
    }
}

/// A compressed SEC1 secp256k1 public key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub Vec<u8>);

#[derive(Debug)]
pub struct DecodingError(pub String);

impl fmt::Display for DecodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K256;

impl mc::SigningScheme for K256 {
    type DecodingError = DecodingError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = bot_chain::Keypair;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, DecodingError> {
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| DecodingError(format!("a signature is 64 bytes, not {}", bytes.len())))?;
        Ok(Signature(bytes))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, DecodingError> {
        k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map_err(|_| DecodingError("not a SEC1 secp256k1 public key".into()))?;
        Ok(PublicKey(bytes.to_vec()))
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.0.clone()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub address: ValidatorAddress,
    pub public_key: PublicKey,
    pub power: VotingPower,
}

impl mc::Validator<BotContext> for Validator {
    fn address(&self) -> &ValidatorAddress {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.power
    }
}

/// Validators ordered by address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// From the genesis's validators; keys that do not parse are refused by genesis checks.
    pub fn from_genesis(validators: &[bot_chain::Validator]) -> ValidatorSet {
        let mut validators: Vec<Validator> = validators
            .iter()
            .filter_map(|v| {
                let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&v.public_key).ok()?;
                Some(Validator {
                    address: ValidatorAddress(bot_chain::address_of(&key)),
                    public_key: PublicKey(v.public_key.clone()),
                    power: v.power,
                })
            })
            .collect();
        validators.sort_by_key(|v| v.address);
        ValidatorSet { validators }
    }

    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }
}

impl mc::ValidatorSet<BotContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.validators.iter().map(|v| v.power).sum()
    }

    fn get_by_address(&self, address: &ValidatorAddress) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

impl mc::Context for BotContext {
    type Address = ValidatorAddress;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = Bytes;
    type SigningScheme = K256;

    /// Round robin over the validators in address order, shifted by height: every validator
    /// proposes in turn, and a validator that is down only costs the rounds it would lead.
    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let n = validator_set.validators.len().max(1) as u64;
        let round = round.as_u32().unwrap_or(0) as u64;
        let index = (height.0.wrapping_add(round) % n) as usize;
        // An empty set is refused at genesis; index is in range.
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockId,
        pol_round: Round,
        address: ValidatorAddress,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote::new(VoteType::Prevote, height, round, value_id, address)
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: ValidatorAddress,
    ) -> Vote {
        Vote::new(VoteType::Precommit, height, round, value_id, address)
    }
}
