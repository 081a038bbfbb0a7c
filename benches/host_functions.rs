//! Host functions called from a contract vs the same work done natively, in the same run:
//! - `storage/<row>`: 10,000 storage reads or writes of 32 B and 1 KiB values through the
//!   contract vs the same operations on the same backend from Rust (reads from the in-memory
//!   host through `Host::get`; writes into a write set of the overlay's shape);
//! - `crypto/<row>`: hashes and signature checks through the contract vs calling sha2, sha3,
//!   k256 and ed25519-dalek directly on the same inputs.
//!
//! The contracts are the calibration's probes (`bot_calibrate::probes`); each group also runs the
//! probe with its unit removed (`bot_engine_empty_loop`), so the loop and the call can be
//! subtracted. Run with `cargo bench -p bot-benches --bench host_functions`.

use std::collections::BTreeMap;

use bot_benches::{CONTRACT, Deployed, iterations};
use bot_calibrate::probes::{self, Inputs};
use bot_engine::{Host, Writes};
use criterion::{Criterion, criterion_group, criterion_main};
use sha2::Digest;

const STORAGE_OPS: u32 = 10_000;
const HASHES: u32 = 10_000;
const SIGNATURES: u32 = 100;

/// The probe for `row` with and without its unit, deployed with the storage probes' entries.
fn deployed(inputs: &Inputs, row: &str, n: u32) -> (Deployed, Deployed) {
    let probe = probes::host_probes(inputs)
        .into_iter()
        .find(|p| p.name == row)
        .unwrap_or_else(|| panic!("no probe {row}"));
    let build = |k| {
        let wasm = wat::parse_str(probes::module(&probe, inputs, k)).expect("probe wat");
        let deployed = Deployed::new(&wasm).args(&iterations(n));
        let mut entries = BTreeMap::new();
        entries.insert(Inputs::key(b"small"), Some(inputs.data[..32].to_vec()));
        entries.insert(Inputs::key(b"large"), Some(inputs.data[..1024].to_vec()));
        deployed.host.apply(&Writes::from([(CONTRACT, entries)]));
        deployed
    };
    (build(probe.per_iteration), build(0))
}

fn storage(c: &mut Criterion) {
    let inputs = Inputs::new();
    for (row, bytes) in [("storage.get 32 B", 32), ("storage.get 1 KiB", 1024)] {
        let (ours, empty) = deployed(&inputs, row, STORAGE_OPS);
        let mut g = c.benchmark_group(format!("storage/{row} x{STORAGE_OPS}"));
        g.sample_size(20);
        g.bench_function("bot_engine_contract", |b| b.iter(|| ours.run()));
        g.bench_function("bot_engine_empty_loop", |b| b.iter(|| empty.run()));
        let key = Inputs::key(if bytes == 32 { b"small" } else { b"large" });
        g.bench_function("memory_host_native_baseline", |b| {
            b.iter(|| {
                let mut read = 0;
                for _ in 0..STORAGE_OPS {
                    read += ours
                        .host
                        .get(&CONTRACT, &key)
                        .unwrap()
                        .map_or(0, |v| v.len());
                }
                read
            })
        });
        g.finish();
    }
    for (row, bytes) in [("storage.set 32 B", 32), ("storage.set 1 KiB", 1024)] {
        let (ours, empty) = deployed(&inputs, row, STORAGE_OPS);
        let mut g = c.benchmark_group(format!("storage/{row} x{STORAGE_OPS}"));
        g.sample_size(20);
        g.bench_function("bot_engine_contract", |b| b.iter(|| ours.run()));
        g.bench_function("bot_engine_empty_loop", |b| b.iter(|| empty.run()));
        let value = &inputs.data[..bytes];
        g.bench_function("write_set_native_baseline", |b| {
            b.iter(|| {
                // What the contract does: a fresh key per write (the counter in its first bytes).
                let mut writes = Writes::new();
                let entries = writes.entry(CONTRACT).or_default();
                let mut key = Inputs::key(b"fresh/");
                for i in 0..STORAGE_OPS {
                    key[..4].copy_from_slice(&i.to_le_bytes());
                    entries.insert(key.clone(), Some(value.to_vec()));
                }
                writes
            })
        });
        g.finish();
    }
}

fn crypto(c: &mut Criterion) {
    let inputs = Inputs::new();
    let data = &inputs.data;
    type Native<'a> = Box<dyn Fn() -> usize + 'a>;
    let natives: Vec<(&str, u32, &str, Native)> = vec![
        (
            "crypto.sha256 32 B",
            HASHES,
            "sha2_native_baseline",
            Box::new(|| sha2::Sha256::digest(&data[..32])[0] as usize),
        ),
        (
            "crypto.keccak256 32 B",
            HASHES,
            "sha3_native_baseline",
            Box::new(|| sha3::Keccak256::digest(&data[..32])[0] as usize),
        ),
        (
            "crypto.secp256k1-verify",
            SIGNATURES,
            "k256_native_baseline",
            Box::new(|| {
                use k256::ecdsa::signature::hazmat::PrehashVerifier;
                let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&inputs.k1_key).unwrap();
                let sig = k256::ecdsa::Signature::from_slice(&inputs.k1_sig).unwrap();
                usize::from(key.verify_prehash(&inputs.hash, &sig).is_ok())
            }),
        ),
        (
            "crypto.ed25519-verify",
            SIGNATURES,
            "ed25519_dalek_native_baseline",
            Box::new(|| {
                let key: [u8; 32] = inputs.ed_key[..].try_into().unwrap();
                let key = ed25519_dalek::VerifyingKey::from_bytes(&key).unwrap();
                let sig = ed25519_dalek::Signature::from_slice(&inputs.ed_sig).unwrap();
                usize::from(key.verify_strict(&data[..64], &sig).is_ok())
            }),
        ),
    ];
    for (row, n, baseline, native) in natives {
        let (ours, empty) = deployed(&inputs, row, n);
        let mut g = c.benchmark_group(format!("crypto/{row} x{n}"));
        g.sample_size(20);
        g.bench_function("bot_engine_contract", |b| b.iter(|| ours.run()));
        g.bench_function("bot_engine_empty_loop", |b| b.iter(|| empty.run()));
        g.bench_function(baseline, |b| {
            b.iter(|| (0..n).map(|_| native()).sum::<usize>())
        });
        g.finish();
    }
}

criterion_group!(benches, storage, crypto);
criterion_main!(benches);
