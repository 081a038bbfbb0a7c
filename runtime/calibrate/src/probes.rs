//! The probe contracts: one wat module per row of the calibration, each a loop whose body
//! repeats one *unit* of work (a few instructions of one class, or one host call) `K` times.
//! The same module with `K = 0` is the baseline, so loop overhead, instantiation and the call
//! itself cancel out of every measurement.

use std::fmt::Write;

use bot_engine::abi;
use sha2::Digest;

/// Fixed addresses in every probe's memory.
pub mod mem {
    /// Where `invoke` builds its result.
    pub const RESULT: u32 = 16;
    /// Return areas host functions write to.
    pub const RET: u32 = 64;
    /// Inputs written by the data segment (see [`Inputs`](super::Inputs)), 128 bytes apart.
    pub const HASH: u32 = 1024;
    pub const K1_SIG: u32 = 1152;
    pub const K1_KEY: u32 = 1280;
    pub const ED_SIG: u32 = 1408;
    pub const ED_KEY: u32 = 1536;
    pub const P256_SIG: u32 = 1664;
    pub const P256_KEY: u32 = 1792;
    pub const CALLEE: u32 = 1920;
    /// Storage keys: 32 bytes each.
    pub const KEY_SMALL: u32 = 2048;
    pub const KEY_LARGE: u32 = 2176;
    pub const KEY_SCAN: u32 = 2304;
    pub const KEY_FRESH: u32 = 2432;
    pub const KEY_HUGE: u32 = 2464;
    pub const NAME: u32 = 2560;
    /// The prefix of the keys the removed-writes scan walks.
    pub const KEY_GONE: u32 = 2592;
    /// The adversarial callees' addresses, 32 bytes apart.
    pub const ADVERSARIAL_CALLEES: u32 = 3072;
    /// 4 KiB of message bytes, also used as values.
    pub const DATA: u32 = 4096;
    pub const DATA_LEN: u32 = 4096;
    /// 4 KiB of UTF-8 text, written by the probe that logs it.
    pub const UTF8: u32 = 8192;
    /// The bump allocator the host allocates returned lists from (wraps around).
    pub const HEAP: u32 = 16384;
    pub const HEAP_END: u32 = 60000;
}

/// The address the `calls.query` probe calls: a contract that returns at once.
pub const CALLEE_ADDRESS: bot_engine::Address = bot_engine::Address([0xca; 20]);
/// A committed value of the largest size a contract may store.
pub const HUGE_VALUE_BYTES: usize = 256 * 1024;
/// Writes the removed-writes scan walks over (each written with 1 KiB, then removed).
pub const GONE_ENTRIES: u32 = 256;
/// Prefix of the entries the scan probe reads.
pub const SCAN_PREFIX: &[u8] = b"scan/";
pub const SCAN_ENTRIES: usize = 16;

/// Signatures, keys and keys for storage, made once from fixed secrets.
pub struct Inputs {
    pub hash: [u8; 32],
    pub k1_sig: Vec<u8>,
    pub k1_key: Vec<u8>,
    pub k1_recid: u8,
    pub ed_sig: Vec<u8>,
    pub ed_key: Vec<u8>,
    pub p256_sig: Vec<u8>,
    pub p256_key: Vec<u8>,
    pub data: Vec<u8>,
}

impl Inputs {
    pub fn new() -> Inputs {
        let data: Vec<u8> = (0..mem::DATA_LEN).map(|i| (i * 31 % 251) as u8).collect();
        let hash: [u8; 32] = sha2::Sha256::digest(&data[..64]).into();
        let k1 = k256::ecdsa::SigningKey::from_slice(&[0x11; 32]).expect("a valid scalar");
        let (sig, id) = k1.sign_prehash_recoverable(&hash);
        let (sig, recid) = match sig.normalize_s() {
            low if low != sig => (low, id.to_byte() ^ 1),
            _ => (sig, id.to_byte()),
        };
        let ed = ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]);
        let ed_sig = ed25519_dalek::Signer::sign(&ed, &data[..64]);
        let p = p256::ecdsa::SigningKey::from_slice(&[0x33; 32]).expect("a valid scalar");
        let p_sig: p256::ecdsa::Signature =
            p256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&p, &hash).expect("signs");
        Inputs {
            hash,
            k1_sig: sig.to_bytes().to_vec(),
            k1_key: k1.verifying_key().to_sec1_bytes().to_vec(),
            k1_recid: recid,
            ed_sig: ed_sig.to_bytes().to_vec(),
            ed_key: ed.verifying_key().to_bytes().to_vec(),
            p256_sig: p_sig.to_bytes().to_vec(),
            p256_key: p.verifying_key().to_sec1_bytes().to_vec(),
            data,
        }
    }

    /// A storage key of 32 bytes beginning with `prefix`.
    pub fn key(prefix: &[u8]) -> Vec<u8> {
        let mut key = prefix.to_vec();
        key.resize(32, b'.');
        key
    }

    pub(crate) fn segments(&self) -> Vec<(u32, Vec<u8>)> {
        use mem::*;
        vec![
            (HASH, self.hash.to_vec()),
            (K1_SIG, self.k1_sig.clone()),
            (K1_KEY, self.k1_key.clone()),
            (ED_SIG, self.ed_sig.clone()),
            (ED_KEY, self.ed_key.clone()),
            (P256_SIG, self.p256_sig.clone()),
            (P256_KEY, self.p256_key.clone()),
            (CALLEE, CALLEE_ADDRESS.0.to_vec()),
            (KEY_SMALL, Inputs::key(b"small")),
            (KEY_LARGE, Inputs::key(b"large")),
            (KEY_SCAN, SCAN_PREFIX.to_vec()),
            (KEY_FRESH, Inputs::key(b"fresh/")),
            (KEY_HUGE, Inputs::key(b"huge")),
            (KEY_GONE, b"gone/".to_vec()),
            (NAME, b"reading".to_vec()),
            (
                ADVERSARIAL_CALLEES,
                adversarial_callees()
                    .iter()
                    .flat_map(|c| {
                        let mut slot = c.address.0.to_vec();
                        slot.resize(32, 0);
                        slot
                    })
                    .collect(),
            ),
            (DATA, self.data.clone()),
        ]
    }
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs::new()
    }
}

/// One row's probe: the unit of work, how many units per loop iteration, what it imports.
pub struct Probe {
    pub name: &'static str,
    pub what: &'static str,
    /// Host functions the unit calls, as `(module, name)`.
    pub imports: &'static [(&'static str, &'static str)],
    /// wat instructions, run `per_iteration` times per loop iteration.
    pub unit: String,
    /// wat instructions run once before the loop, in the baseline too (so they cancel out).
    pub setup: String,
    pub per_iteration: u32,
    /// Extra module fields (helper functions, tables).
    pub fields: &'static str,
    /// Initial memory pages (the grow probe starts small).
    pub pages: u32,
    /// The memory's declared maximum, which prices its loads and stores; 0 for `pages`.
    pub max_pages: u32,
    /// The most iterations one call may run (memory growth is bounded).
    pub max_iterations: u32,
    /// Keys each unit writes for the first time in the call. Their commit price is the
    /// `storage commit per key` row's (timed on the state store, at commit), so this row leaves
    /// it out.
    pub first_writes: u32,
}

impl Probe {
    /// A probe of one unit per iteration in a 2-page memory, nothing else declared.
    fn once(
        name: &'static str,
        what: &'static str,
        imports: &'static [(&'static str, &'static str)],
        unit: String,
    ) -> Probe {
        Probe {
            name,
            what,
            imports,
            unit,
            setup: String::new(),
            per_iteration: 1,
            fields: "",
            pages: 2,
            max_pages: 0,
            max_iterations: u32::MAX,
            first_writes: 0,
        }
    }
}

/// Every wasm instruction-class probe, each at the class's latency: every instruction waits
/// for the one before (arithmetic, loads at random addresses), branches and indirect calls go
/// where the CPU cannot predict. What a price covers is that worst case.
pub fn instruction_probes() -> Vec<Probe> {
    let wasm = |name, what, unit: &str, fields| Probe {
        name,
        what,
        imports: &[],
        unit: unit.to_string(),
        setup: String::new(),
        per_iteration: 16,
        fields,
        pages: 2,
        max_pages: 0,
        max_iterations: u32::MAX,
        first_writes: 0,
    };
    let chain = |name, what, unit: String| Probe {
        setup: opaque_inputs(),
        ..wasm(name, what, &unit, "")
    };
    vec![
        chain(
            "plain",
            "dependent integer additions and rotations",
            chain_of(
                "(local.get $a)",
                "(local.get $b) (i64.add) (i64.const 7) (i64.rotl)",
                4,
                "(local.set $a)",
            ),
        ),
        chain(
            "compare",
            "dependent comparisons and eqz",
            chain_of(
                "(local.get $x)",
                "(i32.eqz) (local.get $x) (i32.lt_u)",
                4,
                "(local.set $x)",
            ),
        ),
        chain(
            "multiply",
            "dependent multiplications",
            chain_of(
                "(local.get $a)",
                "(local.get $b) (i64.mul)",
                8,
                "(local.set $a)",
            ),
        ),
        chain(
            "float",
            "dependent float additions and multiplications",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f64.const 1.5) (f64.add) (f64.const 0.999) (f64.mul)",
                4,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        Probe {
            setup: touch_all(2),
            ..wasm(
                "memory_access",
                "dependent loads at random addresses of a 2-page memory",
                &random_load(2 * 65536),
                "",
            )
        },
        wasm(
            "division",
            "dependent 64- and 32-bit division and remainder",
            "(local.set $c (i64.or (i64.div_u (local.get $c) (local.get $b))
                                   (i64.const 0x7000000000000000)))
             (local.set $x (i32.or (i32.rem_u (local.get $x) (i32.const 1000003))
                                   (i32.const 0x70000000)))",
            "",
        ),
        wasm(
            "branch",
            "an if whose condition is random (so mispredicted half the time)",
            &format!(
                "{LCG}
                 (if (i64.lt_s (local.get $c) (i64.const 0))
                   (then (local.set $a (i64.add (local.get $a) (i64.const 1))))
                   (else (local.set $b (i64.add (local.get $b) (i64.const 1)))))"
            ),
            "",
        ),
        wasm(
            "call",
            "direct calls of a small function",
            "(local.set $a (call $step (local.get $a) (local.get $b)))",
            "(func $step (param i64 i64) (result i64)
               (i64.add (i64.xor (local.get 0) (local.get 1)) (i64.const 1)))",
        ),
        wasm(
            "call_indirect",
            "calls through a table of 8 functions, the target random (so mispredicted)",
            &format!(
                "{LCG}
                 (local.set $a (call_indirect (type $pick_t)
                   (local.get $a) (local.get $b) {LCG_INDEX}))"
            ),
            "(type $pick_t (func (param i64 i64) (result i64)))
             (table 8 funcref)
             (elem (i32.const 0) $r0 $r1 $r2 $r3 $r4 $r5 $r6 $r7)
             (func $r0 (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
             (func $r1 (param i64 i64) (result i64) (i64.sub (local.get 0) (local.get 1)))
             (func $r2 (param i64 i64) (result i64) (i64.xor (local.get 0) (local.get 1)))
             (func $r3 (param i64 i64) (result i64) (i64.or (local.get 0) (local.get 1)))
             (func $r4 (param i64 i64) (result i64) (i64.and (local.get 0) (local.get 1)))
             (func $r5 (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
             (func $r6 (param i64 i64) (result i64) (i64.rotl (local.get 0) (local.get 1)))
             (func $r7 (param i64 i64) (result i64) (i64.rotr (local.get 0) (local.get 1)))",
        ),
        Probe {
            name: "memory_grow",
            what: "memory.grow by one page, then a store in each 4 KiB of it",
            imports: &[],
            setup: String::new(),
            unit: {
                let mut unit = String::from(
                    "(local.set $p (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))\n",
                );
                for offset in (0..65536).step_by(4096) {
                    let _ = writeln!(
                        unit,
                        "(i64.store offset={offset} (local.get $p) (local.get $a))"
                    );
                }
                unit
            },
            per_iteration: 1,
            fields: "",
            pages: 2,
            max_pages: bot_engine::Limits::default().max_memory_pages,
            max_iterations: 400,
            first_writes: 0,
        },
        Probe {
            name: "bulk_memory",
            what: "memory.fill and memory.copy of 16 KiB",
            imports: &[],
            unit: "(memory.fill (i32.const 32768) (i32.wrap_i64 (local.get $a)) (i32.const 16384))
                   (memory.copy (i32.const 65536) (i32.const 32768) (i32.const 16384))"
                .into(),
            setup: String::new(),
            per_iteration: 1,
            fields: "",
            pages: 3,
            max_pages: 0,
            max_iterations: u32::MAX,
            first_writes: 0,
        },
    ]
}

/// Every host-function probe: one call per unit, on inputs from the data segment.
pub fn host_probes(inputs: &Inputs) -> Vec<Probe> {
    use abi::{CALLS, CRYPTO, ENV, EVENTS, RUNTIME, STORAGE};
    use mem::*;
    let host = Probe::once;
    // A write under a key the call has not written: it also pays the key's commit.
    let first_write = |probe: Probe| Probe {
        first_writes: 1,
        ..probe
    };
    let large = inputs.data.len() as u32;
    // A signature probe traps unless the check succeeded: a fast refusal is not what is priced.
    let valid = format!(
        "(if (i32.ne (i32.load16_u (i32.const {RET})) (i32.const 0x0100)) (then unreachable))"
    );
    let recovered = format!("(if (i32.load8_u (i32.const {RET})) (then unreachable))");
    vec![
        host(
            "env.block-height",
            "a fact returned as a value",
            &[(ENV, "block-height")],
            "(local.set $a (i64.add (local.get $a) (call $block-height)))".into(),
        ),
        host(
            "env.caller",
            "a 20-byte address returned as a list",
            &[(ENV, "caller")],
            format!("(call $caller (i32.const {RET}))"),
        ),
        host(
            "storage.get 32 B",
            "read a 32-byte value",
            &[(STORAGE, "get")],
            format!("(call $get (i32.const {KEY_SMALL}) (i32.const 32) (i32.const {RET}))"),
        ),
        host(
            "storage.get 1 KiB",
            "read a 1 KiB value",
            &[(STORAGE, "get")],
            format!("(call $get (i32.const {KEY_LARGE}) (i32.const 32) (i32.const {RET}))"),
        ),
        host(
            "storage.has",
            "check a key",
            &[(STORAGE, "has")],
            format!(
                "(local.set $x (i32.add (local.get $x) \
                 (call $has (i32.const {KEY_SMALL}) (i32.const 32))))"
            ),
        ),
        first_write(host(
            "storage.set 32 B",
            "write a 32-byte value under a new key",
            &[(STORAGE, "set")],
            format!(
                "(i32.store (i32.const {KEY_FRESH}) (local.get $i))
                 (call $set (i32.const {KEY_FRESH}) (i32.const 32) (i32.const {DATA}) (i32.const 32))"
            ),
        )),
        Probe {
            // A transaction writes at most 4 MiB of keys and values.
            max_iterations: 3_900,
            ..first_write(host(
                "storage.set 1 KiB",
                "write a 1 KiB value under a new key",
                &[(STORAGE, "set")],
                format!(
                    "(i32.store (i32.const {KEY_FRESH}) (local.get $i))
                     (call $set (i32.const {KEY_FRESH}) (i32.const 32) (i32.const {DATA}) (i32.const 1024))"
                ),
            ))
        },
        host(
            "storage.remove",
            "delete a key",
            &[(STORAGE, "remove")],
            format!("(call $remove (i32.const {KEY_SMALL}) (i32.const 32))"),
        ),
        host(
            "storage.scan 16",
            "a page of 16 entries of 32 B",
            &[(STORAGE, "scan")],
            format!(
                "(call $scan (i32.const {KEY_SCAN}) (i32.const {}) (i32.const 0) (i32.const 0)
                   (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                   (i32.const {SCAN_ENTRIES}) (i32.const {RET}))",
                SCAN_PREFIX.len()
            ),
        ),
        Probe {
            // A transaction emits at most 1,024 events.
            max_iterations: 1_000,
            ..host(
                "events.emit",
                "an event with 64 bytes of data",
                &[(EVENTS, "emit")],
                format!("(call $emit (i32.const {NAME}) (i32.const 7) (i32.const {DATA}) (i32.const 64))"),
            )
        },
        Probe {
            // The lines a transaction keeps (short lines reach the line cap first).
            max_iterations: 1_000,
            ..host(
                "runtime.log",
                "a 32-byte log line, kept",
                &[(RUNTIME, "log")],
                format!("(call $log (i32.const {KEY_SMALL}) (i32.const 32))"),
            )
        },
        host(
            "crypto.sha256 32 B",
            "hash 32 bytes",
            &[(CRYPTO, "sha256")],
            format!("(call $sha256 (i32.const {DATA}) (i32.const 32) (i32.const {RET}))"),
        ),
        host(
            "crypto.sha256 4 KiB",
            "hash 4 KiB",
            &[(CRYPTO, "sha256")],
            format!("(call $sha256 (i32.const {DATA}) (i32.const {large}) (i32.const {RET}))"),
        ),
        host(
            "crypto.keccak256 32 B",
            "hash 32 bytes",
            &[(CRYPTO, "keccak256")],
            format!("(call $keccak256 (i32.const {DATA}) (i32.const 32) (i32.const {RET}))"),
        ),
        host(
            "crypto.keccak256 4 KiB",
            "hash 4 KiB",
            &[(CRYPTO, "keccak256")],
            format!("(call $keccak256 (i32.const {DATA}) (i32.const {large}) (i32.const {RET}))"),
        ),
        host(
            "crypto.secp256k1-verify",
            "a valid signature",
            &[(CRYPTO, "secp256k1-verify")],
            format!(
                "(call $secp256k1-verify (i32.const {HASH}) (i32.const 32) (i32.const {K1_SIG})
                   (i32.const 64) (i32.const {K1_KEY}) (i32.const {}) (i32.const {RET}))
                 {valid}",
                inputs.k1_key.len()
            ),
        ),
        host(
            "crypto.secp256k1-recover",
            "recover a public key",
            &[(CRYPTO, "secp256k1-recover")],
            format!(
                "(call $secp256k1-recover (i32.const {HASH}) (i32.const 32) (i32.const {K1_SIG})
                   (i32.const 64) (i32.const {}) (i32.const {RET}))
                 {recovered}",
                inputs.k1_recid
            ),
        ),
        host(
            "crypto.ed25519-verify",
            "a valid signature of 64 bytes",
            &[(CRYPTO, "ed25519-verify")],
            format!(
                "(call $ed25519-verify (i32.const {DATA}) (i32.const 64) (i32.const {ED_SIG})
                   (i32.const 64) (i32.const {ED_KEY}) (i32.const 32) (i32.const {RET}))
                 {valid}"
            ),
        ),
        host(
            "crypto.p256-verify",
            "a valid signature",
            &[(CRYPTO, "p256-verify")],
            format!(
                "(call $p256-verify (i32.const {HASH}) (i32.const 32) (i32.const {P256_SIG})
                   (i32.const 64) (i32.const {P256_KEY}) (i32.const {}) (i32.const {RET}))
                 {valid}",
                inputs.p256_key.len()
            ),
        ),
        host(
            "calls.query",
            "a read-only call of another contract that returns at once",
            &[(CALLS, "query")],
            format!(
                "(call $query (i32.const {CALLEE}) (i32.const 20) (i32.const {NAME}) (i32.const 3)
                   (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i32.const {RET}))"
            ),
        ),
    ]
}

/// The wat import of a host function, as the function `$id`.
fn import_line(import: &abi::HostImport, id: &str) -> String {
    let ty = |t: &abi::ValType| match t {
        abi::ValType::I32 => "i32",
        abi::ValType::I64 => "i64",
    };
    let params: Vec<&str> = import.params.iter().map(ty).collect();
    let results: Vec<&str> = import.results.iter().map(ty).collect();
    format!(
        "(import \"{}\" \"{}\" (func ${id} (param {}) (result {})))\n",
        import.module,
        import.name,
        params.join(" "),
        results.join(" ")
    )
}

/// The probe module with `k` units per iteration. `invoke` reads the iteration count from its
/// arguments (a little-endian u32).
pub fn module(probe: &Probe, inputs: &Inputs, k: u32) -> String {
    use mem::*;
    let mut wat = String::from("(module\n");
    for (module, name) in probe.imports {
        let import = abi::host_import(module, name).expect("probes import ABI functions");
        wat.push_str(&import_line(import, name));
    }
    let max_pages = if probe.max_pages == 0 {
        probe.pages
    } else {
        probe.max_pages
    };
    let _ = writeln!(
        wat,
        "(memory (export \"memory\") {} {max_pages})",
        probe.pages
    );
    let _ = writeln!(wat, "(global $heap (mut i32) (i32.const {HEAP}))");
    for (offset, bytes) in inputs.segments() {
        let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
        let _ = writeln!(wat, "(data (i32.const {offset}) \"{escaped}\")");
    }
    let _ = writeln!(wat, "{}", probe.fields);
    let _ = writeln!(
        wat,
        "(func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)
           (local $p i32)
           (if (i32.gt_u (i32.add (global.get $heap) (local.get 3)) (i32.const {HEAP_END}))
             (then (global.set $heap (i32.const {HEAP}))))
           (local.set $p (global.get $heap))
           (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get 3)) (i32.const 7))
                                      (i32.const -8)))
           (local.get $p))"
    );
    let body = probe.unit.repeat(k as usize);
    let setup = &probe.setup;
    let _ = writeln!(
        wat,
        "(func (export \"invoke\") (param i32 i32 i32 i32) (result i32)
           (local $i i32) (local $x i32) (local $p i32) (local $a i64) (local $b i64) (local $c i64)
           (local.set $i (i32.load (local.get 2)))
           (local.set $x (i32.const 12345))
           (local.set $a (i64.const 1))
           (local.set $b (i64.const 3))
           (local.set $c (i64.const 0x7fffffffffffffff))
           {setup}
           (block $done
             (loop $next
               (br_if $done (i32.eqz (local.get $i)))
               {body}
               (local.set $i (i32.sub (local.get $i) (i32.const 1)))
               (br $next)))
           (i64.store (i32.const 0) (i64.add (local.get $a) (i64.add (local.get $b) (local.get $c))))
           (i32.store (i32.const 8) (local.get $x))
           (i32.store (i32.const {RESULT}) (i32.const 0))
           (i32.store (i32.const {}) (i32.const 0))
           (i32.store (i32.const {}) (i32.const 0))
           (i32.const {RESULT})))",
        RESULT + 4,
        RESULT + 8
    );
    wat
}

/// The contract `calls.query` calls: returns an empty result at once.
pub fn callee() -> String {
    "(module
       (memory (export \"memory\") 1)
       (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
       (func (export \"invoke\") (param i32 i32 i32 i32) (result i32)
         (i32.store (i32.const 16) (i32.const 0))
         (i32.store (i32.const 20) (i32.const 0))
         (i32.store (i32.const 24) (i32.const 0))
         (i32.const 16)))"
        .to_string()
}

/// A module of `functions` functions whose bodies are the instruction units, for timing the
/// compiler per byte of code (what an upload costs every validator).
pub fn code_module(functions: usize) -> String {
    let units: String = instruction_probes()
        .iter()
        .filter(|p| matches!(p.name, "plain" | "memory_access" | "division" | "branch"))
        .map(|p| p.unit.clone())
        .collect();
    let mut wat = String::from("(module\n(memory (export \"memory\") 1)\n");
    wat.push_str(
        "(func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))\n",
    );
    wat.push_str(
        "(func (export \"invoke\") (param i32 i32 i32 i32) (result i32) (i32.const 16))\n",
    );
    for f in 0..functions {
        let _ = writeln!(
            wat,
            "(func $f{f} (param $i i32) (result i64)
               (local $x i32) (local $p i32) (local $a i64) (local $b i64) (local $c i64)
               {units}
               (local.get $a))"
        );
    }
    wat.push(')');
    wat
}

/// Setup that writes every byte of a `pages`-page memory, so what is timed after it neither
/// faults pages in (the instance pays for its pages) nor reads the shared zero page.
fn touch_all(pages: u32) -> String {
    format!(
        "(memory.fill (i32.const 0) (i32.const 0x5a) (i32.const {}))",
        pages * 65536
    )
}

/// Setup that loads `$b` and `$x` from the data segment: inputs the compiler cannot know, so
/// no chain folds to a constant.
fn opaque_inputs() -> String {
    format!(
        "(local.set $b (i64.load (i32.const {}))) (local.set $x (i32.load (i32.const {})))",
        mem::HASH,
        mem::HASH + 8
    )
}

/// A chain of `n` steps of `step` (wat taking one value from the stack, leaving one) on `start`
/// (pushing one) and `end` (taking it): each step waits for the one before, so only latency
/// counts.
fn chain_of(start: &str, step: &str, n: usize, end: &str) -> String {
    format!("{start}\n{}{end}", format!("{step}\n").repeat(n))
}

/// One step of a 64-bit LCG in `$c`: the cheapest randomness a contract has, so the targets of
/// the adversarial branch and call probes are unpredictable to the CPU.
const LCG: &str = "(local.set $c (i64.add (i64.mul (local.get $c) (i64.const 6364136223846793005))
                                (i64.const 1442695040888963407)))";

/// An index in 0..8 from the LCG's top bits.
const LCG_INDEX: &str = "(i32.wrap_i64 (i64.shr_u (local.get $c) (i64.const 61)))";

/// A dependent load from a random address below `bytes`: the next address depends on what was
/// loaded, so the CPU cannot run ahead, and every load misses whatever does not hold `bytes`.
fn random_load(bytes: u32) -> String {
    format!(
        "(local.set $c (i64.add (i64.mul (i64.xor (local.get $c) (i64.load32_u (local.get $p)))
                                         (i64.const 6364136223846793005))
                                (i64.const 1442695040888963407)))
         (local.set $p (i32.and (i32.wrap_i64 (i64.shr_u (local.get $c) (i64.const 32)))
                                (i32.const {})))",
        bytes - 4
    )
}

/// The adversarial set: for each instruction class, host function and declared property, the
/// most time per gas a contract can buy within the limits (out-of-cache memory, unpredictable
/// branches and calls, the largest buffers, instances declaring everything). Each row must be
/// within [`ADVERSARIAL_BAND`](crate::ADVERSARIAL_BAND) of the friendly rows' unit.
pub fn adversarial_probes() -> Vec<Probe> {
    use abi::{CALLS, CRYPTO, EVENTS, RUNTIME, STORAGE};
    use mem::*;
    let probe = |name, what, imports, unit, pages| Probe {
        pages,
        ..Probe::once(name, what, imports, unit)
    };
    let wasm = |name, what, unit: String, pages| Probe {
        per_iteration: 16,
        ..probe(name, what, &[], unit, pages)
    };
    let max_pages = bot_engine::Limits::default().max_memory_pages;
    let random = |name, what, pages: u32| Probe {
        setup: touch_all(pages),
        ..wasm(name, what, random_load(pages * 65536), pages)
    };
    let query = |callee: u32| {
        format!(
            "(call $query (i32.const {callee}) (i32.const 20) (i32.const {NAME}) (i32.const 3)
               (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i32.const {RET}))"
        )
    };
    // memory.fill and memory.copy of half a memory of `pages` pages each, in a memory touched
    // before (a first touch is the instance's, priced with its pages).
    let bulk = |name, pages: u32| Probe {
        setup: touch_all(pages),
        ..probe(
            name,
            "memory.fill and memory.copy of half the memory each",
            &[],
            format!(
                "(memory.fill (i32.const 0) (i32.wrap_i64 (local.get $a)) (i32.const {half}))
                 (memory.copy (i32.const {half}) (i32.const 0) (i32.const {half}))",
                half = pages * 65536 / 2
            ),
            pages,
        )
    };
    let huge = HUGE_VALUE_BYTES as u32;
    let huge_pages = (HEAP + huge).div_ceil(65536) + 1;
    let chain_probe = |name, what, unit: String| Probe {
        setup: opaque_inputs(),
        ..wasm(name, what, unit, 2)
    };
    let mut rows = vec![
        chain_probe(
            "chain bit counts",
            "dependent popcnt, clz and ctz",
            chain_of(
                "(local.get $a)",
                "(i64.popcnt) (i64.clz) (i64.ctz)",
                4,
                "(local.set $a)",
            ),
        ),
        chain_probe(
            "chain f64 min/max",
            "dependent float minimum and maximum (NaN rules)",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f64.const 1.5) (f64.min) (f64.const -0.5) (f64.max)",
                4,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        chain_probe(
            "chain f64 rounding",
            "dependent nearest, floor, ceil and trunc",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f64.nearest) (f64.floor) (f64.ceil) (f64.trunc)",
                2,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        chain_probe(
            "chain conversions",
            "dependent int to float and float to int conversions, unsigned and saturating",
            chain_of(
                "(local.get $a)",
                "(f64.convert_i64_u) (i64.trunc_sat_f64_u) (f32.convert_i64_u) (i64.trunc_sat_f32_s)",
                2,
                "(local.set $a)",
            ),
        ),
        chain_probe(
            "chain f32/f64 demote",
            "dependent demote and promote (NaNs made canonical)",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f32.demote_f64) (f64.promote_f32)",
                4,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        chain_probe(
            "chain unary",
            "dependent extend, wrap and sign extension (with an xor between)",
            chain_of(
                "(local.get $x)",
                "(i64.extend_i32_u) (local.get $b) (i64.xor) (i32.wrap_i64) (i32.extend8_s)",
                4,
                "(local.set $x)",
            ),
        ),
        chain_probe(
            "chain f64 compare",
            "dependent float comparisons",
            chain_of(
                "(local.get $x)",
                "(f64.convert_i32_s) (f64.const 0.5) (f64.gt)",
                4,
                "(local.set $x)",
            ),
        ),
        chain_probe(
            "chain f64 sign",
            "dependent abs, neg and copysign",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f64.abs) (f64.neg) (f64.const -1) (f64.copysign)",
                4,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        chain_probe(
            "chain select",
            "dependent selects",
            chain_of(
                "(local.get $a)",
                "(local.tee $c) (local.get $b) (local.get $c) (i32.wrap_i64) (select) (i64.const 1) (i64.sub)",
                4,
                "(local.set $a)",
            ),
        ),
        chain_probe(
            "chain br",
            "blocks left by a branch at once (each block's gas is charged)",
            "(block (br 0))".into(),
        ),
        chain_probe(
            "chain f64 div/sqrt",
            "dependent float division and square root",
            chain_of(
                "(f64.reinterpret_i64 (local.get $a))",
                "(f64.const 1.0001) (f64.div) (f64.sqrt)",
                2,
                "(i64.reinterpret_f64) (local.set $a)",
            ),
        ),
        Probe {
            fields: "(global $g (mut i64) (i64.const 1))",
            ..wasm(
                "chain global",
                "dependent reads and writes of a mutable global",
                "(global.set $g (i64.add (global.get $g) (i64.const 1)))".into(),
                2,
            )
        },
        wasm(
            "chain load 16 KiB",
            "loads whose address is the value loaded before (in cache)",
            "(local.set $p (i32.and (i32.load (local.get $p)) (i32.const 16380)))".into(),
            2,
        ),
        random(
            "random load 512 KiB",
            "dependent loads at random addresses of an 8-page memory",
            8,
        ),
        random(
            "random load 1 MiB",
            "dependent loads at random addresses of a 16-page memory (an SDK contract's size)",
            16,
        ),
        random(
            "random load 2 MiB",
            "dependent loads at random addresses of a 32-page memory",
            32,
        ),
        random(
            "random load 4 MiB",
            "dependent loads at random addresses of a 64-page memory",
            64,
        ),
        random(
            "random load 8 MiB",
            "dependent loads at random addresses of a 128-page memory",
            128,
        ),
        random(
            "random load 32 MiB",
            "dependent loads at random addresses of the largest memory",
            max_pages,
        ),
        Probe {
            setup: touch_all(max_pages),
            ..wasm(
                "random store 32 MiB",
                "stores at random addresses of the largest memory",
                format!(
                    "{LCG}
                     (i64.store (i32.and (i32.wrap_i64 (i64.shr_u (local.get $c) (i64.const 32)))
                                         (i32.const {}))
                                (local.get $c))",
                    max_pages * 65536 - 8
                ),
                max_pages,
            )
        },
        wasm(
            "random br_table",
            "a br_table of 8 targets taken at random",
            {
                let mut unit = format!("{LCG}\n(block $out\n");
                for t in (0..8).rev() {
                    let _ = writeln!(unit, "(block $t{t}");
                }
                let _ = writeln!(
                    unit,
                    "(br_table $t0 $t1 $t2 $t3 $t4 $t5 $t6 $t7 {LCG_INDEX}))"
                );
                for t in 0..8 {
                    let _ = writeln!(
                        unit,
                        "(local.set $a (i64.add (local.get $a) (i64.const {}))) (br $out))",
                        t + 1
                    );
                }
                // Each target's code ends the block after it; the last one's ends $out.
                unit
            },
            2,
        ),
        bulk("bulk_memory 256 KiB", 4),
        bulk("bulk_memory 1 MiB", 16),
        bulk("bulk_memory 2 MiB", 32),
        bulk("bulk_memory 8 MiB", 128),
        bulk("bulk_memory 16 MiB", 256),
        Probe {
            max_iterations: 64,
            ..bulk("bulk_memory 32 MiB", max_pages)
        },
        Probe {
            setup: format!(
                "(block $made (loop $make
                   (br_if $made (i32.ge_u (local.get $p) (i32.const {GONE_ENTRIES})))
                   (i32.store (i32.const {}) (local.get $p))
                   (call $set (i32.const {KEY_GONE}) (i32.const 9) (i32.const {DATA}) (i32.const 1024))
                   (call $remove (i32.const {KEY_GONE}) (i32.const 9))
                   (local.set $p (i32.add (local.get $p) (i32.const 1)))
                   (br $make)))",
                KEY_GONE + 5
            ),
            ..probe(
                "storage.scan removed",
                "a page of one entry over the call's removed writes (all walked, none returned)",
                &[(STORAGE, "set"), (STORAGE, "remove"), (STORAGE, "scan")],
                format!(
                    "(call $scan (i32.const {KEY_GONE}) (i32.const 5) (i32.const 0) (i32.const 0)
                       (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                       (i32.const 1) (i32.const {RET}))"
                ),
                2,
            )
        },
        probe(
            "storage.get 256 KiB",
            "read the largest value",
            &[(STORAGE, "get")],
            format!("(call $get (i32.const {KEY_HUGE}) (i32.const 32) (i32.const {RET}))"),
            huge_pages,
        ),
        Probe {
            // A transaction writes at most 4 MiB.
            max_iterations: 15,
            ..probe(
                "storage.set 256 KiB",
                "overwrite a key with the largest value",
                &[(STORAGE, "set")],
                format!(
                    "(call $set (i32.const {KEY_FRESH}) (i32.const 32) (i32.const {HEAP}) (i32.const {huge}))"
                ),
                huge_pages,
            )
        },
        Probe {
            // A transaction emits at most 1 MiB of events.
            max_iterations: 15,
            ..probe(
                "events.emit 64 KiB",
                "an event with the most data",
                &[(EVENTS, "emit")],
                format!("(call $emit (i32.const {NAME}) (i32.const 7) (i32.const 0) (i32.const 65536))"),
                2,
            )
        },
        Probe {
            // The lines a transaction keeps: 64 KiB of them.
            max_iterations: 16,
            ..probe(
                "runtime.log 4 KiB",
                "the longest log line, not UTF-8, kept",
                &[(RUNTIME, "log")],
                format!("(call $log (i32.const {DATA}) (i32.const {DATA_LEN}))"),
                2,
            )
        },
        Probe {
            max_iterations: 16,
            // 4 KiB of two-byte characters (é) after the data.
            setup: format!(
                "(block $made (loop $make
                   (br_if $made (i32.ge_u (local.get $p) (i32.const {DATA_LEN})))
                   (i32.store16 (i32.add (local.get $p) (i32.const {UTF8})) (i32.const 0xa9c3))
                   (local.set $p (i32.add (local.get $p) (i32.const 2)))
                   (br $make)))"
            ),
            ..probe(
                "runtime.log 4 KiB UTF-8",
                "the longest log line, all two-byte characters, kept",
                &[(RUNTIME, "log")],
                format!("(call $log (i32.const {UTF8}) (i32.const {DATA_LEN}))"),
                2,
            )
        },
        probe(
            "crypto.sha256 1 MiB",
            "hash the most bytes",
            &[(CRYPTO, "sha256")],
            format!("(call $sha256 (i32.const 0) (i32.const 1048576) (i32.const {RET}))"),
            17,
        ),
        probe(
            "crypto.keccak256 1 MiB",
            "hash the most bytes",
            &[(CRYPTO, "keccak256")],
            format!("(call $keccak256 (i32.const 0) (i32.const 1048576) (i32.const {RET}))"),
            17,
        ),
    ];
    for (i, callee) in adversarial_callees().into_iter().enumerate() {
        let pages = if callee.name.contains("result") {
            huge_pages
        } else {
            2
        };
        rows.push(probe(
            callee.name,
            callee.what,
            &[(CALLS, "query")],
            query(ADVERSARIAL_CALLEES + 32 * i as u32),
            pages,
        ));
    }
    rows
}

/// A contract the adversarial `calls.query` rows call.
pub struct Callee {
    pub name: &'static str,
    pub what: &'static str,
    pub address: bot_engine::Address,
    pub wat: String,
}

/// The adversarial callees: each declares the most of one property the limits allow (what
/// every instance builds before its first instruction), or returns the largest result.
pub fn adversarial_callees() -> Vec<Callee> {
    let limits = bot_engine::Limits::default();
    let callee = |n: u8, name, what, wat| Callee {
        name,
        what,
        address: bot_engine::Address([0xd0 + n; 20]),
        wat,
    };
    let module = |pages: u32, fields: String, body: &str, ret: (u32, u32)| {
        format!(
            "(module\n{fields}\n(memory (export \"memory\") {pages})\n{})",
            returning(ret.0, ret.1).replace("{body}", body)
        )
    };
    let imports: String = (0..limits.max_imports as usize)
        .map(|i| import_line(&abi::IMPORTS[i % abi::IMPORTS.len()], &format!("i{i}")))
        .collect();
    let globals: String = (0..limits.max_globals)
        .map(|g| format!("(global (mut i64) (i64.const {g}))\n"))
        .collect();
    let table = {
        let elements = limits.max_table_elements as u32;
        let per_segment = elements / limits.max_element_segments;
        let refs = " $f".repeat(per_segment as usize);
        let mut wat = format!("(table {elements} funcref)\n(func $f (result i32) (i32.const 7))\n");
        for s in 0..limits.max_element_segments {
            let _ = writeln!(wat, "(elem (i32.const {}) func{refs})", s * per_segment);
        }
        wat
    };
    let data = |segments: u32, bytes: u32| {
        let segment = bytes / segments;
        let escaped: String = (0..segment).map(|b| format!("\\{:02x}", b % 251)).collect();
        (0..segments)
            .map(|s| format!("(data (i32.const {}) \"{escaped}\")\n", s * segment))
            .collect::<String>()
    };
    let pages = limits.max_memory_pages;
    let touch = |pages: u32| {
        format!(
            "(local $p i32)
             (block $done (loop $touch
               (br_if $done (i32.ge_u (local.get $p) (i32.const {})))
               (i64.store (local.get $p) (i64.const 1))
               (local.set $p (i32.add (local.get $p) (i32.const 4096)))
               (br $touch)))",
            pages * 65536
        )
    };
    let result = bot_engine::HostLimits::default().max_result_bytes;
    vec![
        callee(
            0,
            "calls.query imports",
            "a query of a contract with the most imports",
            module(1, imports, "", (0, 0)),
        ),
        callee(
            1,
            "calls.query globals",
            "a query of a contract with the most globals",
            module(1, globals, "", (0, 0)),
        ),
        callee(
            2,
            "calls.query table",
            "a query of a contract with the largest table, filled by the most element segments",
            module(1, table, "", (0, 0)),
        ),
        callee(
            3,
            "calls.query data segments",
            "a query of a contract with the most data segments (64 B each)",
            module(1, data(limits.max_data_segments, 65536), "", (0, 0)),
        ),
        callee(
            4,
            "calls.query data bytes",
            "a query of a contract whose data segments fill 8 pages (512 KiB)",
            module(8, data(8, 8 * 65536), "", (0, 0)),
        ),
        callee(
            5,
            "calls.query touched pages",
            "a query of a contract declaring the most initial pages and touching each 4 KiB",
            module(pages, String::new(), &touch(pages), (0, 0)),
        ),
        callee(
            7,
            "calls.query one page touched",
            "a query of a contract with one page (the base price's) touching each 4 KiB",
            module(1, String::new(), &touch(1), (0, 0)),
        ),
        callee(
            6,
            "calls.query large result",
            "a query of a contract returning the largest result",
            module(
                (65536 + result).div_ceil(65536),
                String::new(),
                "",
                (65536, result),
            ),
        ),
    ]
}

/// An `invoke` that returns `(ok, ptr, len)` from memory offset 16.
fn returning(ptr: u32, len: u32) -> String {
    format!(
        "(func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
         (func (export \"invoke\") (param i32 i32 i32 i32) (result i32)
           {{body}}
           (i32.store (i32.const 16) (i32.const 0))
           (i32.store (i32.const 20) (i32.const {ptr}))
           (i32.store (i32.const 24) (i32.const {len}))
           (i32.const 16))"
    )
}

/// The compile bombs: modules whose compile time per byte is the worst we could construct
/// within the deploy limits, each as `(name, what, wat)`.
pub fn compile_bombs() -> Vec<(&'static str, &'static str, String)> {
    let prelude = "(memory (export \"memory\") 1)
         (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
         (func (export \"invoke\") (param i32 i32 i32 i32) (result i32) (i32.const 16))\n";
    let live_locals = {
        let (locals, blocks) = (500, 4000);
        let mut f = String::from("(func $bomb (param $i i32) (result i64)\n");
        for l in 0..locals {
            let _ = writeln!(f, "(local $l{l} i64)");
        }
        for b in 0..blocks {
            let (x, y) = (b % locals, (b * 7 + 1) % locals);
            let _ = writeln!(
                f,
                "(block (local.set $l{x} (i64.add (local.get $l{x}) (local.get $l{y})))
                   (br_if 0 (i32.wrap_i64 (local.get $l{x}))))"
            );
        }
        f.push_str("(i64.const 0)\n");
        for l in 0..locals {
            let _ = writeln!(f, "(local.get $l{l}) (i64.add)");
        }
        f.push_str(")\n");
        f
    };
    let nested = {
        let depth = 20_000;
        let mut f = String::from("(func $nested (param $i i32)\n");
        f.push_str(&"(block ".repeat(depth));
        f.push_str("(br_if 100 (local.get $i))");
        f.push_str(&")".repeat(depth));
        f.push_str(")\n");
        f
    };
    let functions = {
        let mut f = String::new();
        for n in 0..19_000 {
            let _ = writeln!(
                f,
                "(func $f{n} (result i32) (i32.add (i32.const {n}) (i32.const 1)))"
            );
        }
        f
    };
    let br_table = {
        let width = 10_000;
        let mut f = String::from("(func $wide (param $i i32)\n(block $out\n");
        let targets: String = (0..width).map(|t| format!(" {}", t % 2)).collect();
        for _ in 0..20 {
            let _ = writeln!(f, "(block (br_table{targets} 0 (local.get $i)))");
        }
        f.push_str("))\n");
        f
    };
    [
        (
            "compile live locals",
            "500 locals live across 4,000 blocks",
            live_locals,
        ),
        ("compile nested blocks", "20,000 nested blocks", nested),
        ("compile functions", "19,000 small functions", functions),
        ("compile br_table", "br_tables of 10,000 targets", br_table),
    ]
    .into_iter()
    .map(|(name, what, body)| (name, what, format!("(module\n{prelude}{body})")))
    .collect()
}
