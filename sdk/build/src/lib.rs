//! Building contracts for `wasm32-unknown-unknown`: installs the target when it is missing,
//! compiles with a size-optimized release profile, and strips the custom sections the engine
//! never reads (symbol names, wit-bindgen's component metadata), keeping `bot:abi`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The release profile every contract is built with, whatever its manifest says: small code,
/// panics that abort (the SDK still reports their message), no debug info or symbol names,
/// a 64 KiB stack and a memory of at most 1 MiB.
///
/// Every initial page of a contract's memory is paid for by each instance (an adversary can
/// touch them all), and rustc's default 1 MiB stack makes 17 of them. The stack comes first in
/// memory, so a contract that outgrows it traps (out of bounds memory access) instead of
/// overwriting its data. Loads and stores cost more in a module whose memory may grow larger
/// (a large memory lets every load miss the caches), so the maximum is declared: 16 pages
/// hold the largest value a contract may store about three times over, beside the stack.
pub const SIZE_PROFILE: &[&str] = &[
    "profile.release.opt-level=\"z\"",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.panic=\"abort\"",
    "profile.release.debug=false",
    "profile.release.strip=true",
    "target.wasm32-unknown-unknown.rustflags=[\"-C\", \"link-arg=-zstack-size=65536\", \"-C\", \"link-arg=--max-memory=1048576\"]",
];

/// Installs the wasm32 target with rustup unless the active toolchain already has it.
pub fn ensure_wasm_target() -> Result<()> {
    let sysroot = Command::new(rustc())
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).exists() {
        return Ok(());
    }
    eprintln!("installing the {WASM_TARGET} target with rustup (once)...");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .context("running rustup target add; install rustup or add the target yourself")?;
    if !status.success() {
        bail!("`rustup target add {WASM_TARGET}` failed ({status}); add the target and retry");
    }
    Ok(())
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    // A surrounding `cargo test` or `cargo run` sets variables meant for its own build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Builds every contract of the cargo workspace at `manifest` for wasm32 into `target_dir`
/// and returns the directory holding the `.wasm` files as cargo wrote them.
pub fn build_workspace(manifest: &Path, target_dir: &Path) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--workspace", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    for setting in SIZE_PROFILE {
        cmd.args(["--config", setting]);
    }
    let status = cmd
        .status()
        .with_context(|| format!("running cargo build for {}", manifest.display()))?;
    if !status.success() {
        bail!(
            "building the contracts of {} failed ({status}); see cargo's output above",
            manifest.display()
        );
    }
    Ok(target_dir.join(WASM_TARGET).join("release"))
}

/// A contract `build_project` produced.
#[derive(Clone, Debug)]
pub struct Built {
    /// The crate's library name (`counter`, `my_sensor`).
    pub name: String,
    /// The stripped `.wasm`, ready to deploy.
    pub wasm: PathBuf,
    pub size: usize,
    /// The ABI its `bot:abi` section describes, if it has one.
    pub abi: Option<bot_abi::ContractAbi>,
}

/// The `cdylib` library names of the packages in the cargo project at `dir`.
fn contract_names(manifest: &Path) -> Result<Vec<String>> {
    let out = cargo()
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(manifest)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed for {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let mut names = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        for target in package["targets"].as_array().into_iter().flatten() {
            let kinds = target["crate_types"].as_array().into_iter().flatten();
            if kinds.filter_map(|k| k.as_str()).any(|k| k == "cdylib")
                && let Some(name) = target["name"].as_str()
            {
                names.push(name.replace('-', "_"));
            }
        }
    }
    Ok(names)
}

/// Builds the contract project at `dir` (a package or a workspace of contracts): cargo build
/// for wasm32 with [`SIZE_PROFILE`] into `target_dir` (default `dir/target`), then writes each
/// stripped `.wasm` to `target_dir/bot/`.
pub fn build_project(dir: &Path, target_dir: Option<&Path>) -> Result<Vec<Built>> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!(
            "{} has no Cargo.toml: run this in a contract project (create one with `cargo bot new`) or pass --path",
            dir.display()
        );
    }
    let names = contract_names(&manifest)?;
    if names.is_empty() {
        bail!(
            "{} builds no contract: a contract is a library with `crate-type = [\"cdylib\"]`",
            manifest.display()
        );
    }
    let target_dir = target_dir.map_or_else(|| dir.join("target"), Path::to_path_buf);
    let out = build_workspace(&manifest, &target_dir)?;
    let bot_dir = target_dir.join("bot");
    std::fs::create_dir_all(&bot_dir).with_context(|| format!("creating {}", bot_dir.display()))?;
    names
        .into_iter()
        .map(|name| {
            let built = out.join(format!("{name}.wasm"));
            let wasm =
                std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
            let stripped =
                strip(&wasm).with_context(|| format!("stripping {}", built.display()))?;
            let abi = abi_of(&stripped)?;
            let path = bot_dir.join(format!("{name}.wasm"));
            std::fs::write(&path, &stripped)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(Built {
                name,
                wasm: path,
                size: stripped.len(),
                abi,
            })
        })
        .collect()
}

/// The module without custom sections other than `bot:abi`: the rest (names, producers,
/// wit-bindgen's component type) is never read by the engine, and every byte is stored on
/// every node.
pub fn strip(wasm: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm
        .get(..8)
        .context("not a wasm module: shorter than its header")?
        .to_vec();
    // Sections follow each other: each one's header starts where the previous one ended.
    let mut header = out.len();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.context("the module does not parse")?;
        let Some((_, contents)) = payload.as_section() else {
            continue;
        };
        let end = usize::try_from(contents.end).context("a section ends past the address space")?;
        let section = header..end;
        header = end;
        if let wasmparser::Payload::CustomSection(reader) = &payload
            && reader.name() != bot_abi::SECTION
        {
            continue;
        }
        out.extend_from_slice(&wasm[section]);
    }
    Ok(out)
}

/// The ABI a module's `bot:abi` section describes, if it has one.
pub fn abi_of(wasm: &[u8]) -> Result<Option<bot_abi::ContractAbi>> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(reader) =
            payload.context("the module does not parse")?
            && reader.name() == bot_abi::SECTION
        {
            return Ok(Some(
                bot_abi::ContractAbi::from_section(reader.data())
                    .context("reading the bot:abi section")?,
            ));
        }
    }
    Ok(None)
}

/// This repository's root, for tools run from a checkout (the SDK, the templates, examples).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
