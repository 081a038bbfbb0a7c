//! `cargo bot`: build, check and run bot contracts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use bot_engine::{Engine, EngineConfig};
use clap::{Parser, Subcommand};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "cargo bot",
    version,
    about = "Build, check and run bot smart contracts"
)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a .wasm file against the deploy rules: ABI, features and limits.
    Check {
        /// The contract's .wasm file.
        file: PathBuf,
    },
    /// Print the ABI a contract carries (its methods, arguments and results) as JSON.
    Abi {
        /// The contract's .wasm file.
        file: PathBuf,
    },
    /// Build the counter example and run it on the engine, showing results and gas.
    Demo,
}

fn main() -> ExitCode {
    // `cargo bot ...` runs us as `cargo-bot bot ...`.
    let args = std::env::args_os()
        .enumerate()
        .filter(|(i, a)| !(*i == 1 && a == "bot"))
        .map(|(_, a)| a);
    let cli = Cli::parse_from(args);
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            if cli.json {
                println!(
                    "{}",
                    json!({ "status": "error", "error": { "kind": "tool", "message": format!("{e:#}") } })
                );
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Check { file } => check(cli.json, file),
        Command::Abi { file } => abi(file),
        Command::Demo => demo(cli.json),
    }
}

fn check(json: bool, file: &std::path::Path) -> Result<ExitCode> {
    let engine = Engine::new(EngineConfig::default())?;
    match cargo_bot::check::check_file(&engine, file)? {
        Ok(module) => {
            if json {
                println!(
                    "{}",
                    json!({
                        "status": "ok",
                        "file": file.display().to_string(),
                        "size": module.wasm.len(),
                        "code_hash": module.code_hash.to_hex(),
                        "functions": module.functions.len(),
                        "imports": module.imports.iter().map(|(m, n)| format!("{m}#{n}")).collect::<Vec<_>>(),
                        "abi": module.abi.as_deref(),
                    })
                );
            } else {
                println!("ok: {} passes the deploy check", file.display());
                println!("  size       {} bytes", module.wasm.len());
                println!("  code hash  {}", module.code_hash);
                println!("  functions  {}", module.functions.len());
                println!("  imports    {}", module.imports.len());
                match &module.abi {
                    Some(abi) => {
                        let methods: Vec<String> =
                            abi.methods.iter().map(|m| m.name.clone()).collect();
                        println!(
                            "  abi        {} (contract {}): {}",
                            abi.abi_version,
                            abi.contract,
                            methods.join(", ")
                        );
                    }
                    None => println!("  abi        none (built without #[bot_sdk::contract])"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    json!({ "status": "error", "file": file.display().to_string(), "error": { "kind": "validation", "message": e.to_string() } })
                );
            } else {
                eprintln!("error: {} fails the deploy check: {e}", file.display());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn abi(file: &std::path::Path) -> Result<ExitCode> {
    let engine = Engine::new(EngineConfig::default())?;
    let module = match cargo_bot::check::check_file(&engine, file)? {
        Ok(module) => module,
        Err(e) => anyhow::bail!("{} fails the deploy check: {e}", file.display()),
    };
    let Some(abi) = module.abi else {
        anyhow::bail!(
            "{} carries no bot:abi section: build it with #[bot_sdk::contract] to describe its methods",
            file.display()
        );
    };
    println!("{}", serde_json::to_string_pretty(&*abi)?);
    Ok(ExitCode::SUCCESS)
}

fn demo(json: bool) -> Result<ExitCode> {
    let steps = cargo_bot::demo::run()?;
    let decode = |bytes: &[u8]| -> Option<u64> { bytes.try_into().ok().map(u64::from_le_bytes) };
    if json {
        let rows: Vec<_> = steps
            .iter()
            .map(|s| {
                json!({
                    "method": s.method,
                    "arg": s.arg,
                    "status": if s.outcome.result.is_ok() { "ok" } else { "error" },
                    "result": s.outcome.result.as_ref().ok().and_then(|b| decode(b)),
                    "error": s.outcome.result.as_ref().err().map(|f| f.to_string()),
                    "gas_used": s.outcome.gas_used,
                    "singlepass_gas_used": s.singlepass_gas,
                    "events": s.outcome.events.iter().map(|e| &e.name).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", json!({ "contract": "counter", "steps": rows }));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "counter.wasm deployed at {} on in-memory state",
        cargo_bot::demo::CONTRACT
    );
    println!(
        "{:<18} {:>8} {:>12} {:>12}  events",
        "call", "result", "gas", "singlepass"
    );
    for s in &steps {
        let call = match s.arg {
            Some(v) => format!("{}({v})", s.method),
            None => format!("{}()", s.method),
        };
        let result = match &s.outcome.result {
            Ok(bytes) => decode(bytes).map_or_else(
                || {
                    if bytes.is_empty() {
                        "()".into()
                    } else {
                        hex::encode(bytes)
                    }
                },
                |v| v.to_string(),
            ),
            Err(f) => f.to_string(),
        };
        let events: Vec<&str> = s.outcome.events.iter().map(|e| e.name.as_str()).collect();
        println!(
            "{call:<18} {result:>8} {:>12} {:>12}  {}",
            s.outcome.gas_used,
            s.singlepass_gas,
            events.join(",")
        );
    }
    println!("cranelift and singlepass agree on every result, write and gas figure");
    Ok(ExitCode::SUCCESS)
}
