//! The chain without consensus: genesis, signed transactions, blocks proposed by one node and
//! re-executed by another before commit, receipts, proofs, permissions and bad input. The
//! counter contract is the real one built from examples/.

use bot_chain::{
    Block, Chain, ChainError, Genesis, Keypair, Mode, Receipt, SignedTx, StateDb, Transaction,
    TxKind, contract_address, layout, merkle_proof, verify_merkle_proof,
};
use bot_engine::{Address, Engine, EngineConfig};
use bot_tests::wasm;

pub(crate) const CHAIN: &str = "bot-test";
pub(crate) const GAS: u64 = 2_000_000_000;

pub(crate) struct Node {
    _dir: tempfile::TempDir,
    pub chain: Chain,
}

pub(crate) fn genesis(mode: Mode) -> Genesis {
    let accounts: Vec<Address> = ["dev0", "dev1", "dev2"]
        .iter()
        .map(|n| Keypair::dev(n).address())
        .collect();
    let validator = Genesis::validator("validator0", &Keypair::dev("validator0"), 1);
    Genesis::new(CHAIN, 1_700_000_000_000, vec![validator], &accounts, mode)
}

pub(crate) fn node(genesis: &Genesis) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let db = StateDb::open(&dir.path().join("state.redb")).unwrap();
    let chain = Chain::open(db, genesis, Engine::new(EngineConfig::default()).unwrap()).unwrap();
    Node { _dir: dir, chain }
}

pub(crate) fn sign(key: &Keypair, nonce: u64, kind: TxKind) -> SignedTx {
    SignedTx::sign(
        Transaction {
            chain_id: CHAIN.into(),
            nonce,
            gas_limit: GAS,
            kind,
        },
        key,
    )
}

pub(crate) fn call(contract: Address, method: &str, args: Vec<u8>) -> TxKind {
    TxKind::Call {
        contract,
        method: method.into(),
        args,
    }
}

/// Proposes on `proposer`, validates and commits on every node; returns the block.
pub(crate) fn produce(nodes: &[&Node], txs: Vec<SignedTx>, time_ms: u64) -> (Block, Vec<Receipt>) {
    let proposer = Keypair::dev("validator0").address();
    let executed = nodes[0]
        .chain
        .propose(txs, time_ms, proposer)
        .unwrap()
        .executed;
    let block = executed.block.clone();
    let receipts = executed.receipts.clone();
    for other in &nodes[1..] {
        let theirs = other.chain.validate(&block).unwrap();
        other.chain.commit(theirs, b"certificate".to_vec()).unwrap();
    }
    nodes[0]
        .chain
        .commit(executed, b"certificate".to_vec())
        .unwrap();
    (block, receipts)
}

/// Uploads and instantiates the counter with `new(start)`; returns its address.
pub(crate) fn deploy_counter(nodes: &[&Node], key: &Keypair, nonce: u64, start: u64) -> Address {
    let code = wasm("counter");
    let code_hash: [u8; 32] = bot_engine::CodeHash::of(&code).0;
    let (_, receipts) = produce(
        nodes,
        vec![
            sign(key, nonce, TxKind::Upload { wasm: code }),
            sign(
                key,
                nonce + 1,
                TxKind::Instantiate {
                    code: code_hash,
                    salt: b"counter".to_vec(),
                    init: Some("new".into()),
                    args: borsh::to_vec(&start).unwrap(),
                },
            ),
        ],
        1_700_000_001_000,
    );
    assert!(receipts.iter().all(Receipt::is_ok), "{receipts:?}");
    assert_eq!(receipts[0].result, code_hash);
    let address = receipts[1].contract.unwrap();
    assert_eq!(
        address,
        contract_address(&key.address(), &code_hash, b"counter")
    );
    address
}

pub(crate) fn get(node: &Node, counter: Address) -> u64 {
    let outcome = node.chain.query(counter, "get", Vec::new(), GAS).unwrap();
    borsh::from_slice(&outcome.result.unwrap()).unwrap()
}

#[test]
fn two_nodes_execute_the_same_blocks_to_the_same_roots_and_results() {
    let g = genesis(Mode::Consortium);
    let (a, b) = (node(&g), node(&g));
    assert_eq!(a.chain.head().unwrap(), b.chain.head().unwrap());
    let devs: Vec<Keypair> = ["dev0", "dev1", "dev2"].map(Keypair::dev).to_vec();
    let counter = deploy_counter(&[&a, &b], &devs[0], 0, 5);

    let mut nonces = [2u64, 0, 0];
    for round in 0..3u64 {
        let txs = (0..9)
            .map(|i| {
                let who = i % 3;
                let tx = sign(
                    &devs[who],
                    nonces[who],
                    call(counter, "increment", borsh::to_vec(&1u64).unwrap()),
                );
                nonces[who] += 1;
                tx
            })
            .collect();
        let (block, receipts) = produce(&[&a, &b], txs, 1_700_000_002_000 + round);
        assert_eq!(block.txs.len(), 9);
        assert!(receipts.iter().all(|r| r.is_ok() && r.gas_used > 0));
        assert_eq!(receipts[0].events[0].name, "incremented");
    }
    assert_eq!(get(&a, counter), 5 + 27);
    assert_eq!(get(&b, counter), 5 + 27);
    let (ha, hb) = (a.chain.head().unwrap(), b.chain.head().unwrap());
    assert_eq!(ha, hb);
    assert_eq!(ha.height, 4);
    assert_eq!(a.chain.account(&devs[1].address()).unwrap().nonce, 9);
}

#[test]
fn receipts_transactions_and_state_are_provable_against_the_header() {
    let g = genesis(Mode::Consortium);
    let a = node(&g);
    let dev = Keypair::dev("dev0");
    let counter = deploy_counter(&[&a], &dev, 0, 1);
    let txs = vec![
        sign(
            &dev,
            2,
            call(counter, "increment", borsh::to_vec(&2u64).unwrap()),
        ),
        sign(
            &dev,
            3,
            call(counter, "increment", borsh::to_vec(&3u64).unwrap()),
        ),
        sign(
            &dev,
            4,
            call(counter, "increment", borsh::to_vec(&4u64).unwrap()),
        ),
    ];
    let (block, _) = produce(&[&a], txs, 1_700_000_009_000);

    // A receipt by transaction hash, and its place in the block.
    let tx = &block.txs[1];
    let (height, index, receipt) = a.chain.receipt(&tx.hash()).unwrap().unwrap();
    assert_eq!((height, index), (block.header.height, 1));
    assert_eq!(
        borsh::from_slice::<u64>(&receipt.result).unwrap(),
        1 + 2 + 3
    );

    // Inclusion proofs of the transaction and its receipt.
    let tx_hashes: Vec<[u8; 32]> = block.txs.iter().map(SignedTx::hash).collect();
    let proof = merkle_proof(&tx_hashes, 1).unwrap();
    assert!(verify_merkle_proof(
        &block.header.txs_root,
        &proof,
        1,
        &tx.hash(),
        3
    ));
    assert!(!verify_merkle_proof(
        &block.header.txs_root,
        &proof,
        1,
        &tx_hashes[0],
        3
    ));
    let receipts: Vec<[u8; 32]> = a
        .chain
        .db()
        .receipts(height)
        .unwrap()
        .iter()
        .map(|r| Receipt::from_bytes(r).unwrap().hash())
        .collect();
    let proof = merkle_proof(&receipts, 2).unwrap();
    assert!(verify_merkle_proof(
        &block.header.receipts_root,
        &proof,
        2,
        &receipts[2],
        3
    ));

    // The signer's account at this height, proven against the block's state root.
    let proof = a
        .chain
        .prove(&layout::account(&dev.address()), height)
        .unwrap();
    proof.verify(&block.header.state_root).unwrap();
    let account: layout::AccountState = borsh::from_slice(proof.value.as_ref().unwrap()).unwrap();
    assert_eq!(account.nonce, 5);
    // And the same key one block earlier, against that block's root.
    let earlier = a.chain.block(height - 1).unwrap().unwrap();
    let proof = a
        .chain
        .prove(&layout::account(&dev.address()), height - 1)
        .unwrap();
    proof.verify(&earlier.header.state_root).unwrap();
    assert!(proof.verify(&block.header.state_root).is_err());
}

#[test]
fn bad_transactions_are_refused_naming_the_rule_and_change_nothing() {
    let g = genesis(Mode::Consortium);
    let a = node(&g);
    let dev = Keypair::dev("dev0");
    let counter = deploy_counter(&[&a], &dev, 0, 1);
    let head = a.chain.head().unwrap();
    let inc = || call(counter, "increment", borsh::to_vec(&1u64).unwrap());

    let wrong_chain = SignedTx::sign(
        Transaction {
            chain_id: "other-chain".into(),
            nonce: 2,
            gas_limit: GAS,
            kind: inc(),
        },
        &dev,
    );
    let err = a.chain.check_tx(&wrong_chain).unwrap_err();
    assert!(err.to_string().contains("other-chain"), "{err}");

    let mut forged = sign(&dev, 2, inc());
    forged.tx.nonce = 3; // signed for nonce 2: recovers some other key or none
    assert!(matches!(
        a.chain.check_tx(&forged),
        Err(ChainError::BadSignature | ChainError::NotPermitted(_))
    ));

    let replay = sign(&dev, 1, inc());
    let err = a.chain.check_tx(&replay).unwrap_err();
    assert!(err.to_string().contains("replay"), "{err}");

    let huge = sign(&dev, 2, call(counter, "increment", vec![0; 2 << 20]));
    let err = a.chain.check_tx(&huge).unwrap_err();
    assert!(matches!(err, ChainError::TxTooLarge { .. }), "{err}");
    assert!(SignedTx::decode(&huge.to_bytes(), a.chain.params()).is_err());
    assert!(SignedTx::decode(b"\x01garbage", a.chain.params()).is_err());

    let mut cheap = sign(&dev, 2, inc());
    cheap.tx.gas_limit = 10;
    let cheap = SignedTx::sign(cheap.tx, &dev);
    let err = a.chain.check_tx(&cheap).unwrap_err();
    assert!(err.to_string().contains("intrinsic"), "{err}");

    let stranger = Keypair::dev("stranger");
    let err = a.chain.check_tx(&sign(&stranger, 0, inc())).unwrap_err();
    assert!(err.to_string().contains("not permitted"), "{err}");

    // A proposer leaves all of them out, and tells the mempool to drop them; the good one
    // goes in, and one whose nonce is still ahead stays for a later block.
    let good = sign(&dev, 2, inc());
    assert!(a.chain.check_tx(&good).is_ok());
    let ahead = sign(&dev, 4, inc());
    let bad = [
        wrong_chain.clone(),
        forged.clone(),
        replay,
        huge,
        cheap,
        sign(&stranger, 0, inc()),
    ];
    let mut candidates = bad.to_vec();
    candidates.extend([good, ahead]);
    let proposal = a
        .chain
        .propose(candidates, 1_700_000_050_000, Address::default())
        .unwrap();
    let left: Vec<_> = proposal.left_out.iter().map(|l| l.hash).collect();
    let bad_hashes: Vec<_> = bad.iter().map(SignedTx::hash).collect();
    assert_eq!(left, bad_hashes, "{:?}", proposal.left_out);
    let executed = proposal.executed;
    assert_eq!(executed.block.txs.len(), 1);

    // A block carrying a bad transaction, or lying about its results, fails validation.
    let mut bad = executed.block.clone();
    bad.txs.push(forged);
    let err = a.chain.validate(&bad).unwrap_err();
    assert!(matches!(err, ChainError::InvalidBlock(_)), "{err}");
    let mut lying = executed.block.clone();
    lying.header.state_root[0] ^= 1;
    let err = a.chain.validate(&lying).unwrap_err();
    assert!(err.to_string().contains("state_root"), "{err}");
    let mut stale = executed.block.clone();
    stale.header.time_ms = head.time_ms;
    assert!(
        a.chain
            .validate(&stale)
            .unwrap_err()
            .to_string()
            .contains("time")
    );

    assert_eq!(a.chain.head().unwrap(), head, "nothing was committed");
    assert_eq!(get(&a, counter), 1);
}

#[test]
fn failed_calls_keep_their_receipt_and_nonce_but_no_writes() {
    let g = genesis(Mode::Consortium);
    let a = node(&g);
    let dev = Keypair::dev("dev0");
    let counter = deploy_counter(&[&a], &dev, 0, u64::MAX - 1);
    let mut out_of_gas = sign(
        &dev,
        4,
        call(counter, "increment", borsh::to_vec(&1u64).unwrap()),
    );
    // Enough for the intrinsic gas (1.5 million and the bytes), not for an instance.
    out_of_gas.tx.gas_limit = 1_700_000;
    let out_of_gas = SignedTx::sign(out_of_gas.tx, &dev);
    let (_, receipts) = produce(
        &[&a],
        vec![
            sign(&dev, 2, call(counter, "no_such_method", Vec::new())),
            sign(
                &dev,
                3,
                call(counter, "increment", borsh::to_vec(&5u64).unwrap()),
            ),
            out_of_gas,
            sign(
                &dev,
                5,
                call(counter, "increment", borsh::to_vec(&1u64).unwrap()),
            ),
        ],
        1_700_000_060_000,
    );
    let kinds: Vec<_> = receipts
        .iter()
        .map(|r| r.error.as_ref().map(|e| e.kind.name()))
        .collect();
    assert_eq!(
        kinds,
        [
            Some("contract_error"),
            Some("contract_error"),
            Some("out_of_gas"),
            None
        ]
    );
    assert_eq!(
        receipts[0].error.as_ref().unwrap().code,
        Some(1),
        "unknown method"
    );
    assert_eq!(
        receipts[1].error.as_ref().unwrap().code,
        Some(100),
        "the counter's overflow"
    );
    assert_eq!(receipts[2].gas_used, 1_700_000);
    assert!(receipts[1].events.is_empty());
    assert_eq!(get(&a, counter), u64::MAX);
    assert_eq!(a.chain.account(&dev.address()).unwrap().nonce, 6);
}

#[test]
fn consortium_admins_decide_who_transacts_and_deploys() {
    let g = genesis(Mode::Private);
    let a = node(&g);
    let admin = Keypair::dev("dev0");
    let member = Keypair::dev("dev1");
    let newcomer = Keypair::dev("newcomer");
    let permit = |account: Address| TxKind::Permit {
        account,
        deploy: false,
        transact: true,
    };
    assert!(
        a.chain
            .check_tx(&sign(
                &newcomer,
                0,
                TxKind::Transfer {
                    to: admin.address(),
                    amount: 0
                }
            ))
            .is_err()
    );
    let (_, receipts) = produce(
        &[&a],
        vec![
            sign(&member, 0, permit(newcomer.address())),
            sign(&admin, 0, permit(newcomer.address())),
            sign(
                &admin,
                1,
                TxKind::Transfer {
                    to: newcomer.address(),
                    amount: 500,
                },
            ),
        ],
        1_700_000_070_000,
    );
    let err = receipts[0].error.as_ref().unwrap();
    assert_eq!(err.kind.name(), "unauthorized");
    assert!(err.message.contains("not an admin"), "{}", err.message);
    assert!(receipts[1].is_ok() && receipts[2].is_ok());
    assert_eq!(a.chain.account(&newcomer.address()).unwrap().balance, 500);

    // The newcomer transacts now, but may not deploy.
    let (_, receipts) = produce(
        &[&a],
        vec![
            sign(
                &newcomer,
                0,
                TxKind::Transfer {
                    to: member.address(),
                    amount: 1_000,
                },
            ),
            sign(
                &newcomer,
                1,
                TxKind::Upload {
                    wasm: wasm("counter"),
                },
            ),
        ],
        1_700_000_080_000,
    );
    assert_eq!(
        receipts[0].error.as_ref().unwrap().kind.name(),
        "insufficient_balance"
    );
    assert_eq!(
        receipts[1].error.as_ref().unwrap().kind.name(),
        "unauthorized"
    );
}

#[test]
fn instantiation_addresses_cannot_be_squatted_or_reused() {
    let g = genesis(Mode::Open);
    let a = node(&g);
    let (dev0, dev1) = (Keypair::dev("dev0"), Keypair::dev("dev1"));
    let first = deploy_counter(&[&a], &dev0, 0, 1);
    let again = |key: &Keypair, nonce| {
        sign(
            key,
            nonce,
            TxKind::Instantiate {
                code: bot_engine::CodeHash::of(&wasm("counter")).0,
                salt: b"counter".to_vec(),
                init: Some("new".into()),
                args: borsh::to_vec(&9u64).unwrap(),
            },
        )
    };
    let (_, receipts) = produce(
        &[&a],
        vec![again(&dev0, 2), again(&dev1, 0)],
        1_700_000_090_000,
    );
    assert_eq!(
        receipts[0].error.as_ref().unwrap().kind.name(),
        "address_taken"
    );
    let second = receipts[1].contract.unwrap();
    assert_ne!(first, second);
    assert_eq!((get(&a, first), get(&a, second)), (1, 9));
}

#[test]
fn a_store_reopens_at_its_height_and_refuses_another_genesis() {
    let g = genesis(Mode::Consortium);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let engine = || Engine::new(EngineConfig::default()).unwrap();
    let head = {
        let n = Node {
            _dir: tempfile::tempdir().unwrap(),
            chain: Chain::open(StateDb::open(&path).unwrap(), &g, engine()).unwrap(),
        };
        deploy_counter(&[&n], &Keypair::dev("dev0"), 0, 3);
        n.chain.head().unwrap()
    };
    let chain = Chain::open(StateDb::open(&path).unwrap(), &g, engine()).unwrap();
    assert_eq!(chain.head().unwrap(), head);
    drop(chain);
    let mut other = g.clone();
    other.chain_id = "another".into();
    let Err(err) = Chain::open(StateDb::open(&path).unwrap(), &other, engine()) else {
        panic!("another genesis was accepted");
    };
    assert!(err.to_string().contains("another genesis"), "{err}");
}

/// Uploads and instantiates the probe (no init) from `key`'s nonce 0; its address.
fn deploy_probe(node: &Node, key: &Keypair) -> Address {
    let code = wasm("probe");
    let hash = bot_engine::CodeHash::of(&code).0;
    let mut upload = sign(key, 0, TxKind::Upload { wasm: code.clone() }).tx;
    upload.gas_limit = (code.len() as u64 + 4096) * node.chain.params().upload_byte_gas;
    let instantiate = TxKind::Instantiate {
        code: hash,
        salt: Vec::new(),
        init: None,
        args: Vec::new(),
    };
    let (_, receipts) = produce(
        &[node],
        vec![SignedTx::sign(upload, key), sign(key, 1, instantiate)],
        1_700_000_001_000,
    );
    assert!(receipts.iter().all(Receipt::is_ok), "{receipts:?}");
    receipts[1].contract.unwrap()
}

/// `count` transactions of `key` from nonce 2, each storing 256 KiB under its own key.
fn big_puts(probe: Address, key: &Keypair, count: u64) -> Vec<SignedTx> {
    (0..count)
        .map(|i| {
            let args =
                borsh::to_vec(&(i.to_le_bytes().to_vec(), vec![i as u8; 256 << 10])).unwrap();
            sign(key, 2 + i, call(probe, "put", args))
        })
        .collect()
}

#[test]
fn a_block_is_bounded_in_bytes_and_in_what_its_transactions_write() {
    let dev = Keypair::dev("dev0");
    // Bytes: a block of 1 MiB holds three transactions of 256 KiB.
    let mut g = genesis(Mode::Open);
    g.params.max_tx_bytes = 300 << 10;
    g.params.max_block_bytes = 1 << 20;
    let a = node(&g);
    let probe = deploy_probe(&a, &dev);
    let puts = big_puts(probe, &dev, 5);
    let proposal = a
        .chain
        .propose(puts.clone(), 1_700_000_050_000, Address::default())
        .unwrap();
    let block = proposal.executed.block;
    assert_eq!(block.txs.len(), 3);
    assert!(
        proposal.left_out.is_empty(),
        "the rest wait for the next block"
    );
    assert!(block.encoded_len() <= 1 << 20);
    // A block past the limit is invalid, whatever it executes to.
    let mut fat = block.clone();
    fat.txs.push(puts[3].clone());
    let err = a.chain.validate(&fat).unwrap_err().to_string();
    assert!(err.contains("bytes; the limit is 1048576"), "{err}");

    // Writes: 8 MiB in a block are 31 values of 256 KiB (with their keys).
    let mut g = genesis(Mode::Open);
    g.params.max_block_bytes = 16 << 20;
    g.params.max_block_write_bytes = 8 << 20;
    let b = node(&g);
    let probe = deploy_probe(&b, &dev);
    let puts = big_puts(probe, &dev, 40);
    let proposal = b
        .chain
        .propose(puts.clone(), 1_700_000_050_000, Address::default())
        .unwrap();
    let block = proposal.executed.block;
    assert_eq!(block.txs.len(), 31);
    assert!(proposal.left_out.is_empty());
    let mut heavy = block.clone();
    heavy.txs.push(puts[31].clone());
    let err = b.chain.validate(&heavy).unwrap_err().to_string();
    assert!(
        err.contains("transaction 31: the block's transactions write")
            && err.contains("the limit is 8388608"),
        "{err}"
    );
}

/// A contract whose one function keeps `locals` values live across `blocks` blocks.
fn live_locals_bomb(locals: usize, blocks: usize) -> Vec<u8> {
    let mut body = String::new();
    for b in 0..blocks {
        let (x, y) = (b % locals, (b * 7 + 1) % locals);
        body.push_str(&format!(
            "(block (local.set {x} (i64.add (local.get {x}) (local.get {y}))) (br_if 0 (i32.wrap_i64 (local.get {x}))))\n"
        ));
    }
    let sum: String = (0..locals)
        .map(|l| format!("(local.get {l}) (i64.add)\n"))
        .collect();
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "invoke") (param i32 i32 i32 i32) (result i32) (i32.const 16))
  (func (result i64) (local {}) {body} (i64.const 0) {sum}))"#,
        "i64 ".repeat(locals)
    ))
    .unwrap()
}

#[test]
fn an_upload_pays_for_what_its_functions_weigh_to_compile() {
    let node = node(&genesis(Mode::Private));
    let key = Keypair::dev("dev0");
    let params = node.chain.params().clone();
    let bomb = live_locals_bomb(300, 2_000);
    let size = bomb.len() as u64;
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let weight = bot_engine::COSTS.compile_bytes(&engine.validate(&bomb).unwrap());
    assert!(weight > 4 * size, "{size} bytes weigh {weight}");
    let intrinsic = bot_chain::intrinsic_gas(
        &params,
        sign(&key, 0, TxKind::Upload { wasm: bomb.clone() }).encoded_len(),
    );
    // Enough for its size, not for its weight: refused, naming what it weighs.
    let mut short = sign(&key, 0, TxKind::Upload { wasm: bomb.clone() }).tx;
    short.gas_limit = intrinsic + 2 * size * params.upload_byte_gas;
    let mut enough = sign(&key, 1, TxKind::Upload { wasm: bomb.clone() }).tx;
    enough.gas_limit = intrinsic + weight * params.upload_byte_gas;
    let (_, receipts) = produce(
        &[&node],
        vec![SignedTx::sign(short, &key), SignedTx::sign(enough, &key)],
        1_700_000_001_000,
    );
    let error = receipts[0].error.as_ref().expect("the short upload fails");
    assert_eq!(error.kind, bot_chain::ErrorKind::OutOfGas);
    assert!(
        error
            .message
            .contains(&format!("weigh {weight} bytes to compile")),
        "{}",
        error.message
    );
    assert!(receipts[1].is_ok(), "{:?}", receipts[1]);
    assert_eq!(
        receipts[1].gas_used,
        intrinsic + weight * params.upload_byte_gas
    );
}
