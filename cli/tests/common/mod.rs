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
