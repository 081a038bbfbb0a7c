//! A local devnet: N validators on loopback, each a `cargo-bot node` process with its own home
//! under the devnet's directory. The first start writes genesis, keys and ports; later starts
//! resume from disk.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bot_chain::{Genesis, Keypair, Mode};
use bot_node::{Home, NodeConfig};
use serde_json::{Value, json};

use crate::client::{DEV_ACCOUNTS, Rpc};

pub const CHAIN_ID: &str = "bot-devnet";

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn node_home(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("node{i}"))
}

/// Writes a new devnet of `n` validators into `dir` (which must not hold one).
pub fn init(dir: &Path, n: usize) -> Result<()> {
    init_with_accounts(dir, n, &[])
}

/// [`init`], with `extra` accounts funded and permitted next to the named dev accounts.
pub fn init_with_accounts(dir: &Path, n: usize, extra: &[bot_engine::Address]) -> Result<()> {
    if n == 0 || n > 32 {
        bail!("--nodes is between 1 and 32, not {n}");
    }
    let keys: Vec<Keypair> = (0..n)
        .map(|i| Keypair::dev(&format!("{CHAIN_ID}/validator{i}")))
        .collect();
    let validators = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Genesis::validator(&format!("node{i}"), k, 1))
        .collect();
    let accounts: Vec<_> = DEV_ACCOUNTS
        .iter()
        .map(|a| Keypair::dev(a).address())
        .chain(extra.iter().copied())
        .collect();
    let time_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let genesis = Genesis::new(CHAIN_ID, time_ms, validators, &accounts, Mode::Consortium);
    let mut configs = Vec::new();
    for i in 0..n {
        configs.push(NodeConfig::loopback(
            &format!("node{i}"),
            free_port()?,
            free_port()?,
            free_port()?,
        ));
    }
    for i in 0..n {
        let mut config = configs[i].clone();
        for (j, other) in configs.iter().enumerate() {
            if j != i {
                config.p2p_peers.push(other.p2p_listen.clone());
                config.gossip_peers.push(other.gossip_listen.clone());
            }
        }
        Home::new(node_home(dir, i)).init(&config, &genesis, &keys[i])?;
    }
    Ok(())
}

/// The validators' homes in `dir`, in order.
pub fn homes(dir: &Path) -> Vec<PathBuf> {
    (0..)
        .map(|i| node_home(dir, i))
        .take_while(|h| h.join("node.json").exists())
        .collect()
}

pub struct Devnet {
    pub dir: PathBuf,
    pub children: Vec<Child>,
    pub rpcs: Vec<String>,
}

impl Devnet {
    /// Starts every validator in `dir` as a `node` process of this executable, waits for each
    /// RPC to answer, and writes `devnet.json`.
    pub fn start(dir: &Path) -> Result<Devnet> {
        let homes = homes(dir);
        if homes.is_empty() {
            bail!("{} holds no devnet", dir.display());
        }
        let exe = std::env::current_exe().context("finding this executable")?;
        let mut children = Vec::new();
        let mut rpcs = Vec::new();
        for home in &homes {
            let config = Home::new(home).config()?;
            let log = std::fs::File::create(home.join("node.log"))?;
            let child = Command::new(&exe)
                .args(["node", "--home"])
                .arg(home)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?;
            children.push(child);
            rpcs.push(format!("http://{}", config.rpc_listen));
        }
        let devnet = Devnet {
            dir: dir.to_path_buf(),
            children,
            rpcs,
        };
        devnet.write_file()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        for (i, url) in devnet.rpcs.iter().enumerate() {
            while Rpc::new(url).status().is_err() {
                if Instant::now() > deadline {
                    bail!(
                        "validator {i} did not answer on {url} within 60s; see {}",
                        homes[i].join("node.log").display()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(devnet)
    }

    pub fn describe(&self) -> Value {
        json!({
            "chain_id": CHAIN_ID,
            "validators": self.children.iter().zip(&self.rpcs).enumerate().map(|(i, (c, rpc))| json!({
                "home": node_home(&self.dir, i).display().to_string(),
                "rpc": rpc,
                "pid": c.id(),
            })).collect::<Vec<_>>(),
        })
    }

    fn write_file(&self) -> Result<()> {
        let path = self.dir.join("devnet.json");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&self.describe())? + "\n",
        )
        .with_context(|| format!("writing {}", path.display()))
    }

    /// Stops every validator (SIGTERM, then SIGKILL after 10 s) and waits for them.
    pub fn stop(&mut self) {
        for child in &mut self.children {
            terminate(child);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for child in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Clients look for a running devnet here; this one is gone.
        let _ = std::fs::remove_file(self.dir.join("devnet.json"));
    }
}

/// Asks a child to stop cleanly.
pub fn terminate(child: &Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    #[cfg(not(unix))]
    {
        let _ = child;
    }
}
