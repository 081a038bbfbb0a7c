//! The chain around the engine, each against a baseline measured in the same run:
//! - `block/<n> counter calls`: a block of `n` signed `increment` transactions (the counter
//!   example) built and committed by the proposer, and re-executed and committed by a
//!   validator, vs the same `n` calls on the engine alone over the in-memory host (no
//!   signatures, no state root, no redb);
//! - `state_root/<k> keys`: committing a height that changes `k` keys (the Jellyfish Merkle
//!   update and the redb write) on a store of 10,000 keys, vs writing the same `k` keys into a
//!   plain redb table (the backend natively, no tree).
//!
//! Run with `cargo bench -p bot-benches --bench chain`.

use std::time::{Duration, Instant};

use bot_benches::Deployed;
use bot_chain::{
    Chain, Executed, Genesis, Keypair, Mode, SignedTx, StateDb, Transaction, TxKind,
    contract_address,
};
use bot_engine::{Address, Engine, EngineConfig};
use bot_state::{BlockRecord, Changes};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const CHAIN: &str = "bot-bench";
const TX_GAS: u64 = 5_000_000;
/// Enough for an upload of the counter (about 1.3 billion) and its `new`.
const DEPLOY_GAS: u64 = 10_000_000_000;
const GENESIS_MS: u64 = 1_700_000_000_000;

struct Node {
    _dir: tempfile::TempDir,
    chain: Chain,
}

impl Node {
    fn open(genesis: &Genesis) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = StateDb::open(&dir.path().join("state.redb")).expect("opens redb");
        let engine = Engine::new(EngineConfig::default()).expect("engine");
        let chain = Chain::open(db, genesis, engine).expect("opens the chain");
        Node { _dir: dir, chain }
    }

    fn time(&self) -> u64 {
        self.chain.head().expect("head").time_ms + 1
    }
}

/// A proposer and a validator with the counter deployed, and the account that calls it.
struct Pair {
    proposer: Node,
    validator: Node,
    key: Keypair,
    nonce: u64,
    counter: Address,
}

impl Pair {
    fn new() -> Pair {
        let key = Keypair::dev("bench");
        let validator = Genesis::validator("v0", &Keypair::dev("v0"), 1);
        let genesis = Genesis::new(
            CHAIN,
            GENESIS_MS,
            vec![validator],
            &[key.address()],
            Mode::Open,
        );
        let mut pair = Pair {
            proposer: Node::open(&genesis),
            validator: Node::open(&genesis),
            key,
            nonce: 0,
            counter: Address([0; 20]),
        };
        let wasm = bot_tests::wasm("counter");
        let code = bot_engine::CodeHash::of(&wasm).0;
        let deploy = vec![
            pair.sign(TxKind::Upload { wasm }, DEPLOY_GAS),
            pair.sign(
                TxKind::Instantiate {
                    code,
                    salt: Vec::new(),
                    init: Some("new".into()),
                    args: borsh::to_vec(&0u64).expect("borsh"),
                },
                DEPLOY_GAS,
            ),
        ];
        pair.counter = contract_address(&pair.key.address(), &code, &[]);
        let executed = pair.propose(deploy);
        assert!(executed.receipts.iter().all(|r| r.is_ok()));
        pair.finish(executed);
        pair
    }

    fn sign(&mut self, kind: TxKind, gas_limit: u64) -> SignedTx {
        let tx = Transaction {
            chain_id: CHAIN.into(),
            nonce: self.nonce,
            gas_limit,
            kind,
        };
        self.nonce += 1;
        SignedTx::sign(tx, &self.key)
    }

    fn increments(&mut self, n: usize) -> Vec<SignedTx> {
        let counter = self.counter;
        (0..n)
            .map(|_| {
                let kind = TxKind::Call {
                    contract: counter,
                    method: "increment".into(),
                    args: borsh::to_vec(&1u64).expect("borsh"),
                };
                self.sign(kind, TX_GAS)
            })
            .collect()
    }

    fn propose(&self, txs: Vec<SignedTx>) -> Executed {
        let count = txs.len();
        let executed = self
            .proposer
            .chain
            .propose(txs, self.proposer.time(), Keypair::dev("v0").address())
            .expect("proposes")
            .executed;
        assert_eq!(executed.block.txs.len(), count, "every transaction fits");
        executed
    }

    /// The validator re-executes and commits the block; then the proposer commits it.
    fn finish(&self, executed: Executed) {
        let theirs = self
            .validator
            .chain
            .validate(&executed.block)
            .expect("valid");
        self.validator
            .chain
            .commit(theirs, Vec::new())
            .expect("commit");
        self.proposer
            .chain
            .commit(executed, Vec::new())
            .expect("commit");
    }
}

fn blocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("block");
    g.sample_size(10);
    for n in [1usize, 100, 1000] {
        let id = format!("{n} counter calls");
        let mut pair = Pair::new();
        g.bench_function(BenchmarkId::new("propose_and_commit", &id), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let txs = pair.increments(n);
                    let started = Instant::now();
                    let executed = pair.propose(txs);
                    let block = executed.block.clone();
                    pair.proposer
                        .chain
                        .commit(executed, Vec::new())
                        .expect("commit");
                    total += started.elapsed();
                    let theirs = pair.validator.chain.validate(&block).expect("valid");
                    pair.validator
                        .chain
                        .commit(theirs, Vec::new())
                        .expect("commit");
                }
                total
            })
        });
        g.bench_function(BenchmarkId::new("validate_and_commit", &id), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let txs = pair.increments(n);
                    let executed = pair.propose(txs);
                    let started = Instant::now();
                    let theirs = pair
                        .validator
                        .chain
                        .validate(&executed.block)
                        .expect("valid");
                    pair.validator
                        .chain
                        .commit(theirs, Vec::new())
                        .expect("commit");
                    total += started.elapsed();
                    pair.proposer
                        .chain
                        .commit(executed, Vec::new())
                        .expect("commit");
                }
                total
            })
        });
        // The same calls on the engine alone: the counter's state in the in-memory host.
        let counter = Deployed::new(&bot_tests::wasm("counter"));
        let mut init = counter.call.clone();
        init.method = "new".into();
        init.args = borsh::to_vec(&0u64).expect("borsh");
        let outcome = counter
            .engine
            .execute(counter.host.clone(), &counter.block, &init)
            .expect("init");
        counter.host.apply(&outcome.writes);
        let mut increment = counter.call.clone();
        increment.method = "increment".into();
        increment.args = borsh::to_vec(&1u64).expect("borsh");
        g.bench_function(BenchmarkId::new("engine_only_baseline", &id), |b| {
            b.iter(|| {
                for _ in 0..n {
                    let outcome = counter
                        .engine
                        .execute(counter.host.clone(), &counter.block, &increment)
                        .expect("executes");
                    assert!(outcome.result.is_ok());
                    counter.host.apply(&outcome.writes);
                }
            })
        });
    }
    g.finish();
}

/// `count` keys of 32 bytes, values of 32 bytes that differ with `round`.
fn changes(count: usize, stride: usize, round: u64) -> Changes {
    (0..count)
        .map(|i| {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&((i * stride) as u64).to_be_bytes());
            let mut value = [0u8; 32];
            value[..8].copy_from_slice(&round.to_le_bytes());
            (key.to_vec(), Some(value.to_vec()))
        })
        .collect()
}

fn state_root(c: &mut Criterion) {
    const EXISTING: usize = 10_000;
    let mut g = c.benchmark_group("state_root");
    g.sample_size(10);
    for k in [1usize, 10, 100, 1000, 10_000] {
        let id = format!("{k} keys");
        let dir = tempfile::tempdir().expect("temp dir");
        let db = StateDb::open(&dir.path().join("state.redb")).expect("opens redb");
        let prepared = db.prepare(0, changes(EXISTING, 1, 0)).expect("prepare");
        db.commit(prepared, &BlockRecord::default())
            .expect("commit");
        let mut height = 1;
        // Changed keys spread over the existing ones.
        let stride = EXISTING / k;
        g.bench_function(BenchmarkId::new("jmt_and_redb_commit", &id), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let changed = changes(k, stride, height);
                    let started = Instant::now();
                    let prepared = db.prepare(height, changed).expect("prepare");
                    db.commit(prepared, &BlockRecord::default())
                        .expect("commit");
                    total += started.elapsed();
                    height += 1;
                }
                total
            })
        });
        let plain = redb::Database::create(dir.path().join("plain.redb")).expect("redb");
        let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("state");
        let mut round = 0;
        g.bench_function(BenchmarkId::new("plain_redb_write_baseline", &id), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let changed = changes(k, stride, round);
                    let started = Instant::now();
                    let txn = plain.begin_write().expect("write txn");
                    {
                        let mut t = txn.open_table(table).expect("table");
                        for (key, value) in &changed {
                            t.insert(key.as_slice(), value.as_deref().unwrap_or_default())
                                .expect("insert");
                        }
                    }
                    txn.commit().expect("commit");
                    total += started.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, blocks, state_root);
criterion_main!(benches);
