//! `cargo bot`: build, check and run bot contracts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
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
    /// The node's JSON-RPC URL (default: $BOT_RPC, else the local devnet's first validator).
    #[arg(long, global = true)]
    rpc: Option<String>,
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
    /// Build the counter example, run it on the engine (both compilers), then on a fresh local
    /// devnet: deploy, call, query.
    Demo {
        /// Validators in the demo's devnet.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
    },
    /// Create a contract project from a template (works offline).
    New {
        /// The project's name, also its folder's.
        name: String,
        /// counter, device-telemetry or service-access.
        #[arg(long, default_value = "counter")]
        template: String,
        /// The folder to create the project in.
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Build the contract project for wasm32 (size-optimized), check it, and show its ABI.
    Build {
        /// The project folder.
        #[arg(long, default_value = ".")]
        path: PathBuf,
    },
    /// Run a contract method on the real engine over local state, with JSON arguments.
    Run {
        /// The contract's .wasm file.
        file: PathBuf,
        #[command(flatten)]
        method: MethodArgs,
        /// Gas the call may use.
        #[arg(long)]
        gas_limit: Option<u64>,
        #[arg(long, value_enum, default_value = "cranelift")]
        compiler: CompilerArg,
    },
    /// Serve the engine to a contract project's tests: the `bot-sandbox` crate starts this
    /// and sends one JSON request per line on stdin (so projects never compile the engine).
    Sandbox {
        #[arg(long, value_enum, default_value = "cranelift")]
        compiler: CompilerArg,
    },
    /// Start a local devnet of N validators on loopback (resumes from disk), until Ctrl-C.
    Devnet {
        /// How many validators (default 1 for a new devnet).
        #[arg(long)]
        nodes: Option<usize>,
        /// The devnet's folder (default ~/.bot/devnet, or $BOT_HOME/devnet).
        #[arg(long)]
        home: Option<PathBuf>,
        /// Delete the devnet's state and start a new chain.
        #[arg(long)]
        reset: bool,
    },
    /// Run one validator from its home (what `devnet` runs N of).
    Node {
        /// The validator's home, e.g. ~/.bot/devnet/node0.
        #[arg(long)]
        home: PathBuf,
    },
    /// Manage signing keys (kept in ~/.bot/keys; devnet accounts need none).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Upload a contract's code and instantiate it; prints its address.
    Deploy {
        /// The contract's .wasm file.
        file: PathBuf,
        /// Run this method as the contract's initializer.
        #[arg(long)]
        init: Option<String>,
        /// The initializer's arguments: a JSON object keyed by parameter name.
        #[arg(long)]
        init_args: Option<String>,
        /// Salt for the contract's address (default: unique per deployment).
        #[arg(long)]
        salt: Option<String>,
        /// The signing key's name.
        #[arg(long, default_value = "alice")]
        from: String,
    },
    /// Call a contract method in a transaction and wait for its receipt.
    Call {
        /// The contract's address (0x + 40 hex digits).
        contract: String,
        method: String,
        /// The arguments: a JSON object keyed by parameter name, e.g. '{"by": 2}'.
        #[arg(long)]
        args: Option<String>,
        #[arg(long, default_value = "alice")]
        from: String,
        /// Gas the transaction may use (default: estimated by a dry run, with margin).
        #[arg(long)]
        gas_limit: Option<u64>,
    },
    /// Run a read-only contract method on the latest state (no transaction).
    Query {
        contract: String,
        method: String,
        #[arg(long)]
        args: Option<String>,
    },
    /// Show a transaction and its receipt.
    Tx {
        /// The transaction's hash.
        hash: String,
    },
    /// Show a block by height, 0x hash or `latest`.
    Block { id: String },
    /// The chain's height, app hash and peers as the node sees them.
    Status,
    /// Devices (Y.4464 10.6): register, update, rotate-key, transfer, set-gateway, list, show,
    /// report signed readings, list the commands they are sent and answer them.
    Device {
        #[command(subcommand)]
        command: cargo_bot::iot_cmds::DeviceCommand,
    },
    /// IoT services (10.3): register a contract as a service with its access policy; list, show.
    Service {
        #[command(subcommand)]
        command: cargo_bot::iot_cmds::ServiceCommand,
    },
    /// Access grants (10.4 to 10.7): add, revoke, list, and check one against a state proof.
    Grant {
        #[command(subcommand)]
        command: cargo_bot::iot_cmds::GrantCommand,
    },
    /// IoT data (10.7): a stream's latest reading or a range, and audit trails.
    Data {
        #[command(subcommand)]
        command: cargo_bot::iot_cmds::DataCommand,
    },
    /// Follow the chain live: blocks and the events of their transactions (readings, device
    /// changes, grants, access records, contract events), one line each (`--json`: one JSON
    /// object per line).
    Watch {
        /// Only events of this device, service or contract (an address, a device or key name).
        #[arg(long)]
        subject: Option<String>,
        /// Only events with this name, e.g. device.reading.
        #[arg(long)]
        event: Option<String>,
        /// Start after this height (default: the head).
        #[arg(long)]
        from: Option<u64>,
        /// Stop after this many blocks.
        #[arg(long)]
        blocks: Option<u64>,
        /// Show only blocks with matching events.
        #[arg(long)]
        quiet: bool,
    },
    /// A simulated gateway: registers N constrained devices behind it and streams their
    /// signed readings, so the IoT flow runs without hardware.
    Gateway {
        #[command(subcommand)]
        command: GatewayCommand,
    },
    /// Measure: `gas` prices a contract method (or calibrates the cost table), `tps` floods a
    /// devnet with signed counter calls.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

/// A contract method to run on local state: what `run` and `bench gas` share.
#[derive(clap::Args)]
struct MethodArgs {
    /// Keep the state in this folder between runs (ephemeral without it).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Initialize first with this method.
    #[arg(long)]
    init: Option<String>,
    /// The init method's arguments: a JSON object keyed by parameter name.
    #[arg(long)]
    init_args: Option<String>,
    /// The method to call.
    #[arg(long)]
    call: Option<String>,
    /// Its arguments: a JSON object keyed by parameter name, e.g. '{"by": 2}'.
    #[arg(long)]
    args: Option<String>,
    /// The calling account: 0x + 40 hex digits, or a name such as `alice`.
    #[arg(long)]
    caller: Option<String>,
}

impl MethodArgs {
    fn run_args(
        &self,
        file: &std::path::Path,
        gas_limit: Option<u64>,
        compiler: bot_engine::Compiler,
    ) -> cargo_bot::run::RunArgs {
        cargo_bot::run::RunArgs {
            file: file.to_path_buf(),
            state: self.state.clone(),
            init: self.init.clone(),
            init_args: self.init_args.clone(),
            call: self.call.clone(),
            args: self.args.clone(),
            caller: self.caller.clone(),
            gas_limit,
            compiler,
        }
    }
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Gas of a contract method with its breakdown (wasm instructions, each host function,
    /// storage bytes); or, with --calibrate, the cost table measured against this machine.
    Gas {
        /// The contract's .wasm file (not with --calibrate).
        file: Option<PathBuf>,
        /// The method and its initializer, as `cargo bot run` takes them (both measured).
        #[command(flatten)]
        method: MethodArgs,
        /// Time every instruction class and host function and compare each with the gas
        /// unit; fails if any is off by more than 25%.
        #[arg(long)]
        calibrate: bool,
        /// With --calibrate: only rows whose name contains this.
        #[arg(long, requires = "calibrate")]
        only: Option<String>,
        /// With --calibrate: timed runs per row and pass (the median is kept).
        #[arg(long, default_value_t = 5, requires = "calibrate")]
        repeats: usize,
        /// With --calibrate: also time every row on Singlepass, in the same run, and show its
        /// time per gas over Cranelift's (`sp/cl`); about twice as long.
        #[arg(long, requires = "calibrate")]
        singlepass: bool,
    },
    /// Sustained committed tx/s and submit-to-commit latency of a devnet (started for the run
    /// unless --rpc names a node), with the nodes' memory.
    Tps {
        /// Validators of the devnet started for the run.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 20)]
        duration: u64,
        /// Signing accounts (with --rpc: at most the 8 devnet accounts).
        #[arg(long, default_value_t = 64)]
        accounts: usize,
        /// Transactions each account keeps in flight.
        #[arg(long, default_value_t = 64)]
        window: u32,
    },
}

#[derive(Subcommand)]
enum GatewayCommand {
    /// Register `--devices` P-256 devices (those not yet on the chain) and send `--rate`
    /// readings per second among them for `--duration` seconds.
    Simulate {
        #[arg(long, default_value_t = 3)]
        devices: usize,
        #[arg(long, default_value_t = 2.0)]
        rate: f64,
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// The gateway's signing key.
        #[arg(long, default_value = "bob")]
        from: String,
        /// Who owns the devices (default: the gateway).
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, default_value = "temperature")]
        stream: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key from the system's randomness.
    New { name: String },
    /// List stored keys and the devnet accounts.
    List,
    /// Show a key's address and public key.
    Show { name: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CompilerArg {
    Cranelift,
    Singlepass,
}

impl From<CompilerArg> for bot_engine::Compiler {
    fn from(c: CompilerArg) -> bot_engine::Compiler {
        match c {
            CompilerArg::Cranelift => bot_engine::Compiler::Cranelift,
            CompilerArg::Singlepass => bot_engine::Compiler::Singlepass,
        }
    }
}

fn main() -> ExitCode {
    // cargo-generate fills a template's `authors` from the environment and fails without a
    // user name, which minimal machines and CI containers do not set.
    const NAME_VARS: [&str; 6] = [
        "CARGO_NAME",
        "GIT_AUTHOR_NAME",
        "GIT_COMMITTER_NAME",
        "USER",
        "USERNAME",
        "NAME",
    ];
    if NAME_VARS.iter().all(|v| std::env::var_os(v).is_none()) {
        // SAFETY: nothing else runs yet; no other thread can read the environment meanwhile.
        unsafe { std::env::set_var("CARGO_NAME", "bot developer") };
    }
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
    let rpc = || -> Result<cargo_bot::client::Rpc> {
        Ok(cargo_bot::client::Rpc::new(
            &cargo_bot::client::resolve_rpc(cli.rpc.as_deref())?,
        ))
    };
    match &cli.command {
        Command::Devnet { nodes, home, reset } => {
            init_logs();
            let dir = home
                .clone()
                .unwrap_or_else(cargo_bot::client::default_devnet_home);
            cargo_bot::chain_cmds::devnet(cli.json, &dir, *nodes, *reset)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Node { home } => {
            init_logs();
            cargo_bot::chain_cmds::node(home)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { command } => keys(cli.json, command),
        Command::Deploy {
            file,
            init,
            init_args,
            salt,
            from,
        } => {
            let d = cargo_bot::chain_cmds::deploy(
                &rpc()?,
                from,
                file,
                init.as_deref(),
                init_args.as_deref(),
                salt.as_deref(),
            )?;
            if cli.json {
                println!("{}", d.out);
            } else if d.ok {
                println!(
                    "deployed {} at {}",
                    file.display(),
                    d.out["address"].as_str().unwrap_or_default()
                );
                println!(
                    "  code hash  {}",
                    d.out["code_hash"].as_str().unwrap_or_default()
                );
                println!(
                    "  tx         {} (block {})",
                    d.out["tx_hash"].as_str().unwrap_or_default(),
                    d.out["height"]
                );
                println!(
                    "  gas used   {} (upload {})",
                    d.out["gas_used"], d.out["upload_gas_used"]
                );
            } else {
                println!("deploy FAILED: {}", serde_json::to_string_pretty(&d.out)?);
            }
            Ok(if d.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Call {
            contract,
            method,
            args,
            from,
            gas_limit,
        } => {
            let (receipt, ok) = cargo_bot::chain_cmds::call(
                &rpc()?,
                from,
                contract,
                method,
                args.as_deref(),
                *gas_limit,
            )?;
            print_receipt(cli.json, method, &receipt);
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Device { command } => {
            print_iot(cli.json, cargo_bot::iot_cmds::device(&rpc()?, command)?)
        }
        Command::Service { command } => {
            print_iot(cli.json, cargo_bot::iot_cmds::service(&rpc()?, command)?)
        }
        Command::Grant { command } => {
            print_iot(cli.json, cargo_bot::iot_cmds::grant(&rpc()?, command)?)
        }
        Command::Data { command } => {
            print_iot(cli.json, cargo_bot::iot_cmds::data(&rpc()?, command)?)
        }
        Command::Watch {
            subject,
            event,
            from,
            blocks,
            quiet,
        } => {
            let subject = subject
                .as_deref()
                .map(cargo_bot::iot_cmds::device_or_account)
                .transpose()?
                .map(|a| a.to_string());
            let json = cli.json;
            cargo_bot::watch::watch(
                &rpc()?,
                &cargo_bot::watch::Watch {
                    from: *from,
                    subject,
                    event: event.clone(),
                    blocks: *blocks,
                    quiet_blocks: *quiet,
                },
                |item| {
                    if json {
                        println!("{item}");
                    } else {
                        println!("{}", cargo_bot::watch::line(item));
                    }
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Gateway {
            command:
                GatewayCommand::Simulate {
                    devices,
                    rate,
                    duration,
                    from,
                    owner,
                    stream,
                },
        } => {
            let summary = cargo_bot::gateway_sim::simulate(
                &rpc()?,
                &cargo_bot::gateway_sim::Simulation {
                    devices: *devices,
                    rate: *rate,
                    duration: std::time::Duration::from_secs(*duration),
                    gateway: from.clone(),
                    owner: owner.clone(),
                    stream: stream.clone(),
                },
                !cli.json,
            )?;
            if cli.json {
                println!("{summary}");
            } else {
                println!(
                    "sent {} readings ({} refused) from {} devices; committed through block {}",
                    summary["readings_sent"],
                    summary["readings_refused"],
                    summary["devices"].as_array().map_or(0, Vec::len),
                    summary["last_height"]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Query {
            contract,
            method,
            args,
        } => {
            let (out, ok) =
                cargo_bot::chain_cmds::query(&rpc()?, contract, method, args.as_deref())?;
            print_receipt(cli.json, method, &out);
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Tx { hash } => {
            let tx = cargo_bot::chain_cmds::tx(&rpc()?, hash)?;
            println!(
                "{}",
                if cli.json {
                    tx.to_string()
                } else {
                    serde_json::to_string_pretty(&tx)?
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Block { id } => {
            let block = cargo_bot::chain_cmds::block(&rpc()?, id)?;
            println!(
                "{}",
                if cli.json {
                    block.to_string()
                } else {
                    serde_json::to_string_pretty(&block)?
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            command:
                BenchCommand::Gas {
                    file,
                    method,
                    calibrate,
                    only,
                    repeats,
                    singlepass,
                },
        } => {
            if *calibrate {
                if file.is_some() || method.call.is_some() || method.init.is_some() {
                    bail!(
                        "--calibrate measures the engine, not a contract: drop the file, --call and --init"
                    );
                }
                let passed =
                    cargo_bot::bench_gas::calibrate(cli.json, only.clone(), *repeats, *singlepass)?;
                return Ok(if passed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            let Some(file) = file else {
                bail!(
                    "which contract? `cargo bot bench gas <file.wasm> --call METHOD`, or `--calibrate`"
                );
            };
            let report = cargo_bot::bench_gas::method(&method.run_args(
                file,
                None,
                bot_engine::Compiler::Cranelift,
            ))?;
            if cli.json {
                println!("{report}");
            } else {
                cargo_bot::bench_gas::print(&report);
            }
            let failed = ["init", "call"]
                .iter()
                .any(|k| report[k]["status"] == "error");
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Bench {
            command:
                BenchCommand::Tps {
                    nodes,
                    duration,
                    accounts,
                    window,
                },
        } => {
            let report = cargo_bot::bench_tps::run(&cargo_bot::bench_tps::TpsOptions {
                nodes: *nodes,
                duration: std::time::Duration::from_secs(*duration),
                accounts: *accounts,
                window: *window,
                rpc: cli.rpc.clone(),
                progress: !cli.json,
            })?;
            if cli.json {
                println!("{report}");
            } else {
                cargo_bot::bench_tps::print(&report)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let rpc = rpc()?;
            let status = rpc.status()?;
            if cli.json {
                println!("{status}");
            } else {
                println!(
                    "chain     {}",
                    status["chain_id"].as_str().unwrap_or_default()
                );
                println!("rpc       {}", rpc.url());
                println!("height    {}", status["height"]);
                println!(
                    "app hash  {}",
                    status["app_hash"].as_str().unwrap_or_default()
                );
                println!("peers     {}", status["peers"]);
                println!("mempool   {}", status["mempool"]);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file } => check(cli.json, file),
        Command::Abi { file } => abi(file),
        Command::Demo { nodes } => demo(cli.json, *nodes),
        Command::New {
            name,
            template,
            path,
        } => new(cli.json, name, template, path),
        Command::Build { path } => build(cli.json, path),
        Command::Run {
            file,
            method,
            gas_limit,
            compiler,
        } => run_contract(
            cli.json,
            method.run_args(file, *gas_limit, (*compiler).into()),
        ),
        Command::Sandbox { compiler } => {
            let stdin = std::io::stdin().lock();
            cargo_bot::sandbox_server::serve((*compiler).into(), stdin, std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
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

fn demo(json: bool, nodes: usize) -> Result<ExitCode> {
    let steps = cargo_bot::demo::run()?;
    let wasm = cargo_bot::demo::counter_wasm()?;
    if !json {
        println!("== 1. the engine: counter.wasm on in-memory state ==");
    }
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
        let devnet = cargo_bot::demo::on_devnet(&wasm, nodes)?;
        println!(
            "{}",
            json!({ "contract": "counter", "steps": rows, "devnet": devnet })
        );
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
    println!();
    println!("== 2. a local devnet: {nodes} validator(s) on loopback (Malachite BFT, redb) ==");
    let d = cargo_bot::demo::on_devnet(&wasm, nodes)?;
    let dep = &d["deploy"];
    println!(
        "deploy counter.wasm (alice)  -> {}   block {}  gas {} (+ upload {})",
        dep["address"].as_str().unwrap_or_default(),
        dep["height"],
        dep["gas_used"],
        dep["upload_gas_used"]
    );
    for (who, c) in ["alice", "bob"]
        .iter()
        .zip(d["calls"].as_array().into_iter().flatten())
    {
        println!(
            "call increment ({who:<5})       -> {:<4} block {}  gas {}  event {}",
            c["result"].to_string(),
            c["height"],
            c["gas_used"],
            c["events"][0]["data"]
        );
    }
    println!(
        "query get                    -> {:<4} gas {}",
        d["query"]["result"].to_string(),
        d["query"]["gas_used"]
    );
    println!();
    println!("== 3. things (Y.4464 clause 10): a device, its readings, a granted service ==");
    let iot = &d["iot"];
    println!(
        "register thermometer (alice) -> device {}   gas {}",
        iot["device"].as_str().unwrap_or_default(),
        iot["registered"]["gas_used"]
    );
    for r in iot["readings"].as_array().into_iter().flatten() {
        let reading = &r["events"][0]["data"];
        println!(
            "{:<28} -> {}   block {}  gas {}  (signed by the device key)",
            format!("report temperature #{}", reading["counter"]),
            reading["value"],
            r["height"],
            r["gas_used"]
        );
    }
    println!(
        "replay reading #3            -> refused: {}",
        iot["replay_refused"].as_str().unwrap_or_default()
    );
    println!(
        "data latest                  -> #{} {}",
        iot["latest"]["counter"], iot["latest"]["value"]
    );
    println!("counter registered as a service with policy `granted`");
    println!(
        "call increment (carol)       -> refused: {}",
        iot["ungranted_call_refused"].as_str().unwrap_or_default()
    );
    let called = &iot["granted_call"];
    println!(
        "grant carol, call again      -> {:<4} block {}  gas {}",
        called["result"].to_string(),
        called["height"],
        called["gas_used"]
    );
    for a in iot["audit"].as_array().into_iter().flatten() {
        println!(
            "audit #{}                     {} by {} under a grant from {}",
            a["seq"],
            a["action"].as_str().unwrap_or_default(),
            a["accessor"].as_str().unwrap_or_default(),
            a["granted_by"].as_str().unwrap_or("(owner)")
        );
    }
    println!(
        "grant check (off-chain)      -> granted {}, proof verified against the state root of block {}",
        iot["grant_check"]["granted"], iot["grant_check"]["verified_at"]["height"]
    );
    println!();
    println!(
        "== 4. device sociability (Y.4464 Appendix II.4): a washing machine buys detergent =="
    );
    let so = &d["sociability"];
    println!(
        "stores A (bob, 9) and B (carol, 7); alice's washer {} and its agent {}",
        so["washer"].as_str().unwrap_or_default(),
        so["agent"].as_str().unwrap_or_default()
    );
    println!(
        "rules: below 200 ml, 1 bottle, at most 8; the agent may read the level and command the washer"
    );
    println!(
        "washer reports 900 ml, check  -> {}   gas {}",
        so["full_check"]["result"], so["full_check"]["gas_used"]
    );
    let bought = &so["low_check"]["result"];
    println!(
        "washer reports 150 ml, check  -> ordered from {} at {}   gas {}",
        if bought["store"] == so["store_b"] {
            "B"
        } else {
            "A"
        },
        bought["price"],
        so["low_check"]["gas_used"]
    );
    println!(
        "command to the washer         -> #{} {} {}",
        so["command"]["id"],
        so["command"]["command"].as_str().unwrap_or_default(),
        so["command"]["payload_value"]
    );
    println!(
        "washer answers (signed)       -> acknowledged {}, callback gas {}",
        so["last_purchase"]["acknowledged"],
        so["acknowledged"]["events"]
            .as_array()
            .and_then(|es| es.iter().find(|e| e["name"] == "command.callback"))
            .map_or(serde_json::Value::Null, |e| e["data"]["gas_used"].clone())
    );
    println!(
        "agent's credit at store B     -> {}",
        so["agent_credit_at_b"]
    );
    println!();
    println!(
        "chain at height {}, app hash {}",
        d["status"]["height"],
        d["status"]["app_hash"].as_str().unwrap_or_default()
    );
    println!("devnet stopped; `cargo bot devnet` runs one that stays up (see README)");
    Ok(ExitCode::SUCCESS)
}

fn new(json: bool, name: &str, template: &str, path: &std::path::Path) -> Result<ExitCode> {
    let project = cargo_bot::new::new_project(name, template, path)?;
    if json {
        println!(
            "{}",
            json!({ "status": "ok", "path": project.display().to_string(), "template": template })
        );
    } else {
        println!("created {} from the {template} template", project.display());
        println!("next:");
        println!("  cd {}", project.display());
        println!(
            "  cargo test        # unit tests on a mock chain, then the wasm on the real engine"
        );
        println!("  cargo bot build   # target/bot/*.wasm with its size, code hash and ABI");
    }
    Ok(ExitCode::SUCCESS)
}

fn build(json: bool, path: &std::path::Path) -> Result<ExitCode> {
    // Progress goes to stderr (cargo's own lines follow), so `--json` stdout stays parseable.
    eprintln!(
        "building {} for wasm32-unknown-unknown (release, size-optimized)...",
        path.display()
    );
    let built = cargo_bot::build::build_project(path, None)?;
    let engine = Engine::new(EngineConfig::default())?;
    let mut rows = Vec::new();
    let mut ok = true;
    for contract in &built {
        let module = cargo_bot::check::check_file(&engine, &contract.wasm)?;
        let (hash, error) = match &module {
            Ok(m) => (m.code_hash.to_hex(), None),
            Err(e) => {
                ok = false;
                (String::new(), Some(e.to_string()))
            }
        };
        let abi = contract.abi.as_ref();
        rows.push(json!({
            "name": contract.name,
            "wasm": contract.wasm.display().to_string(),
            "size": contract.size,
            "code_hash": hash,
            "status": if error.is_none() { "ok" } else { "error" },
            "error": error.as_ref().map(|m| json!({ "kind": "validation", "message": m })),
            "abi": abi,
        }));
        if !json {
            println!("built {}", contract.wasm.display());
            println!("  size       {} bytes", contract.size);
            match &error {
                None => println!("  code hash  {hash}"),
                Some(e) => println!("  deploy check FAILED: {e}"),
            }
            match abi {
                Some(abi) => {
                    println!(
                        "  contract   {} (state version {}, ABI {})",
                        abi.contract, abi.state_version, abi.abi_version
                    );
                    for m in &abi.methods {
                        let args: Vec<String> = m
                            .args
                            .iter()
                            .map(|a| format!("{}: {}", a.name, a.ty))
                            .collect();
                        println!(
                            "    {:<8} {}({}) -> {}",
                            format!("{:?}", m.kind).to_lowercase(),
                            m.name,
                            args.join(", "),
                            m.returns
                        );
                    }
                    for e in &abi.events {
                        println!("    event    {} ({})", e.name, e.ty);
                    }
                    for e in &abi.errors {
                        println!("    error    {} {}: {}", e.code, e.name, e.message);
                    }
                }
                None => println!("  abi        none (built without #[bot_sdk::contract])"),
            }
        }
    }
    if json {
        let out = if rows.len() == 1 {
            rows.remove(0)
        } else {
            json!(rows)
        };
        println!("{out}");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_contract(json: bool, args: cargo_bot::run::RunArgs) -> Result<ExitCode> {
    let run = cargo_bot::run::run(&args)?;
    let failed = [&run.init, &run.call]
        .into_iter()
        .flatten()
        .any(|r| !r.is_ok());
    if json {
        let mut out = match (&run.call, &run.init) {
            (Some(call), _) => call.to_json(),
            (None, Some(init)) => init.to_json(),
            (None, None) => json!({}),
        };
        if let (Some(_), Some(init)) = (&run.call, &run.init) {
            out["init"] = init.to_json();
        }
        out["contract"] = json!(run.address.to_string());
        println!("{out}");
    } else {
        println!("contract at {}", run.address);
        for (what, receipt) in [("init", &run.init), ("call", &run.call)] {
            let Some(r) = receipt else { continue };
            let j = r.to_json();
            match &r.result {
                Ok(_) => println!(
                    "{what:<5} {} -> {}   gas {}",
                    r.method, j["result"], r.gas_used
                ),
                Err(f) => {
                    let name = j["error"]["name"]
                        .as_str()
                        .map(|n| format!(" {n}"))
                        .unwrap_or_default();
                    println!(
                        "{what:<5} {} FAILED ({}{name}): {}   gas {}",
                        r.method,
                        f.kind.name(),
                        f.message,
                        r.gas_used
                    )
                }
            }
            for e in j["events"].as_array().into_iter().flatten() {
                println!(
                    "      event {} {}",
                    e["name"].as_str().unwrap_or_default(),
                    e["data"]
                );
            }
            for line in &r.logs {
                println!("      log   {line}");
            }
        }
        if let Some(dir) = &args.state {
            println!("state kept in {}", dir.display());
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(
            "info,arc_malachitebft_core_consensus=warn,arc_malachitebft_engine=warn,arc_malachitebft_network=off,libp2p=warn,ractor=warn",
        ));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A receipt as `call` prints it; anything else (devices, readings, grants) as indented JSON.
fn print_iot(json: bool, out: cargo_bot::iot_cmds::Output) -> Result<ExitCode> {
    let v = &out.value;
    if json {
        println!("{v}");
    } else if v.get("tx_hash").is_some() && v.get("gas_used").is_some() {
        let op = v["op"].as_str().unwrap_or("transaction");
        if v["status"] == "ok" && v["result"].is_null() {
            println!("{op} ok   gas {}", v["gas_used"]);
            if let Some(h) = v["tx_hash"].as_str() {
                println!("  tx {h} (block {})", v["height"]);
            }
            for e in v["events"].as_array().into_iter().flatten() {
                println!(
                    "  event {} {}",
                    e["name"].as_str().unwrap_or_default(),
                    e["data"]
                );
            }
        } else {
            print_receipt(false, op, v);
        }
        if let Some(d) = v["device"].as_str() {
            println!("  device {d}");
        }
    } else {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
    Ok(if out.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_receipt(json: bool, method: &str, r: &serde_json::Value) {
    if json {
        println!("{r}");
        return;
    }
    if r["status"] == "ok" {
        println!("{method} -> {}   gas {}", r["result"], r["gas_used"]);
    } else {
        println!(
            "{method} FAILED ({}): {}   gas {}",
            r["error"]["kind"].as_str().unwrap_or_default(),
            r["error"]["message"].as_str().unwrap_or_default(),
            r["gas_used"]
        );
    }
    if let Some(h) = r["tx_hash"].as_str() {
        println!("  tx {h} (block {})", r["height"]);
    }
    for e in r["events"].as_array().into_iter().flatten() {
        println!(
            "  event {} {}",
            e["name"].as_str().unwrap_or_default(),
            e["data"]
        );
    }
}

fn keys(json: bool, command: &KeysCommand) -> Result<ExitCode> {
    let show = |name: &str, key: &bot_chain::Keypair| json!({ "name": name, "address": key.address().to_string(), "public_key": format!("0x{}", hex::encode(key.public_key())) });
    let rows = match command {
        KeysCommand::New { name } => vec![show(name, &cargo_bot::client::new_key(name)?)],
        KeysCommand::Show { name } => vec![show(name, &cargo_bot::client::key(name)?)],
        KeysCommand::List => {
            let mut rows: Vec<_> = cargo_bot::client::list_keys()?
                .iter()
                .map(|(n, k)| show(n, k))
                .collect();
            for name in cargo_bot::client::DEV_ACCOUNTS {
                let mut row = show(name, &bot_chain::Keypair::dev(name));
                row["devnet"] = json!(true);
                rows.push(row);
            }
            rows
        }
    };
    if json {
        let out = if matches!(command, KeysCommand::List) {
            json!(rows)
        } else {
            rows[0].clone()
        };
        println!("{out}");
    } else {
        for r in rows {
            let tag = if r["devnet"] == true {
                "  (devnet account)"
            } else {
                ""
            };
            println!(
                "{:<12} {}{tag}",
                r["name"].as_str().unwrap_or_default(),
                r["address"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
