//! What the devnet tests share: a `cargo bot devnet` process on loopback and the CLI run
//! against it.
#![allow(dead_code)] // each test binary uses its own part

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cargo_bot::client::Rpc;
use serde_json::Value;

pub const EXE: &str = env!("CARGO_BIN_EXE_cargo-bot");

pub struct Devnet {
    pub child: Child,
    /// Validators restarted by the test.
    pub restarted: Vec<Child>,
    pub rpcs: Vec<String>,
    pub homes: Vec<String>,
    pub pids: Vec<u32>,
}

impl Devnet {
    /// Stops every validator cleanly (SIGTERM) and waits for them, as Ctrl-C does.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for child in &self.restarted {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for child in std::iter::once(&mut self.child).chain(&mut self.restarted) {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.restarted.clear();
        // The devnet stopped its own; the restarted ones were waited for above.
        self.pids.clear();
    }

    pub fn kill(&self, i: usize) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.pids[i].to_string()])
            .status();
    }

    /// Restarts validator `i` as `restart` does, but with at most `kib` KiB of address space
    /// (`ulimit -v`), its log in `log`: a machine too small for what a contract asks.
    pub fn restart_limited(&mut self, i: usize, kib: u64, log: &Path) {
        let script = format!("ulimit -v {kib} && exec \"$0\" node --home \"$1\"");
        let child = Command::new("sh")
            .args(["-c", &script, EXE, &self.homes[i]])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        self.pids[i] = child.id();
        self.restarted.push(child);
    }

    /// Restarts validator `i` from its home with `cargo bot node`, as a user would.
    pub fn restart(&mut self, i: usize) {
        let child = Command::new(EXE)
            .args(["node", "--home", &self.homes[i]])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.pids[i] = child.id();
        self.restarted.push(child);
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.stop();
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
pub fn start_devnet(dir: &Path, nodes: usize) -> Devnet {
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

pub fn cli(rpc: &str, args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .args(["--json", "--rpc", rpc])
        .output()
        .expect("cargo-bot runs")
}

pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

pub fn height(rpc: &str) -> u64 {
    Rpc::new(rpc)
        .status()
        .map(|s| s["height"].as_u64().unwrap())
        .unwrap_or(0)
}

pub fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The CLI with its own `BOT_HOME` (device keys), against `rpc`, printing JSON.
pub fn cli_at(home: &Path, rpc: &str, args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .args(["--json", "--rpc", rpc])
        .env("BOT_HOME", home)
        .output()
        .expect("cargo-bot runs")
}

/// The error a refused CLI command printed (`--json`: `{"status":"error","error":{...}}`).
pub fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a refusal; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
    v["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
}

/// The latest block's time (ms).
pub fn block_time(rpc: &str) -> u64 {
    Rpc::new(rpc)
        .call("bot_getBlock", serde_json::json!(["latest"]))
        .map(|b| b["time_ms"].as_u64().unwrap_or(0))
        .unwrap_or(0)
}

/// The CLI with a test's own home (device keys), against validator `i % n` of a devnet.
pub struct User<'a> {
    pub home: &'a Path,
    pub rpcs: &'a [String],
}

impl User<'_> {
    pub fn run(&self, i: usize, args: &[&str]) -> Output {
        cli_at(self.home, &self.rpcs[i % self.rpcs.len()], args)
    }

    /// Runs a command that must succeed; when it committed something, waits until every
    /// validator has that block, so the next step may read from any of them.
    pub fn ok(&self, i: usize, args: &[&str]) -> Value {
        let out = ok_json(&self.run(i, args));
        let committed = match out.get("tx_hash") {
            Some(_) => out["height"].as_u64(),
            None => out["last_height"].as_u64(),
        };
        if let Some(h) = committed {
            wait_for(
                "every validator at the committed block",
                Duration::from_secs(60),
                || self.rpcs.iter().all(|r| height(r) >= h),
            );
        }
        out
    }

    /// Runs a command that must be refused; its message.
    pub fn refused(&self, i: usize, args: &[&str]) -> String {
        refused(&self.run(i, args))
    }

    /// Calls `method` on `contract` with JSON `args` as `from`; the receipt.
    pub fn call(&self, i: usize, contract: &str, method: &str, args: Value, from: &str) -> Value {
        let args = args.to_string();
        self.ok(
            i,
            &["call", contract, method, "--args", &args, "--from", from],
        )
    }

    /// Like [`User::call`], for a call that must be refused; its message.
    pub fn call_refused(
        &self,
        i: usize,
        contract: &str,
        method: &str,
        args: Value,
        from: &str,
    ) -> String {
        let args = args.to_string();
        self.refused(
            i,
            &["call", contract, method, "--args", &args, "--from", from],
        )
    }

    /// The decoded result of a read-only `method` of `contract`.
    pub fn query(&self, i: usize, contract: &str, method: &str, args: Value) -> Value {
        queried(self, i, contract, method, args)
    }

    /// Deploys a contract built from this repository; its address.
    pub fn deploy(&self, i: usize, name: &str, init_args: Value, from: &str) -> String {
        let wasm = bot_tests::contracts_dir().join(format!("{name}.wasm"));
        let out = self.ok(
            i,
            &[
                "deploy",
                wasm.to_str().unwrap(),
                "--init",
                "new",
                "--init-args",
                &init_args.to_string(),
                "--from",
                from,
            ],
        );
        out["address"].as_str().unwrap().to_string()
    }

    /// The address of a key (a devnet account or a stored key).
    pub fn address(&self, name: &str) -> String {
        let out = self.ok(0, &["keys", "show", name]);
        out["address"].as_str().unwrap().to_string()
    }
}

/// The data of the first event called `name` in a receipt.
pub fn event<'a>(receipt: &'a Value, name: &str) -> &'a Value {
    receipt["events"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["name"] == name))
        .map(|e| &e["data"])
        .unwrap_or_else(|| panic!("no `{name}` event in {receipt}"))
}

/// The `result` of a `cargo bot query`.
pub fn queried(user: &User<'_>, i: usize, contract: &str, method: &str, args: Value) -> Value {
    let out = user.ok(i, &["query", contract, method, "--args", &args.to_string()]);
    out["result"].clone()
}

/// A 4-validator devnet that has made its first blocks, in a temporary folder (deleted when
/// dropped) that also holds the user's home (device keys).
pub fn devnet_with_home() -> (tempfile::TempDir, Devnet, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let devnet = started_devnet(&dir.path().join("devnet"), 4);
    let home = dir.path().join("user");
    (dir, devnet, home)
}

/// A devnet of `nodes` validators that has made its first blocks.
pub fn started_devnet(dir: &Path, nodes: usize) -> Devnet {
    let devnet = start_devnet(dir, nodes);
    let rpc = devnet.rpcs[0].clone();
    wait_for("the first blocks", Duration::from_secs(90), || {
        height(&rpc) >= 2
    });
    devnet
}
