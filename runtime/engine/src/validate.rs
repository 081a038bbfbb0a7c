//! Static validation: a module is checked once, at deploy (and by `cargo bot check`), against
//! the wasm spec with our feature set, our ABI and our [`Limits`]. What passes becomes a
//! [`ValidatedModule`], which carries what instrumentation needs to know about each function.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmparser::{
    CompositeInnerType, ExternalKind, FuncValidatorAllocations, Parser, Payload, TypeRef,
    Validator, WasmFeatures,
};

use crate::abi::{self, ValType};
use crate::config::{FRAME_OVERHEAD_SLOTS, Limits};

/// The sha256 of a contract's wasm bytes: how code is named, stored and cached.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeHash(pub [u8; 32]);

impl CodeHash {
    pub fn of(wasm: &[u8]) -> CodeHash {
        CodeHash(Sha256::digest(wasm).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeHash({})", self.to_hex())
    }
}

impl std::fmt::Display for CodeHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a module was refused. Each message names the rule and, where there is one, the limit.
/// The text is deterministic: it becomes part of a deploy transaction's receipt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("module is {size} bytes; the limit is {limit}")]
    CodeTooLarge { size: usize, limit: usize },
    #[error("not a valid wasm module: {0}")]
    Malformed(String),
    #[error("module uses the {0} proposal, which contracts may not use")]
    ForbiddenFeature(&'static str),
    #[error("module declares {count} functions; the limit is {limit}")]
    TooManyFunctions { count: u64, limit: u32 },
    #[error("function {index} takes {count} parameters; the limit is {limit}")]
    TooManyParams { index: u32, count: u32, limit: u32 },
    #[error("functions take {count} parameters in total; the limit is {limit}")]
    TooManyTotalParams { count: u64, limit: u64 },
    #[error("function {index} declares {count} locals; the limit is {limit}")]
    TooManyLocals { index: u32, count: u64, limit: u32 },
    #[error("function {index} needs {slots} stack slots per call; the limit is {limit}")]
    FrameTooLarge { index: u32, slots: u64, limit: u32 },
    #[error("module declares {count} imports; the limit is {limit}")]
    TooManyImports { count: u32, limit: u32 },
    #[error(
        "import `{module}#{name}` is not part of the bot:contract@{} ABI",
        abi::ABI_VERSION
    )]
    UnknownImport { module: String, name: String },
    #[error("import `{module}#{name}` has type {found}; the ABI says {expected}")]
    ImportSignature {
        module: String,
        name: String,
        found: String,
        expected: String,
    },
    #[error("import `{module}#{name}` is a {kind}; contracts may import only functions")]
    ImportKind {
        module: String,
        name: String,
        kind: &'static str,
    },
    #[error("module declares {count} exports; the limit is {limit}")]
    TooManyExports { count: u32, limit: u32 },
    #[error(
        "export `{0}` is not allowed; contracts export memory, invoke, cabi_realloc and cabi_post_invoke"
    )]
    UnknownExport(String),
    #[error("missing export `{0}`: contracts are built with the bot-sdk bindings, which export it")]
    MissingExport(&'static str),
    #[error("export `{name}` has type {found}; the ABI says {expected}")]
    ExportSignature {
        name: String,
        found: String,
        expected: String,
    },
    #[error("module declares {count} globals; the limit is {limit}")]
    TooManyGlobals { count: u64, limit: u32 },
    #[error("module has {0} memories; contracts have exactly one")]
    MemoryCount(u32),
    #[error("memory {what} is {pages} pages; the limit is {limit}")]
    MemoryTooLarge {
        what: &'static str,
        pages: u64,
        limit: u32,
    },
    #[error("table {what} is {elements} elements; the limit is {limit}")]
    TableTooLarge {
        what: &'static str,
        elements: u64,
        limit: u64,
    },
    #[error("module declares {count} tables; the limit is {limit}")]
    TooManyTables { count: u32, limit: u32 },
    #[error("module has {count} data segments; the limit is {limit}")]
    TooManyDataSegments { count: u32, limit: u32 },
    #[error("module has {count} element segments; the limit is {limit}")]
    TooManyElementSegments { count: u32, limit: u32 },
    #[error("module has a start function; contracts run only through invoke")]
    StartFunction,
    #[error("the bot:abi section does not decode: {0}")]
    AbiSection(String),
    #[error(
        "contract was built for ABI {found}; this engine runs ABI {expected}.x: rebuild it with a matching bot-sdk"
    )]
    AbiVersion { found: String, expected: String },
    #[error("function {index} uses `{op}`; table mutation instructions are not allowed")]
    ForbiddenInstruction { index: u32, op: &'static str },
}

/// What instrumentation needs to know about one function defined in the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionInfo {
    pub locals: u32,
    /// Stack slots the function holds while it is on the call stack.
    pub frame_slots: u32,
    /// The size of its body in the module, in bytes.
    pub body_bytes: u32,
    /// Params, locals and the deepest operand stack times the instructions that begin or end
    /// a basic block (`block`, `loop`, `if`, `else`, branches): how much work register
    /// allocation may have, with every value live across every block.
    pub live_across_blocks: u64,
}

/// What a module declares that every instance of it costs to create: the host allocates,
/// initializes or resolves each of these at instantiation, before the contract runs a single
/// instruction. [`crate::gas::CostTable::instantiate_gas`] prices them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Declared {
    /// The memory's initial size, in 64 KiB pages: the instance may touch all of them.
    pub initial_pages: u64,
    /// The table's initial size: every entry is allocated and nulled.
    pub table_elements: u64,
    /// Function references the element segments write into the table.
    pub element_items: u64,
    pub globals: u64,
    /// Imported functions, each resolved to a host function.
    pub imports: u64,
    pub data_segments: u64,
    /// Bytes of every data segment, copied into memory (active) or held for `memory.init`.
    pub data_bytes: u64,
}

impl Declared {
    /// The fields in a fixed order, for the artifact header.
    pub fn to_words(self) -> [u64; 7] {
        [
            self.initial_pages,
            self.table_elements,
            self.element_items,
            self.globals,
            self.imports,
            self.data_segments,
            self.data_bytes,
        ]
    }

    pub fn from_words(w: [u64; 7]) -> Declared {
        Declared {
            initial_pages: w[0],
            table_elements: w[1],
            element_items: w[2],
            globals: w[3],
            imports: w[4],
            data_segments: w[5],
            data_bytes: w[6],
        }
    }
}

/// A module that passed every check, with its hash and per-function facts.
#[derive(Clone, Debug)]
pub struct ValidatedModule {
    pub code_hash: CodeHash,
    pub wasm: Arc<[u8]>,
    /// What creating an instance of it allocates and initializes.
    pub declared: Declared,
    /// The most pages its memory can reach: its declared maximum, else the memory limit (0
    /// without a memory). What its loads and stores cost depends on it.
    pub memory_pages: u32,
    /// Indexed by the module's defined (not imported) functions, in order.
    pub functions: Arc<[FunctionInfo]>,
    /// Which host functions the module imports, as (module, name).
    pub imports: Vec<(String, String)>,
    /// The method list the SDK embeds; `None` for modules built without the SDK's macros.
    pub abi: Option<Arc<bot_abi::ContractAbi>>,
}

/// Decodes a `bot:abi` section and checks it targets this engine's ABI.
pub fn decode_abi(data: &[u8]) -> Result<bot_abi::ContractAbi, ValidationError> {
    let abi = bot_abi::ContractAbi::from_section(data)
        .map_err(|e| ValidationError::AbiSection(e.to_string()))?;
    let expected = bot_abi::major(abi::ABI_VERSION);
    if abi.abi_major() != expected {
        return Err(ValidationError::AbiVersion {
            found: abi.abi_version.clone(),
            expected: expected.to_string(),
        });
    }
    Ok(abi)
}

/// The wasm features contracts may use: what stable rustc emits for wasm32-unknown-unknown.
pub fn allowed_features() -> WasmFeatures {
    WasmFeatures::WASM2.difference(WasmFeatures::SIMD)
}

/// Refused proposals, named for the error message, each as the features that turn it on.
fn forbidden_features() -> [(&'static str, WasmFeatures); 7] {
    [
        ("SIMD", WasmFeatures::SIMD.union(WasmFeatures::RELAXED_SIMD)),
        (
            "threads",
            WasmFeatures::THREADS.union(WasmFeatures::SHARED_EVERYTHING_THREADS),
        ),
        (
            "exceptions",
            WasmFeatures::EXCEPTIONS.union(WasmFeatures::LEGACY_EXCEPTIONS),
        ),
        ("multi-memory", WasmFeatures::MULTI_MEMORY),
        ("memory64", WasmFeatures::MEMORY64),
        ("tail-call", WasmFeatures::TAIL_CALL),
        (
            "gc / function-references",
            WasmFeatures::GC.union(WasmFeatures::FUNCTION_REFERENCES),
        ),
    ]
}

fn sig_text(params: &[wasmparser::ValType], results: &[wasmparser::ValType]) -> String {
    let list = |v: &[wasmparser::ValType]| {
        v.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(params), list(results))
}

fn abi_sig_text(params: &[ValType], results: &[ValType]) -> String {
    let name = |t: &ValType| match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
    };
    let list = |v: &[ValType]| v.iter().map(name).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(params), list(results))
}

fn same_sig(
    params: &[wasmparser::ValType],
    results: &[wasmparser::ValType],
    want_params: &[ValType],
    want_results: &[ValType],
) -> bool {
    let eq = |a: &[wasmparser::ValType], b: &[ValType]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                matches!(
                    (x, y),
                    (wasmparser::ValType::I32, ValType::I32)
                        | (wasmparser::ValType::I64, ValType::I64)
                )
            })
    };
    eq(params, want_params) && eq(results, want_results)
}

/// Checks `wasm` against the spec, our features, the ABI and `limits`.
pub fn validate(wasm: &[u8], limits: &Limits) -> Result<ValidatedModule, ValidationError> {
    if wasm.len() > limits.max_code_bytes {
        return Err(ValidationError::CodeTooLarge {
            size: wasm.len(),
            limit: limits.max_code_bytes,
        });
    }
    match Checker::new(limits).run(wasm) {
        Err(ValidationError::Malformed(message)) => {
            Err(forbidden_feature(wasm).unwrap_or(ValidationError::Malformed(message)))
        }
        checked => checked,
    }
}

/// For a module our feature set refuses: the refused proposal that, enabled alone, makes it
/// valid. Runs only on the failure path.
fn forbidden_feature(wasm: &[u8]) -> Option<ValidationError> {
    forbidden_features()
        .into_iter()
        .find_map(|(name, feature)| {
            Validator::new_with_features(allowed_features().union(feature))
                .validate_all(wasm)
                .is_ok()
                .then_some(ValidationError::ForbiddenFeature(name))
        })
}

struct Checker<'l> {
    limits: &'l Limits,
    /// Function types by type index: (params, results).
    types: Vec<(Vec<wasmparser::ValType>, Vec<wasmparser::ValType>)>,
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    imported_funcs: u32,
    imports: Vec<(String, String)>,
    functions: Vec<FunctionInfo>,
    total_params: u64,
    memories: u32,
    exports: Vec<(String, ExternalKind, u32)>,
    abi: Option<bot_abi::ContractAbi>,
    declared: Declared,
    memory_pages: u32,
}

impl<'l> Checker<'l> {
    fn new(limits: &'l Limits) -> Self {
        Checker {
            limits,
            types: Vec::new(),
            func_types: Vec::new(),
            imported_funcs: 0,
            imports: Vec::new(),
            functions: Vec::new(),
            total_params: 0,
            memories: 0,
            exports: Vec::new(),
            abi: None,
            declared: Declared::default(),
            memory_pages: 0,
        }
    }

    fn malformed(e: wasmparser::BinaryReaderError) -> ValidationError {
        ValidationError::Malformed(e.to_string())
    }

    fn run(mut self, wasm: &[u8]) -> Result<ValidatedModule, ValidationError> {
        // One pass: wasmparser validates each payload before our checks read it (so every index
        // they use is in range), and measures each function's operand stack as it validates it.
        let mut validator = Validator::new_with_features(allowed_features());
        let mut allocs = FuncValidatorAllocations::default();
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload.map_err(Self::malformed)?;
            let valid = validator.payload(&payload).map_err(Self::malformed)?;
            match &payload {
                Payload::TypeSection(reader) => {
                    for group in reader.clone().into_iter() {
                        for sub in group.map_err(Self::malformed)?.into_types() {
                            match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => {
                                    self.types.push((f.params().to_vec(), f.results().to_vec()))
                                }
                                _ => self.types.push((Vec::new(), Vec::new())),
                            }
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    let count = reader.count();
                    if count > self.limits.max_imports {
                        return Err(ValidationError::TooManyImports {
                            count,
                            limit: self.limits.max_imports,
                        });
                    }
                    for import in reader.clone().into_imports() {
                        let import = import.map_err(Self::malformed)?;
                        self.import(import.module, import.name, import.ty)?;
                    }
                }
                Payload::FunctionSection(reader) => {
                    let count = u64::from(self.imported_funcs) + u64::from(reader.count());
                    if count > u64::from(self.limits.max_functions) {
                        return Err(ValidationError::TooManyFunctions {
                            count,
                            limit: self.limits.max_functions,
                        });
                    }
                    for ty in reader.clone() {
                        let ty = ty.map_err(Self::malformed)?;
                        let index = self.func_types.len() as u32;
                        self.params(index, ty)?;
                        self.func_types.push(ty);
                    }
                }
                Payload::TableSection(reader) => {
                    if reader.count() > self.limits.max_tables {
                        return Err(ValidationError::TooManyTables {
                            count: reader.count(),
                            limit: self.limits.max_tables,
                        });
                    }
                    for table in reader.clone() {
                        let ty = table.map_err(Self::malformed)?.ty;
                        self.table(ty.initial, ty.maximum)?;
                        self.declared.table_elements += ty.initial;
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader.clone() {
                        let ty = memory.map_err(Self::malformed)?;
                        self.memory(ty.initial, ty.maximum)?;
                        self.declared.initial_pages += ty.initial;
                    }
                }
                Payload::GlobalSection(reader) => {
                    if reader.count() > self.limits.max_globals {
                        return Err(ValidationError::TooManyGlobals {
                            count: u64::from(reader.count()),
                            limit: self.limits.max_globals,
                        });
                    }
                    self.declared.globals = u64::from(reader.count());
                }
                Payload::ExportSection(reader) => {
                    if reader.count() > self.limits.max_exports {
                        return Err(ValidationError::TooManyExports {
                            count: reader.count(),
                            limit: self.limits.max_exports,
                        });
                    }
                    for export in reader.clone() {
                        let export = export.map_err(Self::malformed)?;
                        self.exports
                            .push((export.name.to_string(), export.kind, export.index));
                    }
                }
                Payload::StartSection { .. } => return Err(ValidationError::StartFunction),
                Payload::CustomSection(reader) if reader.name() == bot_abi::SECTION => {
                    if self.abi.is_some() {
                        return Err(ValidationError::AbiSection(
                            "the module has two bot:abi sections".into(),
                        ));
                    }
                    self.abi = Some(decode_abi(reader.data())?);
                }
                Payload::ElementSection(reader) => {
                    if reader.count() > self.limits.max_element_segments {
                        return Err(ValidationError::TooManyElementSegments {
                            count: reader.count(),
                            limit: self.limits.max_element_segments,
                        });
                    }
                    for element in reader.clone() {
                        let items = match element.map_err(Self::malformed)?.items {
                            wasmparser::ElementItems::Functions(f) => f.count(),
                            wasmparser::ElementItems::Expressions(_, e) => e.count(),
                        };
                        self.declared.element_items += u64::from(items);
                    }
                }
                Payload::DataSection(reader) => {
                    if reader.count() > self.limits.max_data_segments {
                        return Err(ValidationError::TooManyDataSegments {
                            count: reader.count(),
                            limit: self.limits.max_data_segments,
                        });
                    }
                    self.declared.data_segments = u64::from(reader.count());
                    for data in reader.clone() {
                        let data = data.map_err(Self::malformed)?;
                        self.declared.data_bytes += data.data.len() as u64;
                    }
                }
                _ => {}
            }
            match valid {
                wasmparser::ValidPayload::Func(func, body) => {
                    let index = self.imported_funcs + self.functions.len() as u32;
                    let mut func = func.into_validator(std::mem::take(&mut allocs));
                    let info = self.function(index, &mut func, &body)?;
                    self.functions.push(info);
                    allocs = func.into_allocations();
                }
                wasmparser::ValidPayload::End(_) => break,
                _ => {}
            }
        }
        self.check_exports()?;
        if self.memories != 1 {
            return Err(ValidationError::MemoryCount(self.memories));
        }
        self.declared.imports = self.imports.len() as u64;
        Ok(ValidatedModule {
            code_hash: CodeHash::of(wasm),
            wasm: Arc::from(wasm),
            declared: self.declared,
            memory_pages: self.memory_pages,
            functions: self.functions.into(),
            imports: self.imports,
            abi: self.abi.map(Arc::new),
        })
    }

    fn import(&mut self, module: &str, name: &str, ty: TypeRef) -> Result<(), ValidationError> {
        let kind = match ty {
            TypeRef::Func(index) => {
                let (params, results) = &self.types[index as usize];
                let Some(host) = abi::host_import(module, name) else {
                    return Err(ValidationError::UnknownImport {
                        module: module.to_string(),
                        name: name.to_string(),
                    });
                };
                if !same_sig(params, results, host.params, host.results) {
                    return Err(ValidationError::ImportSignature {
                        module: module.to_string(),
                        name: name.to_string(),
                        found: sig_text(params, results),
                        expected: abi_sig_text(host.params, host.results),
                    });
                }
                self.imported_funcs += 1;
                self.func_types.push(index);
                self.imports.push((module.to_string(), name.to_string()));
                return Ok(());
            }
            TypeRef::Memory(_) => "memory",
            TypeRef::Table(_) => "table",
            TypeRef::Global(_) => "global",
            TypeRef::Tag(_) => "tag",
            TypeRef::FuncExact(_) => "exact function",
        };
        Err(ValidationError::ImportKind {
            module: module.to_string(),
            name: name.to_string(),
            kind,
        })
    }

    fn params(&mut self, index: u32, ty: u32) -> Result<(), ValidationError> {
        let count = self.types[ty as usize].0.len() as u32;
        if count > self.limits.max_params_per_function {
            return Err(ValidationError::TooManyParams {
                index,
                count,
                limit: self.limits.max_params_per_function,
            });
        }
        self.total_params += u64::from(count);
        if self.total_params > self.limits.max_total_params {
            return Err(ValidationError::TooManyTotalParams {
                count: self.total_params,
                limit: self.limits.max_total_params,
            });
        }
        Ok(())
    }

    fn table(&self, initial: u64, maximum: Option<u64>) -> Result<(), ValidationError> {
        let limit = self.limits.max_table_elements;
        if initial > limit {
            return Err(ValidationError::TableTooLarge {
                what: "initial size",
                elements: initial,
                limit,
            });
        }
        match maximum {
            Some(max) if max > limit => Err(ValidationError::TableTooLarge {
                what: "maximum size",
                elements: max,
                limit,
            }),
            _ => Ok(()),
        }
    }

    fn memory(&mut self, initial: u64, maximum: Option<u64>) -> Result<(), ValidationError> {
        self.memories += 1;
        let limit = self.limits.max_memory_pages;
        if initial > u64::from(limit) {
            return Err(ValidationError::MemoryTooLarge {
                what: "initial size",
                pages: initial,
                limit,
            });
        }
        match maximum {
            Some(max) if max > u64::from(limit) => Err(ValidationError::MemoryTooLarge {
                what: "maximum size",
                pages: max,
                limit,
            }),
            _ => {
                // At most `limit` (checked above), so it fits.
                self.memory_pages = maximum.map_or(limit, |max| max as u32);
                Ok(())
            }
        }
    }

    fn function(
        &self,
        index: u32,
        func: &mut wasmparser::FuncValidator<wasmparser::ValidatorResources>,
        body: &wasmparser::FunctionBody,
    ) -> Result<FunctionInfo, ValidationError> {
        let mut locals: u64 = 0;
        let mut reader = body.get_binary_reader();
        for _ in 0..reader.read_var_u32().map_err(Self::malformed)? {
            let offset = reader.original_position();
            let count = reader.read_var_u32().map_err(Self::malformed)?;
            let ty = reader.read().map_err(Self::malformed)?;
            locals += u64::from(count);
            if locals > u64::from(self.limits.max_locals_per_function) {
                return Err(ValidationError::TooManyLocals {
                    index,
                    count: locals,
                    limit: self.limits.max_locals_per_function,
                });
            }
            func.define_locals(offset, count, ty)
                .map_err(Self::malformed)?;
        }
        let mut max_height: u32 = 0;
        let mut block_edges: u64 = 0;
        let mut ops = wasmparser::OperatorsReader::new(reader);
        while !ops.eof() {
            let offset = ops.original_position();
            let op = ops.read().map_err(Self::malformed)?;
            use wasmparser::Operator::*;
            let forbidden = match op {
                TableGrow { .. } => Some("table.grow"),
                TableFill { .. } => Some("table.fill"),
                TableCopy { .. } => Some("table.copy"),
                TableInit { .. } => Some("table.init"),
                _ => None,
            };
            if let Some(op) = forbidden {
                return Err(ValidationError::ForbiddenInstruction { index, op });
            }
            if matches!(
                op,
                Block { .. }
                    | Loop { .. }
                    | If { .. }
                    | Else
                    | Br { .. }
                    | BrIf { .. }
                    | BrTable { .. }
            ) {
                block_edges += 1;
            }
            func.op(offset, &op).map_err(Self::malformed)?;
            max_height = max_height.max(func.operand_stack_height());
        }
        // A body must close every block it opens, the function's own included: what the
        // compilers' validator checks last, so the deploy check and compilation agree.
        ops.finish().map_err(Self::malformed)?;
        let params = self.types[self.func_types[index as usize] as usize].0.len() as u64;
        let slots = params + locals + u64::from(max_height) + u64::from(FRAME_OVERHEAD_SLOTS);
        if slots > u64::from(self.limits.max_stack_slots) {
            return Err(ValidationError::FrameTooLarge {
                index,
                slots,
                limit: self.limits.max_stack_slots,
            });
        }
        Ok(FunctionInfo {
            locals: locals as u32,
            frame_slots: slots as u32,
            body_bytes: (body.range().end - body.range().start) as u32,
            live_across_blocks: (params + locals + u64::from(max_height)) * block_edges,
        })
    }

    fn check_exports(&self) -> Result<(), ValidationError> {
        let func_sig = |index: u32| &self.types[self.func_types[index as usize] as usize];
        let mut seen = (false, false, false);
        for (name, kind, index) in &self.exports {
            let expected = match (name.as_str(), kind) {
                (abi::EXPORT_MEMORY, ExternalKind::Memory) => {
                    seen.0 = true;
                    continue;
                }
                (abi::EXPORT_INVOKE, ExternalKind::Func) => {
                    seen.1 = true;
                    (abi::INVOKE_PARAMS, abi::INVOKE_RESULTS)
                }
                (abi::EXPORT_REALLOC, ExternalKind::Func) => {
                    seen.2 = true;
                    (abi::REALLOC_PARAMS, abi::INVOKE_RESULTS)
                }
                (abi::EXPORT_POST_INVOKE, ExternalKind::Func) => (abi::POST_INVOKE_PARAMS, &[][..]),
                (n, ExternalKind::Func) if n.starts_with(abi::VERSIONED_REALLOC_PREFIX) => {
                    (abi::REALLOC_PARAMS, abi::INVOKE_RESULTS)
                }
                (n, ExternalKind::Global) if abi::TOOLCHAIN_GLOBAL_EXPORTS.contains(&n) => continue,
                _ => return Err(ValidationError::UnknownExport(name.clone())),
            };
            let (params, results) = func_sig(*index);
            if !same_sig(params, results, expected.0, expected.1) {
                return Err(ValidationError::ExportSignature {
                    name: name.clone(),
                    found: sig_text(params, results),
                    expected: abi_sig_text(expected.0, expected.1),
                });
            }
        }
        if !seen.0 {
            return Err(ValidationError::MissingExport(abi::EXPORT_MEMORY));
        }
        if !seen.1 {
            return Err(ValidationError::MissingExport(abi::EXPORT_INVOKE));
        }
        if !seen.2 {
            return Err(ValidationError::MissingExport(abi::EXPORT_REALLOC));
        }
        Ok(())
    }
}
