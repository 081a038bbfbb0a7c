//! Building contracts for `wasm32-unknown-unknown`, installing the target when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

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

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// Builds every contract of the cargo workspace at `manifest` in release mode for wasm32 into
/// `target_dir`, and returns the directory holding the `.wasm` files.
pub fn build_workspace(manifest: &Path, target_dir: &Path) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release", "--workspace", "--target", WASM_TARGET])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // A surrounding `cargo test` or `cargo run` sets variables meant for its own build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(var);
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

/// The repository root, for tools run from inside this repository.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}
