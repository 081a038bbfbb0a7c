//! Contracts built with the SDK's wit-bindgen bindings, run on the real engine: storage, scans,
//! environment, events, crypto, cross-contract calls and every kind of failure.

use borsh::{BorshDeserialize, BorshSerialize};
use bot_engine::{Address, Compiler, FailureKind, Outcome};
use bot_tests::{ALICE, Chain, decode, wasm};

const PROBE: Address = Address([0x01; 20]);
const OTHER: Address = Address([0x02; 20]);
const COUNTER: Address = Address([0x03; 20]);
const NOBODY: Address = Address([0x09; 20]);

#[derive(BorshSerialize, BorshDeserialize, Clone)]
struct Scan {
    prefix: Vec<u8>,
    start: Option<Vec<u8>>,
    end: Option<Vec<u8>>,
    descending: bool,
    limit: u32,
}

#[derive(BorshSerialize, BorshDeserialize, Clone)]
struct Call {
    contract: Address32,
    method: String,
    args: Vec<u8>,
    gas: Option<u64>,
}

/// The SDK's `Address`, as borsh sees it.
#[derive(BorshSerialize, BorshDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
struct Address32([u8; 20]);

impl From<Address> for Address32 {
    fn from(a: Address) -> Self {
        Address32(a.0)
    }
}

type Page = (Vec<(Vec<u8>, Vec<u8>)>, Option<Vec<u8>>);
type CallResult = Result<Vec<u8>, (u8, u32, String)>;

fn chain(compiler: Compiler) -> Chain {
    let chain = Chain::new(compiler);
    chain.deploy(PROBE, &wasm("probe"));
    chain.deploy(OTHER, &wasm("probe"));
    chain.deploy(COUNTER, &wasm("counter"));
    chain
}

fn failure(outcome: &Outcome) -> (FailureKind, String) {
    let f = outcome.result.clone().expect_err("the call should fail");
    (f.kind, f.message)
}

fn call_args(contract: Address, method: &str, args: Vec<u8>, gas: Option<u64>) -> Call {
    Call {
        contract: contract.into(),
        method: method.into(),
        args,
        gas,
    }
}

#[test]
fn storage_reads_writes_and_removes() {
    let chain = chain(Compiler::Cranelift);
    let key = b"greeting".to_vec();
    assert_eq!(
        decode::<Option<Vec<u8>>>(&chain.query(PROBE, "get", &key)),
        None
    );
    let put = chain.call(PROBE, "put", &(key.clone(), b"hello".to_vec()));
    assert_eq!(put.writes[&PROBE][&key], Some(b"hello".to_vec()));
    assert_eq!(
        decode::<Option<Vec<u8>>>(&chain.query(PROBE, "get", &key)),
        Some(b"hello".to_vec())
    );
    assert!(decode::<bool>(&chain.query(PROBE, "has", &key)));
    // Another contract's store is its own.
    assert_eq!(
        decode::<Option<Vec<u8>>>(&chain.query(OTHER, "get", &key)),
        None
    );
    chain.call(PROBE, "remove", &key);
    assert!(!decode::<bool>(&chain.query(PROBE, "has", &key)));
}

#[test]
fn scans_page_through_a_prefix_in_both_orders() {
    let chain = chain(Compiler::Cranelift);
    for i in 0..7u8 {
        chain.call(PROBE, "put", &(vec![b'a', b'/', b'0' + i], vec![i]));
    }
    chain.call(PROBE, "put", &(b"b/0".to_vec(), vec![99]));
    let scan = Scan {
        prefix: b"a/".to_vec(),
        start: None,
        end: None,
        descending: false,
        limit: 3,
    };
    let (first, next): Page = decode(&chain.query(PROBE, "scan", &scan));
    assert_eq!(
        first.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let next = next.expect("more entries follow");
    let (second, _): Page = decode(&chain.query(
        PROBE,
        "scan",
        &Scan {
            start: Some(next),
            ..scan.clone()
        },
    ));
    assert_eq!(
        second.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    let (last, next): Page = decode(&chain.query(
        PROBE,
        "scan",
        &Scan {
            start: Some(b"a/6".to_vec()),
            ..scan.clone()
        },
    ));
    assert_eq!((last.len(), next), (1, None), "the last page has no cursor");

    let down = Scan {
        descending: true,
        ..scan.clone()
    };
    let (page, next): Page = decode(&chain.query(PROBE, "scan", &down));
    assert_eq!(
        page.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        [6, 5, 4]
    );
    let (page, _): Page = decode(&chain.query(
        PROBE,
        "scan",
        &Scan {
            end: next,
            ..down.clone()
        },
    ));
    assert_eq!(
        page.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        [3, 2, 1]
    );

    let bounded = Scan {
        start: Some(b"a/2".to_vec()),
        end: Some(b"a/4".to_vec()),
        limit: 100,
        ..scan
    };
    let (page, next): Page = decode(&chain.query(PROBE, "scan", &bounded));
    assert_eq!(
        (page.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(), next),
        (vec![2, 3], None)
    );
}

#[test]
fn scans_see_the_calls_own_uncommitted_writes() {
    let chain = chain(Compiler::Cranelift);
    for k in [b"k/1", b"k/3", b"k/5"] {
        chain.call(PROBE, "put", &(k.to_vec(), b"old".to_vec()));
    }
    let puts = vec![
        (b"k/2".to_vec(), b"new".to_vec()),
        (b"k/3".to_vec(), b"new".to_vec()),
    ];
    let removes = vec![b"k/1".to_vec()];
    let scan = Scan {
        prefix: b"k/".to_vec(),
        start: None,
        end: None,
        descending: false,
        limit: 10,
    };
    let (page, _): Page = decode(&chain.call(PROBE, "batch", &(puts, removes, scan)));
    let seen: Vec<(&[u8], &[u8])> = page
        .iter()
        .map(|(k, v)| (k.as_slice(), v.as_slice()))
        .collect();
    assert_eq!(
        seen,
        [
            (&b"k/2"[..], &b"new"[..]),
            (b"k/3", b"new"),
            (b"k/5", b"old")
        ]
    );
}

#[test]
fn environment_comes_from_the_call_and_block() {
    let chain = chain(Compiler::Cranelift);
    let (caller, origin, me, height, time, tx, chain_id, gas_left): (
        Address32,
        Address32,
        Address32,
        u64,
        u64,
        [u8; 32],
        String,
        u64,
    ) = decode(&chain.call(PROBE, "env", &()));
    assert_eq!(
        (caller, origin, me),
        (ALICE.into(), ALICE.into(), PROBE.into())
    );
    let block = bot_tests::block();
    assert_eq!(
        (height, time, chain_id),
        (block.height, block.time_ms, block.chain_id)
    );
    assert_eq!(tx, [7; 32]);
    assert!(gas_left > 0 && gas_left < chain.gas_limit);
    let (.., tx, _, _): (
        Address32,
        Address32,
        Address32,
        u64,
        u64,
        [u8; 32],
        String,
        u64,
    ) = decode(&chain.query(PROBE, "env", &()));
    assert_eq!(tx, [0; 32], "queries have no transaction hash");
}

#[test]
fn events_are_kept_only_when_the_call_succeeds() {
    let chain = chain(Compiler::Cranelift);
    let ok = chain.call(PROBE, "emit", &("reading".to_string(), vec![1u8, 2, 3]));
    assert_eq!(ok.events.len(), 1);
    assert_eq!(
        (
            ok.events[0].contract,
            ok.events[0].name.as_str(),
            &ok.events[0].data[..]
        ),
        (PROBE, "reading", &[1u8, 2, 3][..])
    );

    let failed = chain.call(PROBE, "put_then_fail", &b"x".to_vec());
    assert_eq!(
        failure(&failed),
        (
            FailureKind::Contract { code: 107 },
            "failed after writing".into()
        )
    );
    assert!(failed.events.is_empty() && failed.writes.is_empty());
    assert_eq!(
        decode::<Option<Vec<u8>>>(&chain.query(PROBE, "get", &b"x".to_vec())),
        None
    );
}

#[test]
fn counter_example_counts_and_emits() {
    let chain = chain(Compiler::Cranelift);
    chain.call(COUNTER, "new", &5u64);
    let out = chain.call(COUNTER, "increment", &3u64);
    assert_eq!(decode::<u64>(&out), 8);
    assert_eq!(out.events[0].name, "incremented");
    assert_eq!(decode::<u64>(&chain.query(COUNTER, "get", &())), 8);
    let overflow = chain.call(COUNTER, "increment", &u64::MAX);
    assert_eq!(failure(&overflow).0, FailureKind::Contract { code: 100 });
    let unknown = chain.call(COUNTER, "decrement", &1u64);
    assert_eq!(
        failure(&unknown),
        (
            FailureKind::Contract { code: 1 },
            "unknown method `decrement`".into()
        )
    );
    let bad_args = chain.call(COUNTER, "increment", &1u8);
    assert_eq!(failure(&bad_args).0, FailureKind::Contract { code: 2 });
}

#[test]
fn hashes_match_reference_implementations() {
    use sha2::Digest;
    let chain = chain(Compiler::Cranelift);
    let data = b"the blockchain of things".to_vec();
    let (sha, keccak): (Vec<u8>, Vec<u8>) = decode(&chain.query(PROBE, "hash", &data));
    assert_eq!(sha, sha2::Sha256::digest(&data).to_vec());
    assert_eq!(keccak, sha3::Keccak256::digest(&data).to_vec());
}

#[test]
fn signatures_verify_and_recover() {
    use sha2::Digest;
    let chain = chain(Compiler::Cranelift);
    let hash: [u8; 32] = sha2::Sha256::digest(b"temperature=21.5").into();

    let k1 = k256::ecdsa::SigningKey::from_slice(&[0x11; 32]).expect("key");
    let (sig, recid) = k1.sign_prehash_recoverable(&hash);
    let pk = k1.verifying_key().to_sec1_bytes().to_vec();
    let sig_bytes = sig.to_bytes().to_vec();
    let verify = |h: &[u8], s: &[u8], k: &[u8]| -> Result<bool, u8> {
        decode(&chain.query(
            PROBE,
            "secp256k1_verify",
            &(h.to_vec(), s.to_vec(), k.to_vec()),
        ))
    };
    assert_eq!(verify(&hash, &sig_bytes, &pk), Ok(true));
    let mut other = hash;
    other[0] ^= 1;
    assert_eq!(verify(&other, &sig_bytes, &pk), Ok(false));
    assert_eq!(verify(&hash[..31], &sig_bytes, &pk), Err(0), "invalid-hash");
    assert_eq!(
        verify(&hash, &sig_bytes[..63], &pk),
        Err(1),
        "invalid-signature"
    );
    assert_eq!(
        verify(&hash, &sig_bytes, &[2; 5]),
        Err(2),
        "invalid-public-key"
    );
    // The high-s twin of a valid signature is refused.
    let (r, s) = sig.split_scalars();
    let high =
        k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("high-s");
    assert_eq!(verify(&hash, &high.to_bytes(), &pk), Ok(false));

    let recovered: Result<Vec<u8>, u8> = decode(&chain.query(
        PROBE,
        "secp256k1_recover",
        &(hash.to_vec(), sig_bytes.clone(), recid.to_byte()),
    ));
    assert_eq!(recovered, Ok(pk.clone()));
    let bad_id: Result<Vec<u8>, u8> =
        decode(&chain.query(PROBE, "secp256k1_recover", &(hash.to_vec(), sig_bytes, 9u8)));
    assert_eq!(bad_id, Err(3), "invalid-recovery-id");

    let ed = ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]);
    let msg = b"door=open".to_vec();
    let ed_sig = ed25519_dalek::Signer::sign(&ed, &msg).to_bytes().to_vec();
    let ed_pk = ed.verifying_key().to_bytes().to_vec();
    let ed_verify = |m: &[u8]| -> Result<bool, u8> {
        decode(&chain.query(
            PROBE,
            "ed25519_verify",
            &(m.to_vec(), ed_sig.clone(), ed_pk.clone()),
        ))
    };
    assert_eq!(ed_verify(&msg), Ok(true));
    assert_eq!(ed_verify(b"door=shut"), Ok(false));

    let p = p256::ecdsa::SigningKey::from_slice(&[0x33; 32]).expect("key");
    let p_sig: p256::ecdsa::Signature =
        p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&p, &hash).expect("sign");
    let p_pk = p.verifying_key().to_sec1_bytes().to_vec();
    let p_verify = |h: &[u8]| -> Result<bool, u8> {
        decode(&chain.query(
            PROBE,
            "p256_verify",
            &(h.to_vec(), p_sig.to_bytes().to_vec(), p_pk.clone()),
        ))
    };
    assert_eq!(p_verify(&hash), Ok(true));
    assert_eq!(p_verify(&other), Ok(false));
}

#[test]
fn cross_contract_calls_return_results_and_fold_in_writes_and_events() {
    let chain = chain(Compiler::Cranelift);
    chain.call(COUNTER, "new", &10u64);
    let out = chain.call(
        PROBE,
        "call",
        &call_args(COUNTER, "increment", 5u64.to_le_bytes().to_vec(), None),
    );
    let result: CallResult = decode(&out);
    assert_eq!(result, Ok(15u64.to_le_bytes().to_vec()));
    assert_eq!(
        out.events.len(),
        1,
        "the callee's event is part of the result"
    );
    assert_eq!(out.events[0].contract, COUNTER);
    assert_eq!(decode::<u64>(&chain.query(COUNTER, "get", &())), 15);

    let missing: CallResult =
        decode(&chain.call(PROBE, "call", &call_args(NOBODY, "get", vec![], None)));
    assert_eq!(missing.map_err(|e| e.0), Err(3), "not-found");
}

#[test]
fn a_failing_callee_is_rolled_back_and_the_caller_goes_on() {
    let chain = chain(Compiler::Cranelift);
    let inner = call_args(
        OTHER,
        "put_then_fail",
        borsh::to_vec(&b"inner".to_vec()).unwrap(),
        None,
    );
    let out = chain.call(PROBE, "put_then_call", &(b"outer".to_vec(), inner));
    let result: CallResult = decode(&out);
    assert_eq!(
        result,
        Err((0, 107, "failed after writing".into())),
        "contract-error with the callee's code"
    );
    assert!(
        !out.writes.contains_key(&OTHER),
        "the callee's write was undone"
    );
    assert_eq!(
        out.writes[&PROBE][&b"outer".to_vec()],
        Some(b"before".to_vec())
    );
    assert!(out.events.is_empty());
}

#[test]
fn forwarded_gas_bounds_the_callee_and_the_rest_is_refunded() {
    let chain = chain(Compiler::Cranelift);
    let out = chain.call(
        PROBE,
        "call",
        &call_args(OTHER, "loop", vec![], Some(3_000_000)),
    );
    let result: CallResult = decode(&out);
    assert_eq!(result.map_err(|e| e.0), Err(2), "out-of-gas");
    // Caller and callee run the same code, whose instance costs what it declares.
    let engine = bot_engine::Engine::new(bot_engine::EngineConfig::default()).unwrap();
    let instance =
        bot_engine::COSTS.instantiate_gas(&engine.validate(&wasm("probe")).unwrap().declared);
    // The caller finished with gas to spare: it lost the 3,000,000 forwarded (and paid for two
    // instances, plus the call and its own code, under 2,000,000), not everything.
    assert!(
        out.gas_used > 3_000_000 + instance && out.gas_used < 5_000_000 + 2 * instance,
        "gas used {}",
        out.gas_used
    );
    // The breakdown names both instances and the call; the callee's loop is wasm gas.
    let used = |name: &str| out.breakdown.host.iter().find(|u| u.name == name).cloned();
    let instantiate = used("instantiate").expect("instantiate in the breakdown");
    assert_eq!(
        instantiate.calls, 2,
        "the caller's instance and the callee's"
    );
    assert_eq!(instantiate.gas, 2 * instance);
    assert_eq!(used("calls.call").map(|u| u.calls), Some(1));
    // The caller paid for the callee's instance before it forwarded 3,000,000; of those the
    // callee spent a write (with its commit) on host functions, the rest in its loop.
    let write = used("storage.set").map_or(0, |u| u.gas);
    assert!(out.breakdown.wasm_gas(out.gas_used) > 3_000_000 - write - 100_000);
}

#[test]
fn reentrant_calls_are_refused_and_queries_are_read_only() {
    let chain = chain(Compiler::Cranelift);
    let own: CallResult =
        decode(&chain.call(PROBE, "call", &call_args(PROBE, "get", vec![], None)));
    assert_eq!(own.map_err(|e| e.0), Err(5), "reentrancy");
    let back = call_args(PROBE, "get", borsh::to_vec(&b"k".to_vec()).unwrap(), None);
    let via_other: CallResult = decode(&chain.call(
        PROBE,
        "call",
        &call_args(OTHER, "call", borsh::to_vec(&back).unwrap(), None),
    ));
    let inner: CallResult = borsh::from_slice(&via_other.expect("OTHER ran")).unwrap();
    assert_eq!(
        inner.map_err(|e| e.0),
        Err(5),
        "A -> B -> A is re-entrant too"
    );

    let write = call_args(
        OTHER,
        "put",
        borsh::to_vec(&(b"k".to_vec(), b"v".to_vec())).unwrap(),
        None,
    );
    let refused: CallResult = decode(&chain.call(PROBE, "query", &write));
    let (kind, _, message) = refused.expect_err("a query may not write");
    assert_eq!(kind, 1);
    assert!(
        message.contains("storage.set is not allowed in a read-only call"),
        "{message}"
    );

    let direct = chain.query(PROBE, "put", &(b"k".to_vec(), b"v".to_vec()));
    assert_eq!(
        failure(&direct),
        (
            FailureKind::HostViolation,
            "storage.set is not allowed in a read-only call".into()
        )
    );
}

#[test]
fn calls_nest_only_to_the_depth_limit() {
    let chain = chain(Compiler::Cranelift);
    // PROBE queries itself (queries may re-enter) through 20 levels; the 17th is refused.
    let mut request = call_args(PROBE, "echo", vec![], None);
    for _ in 0..20 {
        request = call_args(PROBE, "query", borsh::to_vec(&request).unwrap(), None);
    }
    let mut result: CallResult = decode(&chain.query(PROBE, "query", &request));
    let mut depth = 1;
    while let Ok(bytes) = result {
        result = borsh::from_slice(&bytes).expect("nested result");
        depth += 1;
    }
    let (kind, _, message) = result.unwrap_err();
    assert_eq!(
        (kind, depth),
        (4, 16),
        "depth-exceeded at the 17th level: {message}"
    );
}

#[test]
fn contract_failures_are_deterministic_outcomes() {
    let chain = chain(Compiler::Cranelift);
    let fail = chain.call(PROBE, "fail", &(321u32, "sensor offline".to_string()));
    assert_eq!(
        failure(&fail),
        (FailureKind::Contract { code: 321 }, "sensor offline".into())
    );
    let abort = chain.call(PROBE, "abort", &"bad reading".to_string());
    assert_eq!(
        failure(&abort),
        (FailureKind::Aborted, "bad reading".into())
    );
    let panic = chain.call(PROBE, "panic", &"index out of range".to_string());
    assert_eq!(
        failure(&panic),
        (FailureKind::Aborted, "panicked: index out of range".into())
    );
    let looped = chain.call(PROBE, "loop", &());
    assert_eq!(failure(&looped).0, FailureKind::OutOfGas);
    assert_eq!(looped.gas_used, chain.gas_limit);
    assert!(looped.writes.is_empty());
    let deep = chain.call(PROBE, "recurse", &1_000_000u64);
    assert_eq!(failure(&deep).0, FailureKind::StackOverflow);
    assert_eq!(decode::<u64>(&chain.call(PROBE, "recurse", &100u64)), 100);
}

#[test]
fn memory_grows_to_its_declared_maximum_and_no_further() {
    let chain = chain(Compiler::Cranelift);
    // An SDK contract declares at most 16 pages (1 MiB) and starts with 2; the engine's own
    // limit (512 pages) is the fixture `memory_grow_bomb`'s.
    let pages = decode::<i64>(&chain.call(PROBE, "grow", &0u32));
    assert!((2..16).contains(&pages), "{pages}");
    let to_max = 16 - pages as u32;
    assert_eq!(decode::<i64>(&chain.call(PROBE, "grow", &(to_max + 1))), -1);
    assert_eq!(decode::<i64>(&chain.call(PROBE, "grow", &to_max)), pages);
    assert_eq!(
        decode::<u64>(&chain.call(PROBE, "alloc", &(128u32 << 10))),
        7 * (128 << 10)
    );
    let too_big = chain.call(PROBE, "alloc", &(1u32 << 20));
    // Past 16 pages the allocator gets -1 from memory.grow and Rust's std traps.
    assert_eq!(
        failure(&too_big),
        (FailureKind::Trap, "unreachable executed".into())
    );
}

#[test]
fn logs_reach_the_developer_but_not_the_result() {
    let chain = chain(Compiler::Cranelift);
    let out = chain.call(PROBE, "log", &"calibrating".to_string());
    assert_eq!(out.logs, ["calibrating"]);
    assert!(out.events.is_empty() && out.writes.is_empty());
}

/// Runs a scenario touching every host function and failure path; returns every outcome.
fn scenario(compiler: Compiler) -> Vec<Outcome> {
    let chain = chain(compiler);
    let mut outs = vec![
        chain.call(COUNTER, "new", &1u64),
        chain.call(COUNTER, "increment", &41u64),
        chain.query(COUNTER, "get", &()),
        chain.call(PROBE, "put", &(b"a/1".to_vec(), b"x".to_vec())),
        chain.call(PROBE, "put", &(b"a/2".to_vec(), b"y".to_vec())),
        chain.query(
            PROBE,
            "scan",
            &Scan {
                prefix: b"a/".to_vec(),
                start: None,
                end: None,
                descending: true,
                limit: 1,
            },
        ),
        chain.call(PROBE, "env", &()),
        chain.call(PROBE, "emit", &("e".to_string(), vec![1u8])),
        chain.call(PROBE, "hash", &vec![0u8; 1000]),
        chain.call(
            PROBE,
            "call",
            &call_args(COUNTER, "increment", 2u64.to_le_bytes().to_vec(), None),
        ),
        chain.call(
            PROBE,
            "call",
            &call_args(OTHER, "loop", vec![], Some(100_000)),
        ),
        chain.call(PROBE, "put_then_fail", &b"z".to_vec()),
        chain.call(PROBE, "panic", &"p".to_string()),
        chain.call(PROBE, "loop", &()),
        chain.call(PROBE, "recurse", &1_000_000u64),
        chain.call(PROBE, "grow", &100u32),
        chain.call(PROBE, "alloc", &(1u32 << 20)),
    ];
    outs.push(chain.query(PROBE, "get", &b"a/1".to_vec()));
    outs
}

#[test]
fn cranelift_and_singlepass_agree_on_every_outcome() {
    let cranelift = scenario(Compiler::Cranelift);
    let singlepass = scenario(Compiler::Singlepass);
    for (i, (a, b)) in cranelift.iter().zip(&singlepass).enumerate() {
        assert_eq!(a, b, "step {i} differs between cranelift and singlepass");
    }
}
