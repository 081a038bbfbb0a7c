//! Borsh encodings of everything Malachite sends over the network or writes to its WAL, and of
//! the commit certificate stored with each block. Decoding never trusts a length or a field:
//! bytes from a peer that do not decode are an error, never a panic.

use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_app_channel::app::consensus::LivenessMsg;
use malachitebft_app_channel::app::engine::util::streaming::Sequence;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, ExtendedCommitCertificate, ExtendedCommitSignature,
    NilOrVal, PolkaCertificate, PolkaSignature, Round, RoundCertificate, RoundCertificateType,
    RoundSignature, SignedMessage, ValidatorProof, Validity, VoteType,
};
use malachitebft_app_channel::app::types::sync::{Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue, SignedConsensusMsg};
use malachitebft_sync::{ValueRequest, ValueResponse};

use crate::context::{
    BlockId, BotContext, Height, Proposal, ProposalPart, Signature, ValidatorAddress, Vote,
};

/// Bytes that are not a message of the expected kind.
#[derive(Debug, thiserror::Error)]
#[error("malformed {what}: {reason}")]
pub struct CodecError {
    what: &'static str,
    reason: String,
}

fn decode<T: BorshDeserialize>(what: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    borsh::from_slice(bytes).map_err(|e| CodecError {
        what,
        reason: e.to_string(),
    })
}

fn encode(what: &'static str, value: &impl BorshSerialize) -> Result<Bytes, CodecError> {
    borsh::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| CodecError {
            what,
            reason: e.to_string(),
        })
}

fn round(r: Round) -> i64 {
    r.as_i64()
}

fn round_of(r: i64) -> Result<Round, CodecError> {
    crate::context::round_of(r).map_err(|reason| CodecError {
        what: "round",
        reason,
    })
}

fn peer_of(bytes: &[u8]) -> Result<PeerId, CodecError> {
    PeerId::from_bytes(bytes).map_err(|e| CodecError {
        what: "peer id",
        reason: e.to_string(),
    })
}

/// Malachite's encodings, over borsh.
#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

#[derive(BorshSerialize, BorshDeserialize)]
enum WireConsensus {
    Vote(Vote, Signature),
    Proposal(Proposal, Signature),
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireSignature {
    address: ValidatorAddress,
    signature: Signature,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireCertificate {
    height: Height,
    round: i64,
    value: BlockId,
    signatures: Vec<WireSignature>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireExtendedSignature {
    address: ValidatorAddress,
    signature: Signature,
    extension: Option<(Vec<u8>, Signature)>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireExtendedCertificate {
    height: Height,
    round: i64,
    value: BlockId,
    signatures: Vec<WireExtendedSignature>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireRoundSignature {
    precommit: bool,
    value: Option<BlockId>,
    address: ValidatorAddress,
    signature: Signature,
}

#[derive(BorshSerialize, BorshDeserialize)]
enum WireLiveness {
    Vote(Vote, Signature),
    Polka(WireCertificate),
    SkipRound {
        height: Height,
        round: i64,
        skip: bool,
        signatures: Vec<WireRoundSignature>,
    },
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireStream {
    stream_id: Vec<u8>,
    sequence: Sequence,
    part: Option<ProposalPart>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireProof {
    public_key: Vec<u8>,
    peer_id: Vec<u8>,
    signature: Signature,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireStatus {
    peer_id: Vec<u8>,
    tip_height: Height,
    history_min_height: Height,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireRequest {
    start: Height,
    end: Height,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireResponse {
    start_height: Height,
    values: Vec<(Vec<u8>, WireExtendedCertificate)>,
}

#[derive(BorshSerialize, BorshDeserialize)]
struct WireProposed {
    height: Height,
    round: i64,
    valid_round: i64,
    proposer: ValidatorAddress,
    value: BlockId,
    valid: bool,
}

fn vote_of(vote: Vote) -> Vote {
    vote.decoded()
}

fn nil_or(value: Option<BlockId>) -> NilOrVal<BlockId> {
    value.map_or(NilOrVal::Nil, NilOrVal::Val)
}

fn extended_to_wire(c: &ExtendedCommitCertificate<BotContext>) -> WireExtendedCertificate {
    WireExtendedCertificate {
        height: c.height,
        round: round(c.round),
        value: c.value_id,
        signatures: c
            .commit_signatures
            .iter()
            .map(|s| WireExtendedSignature {
                address: s.address,
                signature: s.signature.clone(),
                extension: s
                    .extension
                    .as_ref()
                    .map(|e| (e.message.to_vec(), e.signature.clone())),
            })
            .collect(),
    }
}

fn extended_of(
    w: WireExtendedCertificate,
) -> Result<ExtendedCommitCertificate<BotContext>, CodecError> {
    Ok(ExtendedCommitCertificate {
        height: w.height,
        round: round_of(w.round)?,
        value_id: w.value,
        commit_signatures: w
            .signatures
            .into_iter()
            .map(|s| ExtendedCommitSignature {
                address: s.address,
                signature: s.signature,
                extension: s
                    .extension
                    .map(|(m, sig)| SignedMessage::new(Bytes::from(m), sig)),
            })
            .collect(),
    })
}

/// The commit certificate stored with a block (what `bot-state` keeps as certificate bytes).
pub fn encode_certificate(c: &CommitCertificate<BotContext>) -> Vec<u8> {
    borsh::to_vec(&WireCertificate {
        height: c.height,
        round: round(c.round),
        value: c.value_id,
        signatures: c
            .commit_signatures
            .iter()
            .map(|s| WireSignature {
                address: s.address,
                signature: s.signature.clone(),
            })
            .collect(),
    })
    .unwrap_or_default()
}

pub fn decode_certificate(bytes: &[u8]) -> Result<CommitCertificate<BotContext>, CodecError> {
    let w: WireCertificate = decode("commit certificate", bytes)?;
    Ok(CommitCertificate {
        height: w.height,
        round: round_of(w.round)?,
        value_id: w.value,
        commit_signatures: w
            .signatures
            .into_iter()
            .map(|s| CommitSignature {
                address: s.address,
                signature: s.signature,
            })
            .collect(),
    })
}

/// The extended form sync sends, from a stored certificate (extensions are disabled).
pub fn extend_certificate(
    c: CommitCertificate<BotContext>,
) -> ExtendedCommitCertificate<BotContext> {
    ExtendedCommitCertificate {
        height: c.height,
        round: c.round,
        value_id: c.value_id,
        commit_signatures: c
            .commit_signatures
            .into_iter()
            .map(|s| ExtendedCommitSignature {
                address: s.address,
                signature: s.signature,
                extension: None,
            })
            .collect(),
    }
}

macro_rules! codec {
    ($ty:ty, $what:literal, |$enc:ident| $to:expr, |$dec:ident: $wire:ty| $from:expr) => {
        impl Codec<$ty> for BorshCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$ty, CodecError> {
                let $dec: $wire = decode($what, &bytes)?;
                $from
            }

            fn encode(&self, $enc: &$ty) -> Result<Bytes, CodecError> {
                encode($what, &$to)
            }
        }
    };
}

codec!(ProposalPart, "proposal part", |p| p, |p: ProposalPart| Ok(
    p
));

codec!(
    SignedConsensusMsg<BotContext>,
    "consensus message",
    |m| match m {
        SignedConsensusMsg::Vote(v) => WireConsensus::Vote(v.message.clone(), v.signature.clone()),
        SignedConsensusMsg::Proposal(p) =>
            WireConsensus::Proposal(p.message.clone(), p.signature.clone()),
    },
    |w: WireConsensus| Ok(match w {
        WireConsensus::Vote(v, s) => SignedConsensusMsg::Vote(SignedMessage::new(vote_of(v), s)),
        WireConsensus::Proposal(p, s) => SignedConsensusMsg::Proposal(SignedMessage::new(p, s)),
    })
);

fn polka_to_wire(c: &PolkaCertificate<BotContext>) -> WireCertificate {
    WireCertificate {
        height: c.height,
        round: round(c.round),
        value: c.value_id,
        signatures: c
            .polka_signatures
            .iter()
            .map(|s| WireSignature {
                address: s.address,
                signature: s.signature.clone(),
            })
            .collect(),
    }
}

fn polka_of(w: WireCertificate) -> Result<PolkaCertificate<BotContext>, CodecError> {
    Ok(PolkaCertificate {
        height: w.height,
        round: round_of(w.round)?,
        value_id: w.value,
        polka_signatures: w
            .signatures
            .into_iter()
            .map(|s| PolkaSignature {
                address: s.address,
                signature: s.signature,
            })
            .collect(),
    })
}

codec!(
    PolkaCertificate<BotContext>,
    "polka certificate",
    |c| polka_to_wire(c),
    |w: WireCertificate| polka_of(w)
);

fn liveness_to_wire(m: &LivenessMsg<BotContext>) -> WireLiveness {
    match m {
        LivenessMsg::Vote(v) => WireLiveness::Vote(v.message.clone(), v.signature.clone()),
        LivenessMsg::PolkaCertificate(c) => WireLiveness::Polka(polka_to_wire(c)),
        LivenessMsg::SkipRoundCertificate(c) => WireLiveness::SkipRound {
            height: c.height,
            round: round(c.round),
            skip: c.cert_type == RoundCertificateType::Skip,
            signatures: c
                .round_signatures
                .iter()
                .map(|s| WireRoundSignature {
                    precommit: s.vote_type == VoteType::Precommit,
                    value: match s.value_id {
                        NilOrVal::Nil => None,
                        NilOrVal::Val(v) => Some(v),
                    },
                    address: s.address,
                    signature: s.signature.clone(),
                })
                .collect(),
        },
    }
}

fn liveness_of(w: WireLiveness) -> Result<LivenessMsg<BotContext>, CodecError> {
    Ok(match w {
        WireLiveness::Vote(v, s) => LivenessMsg::Vote(SignedMessage::new(vote_of(v), s)),
        WireLiveness::Polka(c) => LivenessMsg::PolkaCertificate(polka_of(c)?),
        WireLiveness::SkipRound {
            height,
            round,
            skip,
            signatures,
        } => LivenessMsg::SkipRoundCertificate(RoundCertificate {
            height,
            round: round_of(round)?,
            cert_type: if skip {
                RoundCertificateType::Skip
            } else {
                RoundCertificateType::Precommit
            },
            round_signatures: signatures
                .into_iter()
                .map(|s| RoundSignature {
                    vote_type: if s.precommit {
                        VoteType::Precommit
                    } else {
                        VoteType::Prevote
                    },
                    value_id: nil_or(s.value),
                    address: s.address,
                    signature: s.signature,
                })
                .collect(),
        }),
    })
}

codec!(
    LivenessMsg<BotContext>,
    "liveness message",
    |m| liveness_to_wire(m),
    |w: WireLiveness| liveness_of(w)
);

codec!(
    StreamMessage<ProposalPart>,
    "proposal stream message",
    |m| WireStream {
        stream_id: m.stream_id.to_bytes().to_vec(),
        sequence: m.sequence,
        part: match &m.content {
            StreamContent::Data(p) => Some(p.clone()),
            StreamContent::Fin => None,
        },
    },
    |w: WireStream| Ok(StreamMessage {
        stream_id: StreamId::new(Bytes::from(w.stream_id)),
        sequence: w.sequence,
        content: match w.part {
            Some(p) => StreamContent::Data(p),
            None => StreamContent::Fin,
        },
    })
);

codec!(
    ValidatorProof<BotContext>,
    "validator proof",
    |p| WireProof {
        public_key: p.public_key.clone(),
        peer_id: p.peer_id.clone(),
        signature: p.signature.clone(),
    },
    |w: WireProof| Ok(ValidatorProof::new(w.public_key, w.peer_id, w.signature))
);

codec!(
    Status<BotContext>,
    "sync status",
    |s| WireStatus {
        peer_id: s.peer_id.to_bytes(),
        tip_height: s.tip_height,
        history_min_height: s.history_min_height,
    },
    |w: WireStatus| Ok(Status {
        peer_id: peer_of(&w.peer_id)?,
        tip_height: w.tip_height,
        history_min_height: w.history_min_height,
    })
);

codec!(
    Request<BotContext>,
    "sync request",
    |r| match r {
        Request::ValueRequest(v) => WireRequest {
            start: *v.range.start(),
            end: *v.range.end(),
        },
    },
    |w: WireRequest| Ok(Request::ValueRequest(ValueRequest::new(w.start..=w.end)))
);

fn response_to_wire(r: &Response<BotContext>) -> WireResponse {
    match r {
        Response::ValueResponse(v) => WireResponse {
            start_height: v.start_height,
            values: v
                .values
                .iter()
                .map(|d| (d.value_bytes.to_vec(), extended_to_wire(&d.certificate)))
                .collect(),
        },
    }
}

codec!(
    Response<BotContext>,
    "sync response",
    |r| response_to_wire(r),
    |w: WireResponse| {
        let values = w
            .values
            .into_iter()
            .map(|(bytes, cert)| {
                Ok(
                    malachitebft_app_channel::app::types::sync::RawDecidedValue::new(
                        Bytes::from(bytes),
                        extended_of(cert)?,
                    ),
                )
            })
            .collect::<Result<Vec<_>, CodecError>>()?;
        Ok(Response::ValueResponse(ValueResponse::new(
            w.start_height,
            values,
        )))
    }
);

impl HasEncodedLen<Response<BotContext>> for BorshCodec {
    fn encoded_len(&self, msg: &Response<BotContext>) -> Result<usize, CodecError> {
        borsh::object_length(&response_to_wire(msg)).map_err(|e| CodecError {
            what: "sync response",
            reason: e.to_string(),
        })
    }
}

codec!(
    ProposedValue<BotContext>,
    "proposed value",
    |p| WireProposed {
        height: p.height,
        round: round(p.round),
        valid_round: round(p.valid_round),
        proposer: p.proposer,
        value: p.value,
        valid: p.validity.is_valid(),
    },
    |w: WireProposed| Ok(ProposedValue {
        height: w.height,
        round: round_of(w.round)?,
        valid_round: round_of(w.valid_round)?,
        proposer: w.proposer,
        value: w.value,
        validity: Validity::from_bool(w.valid),
    })
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let codec = BorshCodec;
        for bytes in [&b""[..], &[0xff; 3], &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]] {
            let b = Bytes::copy_from_slice(bytes);
            assert!(Codec::<SignedConsensusMsg<BotContext>>::decode(&codec, b.clone()).is_err());
            assert!(Codec::<StreamMessage<ProposalPart>>::decode(&codec, b.clone()).is_err());
            assert!(Codec::<Response<BotContext>>::decode(&codec, b.clone()).is_err());
            assert!(Codec::<LivenessMsg<BotContext>>::decode(&codec, b).is_err());
        }
        // A round past u32 is refused, not wrapped.
        let bad = borsh::to_vec(&WireProposed {
            height: Height(1),
            round: i64::MAX,
            valid_round: -1,
            proposer: ValidatorAddress::default(),
            value: BlockId::default(),
            valid: true,
        })
        .unwrap();
        assert!(Codec::<ProposedValue<BotContext>>::decode(&codec, Bytes::from(bad)).is_err());
    }

    /// `bytes` with the little-endian i64 `from` (which must occur once) replaced by `to`.
    fn patched(bytes: Vec<u8>, from: i64, to: i64) -> Bytes {
        let (from, to) = (from.to_le_bytes(), to.to_le_bytes());
        let at = bytes
            .windows(8)
            .position(|w| w == from)
            .expect("the round is there");
        let mut out = bytes;
        out[at..at + 8].copy_from_slice(&to);
        Bytes::from(out)
    }

    #[test]
    fn an_out_of_range_round_is_refused_as_it_is_decoded() {
        // Malachite's Round::from(i64) panics above u32::MAX: no such round reaches it.
        let codec = BorshCodec;
        let marker = 123_456_789i64;
        let vote = Vote::new(
            VoteType::Prevote,
            Height(3),
            Round::new(marker as u32),
            NilOrVal::Nil,
            ValidatorAddress::default(),
        );
        let msg = SignedConsensusMsg::Vote(SignedMessage::new(vote, Signature([1; 64])));
        let bytes = Codec::<SignedConsensusMsg<BotContext>>::encode(&codec, &msg).unwrap();
        for bad in [1i64 << 40, i64::MAX, -2, i64::MIN] {
            let e = Codec::<SignedConsensusMsg<BotContext>>::decode(
                &codec,
                patched(bytes.to_vec(), marker, bad),
            )
            .unwrap_err();
            assert!(e.to_string().contains("out of range"), "{bad}: {e}");
        }
        let init = StreamMessage::new(
            StreamId::new(Bytes::from_static(b"s")),
            0,
            StreamContent::Data(ProposalPart::Init(crate::context::ProposalInit {
                height: Height(3),
                round: Round::new(marker as u32),
                valid_round: Round::Nil,
                proposer: ValidatorAddress::default(),
            })),
        );
        let bytes = Codec::<StreamMessage<ProposalPart>>::encode(&codec, &init).unwrap();
        let e = Codec::<StreamMessage<ProposalPart>>::decode(
            &codec,
            patched(bytes.to_vec(), marker, 1 << 40),
        )
        .unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        // In range, the same bytes decode.
        assert!(Codec::<StreamMessage<ProposalPart>>::decode(&codec, bytes).is_ok());
    }

    #[test]
    fn votes_round_trip_with_their_value() {
        let codec = BorshCodec;
        let vote = Vote::new(
            VoteType::Precommit,
            Height(7),
            Round::new(2),
            NilOrVal::Val(BlockId([9; 32])),
            ValidatorAddress::default(),
        );
        let msg = SignedConsensusMsg::Vote(SignedMessage::new(vote, Signature([1; 64])));
        let bytes = Codec::<SignedConsensusMsg<BotContext>>::encode(&codec, &msg).unwrap();
        let back: SignedConsensusMsg<BotContext> = codec.decode(bytes).unwrap();
        assert_eq!(back, msg);
    }
}
