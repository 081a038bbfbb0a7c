//! Instrumentation that runs after wasmer-middlewares' `Metering` in the middleware chain.
//!
//! `Metering` charges each instruction's static cost from the cost table. This middleware adds
//! what a static cost cannot express, all inline and deterministic on every backend:
//! - a stack budget: each function adds its frame size (from validation) to a global on entry,
//!   traps if the budget is exceeded, and subtracts it on every exit, so deep recursion stops at
//!   the same depth on Cranelift and Singlepass and never reaches the native stack's end;
//! - a charge at function entry for the locals it declares;
//! - `memory.grow`: refused (returns -1) beyond the memory limit, else charged per page;
//! - `memory.copy`, `memory.fill`, `memory.init`: charged by length, and more per byte in a
//!   larger memory, before they run;
//! - `f32.demote_f64` and `f64.promote_f32`: their NaNs made canonical (Singlepass keeps the
//!   payload where Cranelift's NaN canonicalization does not reach).
//!
//! The body of each function is wrapped in one more block, so a branch to the function's own
//! label leaves through the epilogue like a fall-through does (it would otherwise skip it and
//! keep the frame's slots counted).
//!
//! Charges use Metering's own globals, found through the exports Metering adds, so there is one
//! gas counter. What this middleware injects is not itself metered.

use std::sync::{Arc, Mutex};

use wasmer::sys::{FunctionMiddleware, MiddlewareError, MiddlewareReaderState, ModuleMiddleware};
use wasmer::{
    ExportIndex, GlobalInit, GlobalType, LocalFunctionIndex, ModuleInfo, Mutability, Type,
};
use wasmparser::{BlockType, Operator, ValType};

use crate::gas::CostTable;
use crate::validate::FunctionInfo;

/// Export names of the globals the engine reads after a call.
pub const METERING_REMAINING: &str = "wasmer_metering_remaining_points";
pub const METERING_EXHAUSTED: &str = "wasmer_metering_points_exhausted";
pub const STACK_SLOTS: &str = "bot_stack_slots";

/// Bumped whenever what this module injects changes; part of every artifact's cache key.
pub const INSTRUMENTATION_VERSION: u32 = 3;

#[derive(Clone, Copy, Debug)]
struct Globals {
    remaining: u32,
    exhausted: u32,
    stack: u32,
    scratch: u32,
    scratch_f32: u32,
    scratch_f64: u32,
}

/// The canonical NaNs (what Cranelift's canonicalization produces).
const CANONICAL_F32_NAN: u32 = 0x7fc0_0000;
const CANONICAL_F64_NAN: u64 = 0x7ff8_0000_0000_0000;

/// What the module knows of one function before its body is generated.
#[derive(Clone, Copy, Debug)]
struct Prepared {
    /// The type of the block that wraps its body (its results), if it can have one.
    wrapper: Option<BlockType>,
}

/// The module-level middleware; build a new one for every module compiled.
#[derive(Debug)]
pub struct Instrumentation {
    functions: Arc<[FunctionInfo]>,
    costs: CostTable,
    max_stack_slots: u32,
    max_memory_pages: u32,
    globals: Mutex<Option<(Globals, Arc<[Prepared]>)>>,
}

impl Instrumentation {
    pub fn new(
        functions: Arc<[FunctionInfo]>,
        costs: CostTable,
        max_stack_slots: u32,
        max_memory_pages: u32,
    ) -> Self {
        Instrumentation {
            functions,
            costs,
            max_stack_slots,
            max_memory_pages,
            globals: Mutex::new(None),
        }
    }
}

fn global_export(info: &ModuleInfo, name: &str) -> Result<u32, MiddlewareError> {
    match info.exports.get(name) {
        Some(ExportIndex::Global(index)) => Ok(index.as_u32()),
        _ => Err(MiddlewareError::new(
            "bot-instrumentation",
            format!("the metering middleware must run first (no `{name}` global)"),
        )),
    }
}

impl ModuleMiddleware for Instrumentation {
    fn transform_module_info(&self, info: &mut ModuleInfo) -> Result<(), MiddlewareError> {
        let remaining = global_export(info, METERING_REMAINING)?;
        let exhausted = global_export(info, METERING_EXHAUSTED)?;
        let stack = info
            .globals
            .push(GlobalType::new(Type::I32, Mutability::Var));
        info.global_initializers.push(GlobalInit::I32Const(0));
        info.exports
            .insert(STACK_SLOTS.to_string(), ExportIndex::Global(stack));
        let scratch = info
            .globals
            .push(GlobalType::new(Type::I32, Mutability::Var));
        info.global_initializers.push(GlobalInit::I32Const(0));
        let scratch_f32 = info
            .globals
            .push(GlobalType::new(Type::F32, Mutability::Var));
        info.global_initializers.push(GlobalInit::F32Const(0.0));
        let scratch_f64 = info
            .globals
            .push(GlobalType::new(Type::F64, Mutability::Var));
        info.global_initializers.push(GlobalInit::F64Const(0.0));
        let prepared: Arc<[Prepared]> = (0..info.functions.len() - info.num_imported_functions)
            .map(|local| Prepared {
                wrapper: wrapper_type(info, LocalFunctionIndex::from_u32(local as u32)),
            })
            .collect();
        let mut globals = self.globals.lock().map_err(|_| {
            MiddlewareError::new("bot-instrumentation", "a previous compilation panicked")
        })?;
        if globals.is_some() {
            return Err(MiddlewareError::new(
                "bot-instrumentation",
                "an Instrumentation middleware serves one module only",
            ));
        }
        *globals = Some((
            Globals {
                remaining,
                exhausted,
                stack: stack.as_u32(),
                scratch: scratch.as_u32(),
                scratch_f32: scratch_f32.as_u32(),
                scratch_f64: scratch_f64.as_u32(),
            },
            prepared,
        ));
        Ok(())
    }

    fn generate_function_middleware<'a>(
        &self,
        index: LocalFunctionIndex,
    ) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        // transform_module_info always runs before functions are generated, and validation
        // produced one FunctionInfo per defined function; the fallbacks are never taken.
        let (globals, prepared) = self.globals.lock().ok().and_then(|g| g.clone()).unwrap_or((
            Globals {
                remaining: 0,
                exhausted: 0,
                stack: 0,
                scratch: 0,
                scratch_f32: 0,
                scratch_f64: 0,
            },
            Arc::from(Vec::new()),
        ));
        let wrapper = prepared
            .get(index.as_u32() as usize)
            .and_then(|p| p.wrapper);
        let info = self
            .functions
            .get(index.as_u32() as usize)
            .copied()
            .unwrap_or(FunctionInfo {
                locals: 0,
                frame_slots: self.max_stack_slots + 1,
                body_bytes: 0,
                live_across_blocks: 0,
            });
        Box::new(FunctionInstrumentation {
            globals,
            info,
            locals_cost: u64::from(info.locals) * self.costs.per_local,
            grow_page_cost: self.costs.memory_grow_per_page,
            bulk_bytes_per_gas: self.costs.bulk_memory_bytes_per_gas,
            bulk_large: self.costs.bulk_memory_large,
            max_stack_slots: self.max_stack_slots,
            max_memory_pages: self.max_memory_pages,
            wrapper,
            started: false,
            depth: 0,
        })
    }
}

/// The block type of a function's results, to wrap its body in: empty or one value type, or
/// for several results a type of the module with no parameters and exactly those results
/// (`None` if it has none: that function keeps its body unwrapped).
fn wrapper_type(info: &ModuleInfo, local: LocalFunctionIndex) -> Option<BlockType> {
    let signature = info.functions.get(info.func_index(local))?;
    let results = info.signatures.get(*signature)?.results();
    match results {
        [] => Some(BlockType::Empty),
        [one] => Some(BlockType::Type(val_type(*one)?)),
        several => info
            .signatures
            .iter()
            .find(|(_, ty)| ty.params().is_empty() && ty.results() == several)
            .map(|(index, _)| BlockType::FuncType(index.as_u32())),
    }
}

fn val_type(ty: Type) -> Option<ValType> {
    Some(match ty {
        Type::I32 => ValType::I32,
        Type::I64 => ValType::I64,
        Type::F32 => ValType::F32,
        Type::F64 => ValType::F64,
        Type::FuncRef => ValType::FUNCREF,
        Type::ExternRef => ValType::EXTERNREF,
        _ => return None,
    })
}

#[derive(Debug)]
struct FunctionInstrumentation {
    globals: Globals,
    info: FunctionInfo,
    locals_cost: u64,
    grow_page_cost: u64,
    bulk_bytes_per_gas: u64,
    bulk_large: [(u32, u64); 4],
    max_stack_slots: u32,
    max_memory_pages: u32,
    /// The type of the block wrapping the body, if it is wrapped.
    wrapper: Option<BlockType>,
    started: bool,
    /// Open blocks; the `end` that closes the function is seen at depth 0.
    depth: u32,
}

impl FunctionInstrumentation {
    /// Traps with `exhausted` set unless `remaining >= cost`, then subtracts it. `cost` is a
    /// sequence that pushes one i64; it is emitted twice, so it must have no side effects.
    fn charge<'a>(&self, state: &mut MiddlewareReaderState<'a>, cost: &[Operator<'a>]) {
        let g = self.globals;
        state.push_operator(Operator::GlobalGet {
            global_index: g.remaining,
        });
        state.extend(cost);
        state.extend(&[
            Operator::I64LtU,
            Operator::If {
                blockty: BlockType::Empty,
            },
            Operator::I32Const { value: 1 },
            Operator::GlobalSet {
                global_index: g.exhausted,
            },
            Operator::Unreachable,
            Operator::End,
            Operator::GlobalGet {
                global_index: g.remaining,
            },
        ]);
        state.extend(cost);
        state.extend(&[
            Operator::I64Sub,
            Operator::GlobalSet {
                global_index: g.remaining,
            },
        ]);
    }

    fn prologue<'a>(&self, state: &mut MiddlewareReaderState<'a>) {
        let g = self.globals;
        if self.locals_cost > 0 {
            self.charge(
                state,
                &[Operator::I64Const {
                    value: self.locals_cost as i64,
                }],
            );
        }
        state.extend(&[
            Operator::GlobalGet {
                global_index: g.stack,
            },
            Operator::I32Const {
                value: self.info.frame_slots as i32,
            },
            Operator::I32Add,
            Operator::GlobalSet {
                global_index: g.stack,
            },
            Operator::GlobalGet {
                global_index: g.stack,
            },
            Operator::I32Const {
                value: self.max_stack_slots as i32,
            },
            Operator::I32GtU,
            Operator::If {
                blockty: BlockType::Empty,
            },
            Operator::Unreachable,
            Operator::End,
        ]);
    }

    fn epilogue<'a>(&self, state: &mut MiddlewareReaderState<'a>) {
        let g = self.globals;
        state.extend(&[
            Operator::GlobalGet {
                global_index: g.stack,
            },
            Operator::I32Const {
                value: self.info.frame_slots as i32,
            },
            Operator::I32Sub,
            Operator::GlobalSet {
                global_index: g.stack,
            },
        ]);
    }

    /// `scratch` * `per` as an i64 (both fit in 32 bits, so the product cannot overflow).
    fn scratch_times<'a>(&self, per: u64) -> [Operator<'a>; 4] {
        [
            Operator::GlobalGet {
                global_index: self.globals.scratch,
            },
            Operator::I64ExtendI32U,
            Operator::I64Const { value: per as i64 },
            Operator::I64Mul,
        ]
    }

    /// Replaces `memory.grow` (delta on the stack): -1 past the page limit, else charge and grow.
    fn memory_grow<'a>(&self, state: &mut MiddlewareReaderState<'a>, op: Operator<'a>) {
        let g = self.globals;
        let Operator::MemoryGrow { mem } = op else {
            return;
        };
        state.extend(&[
            Operator::GlobalSet {
                global_index: g.scratch,
            },
            Operator::MemorySize { mem },
            Operator::I64ExtendI32U,
            Operator::GlobalGet {
                global_index: g.scratch,
            },
            Operator::I64ExtendI32U,
            Operator::I64Add,
            Operator::I64Const {
                value: i64::from(self.max_memory_pages),
            },
            Operator::I64GtU,
            Operator::If {
                blockty: BlockType::Type(ValType::I32),
            },
            Operator::I32Const { value: -1 },
            Operator::Else,
        ]);
        self.charge(state, &self.scratch_times(self.grow_page_cost));
        state.extend(&[
            Operator::GlobalGet {
                global_index: g.scratch,
            },
            Operator::MemoryGrow { mem },
            Operator::End,
        ]);
    }

    /// Replaces a NaN on top of the stack (of the float type `demote`/`promote` produces) by
    /// the canonical one: `select(canonical, x, x != x)`.
    fn canonical_nan<'a>(&self, state: &mut MiddlewareReaderState<'a>, op: &Operator<'a>) {
        let (scratch, canonical, ne) = match op {
            Operator::F32DemoteF64 => (
                self.globals.scratch_f32,
                Operator::F32Const {
                    value: f32::from_bits(CANONICAL_F32_NAN).into(),
                },
                Operator::F32Ne,
            ),
            _ => (
                self.globals.scratch_f64,
                Operator::F64Const {
                    value: f64::from_bits(CANONICAL_F64_NAN).into(),
                },
                Operator::F64Ne,
            ),
        };
        state.extend(&[
            Operator::GlobalSet {
                global_index: scratch,
            },
            canonical,
            Operator::GlobalGet {
                global_index: scratch,
            },
            Operator::GlobalGet {
                global_index: scratch,
            },
            Operator::GlobalGet {
                global_index: scratch,
            },
            ne,
            Operator::Select,
        ]);
    }

    /// Charges a bulk-memory instruction by its length (on top of the stack) and the size of
    /// the memory, then runs it.
    fn bulk_memory<'a>(&self, state: &mut MiddlewareReaderState<'a>, op: Operator<'a>) {
        let g = self.globals;
        state.push_operator(Operator::GlobalSet {
            global_index: g.scratch,
        });
        // ceil(len / bytes_per_gas) == (len + bytes_per_gas - 1) / bytes_per_gas, in i64...
        let per = self.bulk_bytes_per_gas.max(1) as i64;
        let mut cost = vec![
            Operator::GlobalGet {
                global_index: g.scratch,
            },
            Operator::I64ExtendI32U,
            Operator::I64Const { value: per - 1 },
            Operator::I64Add,
            Operator::I64Const { value: per },
            Operator::I64DivU,
            // ...times 1 plus, for each size the memory is larger than, that step's increase
            // (at most 2^29 * 8: no overflow).
            Operator::I64Const { value: 1 },
        ];
        // The factors rise with the size (a test of the cost table checks it), so each step
        // adds its increase over the one before.
        let mut factor = 1;
        for (above, step_factor) in self.bulk_large {
            cost.extend([
                Operator::MemorySize { mem: 0 },
                Operator::I32Const {
                    value: above as i32,
                },
                Operator::I32GtU,
                Operator::I64ExtendI32U,
                Operator::I64Const {
                    value: step_factor.saturating_sub(factor) as i64,
                },
                Operator::I64Mul,
                Operator::I64Add,
            ]);
            factor = step_factor;
        }
        cost.push(Operator::I64Mul);
        self.charge(state, &cost);
        state.push_operator(Operator::GlobalGet {
            global_index: g.scratch,
        });
        state.push_operator(op);
    }
}

impl<'a> FunctionMiddleware<'a> for FunctionInstrumentation {
    fn feed(
        &mut self,
        op: Operator<'a>,
        state: &mut MiddlewareReaderState<'a>,
    ) -> Result<(), MiddlewareError> {
        if !self.started {
            self.started = true;
            self.prologue(state);
            if let Some(blockty) = self.wrapper {
                state.push_operator(Operator::Block { blockty });
            }
        }
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.depth += 1;
                state.push_operator(op);
            }
            Operator::End => {
                if self.depth == 0 {
                    if self.wrapper.is_some() {
                        // Branches to the function's label land here, before the epilogue.
                        state.push_operator(Operator::End);
                    }
                    self.epilogue(state);
                } else {
                    self.depth -= 1;
                }
                state.push_operator(op);
            }
            Operator::F32DemoteF64 | Operator::F64PromoteF32 => {
                state.push_operator(op.clone());
                self.canonical_nan(state, &op);
            }
            Operator::Return => {
                self.epilogue(state);
                state.push_operator(op);
            }
            Operator::MemoryGrow { .. } => self.memory_grow(state, op),
            Operator::MemoryCopy { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryInit { .. } => self.bulk_memory(state, op),
            _ => state.push_operator(op),
        }
        Ok(())
    }
}
