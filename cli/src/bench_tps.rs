//! `cargo bot bench tps`: sustained throughput of a devnet. Many accounts send signed counter
//! increments (JSON-RPC batches, spread over the validators), each keeping a window of
//! transactions in flight; a watcher follows every new block and times each transaction from
//! submission to the block that commits it. Reports committed tx/s over the load window,
//! p50/p99 submit-to-commit latency, block intervals and the nodes' memory.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bot_chain::{Keypair, SignedTx, Transaction, TxKind};
use bot_engine::Address;
use serde_json::{Value, json};

use crate::client::{DEV_ACCOUNTS, Rpc, hex0x};

pub struct TpsOptions {
    /// Validators of the devnet started for the run (ignored with `rpc`).
    pub nodes: usize,
    pub duration: Duration,
    pub accounts: usize,
    /// Transactions each account keeps submitted but not yet committed.
    pub window: u32,
    /// Target this node instead of starting a devnet (its dev accounts sign).
    pub rpc: Option<String>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// Gas limit of one increment: what it uses (about 43k) with margin.
const INCREMENT_GAS: u64 = 5_000_000;
/// Transactions per JSON-RPC batch request.
const BATCH: usize = 256;

/// The bench's own accounts (funded and permitted in the devnet it starts).
fn bench_key(i: usize) -> Keypair {
    Keypair::dev(&format!("bench/{i}"))
}

pub fn run(options: &TpsOptions) -> Result<Value> {
    if options.accounts == 0 || options.duration.is_zero() || options.window == 0 {
        bail!("--accounts, --duration and --window must be above 0");
    }
    let (_dir, mut devnet, rpcs, keys) = match &options.rpc {
        Some(url) => {
            let n = options.accounts.min(DEV_ACCOUNTS.len());
            let keys = DEV_ACCOUNTS[..n].iter().map(|a| Keypair::dev(a)).collect();
            (None, None, vec![url.clone()], keys)
        }
        None => {
            let dir = tempfile::tempdir()?;
            let keys: Vec<Keypair> = (0..options.accounts).map(bench_key).collect();
            let extra: Vec<Address> = keys.iter().map(|k| k.address()).collect();
            crate::devnet::init_with_accounts(dir.path(), options.nodes, &extra)?;
            let devnet = crate::devnet::Devnet::start(dir.path())?;
            let rpcs = devnet.rpcs.clone();
            (Some(dir), Some(devnet), rpcs, keys)
        }
    };
    let pids: Vec<u32> = devnet
        .as_ref()
        .map(|d| d.children.iter().map(|c| c.id()).collect())
        .unwrap_or_default();
    let result = measure(options, &rpcs, &keys, &pids);
    if let Some(devnet) = &mut devnet {
        devnet.stop();
    }
    result
}

/// What the watcher knows about one submitted transaction.
struct Pending {
    account: usize,
    sent: Instant,
}

struct Shared {
    pending: Mutex<HashMap<String, Pending>>,
    in_flight: Vec<AtomicU32>,
    submitted: AtomicU64,
    refused: AtomicU64,
    /// Why the node refused the first refused transaction (for the report).
    first_refusal: Mutex<Option<String>>,
    committed: AtomicU64,
    stop: AtomicBool,
}

fn measure(options: &TpsOptions, rpcs: &[String], keys: &[Keypair], pids: &[u32]) -> Result<Value> {
    let rpc = Rpc::new(&rpcs[0]);
    // Past the first heights, when a new devnet's validators are still finding each other.
    let deadline = Instant::now() + Duration::from_secs(120);
    let start_at = rpc.status()?["height"].as_u64().unwrap_or(0) + 3;
    for url in rpcs {
        let node = Rpc::new(url);
        while node.status()?["height"].as_u64().unwrap_or(0) < start_at {
            if Instant::now() > deadline {
                bail!("{url} did not reach height {start_at} within 120 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let chain_id = rpc.chain_id()?;
    let deployed = crate::chain_cmds::deploy(
        &rpc,
        "alice",
        &crate::demo::counter_wasm()?,
        Some("new"),
        Some(r#"{"start": 0}"#),
        None,
    )?;
    if !deployed.ok {
        bail!("deploying the counter failed: {}", deployed.out);
    }
    let contract: Address = deployed.out["address"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e| anyhow::anyhow!("deploy returned a bad address: {e:?}"))?;
    let mut nonces = Vec::new();
    for key in keys {
        let account = rpc.call("bot_getAccount", json!([key.address().to_string()]))?;
        nonces.push(account["nonce"].as_u64().unwrap_or(0));
    }
    let idle_rss: Vec<Option<u64>> = pids.iter().map(|p| proc_kib(*p, "VmRSS")).collect();

    let shared = Arc::new(Shared {
        pending: Mutex::new(HashMap::new()),
        in_flight: keys.iter().map(|_| AtomicU32::new(0)).collect(),
        submitted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        first_refusal: Mutex::new(None),
        committed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let start_height = rpc.status()?["height"].as_u64().unwrap_or(0);
    let start = Instant::now();
    let load_end = start + options.duration;

    // Senders: two threads, each with half the accounts, each sending to the validators in turn.
    let senders: Vec<_> = (0..2)
        .map(|t| {
            let shared = shared.clone();
            let rpcs: Vec<Rpc> = rpcs.iter().map(|u| Rpc::new(u)).collect();
            let mine: Vec<(usize, Keypair, u64)> = keys
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == t)
                .map(|(i, k)| (i, k.clone(), nonces[i]))
                .collect();
            let chain_id = chain_id.clone();
            let window = options.window;
            std::thread::spawn(move || {
                send_load(
                    &shared, &rpcs, mine, &chain_id, contract, window, load_end, t,
                )
            })
        })
        .collect();

    // The watcher: every block from the start height on, in order.
    let mut latencies: Vec<Duration> = Vec::new();
    let mut blocks: Vec<(u64, u64, usize)> = Vec::new(); // (height, time_ms, txs)
    let mut committed_in_window = 0u64;
    let mut next = start_height + 1;
    let settle_end = load_end + Duration::from_secs(15);
    let draw = options.progress && std::io::stderr().is_terminal();
    let mut last_draw = Instant::now();
    loop {
        let now = Instant::now();
        let tip = rpc.status()?["height"].as_u64().unwrap_or(0);
        while next <= tip {
            let block = rpc.call("bot_getBlock", json!([next]))?;
            let seen = Instant::now();
            let txs = block["txs"].as_array().cloned().unwrap_or_default();
            let mut pending = shared.pending.lock().unwrap();
            for hash in &txs {
                if let Some(p) = hash.as_str().and_then(|h| pending.remove(h)) {
                    latencies.push(seen - p.sent);
                    shared.in_flight[p.account].fetch_sub(1, Ordering::Relaxed);
                    shared.committed.fetch_add(1, Ordering::Relaxed);
                    if seen <= load_end {
                        committed_in_window += 1;
                    }
                }
            }
            drop(pending);
            blocks.push((next, block["time_ms"].as_u64().unwrap_or(0), txs.len()));
            next += 1;
        }
        if draw && last_draw.elapsed() > Duration::from_millis(200) {
            progress(&shared, start, options.duration, committed_in_window);
            last_draw = Instant::now();
        }
        let drained = shared.pending.lock().unwrap().is_empty();
        if now >= load_end {
            shared.stop.store(true, Ordering::Relaxed);
            if (drained && senders.iter().all(|s| s.is_finished())) || now >= settle_end {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if draw {
        eprintln!();
    }
    for s in senders {
        match s.join() {
            Ok(r) => r?,
            Err(_) => bail!("a sender thread panicked"),
        }
    }
    let lost = shared.pending.lock().unwrap().len();
    let peak_rss: Vec<Option<u64>> = pids.iter().map(|p| proc_kib(*p, "VmHWM")).collect();

    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    let mut intervals: Vec<u64> = blocks
        .windows(2)
        .map(|w| w[1].1.saturating_sub(w[0].1))
        .collect();
    intervals.sort();
    let secs = options.duration.as_secs_f64();
    let mib = |v: &[Option<u64>]| -> Value {
        json!(
            v.iter()
                .map(|k| k.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0))
                .collect::<Vec<_>>()
        )
    };
    Ok(json!({
        "tps": (committed_in_window as f64 / secs).round(),
        "p50_ms": pct(0.50).round(),
        "p99_ms": pct(0.99).round(),
        "max_ms": pct(1.0).round(),
        "nodes": rpcs.len(),
        "accounts": keys.len(),
        "window": options.window,
        "duration_s": secs,
        "submitted": shared.submitted.load(Ordering::Relaxed),
        "committed": shared.committed.load(Ordering::Relaxed),
        "committed_in_window": committed_in_window,
        "refused": shared.refused.load(Ordering::Relaxed),
        "first_refusal": shared.first_refusal.lock().unwrap().take(),
        "not_committed": lost,
        "blocks": blocks.len(),
        "block_interval_ms": {
            "p50": intervals.get(intervals.len() / 2).copied().unwrap_or(0),
            "max": intervals.last().copied().unwrap_or(0),
        },
        "txs_per_block_max": blocks.iter().map(|b| b.2).max().unwrap_or(0),
        "node_rss_mib": { "idle": mib(&idle_rss), "peak": mib(&peak_rss) },
        "cpu": bot_calibrate::cpu_model(),
    }))
}

/// One sender thread: signs each account's next increments while its window has room and
/// sends them in batches, round-robin over the validators, until the load window ends.
#[allow(clippy::too_many_arguments)]
fn send_load(
    shared: &Shared,
    rpcs: &[Rpc],
    mut accounts: Vec<(usize, Keypair, u64)>,
    chain_id: &str,
    contract: Address,
    window: u32,
    load_end: Instant,
    thread: usize,
) -> Result<()> {
    let mut turn = thread;
    while !shared.stop.load(Ordering::Relaxed) && Instant::now() < load_end {
        let mut batch: Vec<(usize, SignedTx)> = Vec::new();
        for (i, key, nonce) in &mut accounts {
            let room = window.saturating_sub(shared.in_flight[*i].load(Ordering::Relaxed));
            for _ in 0..room {
                if batch.len() >= BATCH {
                    break;
                }
                let tx = SignedTx::sign(
                    Transaction {
                        chain_id: chain_id.to_string(),
                        nonce: *nonce,
                        gas_limit: INCREMENT_GAS,
                        kind: TxKind::Call {
                            contract,
                            method: "increment".into(),
                            args: borsh::to_vec(&1u64)?,
                        },
                    },
                    key,
                );
                *nonce += 1;
                shared.in_flight[*i].fetch_add(1, Ordering::Relaxed);
                batch.push((*i, tx));
            }
        }
        if batch.is_empty() {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let rpc = &rpcs[turn % rpcs.len()];
        turn += 1;
        let sent = Instant::now();
        {
            // Registered before sending: a block can commit them before the reply arrives.
            let mut pending = shared.pending.lock().unwrap();
            for (account, tx) in &batch {
                pending.insert(
                    hex0x(&tx.hash()),
                    Pending {
                        account: *account,
                        sent,
                    },
                );
            }
        }
        let txs: Vec<&SignedTx> = batch.iter().map(|(_, tx)| tx).collect();
        let replies = rpc.send_batch(&txs)?;
        shared
            .submitted
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for ((account, tx), reply) in batch.iter().zip(replies) {
            if let Err(e) = reply {
                // Refused (a full mempool): forget it and resend this account from its nonce.
                shared.refused.fetch_add(1, Ordering::Relaxed);
                shared.pending.lock().unwrap().remove(&hex0x(&tx.hash()));
                shared.in_flight[*account].fetch_sub(1, Ordering::Relaxed);
                if let Some(a) = accounts.iter_mut().find(|a| a.0 == *account) {
                    a.2 = a.2.min(tx.tx.nonce);
                }
                shared
                    .first_refusal
                    .lock()
                    .unwrap()
                    .get_or_insert(e.message);
            }
        }
    }
    Ok(())
}

fn progress(shared: &Shared, start: Instant, duration: Duration, committed: u64) {
    let elapsed = start.elapsed().min(duration);
    let done = elapsed.as_secs_f64() / duration.as_secs_f64();
    let width = 30;
    let filled = (done * width as f64) as usize;
    let rate = committed as f64 / elapsed.as_secs_f64().max(0.001);
    eprint!(
        "\r[{}{}] {:>4.0}/{:.0} s  submitted {:>8}  committed {:>8}  {:>7.0} tx/s ",
        "#".repeat(filled),
        "-".repeat(width - filled),
        elapsed.as_secs_f64(),
        duration.as_secs_f64(),
        shared.submitted.load(Ordering::Relaxed),
        shared.committed.load(Ordering::Relaxed),
        rate,
    );
    let _ = std::io::stderr().flush();
}

/// A field of /proc/<pid>/status in KiB (Linux; `None` elsewhere).
fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The report as a human reads it.
pub fn print(report: &Value) -> Result<()> {
    let r = report;
    println!(
        "{} tx/s committed over {} s ({} validator(s), {} accounts, window {} each)",
        r["tps"], r["duration_s"], r["nodes"], r["accounts"], r["window"]
    );
    println!(
        "submit -> commit: p50 {} ms, p99 {} ms, max {} ms",
        r["p50_ms"], r["p99_ms"], r["max_ms"]
    );
    println!(
        "{} blocks, interval p50 {} ms (max {} ms), up to {} txs per block",
        r["blocks"],
        r["block_interval_ms"]["p50"],
        r["block_interval_ms"]["max"],
        r["txs_per_block_max"]
    );
    println!(
        "submitted {}, committed {}, refused {}, not committed {}",
        r["submitted"], r["committed"], r["refused"], r["not_committed"]
    );
    if let Some(why) = r["first_refusal"].as_str() {
        println!("first refusal: {why}");
    }
    println!(
        "node memory (MiB): idle {}, peak {}",
        r["node_rss_mib"]["idle"], r["node_rss_mib"]["peak"]
    );
    println!("machine: {}", r["cpu"]);
    std::io::stdout().flush().context("writing the report")
}
