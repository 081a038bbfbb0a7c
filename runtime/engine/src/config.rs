//! Engine configuration: the compiler backend, the static limits every module must meet, and
//! the runtime limits every call runs under.

use std::path::PathBuf;

/// Which wasmer compiler turns contracts into machine code. Both give the same results and gas;
/// Cranelift is the production backend, Singlepass compiles faster and checks Cranelift.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compiler {
    #[default]
    Cranelift,
    Singlepass,
}

impl Compiler {
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Singlepass => "singlepass",
        }
    }
}

impl std::str::FromStr for Compiler {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cranelift" => Ok(Compiler::Cranelift),
            "singlepass" => Ok(Compiler::Singlepass),
            other => Err(format!(
                "unknown compiler `{other}`; expected cranelift or singlepass"
            )),
        }
    }
}

/// What a module may declare. Checked at deploy and by `cargo bot check`; part of consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_code_bytes: usize,
    pub max_functions: u32,
    pub max_params_per_function: u32,
    pub max_total_params: u64,
    pub max_locals_per_function: u32,
    pub max_imports: u32,
    pub max_exports: u32,
    pub max_globals: u32,
    /// 64 KiB wasm pages, for a memory's initial and maximum size and for growth at run time.
    pub max_memory_pages: u32,
    pub max_tables: u32,
    pub max_table_elements: u64,
    pub max_data_segments: u32,
    pub max_element_segments: u32,
    /// The stack budget of one contract instance, in 8-byte slots. Every function costs its
    /// params, locals, deepest operand stack and a fixed overhead while it is on the stack.
    pub max_stack_slots: u32,
    /// How deep contract-to-contract calls may nest (the outermost call is depth 1).
    pub max_call_depth: u32,
}

/// A frame's fixed overhead in the stack budget: return address, saved registers, spills.
pub const FRAME_OVERHEAD_SLOTS: u32 = 16;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_code_bytes: 1024 * 1024,
            max_functions: 20_000,
            max_params_per_function: 128,
            max_total_params: 10_000,
            max_locals_per_function: 10_000,
            max_imports: 256,
            max_exports: 64,
            max_globals: 1_024,
            max_memory_pages: 512,
            // Every instance allocates its tables in full: one, as rustc emits.
            max_tables: 1,
            max_table_elements: 2_500,
            max_data_segments: 1_024,
            max_element_segments: 1_024,
            // 32 Ki slots are 256 KiB of frames: a quarter of wasmer's 1 MiB stack per call, so
            // this limit, not the native stack, is what a deep recursion meets on every backend.
            max_stack_slots: 32 * 1024,
            max_call_depth: 16,
        }
    }
}

/// Sizes of what the host accepts from a contract in one host call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLimits {
    pub max_key_bytes: u32,
    pub max_value_bytes: u32,
    pub max_event_name_bytes: u32,
    pub max_event_data_bytes: u32,
    pub max_method_bytes: u32,
    pub max_args_bytes: u32,
    pub max_message_bytes: u32,
    pub max_hash_input_bytes: u32,
    pub max_scan_page: u32,
    /// What one call may return (the top-level result or a callee's), before it is copied out.
    pub max_result_bytes: u32,
    /// Events one transaction may emit, and their names and data in all.
    pub max_events: u32,
    pub max_event_bytes: u64,
    /// Keys and values one transaction may write, summed over every `storage.set` and
    /// `storage.remove` (a key written twice counts twice).
    pub max_write_bytes: u64,
}

impl Default for HostLimits {
    fn default() -> Self {
        HostLimits {
            max_key_bytes: 1024,
            max_value_bytes: 256 * 1024,
            max_event_name_bytes: 64,
            max_event_data_bytes: 64 * 1024,
            max_method_bytes: 128,
            max_args_bytes: 256 * 1024,
            max_message_bytes: 4 * 1024,
            max_hash_input_bytes: 1024 * 1024,
            max_scan_page: 1024,
            max_result_bytes: 256 * 1024,
            max_events: 1024,
            max_event_bytes: 1024 * 1024,
            max_write_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub compiler: Compiler,
    pub limits: Limits,
    pub host_limits: HostLimits,
    /// How many compiled modules the in-memory cache keeps.
    pub memory_cache_entries: usize,
    /// Where compiled artifacts are kept between runs; `None` keeps them in memory only.
    pub disk_cache: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            compiler: Compiler::Cranelift,
            limits: Limits::default(),
            host_limits: HostLimits::default(),
            memory_cache_entries: 256,
            disk_cache: None,
        }
    }
}
