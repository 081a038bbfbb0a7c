//! A 4-validator devnet on loopback, as a user runs it: `cargo bot devnet --nodes 4` as a
//! process, the CLI deploying through it, transactions from several accounts sent to different
//! validators, bad transactions refused, and a validator killed with SIGKILL mid-traffic then
//! restarted with `cargo bot node`: it catches up to the same state and nothing is lost; 2 of 4
//! killed halts the chain without a fork until they return; all four restarted from disk go on
//! from the same state; no validator ever signs twice. And a hostile libp2p peer gossiping
//! garbage on every topic: refused, counted, and the node keeps committing. And `cargo bot
//! bench tps` flooding a fresh devnet and reporting what it measured.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bot_chain::{Keypair, SignedTx, Transaction, TxKind};
use cargo_bot::client::Rpc;
use serde_json::{Value, json};

mod common;

use common::{EXE, cli, height, ok_json, start_devnet, wait_for};

fn increment(chain_id: &str, key: &Keypair, nonce: u64, contract: bot_engine::Address) -> SignedTx {
    SignedTx::sign(
        Transaction {
            chain_id: chain_id.to_string(),
            nonce,
            gas_limit: 5_000_000,
            kind: TxKind::Call {
                contract,
                method: "increment".into(),
                args: borsh::to_vec(&1u64).unwrap(),
            },
        },
        key,
    )
}

fn rejected(rpc: &Rpc, tx: &SignedTx) -> String {
    match rpc.send(tx) {
        Ok(hash) => panic!("a bad transaction was accepted: {hash}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn four_validators_agree_refuse_bad_transactions_and_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = start_devnet(dir.path(), 4);
    let rpc0 = devnet.rpcs[0].clone();
    wait_for("the first blocks", Duration::from_secs(90), || {
        height(&rpc0) >= 2
    });

    // Deploy with the CLI, through validator 1.
    let wasm = bot_tests::contracts_dir().join("counter.wasm");
    let deployed = ok_json(&cli(
        &devnet.rpcs[1],
        &[
            "deploy",
            wasm.to_str().unwrap(),
            "--init",
            "new",
            "--init-args",
            r#"{"start": 0}"#,
        ],
    ));
    for key in ["address", "tx_hash", "gas_used"] {
        assert!(
            !deployed[key].is_null(),
            "deploy --json has `{key}`: {deployed}"
        );
    }
    let address = deployed["address"].as_str().unwrap().to_string();
    let contract = bot_engine::Address::from_slice(&hex::decode(&address[2..]).unwrap()).unwrap();
    let called = ok_json(&cli(
        &devnet.rpcs[2],
        &["call", &address, "increment", "--args", r#"{"by": 1}"#],
    ));
    assert_eq!(called["result"], json!(1));
    assert!(called["gas_used"].as_u64().unwrap() > 0);

    // 100 calls from four accounts, each account sending to its own validator.
    let chain_id = Rpc::new(&rpc0).status().unwrap()["chain_id"]
        .as_str()
        .unwrap()
        .to_string();
    let accounts = ["bob", "carol", "dave", "erin"];
    let mut hashes = Vec::new();
    for (i, name) in accounts.iter().enumerate() {
        let key = Keypair::dev(name);
        let rpc = Rpc::new(&devnet.rpcs[i]);
        for nonce in 0..25 {
            hashes.push(
                rpc.send(&increment(&chain_id, &key, nonce, contract))
                    .unwrap(),
            );
        }
    }
    let rpc = Rpc::new(&rpc0);
    for hash in &hashes {
        let receipt = rpc.wait_receipt(hash, Duration::from_secs(120)).unwrap();
        assert_eq!(receipt["status"], "ok", "{receipt}");
    }

    // Bad transactions: each refused with the rule it breaks; nothing changes.
    let key = Keypair::dev("bob");
    let before = rpc
        .call("bot_getAccount", json!([key.address().to_string()]))
        .unwrap();
    assert!(rejected(&rpc, &increment("other-chain", &key, 25, contract)).contains("chain"));
    let mut forged = increment(&chain_id, &key, 25, contract);
    forged.signature[40] ^= 1;
    let e = rejected(&rpc, &forged);
    assert!(
        e.contains("signature") || e.contains("not permitted"),
        "{e}"
    );
    assert!(rejected(&rpc, &increment(&chain_id, &key, 3, contract)).contains("replay"));
    let big = SignedTx::sign(
        Transaction {
            chain_id: chain_id.clone(),
            nonce: 25,
            gas_limit: 100_000_000,
            kind: TxKind::Upload {
                wasm: vec![0; 2 << 20],
            },
        },
        &key,
    );
    assert!(rejected(&rpc, &big).contains("limit"));
    let garbage = rpc
        .call("bot_sendTransaction", json!(["0xdeadbeef"]))
        .unwrap_err()
        .to_string();
    assert!(garbage.contains("malformed"), "{garbage}");
    assert_eq!(
        rpc.call("bot_getAccount", json!([key.address().to_string()]))
            .unwrap(),
        before
    );

    // Kill validator 3 while transactions flow; the other three keep committing.
    let carol = Keypair::dev("carol");
    let mut more = Vec::new();
    for nonce in 25..35 {
        more.push(
            rpc.send(&increment(&chain_id, &carol, nonce, contract))
                .unwrap(),
        );
        if nonce == 27 {
            devnet.kill(3);
        }
    }
    for hash in &more {
        assert_eq!(
            rpc.wait_receipt(hash, Duration::from_secs(120)).unwrap()["status"],
            "ok"
        );
    }
    let stopped_at = height(&rpc0);

    // Restart it from its home: it catches up by value sync.
    devnet.restart(3);
    let rpc3 = devnet.rpcs[3].clone();
    wait_for(
        "the restarted validator to catch up",
        Duration::from_secs(120),
        || height(&rpc3) > stopped_at,
    );

    // Every validator reports the same block, state root and counter at one height.
    let h = stopped_at;
    let blocks: Vec<Value> = devnet
        .rpcs
        .iter()
        .map(|r| Rpc::new(r).call("bot_getBlock", json!([h])).unwrap())
        .collect();
    for b in &blocks {
        assert_eq!(b["hash"], blocks[0]["hash"]);
        assert_eq!(b["state_root"], blocks[0]["state_root"]);
    }
    let tip = devnet.rpcs.iter().map(|r| height(r)).max().unwrap();
    wait_for(
        "every validator at the same tip",
        Duration::from_secs(60),
        || devnet.rpcs.iter().all(|r| height(r) >= tip),
    );
    for r in &devnet.rpcs {
        let q = ok_json(&cli(r, &["query", &address, "get"]));
        assert_eq!(q["result"], json!(1 + 100 + 10), "validator {r}");
    }
    let status = ok_json(&cli(&rpc0, &["status"]));
    assert!(status["height"].as_u64().unwrap() >= tip);
    assert!(status["app_hash"].as_str().unwrap().starts_with("0x"));
    let block = ok_json(&cli(&rpc0, &["block", &h.to_string()]));
    assert_eq!(block["height"], json!(h));
    assert_eq!(block["state_root"], blocks[0]["state_root"]);
    let tx = ok_json(&cli(&rpc0, &["tx", called["tx_hash"].as_str().unwrap()]));
    assert_eq!(tx["receipt"]["result"], json!(1));

    // Kill 2 of 4: without a 2/3 quorum the chain halts, and the two left agree on every block.
    devnet.kill(1);
    devnet.kill(2);
    let dave = Keypair::dev("dave");
    let during = rpc
        .send(&increment(&chain_id, &dave, 25, contract))
        .unwrap();
    let settled = |r: &str| {
        // A height in flight when the two died may still finish; after that, nothing.
        let mut last = height(r);
        loop {
            std::thread::sleep(Duration::from_secs(4));
            let now = height(r);
            if now == last {
                return now;
            }
            last = now;
        }
    };
    let halted = settled(&rpc0);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(height(&rpc0), halted, "2 of 4 validators cannot commit");
    assert_eq!(height(&devnet.rpcs[3]), halted);
    assert!(
        rpc.call("bot_getReceipt", json!([during]))
            .unwrap()
            .is_null(),
        "nothing committed while halted"
    );
    assert_same_chain(&devnet.rpcs[0], &devnet.rpcs[3..], halted);

    // Bring them back: the chain continues and commits what waited.
    devnet.restart(1);
    devnet.restart(2);
    let receipt = rpc.wait_receipt(&during, Duration::from_secs(120)).unwrap();
    assert_eq!(receipt["status"], "ok", "{receipt}");
    let resumed = receipt["height"]
        .as_u64()
        .unwrap_or(halted + 1)
        .max(halted + 1);
    wait_for(
        "every validator past the halt",
        Duration::from_secs(120),
        || devnet.rpcs.iter().all(|r| height(r) >= resumed),
    );
    assert_same_chain(&devnet.rpcs[0], &devnet.rpcs[1..], resumed);

    // Stop all four and start the devnet again from disk: same chain, same state, and it goes on.
    let last = devnet.rpcs.iter().map(|r| height(r)).min().unwrap();
    drop(devnet);
    let mut devnet = start_devnet(dir.path(), 4);
    let rpc0 = devnet.rpcs[0].clone();
    assert!(height(&rpc0) >= last, "a restarted node keeps its chain");
    assert_same_chain(&devnet.rpcs[0], &devnet.rpcs[1..], last);
    let erin = Keypair::dev("erin");
    let after = Rpc::new(&rpc0)
        .send(&increment(&chain_id, &erin, 25, contract))
        .unwrap();
    let receipt = Rpc::new(&rpc0)
        .wait_receipt(&after, Duration::from_secs(120))
        .unwrap();
    assert_eq!(receipt["result"], json!(1 + 100 + 10 + 1 + 1));
    let h = receipt["height"].as_u64().unwrap();
    wait_for(
        "every validator at the new tip",
        Duration::from_secs(60),
        || devnet.rpcs.iter().all(|r| height(r) >= h),
    );
    assert_same_chain(&devnet.rpcs[0], &devnet.rpcs[1..], h);

    // Through all of it no validator signed two different votes or proposals for one
    // height and round (every node checks every signed message it receives).
    for r in &devnet.rpcs {
        let evidence = Rpc::new(r).call("bot_getEvidence", json!([])).unwrap();
        assert_eq!(evidence, json!([]), "validator {r} saw an equivocation");
    }
    devnet.stop();
}

/// Every node in `others` has exactly the blocks of `reference` up to `height`.
fn assert_same_chain(reference: &str, others: &[String], height: u64) {
    let a = Rpc::new(reference);
    for h in 1..=height {
        let want = a.call("bot_getBlock", json!([h])).unwrap();
        for r in others {
            let got = Rpc::new(r).call("bot_getBlock", json!([h])).unwrap();
            assert_eq!(got["hash"], want["hash"], "block {h} on {r}");
            assert_eq!(
                got["state_root"], want["state_root"],
                "state root {h} on {r}"
            );
        }
    }
}

/// A peer speaking the node's protocols: gossipsub; for Malachite's swarm also identify (with
/// its protocol version) and its broadcast transport, without which the node's first sync
/// status closes the connection.
#[derive(libp2p::swarm::NetworkBehaviour)]
struct Hostile {
    gossipsub: libp2p::gossipsub::Behaviour,
    identify: libp2p::swarm::behaviour::toggle::Toggle<libp2p::identify::Behaviour>,
    scatter: libp2p::swarm::behaviour::toggle::Toggle<libp2p_scatter::Behaviour>,
}

/// Connects a new libp2p identity to `addr`, waits until the node has announced `topics`, then
/// publishes `messages` (dialing again if the connection drops) and stays a few seconds.
async fn gossip_garbage(
    addr: libp2p::Multiaddr,
    malachite: bool,
    topics: &[libp2p::gossipsub::IdentTopic],
    messages: Vec<(libp2p::gossipsub::IdentTopic, Vec<u8>)>,
) {
    use libp2p::futures::StreamExt as _;
    use libp2p::gossipsub;
    use libp2p::swarm::SwarmEvent;
    use tokio::time::{Instant, timeout, timeout_at};

    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| Hostile {
            gossipsub: gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub::Config::default(),
            )
            .unwrap(),
            identify: malachite
                .then(|| {
                    libp2p::identify::Behaviour::new(libp2p::identify::Config::new(
                        "/malachitebft-core-consensus/v1beta1".into(),
                        key.public(),
                    ))
                })
                .into(),
            scatter: malachite
                .then(|| libp2p_scatter::Behaviour::new(libp2p_scatter::Config::default()))
                .into(),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    for topic in topics {
        swarm.behaviour_mut().gossipsub.subscribe(topic).unwrap();
    }
    let sync = libp2p_scatter::Topic::new(b"/sync");
    if let Some(scatter) = swarm.behaviour_mut().scatter.as_mut() {
        scatter.subscribe(sync);
    }
    swarm.dial(addr.clone()).unwrap();

    let mut heard = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while heard.len() < topics.len() {
        let event = timeout_at(deadline, swarm.select_next_some())
            .await
            .expect("the node announces its topics");
        match event {
            SwarmEvent::Behaviour(HostileEvent::Gossipsub(gossipsub::Event::Subscribed {
                topic,
                ..
            })) if topics.iter().any(|t| t.hash() == topic) => {
                heard.insert(topic);
            }
            SwarmEvent::ConnectionClosed { .. } => {
                heard.clear();
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = swarm.dial(addr.clone());
            }
            _ => {}
        }
    }
    let mut queue: std::collections::VecDeque<_> = messages.into();
    while let Some((topic, data)) = queue.front().cloned() {
        match swarm.behaviour_mut().gossipsub.publish(topic, data) {
            Ok(_) => {
                queue.pop_front();
            }
            Err(e) => {
                assert!(Instant::now() < deadline, "could not publish: {e}");
                let _ = timeout(Duration::from_millis(200), swarm.select_next_some()).await;
                if swarm.connected_peers().next().is_none() {
                    let _ = swarm.dial(addr.clone());
                }
            }
        }
    }
    if let Some(scatter) = swarm.behaviour_mut().scatter.as_mut() {
        for garbage in [&b"\x00"[..], b"\xff\xff\xff\xffgarbage", &[7u8; 4096]] {
            scatter.broadcast(&sync, bytes::Bytes::copy_from_slice(garbage));
        }
    }
    // Keep the connection serviced while the node deals with it.
    let until = Instant::now() + Duration::from_secs(3);
    while timeout_at(until, swarm.select_next_some()).await.is_ok() {}
}

/// A round past what Malachite's rounds can hold.
const HOSTILE_ROUND: i64 = 1 << 40;

/// The borsh wire form of a signed prevote (the node's codec), with round [`HOSTILE_ROUND`].
fn hostile_round_vote(height: u64) -> Vec<u8> {
    let mut b = vec![0u8, 0]; // a vote; a prevote
    b.extend(height.to_le_bytes());
    b.extend(HOSTILE_ROUND.to_le_bytes());
    b.push(0); // for nil
    b.extend([0u8; 20]); // the validator
    b.extend([1u8; 64]); // the signature
    b
}

/// A complete proposal stream (Init naming `proposer` at `height` and `round`, a data part that
/// is no block, a Fin whose signature is no one's), as the node's codec puts it on the
/// proposal-parts topic: one message per part.
fn proposal_stream(tag: &str, height: u64, round: i64, proposer: [u8; 20]) -> Vec<Vec<u8>> {
    let stream_id = [tag.as_bytes(), &height.to_be_bytes()].concat();
    let message = |sequence: u64, part: Option<Vec<u8>>| {
        let mut b = (stream_id.len() as u32).to_le_bytes().to_vec();
        b.extend(&stream_id);
        b.extend(sequence.to_le_bytes());
        match part {
            Some(p) => {
                b.push(1);
                b.extend(p);
            }
            None => b.push(0),
        }
        b
    };
    let mut init = vec![0u8]; // ProposalPart::Init
    init.extend(height.to_le_bytes());
    init.extend(round.to_le_bytes());
    init.extend((-1i64).to_le_bytes());
    init.extend(proposer);
    let mut data = vec![1u8]; // ProposalPart::Data
    data.extend(4u32.to_le_bytes());
    data.extend(b"junk");
    let mut fin = vec![2u8]; // ProposalPart::Fin
    fin.extend([1u8; 64]);
    vec![
        message(0, Some(init)),
        message(1, Some(data)),
        message(2, Some(fin)),
        message(3, None),
    ]
}

#[test]
fn a_hostile_peer_gossiping_garbage_is_refused_and_the_node_keeps_committing() {
    use libp2p::gossipsub::IdentTopic;

    let dir = tempfile::tempdir().unwrap();
    let devnet = start_devnet(dir.path(), 1);
    let rpc = Rpc::new(&devnet.rpcs[0]);
    wait_for("the first blocks", Duration::from_secs(60), || {
        height(&devnet.rpcs[0]) >= 2
    });
    let chain_id = rpc.status().unwrap()["chain_id"]
        .as_str()
        .unwrap()
        .to_string();
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&devnet.homes[0]).join("node.json")).unwrap(),
    )
    .unwrap();
    let addr = |k: &str| -> libp2p::Multiaddr { config[k].as_str().unwrap().parse().unwrap() };
    let txs = IdentTopic::new(format!("/bot/{chain_id}/txs/1"));
    let consensus = ["/consensus", "/proposal_parts", "/liveness"].map(IdentTopic::new);

    // What peers send on the transaction topic: one good transaction, five bad batches (the
    // last a stranger's, who may not transact: an honest node never forwards one), and a
    // forged signature (it recovers no account, or some other, unpermitted one: refused too).
    let frank = Keypair::dev("frank");
    let upload = |chain: &str, nonce| {
        SignedTx::sign(
            Transaction {
                chain_id: chain.to_string(),
                nonce,
                gas_limit: 2_000_000_000,
                kind: TxKind::Upload {
                    wasm: std::fs::read(bot_tests::contracts_dir().join("counter.wasm")).unwrap(),
                },
            },
            &frank,
        )
    };
    let good = upload(&chain_id, 0);
    let mut forged = upload(&chain_id, 1);
    forged.signature[7] ^= 1;
    let truncated = upload(&chain_id, 1).to_bytes();
    let batch = |tx: Vec<u8>| bot_node::gossip::encode_batch(&[tx]);
    let bad = [
        b"\xffnot a transaction batch".to_vec(),
        bot_node::gossip::encode_batch(&[]),
        batch(upload("other-chain", 1).to_bytes()),
        batch(truncated[..truncated.len() - 1].to_vec()),
        batch(
            SignedTx::sign(
                Transaction {
                    chain_id: chain_id.clone(),
                    nonce: 0,
                    gas_limit: 2_000_000,
                    kind: TxKind::Transfer {
                        to: frank.address(),
                        amount: 1,
                    },
                },
                &Keypair::dev("mallory"),
            )
            .to_bytes(),
        ),
    ];
    let honest = vec![
        (txs.clone(), batch(good.to_bytes())),
        (txs.clone(), batch(forged.to_bytes())),
    ];
    let mut consensus_garbage: Vec<(IdentTopic, Vec<u8>)> = consensus
        .iter()
        .flat_map(|t| {
            [&b"\x00"[..], b"\xff\xff\xff\xffgarbage", &[7u8; 4096]]
                .map(|g| (t.clone(), g.to_vec()))
        })
        .collect();
    // Well-formed messages with a round no round can be (2^40): Malachite's Round::from
    // panics on one, so each must be refused as it is decoded. A vote, and complete proposal
    // streams for the heights the node is about to reach.
    let now = height(&devnet.rpcs[0]);
    consensus_garbage.push((consensus[0].clone(), hostile_round_vote(now + 1)));
    for h in now..now + 12 {
        for part in proposal_stream("hostile", h, HOSTILE_ROUND, [0; 20]) {
            consensus_garbage.push((consensus[1].clone(), part));
        }
    }
    // Well-formed streams that reach consensus, none of them the proposer's: a stranger
    // naming itself proposer, and streams naming the validator that leads but signed by no
    // one, for this height, the next ones and heights far ahead. Each is refused and counted,
    // none is kept to push out the proposer's.
    let leader: bot_engine::Address = rpc.status().unwrap()["validator"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The hostile-round streams' Init never decodes, but their other parts do: without an
    // Init they wait for it until the same peer's newer streams push them out, refused too.
    let mut forged_streams = 12;
    for h in now..now + 24 {
        for (tag, proposer) in [("stranger", [9u8; 20]), ("forger", leader.0)] {
            for part in proposal_stream(tag, h, 0, proposer) {
                consensus_garbage.push((consensus[1].clone(), part));
            }
            forged_streams += 1;
        }
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let topic = std::slice::from_ref(&txs);
        gossip_garbage(addr("gossip_listen"), false, topic, honest).await;
        // Each bad message from a peer of its own: after one, the node no longer hears that
        // peer (scored below the graylist threshold), so later ones would not be checked.
        for message in &bad {
            let one = vec![(txs.clone(), message.clone())];
            gossip_garbage(addr("gossip_listen"), false, topic, one).await;
        }
        gossip_garbage(addr("p2p_listen"), true, &consensus, consensus_garbage).await;
    });
    drop(runtime);

    // The good transaction, received only by gossip, is committed; each bad one is refused
    // and counted; the node keeps making blocks and nothing of frank's changed but the upload.
    let receipt = rpc
        .wait_receipt(&bot_node::rpc::hex0x(&good.hash()), Duration::from_secs(60))
        .unwrap();
    assert_eq!(receipt["status"], "ok", "{receipt}");
    wait_for("the bad messages counted", Duration::from_secs(30), || {
        rpc.status().unwrap()["gossip_rejected"].as_u64().unwrap() >= bad.len() as u64
    });
    // The forged signature counts too.
    wait_for("the forged one counted", Duration::from_secs(30), || {
        rpc.status().unwrap()["gossip_rejected"].as_u64().unwrap() > bad.len() as u64
    });
    let rejected = rpc.status().unwrap()["gossip_rejected"].as_u64().unwrap();
    assert_eq!(rejected, bad.len() as u64 + 1, "{rejected} refused");
    // Streams that did not decode never reach consensus; every forged one that did is refused.
    wait_for(
        "the forged streams refused",
        Duration::from_secs(30),
        || {
            rpc.status().unwrap()["proposal_streams_refused"]
                .as_u64()
                .unwrap()
                >= forged_streams
        },
    );
    // Each once: the parts that follow a refused Init are ignored, not refused again.
    let refused = rpc.status().unwrap()["proposal_streams_refused"].as_u64();
    assert_eq!(refused, Some(forged_streams), "streams refused");
    let h = height(&devnet.rpcs[0]);
    wait_for("blocks after the garbage", Duration::from_secs(60), || {
        height(&devnet.rpcs[0]) >= h + 2
    });
    let account = rpc
        .call("bot_getAccount", json!([frank.address().to_string()]))
        .unwrap();
    assert_eq!(account["nonce"], json!(1), "{account}");
}

#[test]
fn bench_tps_floods_a_devnet_and_reports_throughput_latency_and_memory() {
    let out = Command::new(EXE)
        .args([
            "bench",
            "tps",
            "--duration",
            "3",
            "--accounts",
            "8",
            "--window",
            "16",
            "--json",
        ])
        .output()
        .expect("cargo-bot runs");
    let report = ok_json(&out);
    for key in [
        "tps",
        "p50_ms",
        "p99_ms",
        "block_interval_ms",
        "node_rss_mib",
    ] {
        assert!(
            !report[key].is_null(),
            "bench tps --json has `{key}`: {report}"
        );
    }
    assert!(report["tps"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["p99_ms"].as_f64() >= report["p50_ms"].as_f64());
    // Every transaction the node accepted was committed, with its own receipt.
    assert_eq!(report["not_committed"], json!(0), "{report}");
    assert_eq!(
        report["committed"].as_u64().unwrap(),
        report["submitted"].as_u64().unwrap() - report["refused"].as_u64().unwrap()
    );
    assert!(report["node_rss_mib"]["peak"][0].as_f64().unwrap() > 0.0);

    let bad = Command::new(EXE)
        .args(["bench", "tps", "--accounts", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--accounts"));
}

#[test]
fn the_module_that_stopped_a_devnet_is_refused_and_what_a_node_cannot_run_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = start_devnet(dir.path(), 1);
    let rpc = devnet.rpcs[0].clone();
    wait_for("the first blocks", Duration::from_secs(60), || {
        height(&rpc) >= 2
    });

    // A function body left open (77 bytes) passed the deploy check and stopped the chain
    // when called: the check and the deploy refuse it now, naming the rule.
    let module = dir.path().join("unclosed.wasm");
    std::fs::write(&module, bot_tests::unclosed_body_module()).unwrap();
    let module = module.to_str().unwrap();
    for args in [vec!["check", module], vec!["deploy", module]] {
        let why = common::refused(&cli(&rpc, &args));
        assert!(
            why.contains("control frames remain at end of function body"),
            "{args:?}: {why}"
        );
    }

    let wasm = bot_tests::contracts_dir().join("counter.wasm");
    let deployed = ok_json(&cli(
        &rpc,
        &[
            "deploy",
            wasm.to_str().unwrap(),
            "--init",
            "new",
            "--init-args",
            r#"{"start": 1}"#,
        ],
    ));
    let counter = deployed["address"].as_str().unwrap().to_string();
    rpc_limits_hold(&rpc);

    // The validator comes back on a machine with too little address space for a contract's
    // memory (wasmer reserves 8 GiB for one; the node itself needs under 1 GiB): running the
    // counter fails here, through no fault of the transaction.
    let log = dir.path().join("limited.log");
    devnet.kill(0);
    wait_for("the validator to stop", Duration::from_secs(30), || {
        Rpc::new(&rpc).status().is_err()
    });
    devnet.restart_limited(0, 4_000_000, &log);
    wait_for("the validator back", Duration::from_secs(60), || {
        Rpc::new(&rpc).status().is_ok()
    });
    let out = cli(
        &rpc,
        &[
            "call",
            &counter,
            "increment",
            "--args",
            r#"{"by": 2}"#,
            "--gas-limit",
            "1000000000",
            "--from",
            "bob",
        ],
    );
    let why = common::refused(&out);
    assert!(
        why.contains("the node dropped transaction") && why.contains("engine"),
        "{why}"
    );
    // The height goes on, and a transaction the node can run still commits.
    let h = height(&rpc);
    wait_for(
        "blocks after the dropped call",
        Duration::from_secs(60),
        || height(&rpc) >= h + 3,
    );
    let chain_id = Rpc::new(&rpc).status().unwrap()["chain_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = Keypair::dev("bob");
    let nonce = Rpc::new(&rpc)
        .call("bot_getAccount", json!([bob.address().to_string()]))
        .unwrap()["nonce"]
        .as_u64()
        .unwrap();
    let transfer = SignedTx::sign(
        Transaction {
            chain_id,
            nonce,
            gas_limit: 2_000_000,
            kind: TxKind::Transfer {
                to: Keypair::dev("carol").address(),
                amount: 1,
            },
        },
        &bob,
    );
    let hash = Rpc::new(&rpc).send(&transfer).unwrap();
    let receipt = Rpc::new(&rpc)
        .wait_receipt(&hash, Duration::from_secs(60))
        .unwrap();
    assert_eq!(receipt["status"], "ok", "{receipt}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("left out of the block and dropped"),
        "the node says what it dropped:\n{log}"
    );
}

/// What one RPC client can make a node do is bounded, each bound named when it is met.
fn rpc_limits_hold(rpc: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |origin: Option<&str>, body: &Value| {
        let mut request = agent.post(rpc);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let mut response = request.send_json(body).unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    };
    let status_call = json!({ "jsonrpc": "2.0", "id": 1, "method": "bot_status", "params": [] });
    // A page a browser shows that the operator did not allow cannot use the node; no Origin
    // (a program) or a loopback page can.
    let (code, body) = post(Some("https://evil.example"), &status_call);
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("rpc.allowed_origins"), "{body}");
    for origin in [None, Some("http://localhost:3000")] {
        let (code, body) = post(origin, &status_call);
        assert_eq!(code, 200, "{origin:?}: {body}");
    }
    // A batch above the node's limit is refused as a whole.
    let batch: Vec<Value> = (0..33)
        .map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "bot_status", "params": [] }))
        .collect();
    let (_, body) = post(None, &Value::from(batch));
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("batch")),
        "{reply}"
    );
    // A query runs under the node's default gas unless it names less, and never above its cap.
    let probe = bot_tests::contracts_dir().join("probe.wasm");
    let probe = ok_json(&cli(rpc, &["deploy", probe.to_str().unwrap()]))["address"]
        .as_str()
        .unwrap()
        .to_string();
    let query = |gas: Option<u64>| {
        let mut q = json!({ "contract": probe, "method": "spin", "args_hex": "0x" });
        if let Some(gas) = gas {
            q["gas_limit"] = json!(gas);
        }
        Rpc::new(rpc).call("bot_query", json!([q]))
    };
    let spun = query(None).unwrap();
    assert_eq!(spun["error"]["kind"], "out_of_gas", "{spun}");
    assert!(
        spun["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the limit was 1000000000"),
        "{spun}"
    );
    let too_much = query(Some(40_000_000_000)).unwrap_err().to_string();
    assert!(
        too_much.contains("above what this node runs a query with (10000000000)"),
        "{too_much}"
    );
}
