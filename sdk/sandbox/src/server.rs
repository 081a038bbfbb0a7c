//! The `cargo bot sandbox` process a [`crate::Sandbox`] talks to: found, started, asked one
//! JSON line at a time, and stopped when the sandbox is dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

/// The environment variable naming the `cargo-bot` whose engine runs the contracts (else the
/// one on `PATH`). `cargo bot new` sets it in a project's `.cargo/config.toml`.
pub const SANDBOX_BIN_VAR: &str = "BOT_SANDBOX_BIN";

/// The version of the request/answer lines (`cargo bot sandbox` documents them); the server
/// says its own first. Bump with any change to them.
pub const PROTOCOL_VERSION: u64 = 1;

pub(crate) struct Server {
    bin: PathBuf,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// The `cargo-bot` to start: [`SANDBOX_BIN_VAR`] if it names a file, else `cargo-bot` on
/// `PATH`.
fn find_bin() -> Result<PathBuf> {
    let exe = format!("cargo-bot{}", std::env::consts::EXE_SUFFIX);
    let named = std::env::var_os(SANDBOX_BIN_VAR).map(PathBuf::from);
    if let Some(bin) = &named
        && bin.is_file()
    {
        return Ok(bin.clone());
    }
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(&exe))
        .find(|candidate| candidate.is_file());
    if let Some(bin) = on_path {
        return Ok(bin);
    }
    let named = match named {
        Some(bin) => format!(
            "{SANDBOX_BIN_VAR} names {}, which does not exist",
            bin.display()
        ),
        None => format!("{SANDBOX_BIN_VAR} is not set"),
    };
    bail!(
        "bot-sandbox runs contracts on the engine inside cargo-bot, and there is none to start: \
         {named}, and no {exe} is on PATH. Install it (`cargo install --path <bot checkout>/cli`) \
         or set {SANDBOX_BIN_VAR} to a cargo-bot"
    )
}

impl Server {
    pub(crate) fn start(bin: Option<PathBuf>, compiler: &str) -> Result<Server> {
        let bin = match bin {
            Some(bin) => bin,
            None => find_bin()?,
        };
        let mut child = Command::new(&bin)
            .args(["bot", "sandbox", "--compiler", compiler])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} bot sandbox", bin.display()))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut server = Server {
            bin,
            child,
            stdin: Some(stdin),
            stdout,
        };
        let hello = server.read().with_context(|| {
            format!(
                "{} bot sandbox did not greet: is it a cargo-bot with the sandbox command?",
                server.bin.display()
            )
        })?;
        match hello["bot_sandbox"].as_u64() {
            Some(PROTOCOL_VERSION) => Ok(server),
            other => bail!(
                "{} speaks sandbox protocol {}; this bot-sandbox speaks {PROTOCOL_VERSION}: use a \
                 cargo-bot and a bot-sandbox of the same release",
                server.bin.display(),
                other.map_or("(none)".to_string(), |v| v.to_string())
            ),
        }
    }

    fn read(&mut self) -> Result<Value> {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line)?;
        if n == 0 {
            bail!("{} bot sandbox exited", self.bin.display());
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// Sends one request and reads its answer; `{"error": message}` is an `Err`.
    pub(crate) fn request(&mut self, request: &Value) -> Result<Value> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow!("the sandbox is closed"))?;
        let mut line = serde_json::to_vec(request)?;
        line.push(b'\n');
        stdin
            .write_all(&line)
            .and_then(|()| stdin.flush())
            .with_context(|| format!("{} bot sandbox stopped", self.bin.display()))?;
        let answer = self.read()?;
        match answer.get("error") {
            Some(Value::String(message)) => Err(anyhow!("{message}")),
            _ => Ok(answer),
        }
    }
}

impl Drop for Server {
    /// Closing its input ends the server; wait so no process outlives the sandbox.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
