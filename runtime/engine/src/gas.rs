//! The gas cost table: what every wasm instruction and every host function costs.
//!
//! This file is the one place costs are written. The table is versioned: any change to a number
//! here changes the gas of existing contracts, so it bumps [`COST_TABLE_VERSION`], goes into
//! CHANGELOG.md, and (through [`CostTable::fingerprint`]) invalidates every cached artifact.

use sha2::{Digest, Sha256};
use wasmparser::Operator;

use crate::validate::{Declared, ValidatedModule};

/// Bumped on every change to [`COSTS`].
pub const COST_TABLE_VERSION: u32 = 8;

/// A host function's price: a base fee plus a fee per byte it reads from or writes to the
/// contract, or stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCost {
    pub base: u64,
    pub per_byte: u64,
}

impl HostCost {
    const fn new(base: u64, per_byte: u64) -> Self {
        HostCost { base, per_byte }
    }

    /// A price with no base fee: for bytes returned to the contract.
    pub const fn per_byte(per_byte: u64) -> Self {
        HostCost { base: 0, per_byte }
    }

    /// The fee for `bytes` bytes, or `None` if it does not fit in a u64 (which no gas limit
    /// can pay, so callers treat it as out of gas).
    pub fn for_bytes(&self, bytes: u64) -> Option<u64> {
        self.per_byte.checked_mul(bytes)?.checked_add(self.base)
    }
}

/// What a load and a store cost in a memory of at most `pages` pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPrice {
    pub pages: u32,
    pub load: u64,
    pub store: u64,
}

impl MemoryPrice {
    const fn new(pages: u32, load: u64, store: u64) -> Self {
        MemoryPrice { pages, load, store }
    }
}

/// Every price the engine charges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CostTable {
    pub version: u32,

    // wasm instructions, per execution. A price covers the instruction's latency: the time it
    // takes when each instruction waits for the one before, the slowest a contract can make it
    // run (code that keeps several chains going pays more than its time).
    /// Locals, globals, constants, `drop`, `select`, reinterpretations: each feeds an operand
    /// to an instruction that pays for its own latency.
    pub stack: u64,
    /// Integer arithmetic, logic and shifts of two operands (one of which paid as `stack`).
    pub plain: u64,
    /// Comparisons and the one-operand integer instructions (`eqz`, bit counts, extensions,
    /// wrap): no operand pays for them, so their price carries their whole latency.
    pub compare: u64,
    /// Integer multiplication (three cycles where addition takes one).
    pub multiply: u64,
    /// Float arithmetic, comparisons, rounding: Cranelift canonicalizes every NaN a float
    /// instruction produces, which puts a compare and a select after each.
    pub float: u64,
    /// Conversions between integers and floats and between float sizes: the unsigned and
    /// saturating ones are sequences with branches, and `demote`/`promote` have their NaNs
    /// made canonical by the instrumentation as well (on Singlepass the slowest of all).
    pub float_convert: u64,
    /// Integer division and remainder.
    pub division: u64,
    /// Float division and square root (their NaNs canonicalized too).
    pub float_division: u64,
    /// Loads and stores, by the most pages the module's memory can reach (its declared
    /// maximum, else the memory limit): the first row whose `pages` is at least that. A load
    /// waits for its cache line, and a larger memory lets a contract miss every cache and the
    /// TLB on every load.
    pub memory: [MemoryPrice; 6],
    /// `memory.size`, table reads and writes.
    pub memory_access: u64,
    /// `br`, `br_if`, `if`, `return`: a branch the CPU cannot predict costs ~15 cycles, and
    /// every branch ends a block whose gas is charged (a load and a store of the counter).
    pub branch: u64,
    /// `br_table`: an indirect jump, as costly to mispredict as a call through a table.
    pub br_table: u64,
    pub call: u64,
    pub call_indirect: u64,
    /// `memory.grow`, plus `memory_grow_per_page` for each page actually added.
    pub memory_grow: u64,
    pub memory_grow_per_page: u64,
    /// `memory.copy`, `memory.fill`, `memory.init`, plus the per-byte fee below.
    pub bulk_memory: u64,
    /// Bulk memory is charged one gas per this many bytes (rounded up)...
    pub bulk_memory_bytes_per_gas: u64,
    /// ...times the factor of the largest of these `(pages, factor)` the memory is larger than:
    /// bytes a bulk operation moves in a memory larger than the caches cost more.
    pub bulk_memory_large: [(u32, u64); 4],
    /// Charged when a function is entered, per local it declares (they are zeroed on entry).
    pub per_local: u64,

    // uploading code
    /// An upload pays the chain's fee per byte for each byte of the module, and for more bytes
    /// where a function makes the compiler work harder than its size says: a function is
    /// priced as if it were its values live across blocks ([`FunctionInfo::live_across_blocks`],
    /// which Cranelift's register allocation grows with) divided by this, when that is more
    /// than its size (see [`CostTable::compile_bytes`]).
    ///
    /// [`FunctionInfo::live_across_blocks`]: crate::validate::FunctionInfo::live_across_blocks
    pub compile_live_blocks_per_byte: u64,
    /// What the smallest function weighs, in bytes: the compiler's fixed work per function.
    pub compile_min_function_bytes: u64,

    // host functions
    /// Creating a contract instance, at the top of a call and for every cross-contract call,
    /// with one page of memory; what the module declares costs more (see
    /// [`CostTable::instantiate_gas`]): each further initial page `memory_grow_per_page`, like
    /// a grown one (the contract may touch all of it), each data byte what bulk memory costs,
    /// and the fees below.
    pub instantiate: u64,
    pub instantiate_per_import: u64,
    pub instantiate_per_global: u64,
    /// Per entry of the table's initial size and per function reference an element segment
    /// writes into it.
    pub instantiate_per_table_element: u64,
    pub instantiate_per_data_segment: u64,
    /// Copying bytes into the contract (return values), per byte, on top of each function's fee.
    pub return_per_byte: u64,
    /// Facts returned as a value (`block-height`, `gas-left`...).
    pub env: HostCost,
    /// Facts returned as a list (`caller`, `chain-id`...): the host allocates in the contract.
    pub env_list: HostCost,
    pub storage_get: HostCost,
    pub storage_has: HostCost,
    pub storage_set: HostCost,
    pub storage_remove: HostCost,
    /// Charged on top of `storage.set`/`storage.remove` the first time a call writes a key:
    /// the block's commit of that key (its Merkle tree path and the redb write).
    pub storage_commit: u64,
    /// The call, its arguments' bytes, and the first page it reads; each further page pays
    /// the base again, and every byte of key and value it walks pays `per_byte`.
    pub storage_scan: HostCost,
    /// Charged per entry a scan walks: each committed entry it reads (the look-ahead that
    /// tells whether more follow too) and each pending write it steps over, removals and keys
    /// a newer write hides included. What it returns also pays `return_per_byte`.
    pub storage_scan_per_entry: u64,
    pub emit: HostCost,
    pub sha256: HostCost,
    pub keccak256: HostCost,
    pub secp256k1_verify: HostCost,
    pub secp256k1_recover: HostCost,
    pub ed25519_verify: HostCost,
    pub p256_verify: HostCost,
    pub call_contract: HostCost,
    pub abort: HostCost,
    pub log: HostCost,
}

/// The cost table in force. One gas is 0.07–0.09 ns on the calibration machines (BENCHMARKS.md):
/// an integer addition waiting for the one before (one cycle) is about three, its operand
/// included. Every instruction class and host function with a row in `cargo bot bench gas
/// --calibrate` is within ±25% of that unit there, and none of its adversarial rows buys more
/// than 2x; `abort` (it ends the call) and `per_local` (Cranelift keeps no unused local) have
/// no row.
pub const COSTS: CostTable = CostTable {
    version: COST_TABLE_VERSION,
    stack: 1,
    plain: 3,
    compare: 6,
    multiply: 10,
    float: 27,
    float_convert: 60,
    division: 22,
    float_division: 70,
    // Measured with dependent loads at random addresses: up to 16 pages they hit L2, up to 32
    // L3, past 32 pages they miss the TLB and go to DRAM (BENCHMARKS.md, cost table 8).
    memory: [
        MemoryPrice::new(2, 55, 2),
        MemoryPrice::new(8, 100, 3),
        MemoryPrice::new(16, 150, 4),
        MemoryPrice::new(32, 220, 6),
        MemoryPrice::new(64, 1_500, 16),
        MemoryPrice::new(u32::MAX, 2_000, 72),
    ],
    memory_access: 2,
    branch: 33,
    br_table: 60,
    call: 100,
    call_indirect: 150,
    memory_grow: 64,
    // Growing maps the page and the contract's first touches fault it in.
    memory_grow_per_page: 560_000,
    bulk_memory: 8,
    bulk_memory_bytes_per_gas: 4,
    // Past 3 pages a copy may miss L1 and L2, past 4 MiB the L3 of the calibration machine;
    // past 16 MiB every byte is a DRAM access.
    bulk_memory_large: [(3, 2), (64, 4), (128, 8), (256, 20)],
    per_local: 1,
    compile_live_blocks_per_byte: 8,
    compile_min_function_bytes: 16,
    // A minimal instance, its one page touched in full included.
    instantiate: 750_000,
    instantiate_per_import: 24_000,
    instantiate_per_global: 250,
    instantiate_per_table_element: 400,
    instantiate_per_data_segment: 3_000,
    return_per_byte: 1,
    env: HostCost::new(950, 0),
    env_list: HostCost::new(2_900, 1),
    storage_get: HostCost::new(14_000, 2),
    storage_has: HostCost::new(9_500, 1),
    storage_set: HostCost::new(6_600, 4),
    storage_remove: HostCost::new(3_000, 1),
    storage_commit: 1_150_000,
    storage_scan: HostCost::new(6_000, 1),
    storage_scan_per_entry: 9_000,
    emit: HostCost::new(5_800, 4),
    sha256: HostCost::new(5_600, 10),
    keccak256: HostCost::new(10_850, 57),
    secp256k1_verify: HostCost::new(1_400_000, 1),
    secp256k1_recover: HostCost::new(1_465_000, 1),
    ed25519_verify: HostCost::new(760_000, 40),
    p256_verify: HostCost::new(4_300_000, 1),
    call_contract: HostCost::new(57_000, 2),
    abort: HostCost::new(2_000, 1),
    // A kept line is validated as UTF-8 and copied: ~1 ns a byte.
    log: HostCost::new(4_400, 10),
};

// Branches and calls cost more than arithmetic (CosmWasm once underpriced branches tenfold).
const _: () = assert!(
    COSTS.branch > COSTS.plain && COSTS.call > COSTS.branch && COSTS.call_indirect > COSTS.call
);
// The last memory row holds every memory the limit allows.
const _: () = assert!(COSTS.memory[COSTS.memory.len() - 1].pages == u32::MAX);

impl CostTable {
    /// What a load and a store cost in a module whose memory can reach `memory_pages` pages.
    pub fn memory_price(&self, memory_pages: u32) -> MemoryPrice {
        let last = self.memory[self.memory.len() - 1];
        self.memory
            .iter()
            .copied()
            .find(|m| memory_pages <= m.pages)
            .unwrap_or(last)
    }

    /// The static cost of one wasm instruction in a module whose memory can reach
    /// `memory_pages` pages; the dynamic parts (pages grown, bytes copied, locals) are charged
    /// by the instrumentation on top of this.
    pub fn operator(&self, op: &Operator, memory_pages: u32) -> u64 {
        use Operator::*;
        match op {
            // Structure only: no machine code of their own.
            Block { .. } | Loop { .. } | End | Else | Nop => 0,
            Br { .. } | BrIf { .. } | If { .. } | Return => self.branch,
            BrTable { .. } => self.br_table,
            Call { .. } => self.call,
            CallIndirect { .. } => self.call_indirect,
            MemoryGrow { .. } => self.memory_grow,
            MemoryCopy { .. } | MemoryFill { .. } | MemoryInit { .. } => self.bulk_memory,
            I32DivS | I32DivU | I32RemS | I32RemU | I64DivS | I64DivU | I64RemS | I64RemU => {
                self.division
            }
            F32Div | F64Div | F32Sqrt | F64Sqrt => self.float_division,
            I32Load { .. }
            | I64Load { .. }
            | F32Load { .. }
            | F64Load { .. }
            | I32Load8S { .. }
            | I32Load8U { .. }
            | I32Load16S { .. }
            | I32Load16U { .. }
            | I64Load8S { .. }
            | I64Load8U { .. }
            | I64Load16S { .. }
            | I64Load16U { .. }
            | I64Load32S { .. }
            | I64Load32U { .. } => self.memory_price(memory_pages).load,
            I32Store { .. }
            | I64Store { .. }
            | F32Store { .. }
            | F64Store { .. }
            | I32Store8 { .. }
            | I32Store16 { .. }
            | I64Store8 { .. }
            | I64Store16 { .. }
            | I64Store32 { .. } => self.memory_price(memory_pages).store,
            MemorySize { .. }
            | TableGet { .. }
            | TableSet { .. }
            | TableSize { .. }
            | DataDrop { .. }
            | ElemDrop { .. } => self.memory_access,
            I32Mul | I64Mul => self.multiply,
            I32Eqz | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU
            | I32GeS | I32GeU | I64Eqz | I64Eq | I64Ne | I64LtS | I64LtU | I64GtS | I64GtU
            | I64LeS | I64LeU | I64GeS | I64GeU | I32Clz | I32Ctz | I32Popcnt | I64Clz | I64Ctz
            | I64Popcnt | I32WrapI64 | I64ExtendI32S | I64ExtendI32U | I32Extend8S
            | I32Extend16S | I64Extend8S | I64Extend16S | I64Extend32S => self.compare,
            I32Add | I32Sub | I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Rotl
            | I32Rotr | I64Add | I64Sub | I64And | I64Or | I64Xor | I64Shl | I64ShrS | I64ShrU
            | I64Rotl | I64Rotr => self.plain,
            LocalGet { .. }
            | LocalSet { .. }
            | LocalTee { .. }
            | GlobalGet { .. }
            | GlobalSet { .. }
            | I32Const { .. }
            | I64Const { .. }
            | F32Const { .. }
            | F64Const { .. }
            | Drop
            | Select
            | TypedSelect { .. }
            | Unreachable
            | RefNull { .. }
            | RefIsNull
            | RefFunc { .. }
            | I32ReinterpretF32
            | I64ReinterpretF64
            | F32ReinterpretI32
            | F64ReinterpretI64 => self.stack,
            I32TruncF32S | I32TruncF32U | I32TruncF64S | I32TruncF64U | I64TruncF32S
            | I64TruncF32U | I64TruncF64S | I64TruncF64U | I32TruncSatF32S | I32TruncSatF32U
            | I32TruncSatF64S | I32TruncSatF64U | I64TruncSatF32S | I64TruncSatF32U
            | I64TruncSatF64S | I64TruncSatF64U | F32ConvertI32S | F32ConvertI32U
            | F32ConvertI64S | F32ConvertI64U | F64ConvertI32S | F64ConvertI32U
            | F64ConvertI64S | F64ConvertI64U | F32DemoteF64 | F64PromoteF32 => self.float_convert,
            // Every other instruction validation accepts is a float one.
            _ => self.float,
        }
    }

    /// What creating one instance of a module costs, from what it declares. Saturates: a price
    /// no gas limit can pay is out of gas.
    pub fn instantiate_gas(&self, declared: &Declared) -> u64 {
        let per = |count: u64, price: u64| count.saturating_mul(price);
        [
            per(
                declared.initial_pages.saturating_sub(1),
                self.memory_grow_per_page,
            ),
            per(declared.imports, self.instantiate_per_import),
            per(declared.globals, self.instantiate_per_global),
            per(
                declared
                    .table_elements
                    .saturating_add(declared.element_items),
                self.instantiate_per_table_element,
            ),
            per(declared.data_segments, self.instantiate_per_data_segment),
            self.bulk_memory_bytes(declared.data_bytes),
        ]
        .into_iter()
        .fold(self.instantiate, u64::saturating_add)
    }

    /// The bytes an upload of `module` pays for: its size, plus for each function that weighs
    /// more than its body (its values live across blocks, or the fixed work per function),
    /// the difference.
    pub fn compile_bytes(&self, module: &ValidatedModule) -> u64 {
        let per_byte = self.compile_live_blocks_per_byte.max(1);
        module
            .functions
            .iter()
            .fold(module.wasm.len() as u64, |sum, f| {
                let weight = (f.live_across_blocks / per_byte).max(self.compile_min_function_bytes);
                sum.saturating_add(weight.saturating_sub(u64::from(f.body_bytes)))
            })
    }

    /// Gas for a bulk-memory operation over `len` bytes, beyond its static cost, in a memory
    /// of 1 to 3 pages (and for data segments, copied into fresh memory at instantiation).
    pub fn bulk_memory_bytes(&self, len: u64) -> u64 {
        len.div_ceil(self.bulk_memory_bytes_per_gas)
    }

    /// A digest of every number in the table, part of every compiled artifact's cache key.
    pub fn fingerprint(&self) -> [u8; 32] {
        // Debug output lists every field by name and value, so any change to the table changes it.
        Sha256::digest(format!("{self:?}").as_bytes()).into()
    }
}

/// Where a call's gas went, for contract authors (`cargo bot bench gas`). Deterministic like
/// the gas itself, but not part of consensus: receipts keep only the total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GasBreakdown {
    /// Instantiation and every host function the call used, in order of first use.
    pub host: Vec<HostUse>,
    /// Bytes `storage.get` (values) and `storage.scan` (keys and values) returned.
    pub storage_bytes_read: u64,
    /// Key and value bytes `storage.set` wrote.
    pub storage_bytes_written: u64,
}

/// One host function's share of a call (or `instantiate`, the price of an instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostUse {
    /// The import as `interface.function`, e.g. `storage.get`.
    pub name: &'static str,
    pub calls: u64,
    pub gas: u64,
}

impl GasBreakdown {
    /// Records `gas` charged by `name`, as a new call or as more of the current one.
    pub(crate) fn record(&mut self, name: &'static str, new_call: bool, gas: u64) {
        let calls = u64::from(new_call);
        match self.host.iter_mut().find(|u| u.name == name) {
            Some(u) => {
                u.calls += calls;
                u.gas = u.gas.saturating_add(gas);
            }
            None => self.host.push(HostUse { name, calls, gas }),
        }
    }

    /// Gas charged outside the contract's own instructions.
    pub fn host_gas(&self) -> u64 {
        self.host
            .iter()
            .fold(0u64, |sum, u| sum.saturating_add(u.gas))
    }

    /// Gas the contracts' wasm instructions used, out of a call's `gas_used`.
    pub fn wasm_gas(&self, gas_used: u64) -> u64 {
        gas_used.saturating_sub(self.host_gas())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_and_calls_cost_more_than_arithmetic() {
        assert_eq!(COSTS.operator(&Operator::I32Add, 1), COSTS.plain);
        assert_eq!(
            COSTS.operator(&Operator::BrIf { relative_depth: 0 }, 1),
            COSTS.branch
        );
    }

    #[test]
    fn a_memory_is_priced_by_the_first_row_that_holds_it() {
        assert_eq!(COSTS.memory_price(0), COSTS.memory[0]);
        assert_eq!(COSTS.memory_price(2), COSTS.memory[0]);
        assert_eq!(COSTS.memory_price(3), COSTS.memory[1]);
        assert_eq!(COSTS.memory_price(u32::MAX), COSTS.memory[5]);
        let load = Operator::I64Load {
            memarg: wasmparser::MemArg {
                align: 3,
                max_align: 3,
                offset: 0,
                memory: 0,
            },
        };
        assert_eq!(COSTS.operator(&load, 16), COSTS.memory_price(16).load);
        // Larger memories cost more per access, never less.
        for pair in COSTS.memory.windows(2) {
            assert!(pair[0].pages < pair[1].pages, "{pair:?}");
            assert!(pair[0].load <= pair[1].load && pair[0].store <= pair[1].store);
        }
    }

    #[test]
    fn host_fees_never_overflow_silently() {
        assert_eq!(COSTS.storage_set.for_bytes(u64::MAX), None);
        assert_eq!(COSTS.sha256.for_bytes(10), Some(5_600 + 100));
    }

    #[test]
    fn an_instance_pays_for_what_its_module_declares() {
        let none = Declared::default();
        assert_eq!(COSTS.instantiate_gas(&none), COSTS.instantiate);
        let pages = |initial_pages| Declared {
            initial_pages,
            ..none
        };
        assert_eq!(COSTS.instantiate_gas(&pages(1)), COSTS.instantiate);
        assert_eq!(
            COSTS.instantiate_gas(&pages(3)),
            COSTS.instantiate + 2 * COSTS.memory_grow_per_page
        );
        let everything = Declared {
            initial_pages: 2,
            table_elements: 10,
            element_items: 5,
            globals: 3,
            imports: 4,
            data_segments: 2,
            data_bytes: 17,
        };
        assert_eq!(
            COSTS.instantiate_gas(&everything),
            COSTS.instantiate
                + COSTS.memory_grow_per_page
                + 15 * COSTS.instantiate_per_table_element
                + 3 * COSTS.instantiate_per_global
                + 4 * COSTS.instantiate_per_import
                + 2 * COSTS.instantiate_per_data_segment
                + 17u64.div_ceil(COSTS.bulk_memory_bytes_per_gas)
        );
        let huge = Declared {
            data_bytes: u64::MAX,
            initial_pages: u64::MAX,
            ..none
        };
        assert_eq!(COSTS.instantiate_gas(&huge), u64::MAX);
    }

    /// The instrumentation charges 1 plus each step's increase over the one before (the
    /// fixture `memory_fill_in_larger_memories` pins what that charges at every step), so the
    /// sizes and factors must rise together.
    #[test]
    fn bulk_memory_factors_rise_with_the_memory_size() {
        let mut before = (0, 1);
        for step in COSTS.bulk_memory_large {
            assert!(
                step.0 > before.0 && step.1 >= before.1,
                "{step:?} after {before:?}"
            );
            before = step;
        }
    }

    #[test]
    fn bulk_memory_rounds_up() {
        let per = COSTS.bulk_memory_bytes_per_gas;
        assert_eq!(COSTS.bulk_memory_bytes(0), 0);
        assert_eq!(COSTS.bulk_memory_bytes(1), 1);
        assert_eq!(COSTS.bulk_memory_bytes(per), 1);
        assert_eq!(COSTS.bulk_memory_bytes(per + 1), 2);
    }
}
