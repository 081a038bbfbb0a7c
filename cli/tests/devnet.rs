//! A 4-validator devnet on loopback, as a user runs it: `cargo bot devnet --nodes 4` as a
//! process, the CLI deploying through it, transactions from several accounts sent to different
//! validators, bad transactions refused, and a validator killed with SIGKILL mid-traffic then
//! restarted with `cargo bot node`: it catches up to the same state and nothing is lost.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bot_chain::{Keypair, SignedTx, Transaction, TxKind};
use cargo_bot::client::Rpc;
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_cargo-bot");

struct Devnet {
    child: Child,
    /// Validators restarted by the test.
    restarted: Vec<Child>,
    rpcs: Vec<String>,
    homes: Vec<String>,
    pids: Vec<u32>,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for child in &mut self.restarted {
            let _ = child.kill();
            let _ = child.wait();
        }
        for pid in &self.pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

// The child moves into `Devnet`, whose `Drop` waits for it.
#[allow(clippy::zombie_processes)]
fn start_devnet(dir: &Path, nodes: usize) -> Devnet {
    let mut child = Command::new(EXE)
        .args(["devnet", "--nodes", &nodes.to_string(), "--home"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo-bot devnet starts");
    let file = dir.join("devnet.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(text) = std::fs::read_to_string(&file)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
        {
            let validators = v["validators"].as_array().cloned().unwrap_or_default();
            let rpcs: Vec<String> = validators
                .iter()
                .map(|v| v["rpc"].as_str().unwrap().to_string())
                .collect();
            if rpcs.len() == nodes && rpcs.iter().all(|r| Rpc::new(r).status().is_ok()) {
                return Devnet {
                    child,
                    restarted: Vec::new(),
                    homes: validators
                        .iter()
                        .map(|v| v["home"].as_str().unwrap().to_string())
                        .collect(),
                    pids: validators
                        .iter()
                        .map(|v| v["pid"].as_u64().unwrap() as u32)
                        .collect(),
                    rpcs,
                };
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the devnet did not come up");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn cli(rpc: &str, args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .args(["--json", "--rpc", rpc])
        .output()
        .expect("cargo-bot runs")
}

fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn height(rpc: &str) -> u64 {
    Rpc::new(rpc)
        .status()
        .map(|s| s["height"].as_u64().unwrap())
        .unwrap_or(0)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn increment(chain_id: &str, key: &Keypair, nonce: u64, contract: bot_engine::Address) -> SignedTx {
    SignedTx::sign(
        Transaction {
            chain_id: chain_id.to_string(),
            nonce,
            gas_limit: 200_000,
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
            let _ = Command::new("kill")
                .args(["-KILL", &devnet.pids[3].to_string()])
                .status();
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
    let restarted = Command::new(EXE)
        .args(["node", "--home", &devnet.homes[3]])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    devnet.pids[3] = restarted.id();
    devnet.restarted.push(restarted);
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
}
