//! The contract ABI as core wasm sees it: the imports and exports that `sdk/wit/bot.wit` lowers
//! to under the canonical ABI. The WIT file is the definition; this table is its lowering, and
//! a test (tests/it/abi.rs) checks the two agree name for name and type for type.

/// The WIT package version this engine implements. Contracts built against another major
/// version are refused at deploy; those built against an earlier version of this one import
/// its interfaces under their own version's names, which the engine still binds
/// ([`canonical_module`]).
pub const ABI_VERSION: &str = "0.1.2";

/// Earlier versions of this major and the interfaces each had: their import names stay valid.
const EARLIER: &[(&str, &[&str])] = &[
    (
        "0.1.0",
        &["storage", "env", "events", "crypto", "calls", "runtime"],
    ),
    (
        "0.1.1",
        &[
            "storage",
            "env",
            "events",
            "crypto",
            "calls",
            "runtime",
            "devices",
            "authorization",
        ],
    ),
];

/// Core wasm value types that appear in lowered host signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
}

use ValType::{I32, I64};

/// One host function as a contract imports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostImport {
    pub module: &'static str,
    pub name: &'static str,
    pub params: &'static [ValType],
    pub results: &'static [ValType],
}

pub const STORAGE: &str = "bot:contract/storage@0.1.2";
pub const ENV: &str = "bot:contract/env@0.1.2";
pub const EVENTS: &str = "bot:contract/events@0.1.2";
pub const CRYPTO: &str = "bot:contract/crypto@0.1.2";
pub const CALLS: &str = "bot:contract/calls@0.1.2";
pub const RUNTIME: &str = "bot:contract/runtime@0.1.2";
/// Since 0.1.1.
pub const DEVICES: &str = "bot:contract/devices@0.1.2";
/// Since 0.1.1.
pub const AUTHORIZATION: &str = "bot:contract/authorization@0.1.2";
/// Since 0.1.2.
pub const COMMANDS: &str = "bot:contract/commands@0.1.2";

const MODULES: &[&str] = &[
    STORAGE,
    ENV,
    EVENTS,
    CRYPTO,
    CALLS,
    RUNTIME,
    DEVICES,
    AUTHORIZATION,
    COMMANDS,
];

const fn import(
    module: &'static str,
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
) -> HostImport {
    HostImport {
        module,
        name,
        params,
        results,
    }
}

/// Every function a contract may import. Anything else is refused at deploy.
pub const IMPORTS: &[HostImport] = &[
    import(STORAGE, "get", &[I32, I32, I32], &[]),
    import(STORAGE, "set", &[I32, I32, I32, I32], &[]),
    import(STORAGE, "remove", &[I32, I32], &[]),
    import(STORAGE, "has", &[I32, I32], &[I32]),
    import(STORAGE, "scan", &[I32; 11], &[]),
    import(ENV, "caller", &[I32], &[]),
    import(ENV, "origin", &[I32], &[]),
    import(ENV, "self-address", &[I32], &[]),
    import(ENV, "block-height", &[], &[I64]),
    import(ENV, "block-time", &[], &[I64]),
    import(ENV, "tx-hash", &[I32], &[]),
    import(ENV, "chain-id", &[I32], &[]),
    import(ENV, "gas-left", &[], &[I64]),
    import(EVENTS, "emit", &[I32, I32, I32, I32], &[]),
    import(CRYPTO, "sha256", &[I32, I32, I32], &[]),
    import(CRYPTO, "keccak256", &[I32, I32, I32], &[]),
    import(CRYPTO, "secp256k1-verify", &[I32; 7], &[]),
    import(CRYPTO, "secp256k1-recover", &[I32; 6], &[]),
    import(CRYPTO, "ed25519-verify", &[I32; 7], &[]),
    import(CRYPTO, "p256-verify", &[I32; 7], &[]),
    import(
        CALLS,
        "call",
        &[I32, I32, I32, I32, I32, I32, I32, I64, I32],
        &[],
    ),
    import(
        CALLS,
        "query",
        &[I32, I32, I32, I32, I32, I32, I32, I64, I32],
        &[],
    ),
    import(RUNTIME, "abort", &[I32, I32], &[]),
    import(RUNTIME, "log", &[I32, I32], &[]),
    import(DEVICES, "get", &[I32; 3], &[]),
    import(
        DEVICES,
        "readings",
        &[I32, I32, I32, I32, I64, I32, I32],
        &[],
    ),
    import(DEVICES, "latest", &[I32; 5], &[]),
    import(AUTHORIZATION, "check", &[I32; 9], &[]),
    import(AUTHORIZATION, "get-service", &[I32; 3], &[]),
    import(
        COMMANDS,
        "send",
        &[I32, I32, I32, I32, I32, I32, I32, I32, I32, I64, I32],
        &[],
    ),
    import(COMMANDS, "reply", &[I32], &[]),
];

/// The current name of an interface a contract imports as `module`: itself, or the same
/// interface under this version if `module` names it under an earlier version that had it.
pub fn canonical_module(module: &str) -> Option<&'static str> {
    let interface_and_version = |m: &'static str| {
        m.strip_prefix("bot:contract/")
            .and_then(|r| r.split_once('@'))
    };
    if let Some(current) = MODULES.iter().find(|m| **m == module) {
        return Some(current);
    }
    let (interface, version) = module.strip_prefix("bot:contract/")?.split_once('@')?;
    let (_, had) = EARLIER.iter().find(|(v, _)| *v == version)?;
    if !had.contains(&interface) {
        return None;
    }
    MODULES
        .iter()
        .copied()
        .find(|m| interface_and_version(m).is_some_and(|(i, _)| i == interface))
}

/// Looks up an import by module (under any name [`canonical_module`] accepts) and name.
pub fn host_import(module: &str, name: &str) -> Option<&'static HostImport> {
    let module = canonical_module(module)?;
    IMPORTS
        .iter()
        .find(|i| i.module == module && i.name == name)
}

/// The one entry point: `invoke(method: string, args: list<u8>) -> result<list<u8>, contract-error>`.
pub const EXPORT_INVOKE: &str = "invoke";
pub const INVOKE_PARAMS: &[ValType] = &[I32, I32, I32, I32];
pub const INVOKE_RESULTS: &[ValType] = &[I32];
/// Frees what `invoke` returned; optional (a contract that leaks is only wasting its own memory).
pub const EXPORT_POST_INVOKE: &str = "cabi_post_invoke";
pub const POST_INVOKE_PARAMS: &[ValType] = &[I32];
/// `cabi_realloc(old_ptr, old_len, align, new_len) -> ptr`: how the host allocates in the guest.
pub const EXPORT_REALLOC: &str = "cabi_realloc";
pub const REALLOC_PARAMS: &[ValType] = &[I32, I32, I32, I32];
pub const EXPORT_MEMORY: &str = "memory";
/// wit-bindgen also exports its allocator under a versioned name; allowed, never called.
pub const VERSIONED_REALLOC_PREFIX: &str = "cabi_realloc_wit_bindgen_";
/// Globals that rustc exports from every wasm32-unknown-unknown cdylib; allowed, never read.
pub const TOOLCHAIN_GLOBAL_EXPORTS: &[&str] = &["__data_end", "__heap_base"];

/// Memory layouts of the canonical ABI values the host reads and writes.
pub mod layout {
    /// `result<list<u8>, contract-error>` as `invoke` returns it (align 4).
    pub mod invoke_result {
        pub const TAG: u32 = 0;
        pub const OK_PTR: u32 = 4;
        pub const OK_LEN: u32 = 8;
        pub const ERR_CODE: u32 = 4;
        pub const ERR_MSG_PTR: u32 = 8;
        pub const ERR_MSG_LEN: u32 = 12;
        pub const SIZE: u32 = 16;
    }
    /// `option<list<u8>>` behind a return pointer (align 4).
    pub mod option_list {
        pub const TAG: u32 = 0;
        pub const PTR: u32 = 4;
        pub const LEN: u32 = 8;
    }
    /// `storage.page` (align 4): entries list, then `option<list<u8>>`.
    pub mod page {
        pub const ENTRIES_PTR: u32 = 0;
        pub const ENTRIES_LEN: u32 = 4;
        pub const NEXT_TAG: u32 = 8;
        pub const NEXT_PTR: u32 = 12;
        pub const NEXT_LEN: u32 = 16;
    }
    /// `storage.entry` (size 16, align 4).
    pub mod entry {
        pub const SIZE: u32 = 16;
        pub const ALIGN: u32 = 4;
    }
    /// `result<bool, crypto-error>` (size 2, align 1).
    pub mod result_bool {
        pub const TAG: u32 = 0;
        pub const PAYLOAD: u32 = 1;
    }
    /// `result<list<u8>, crypto-error>` (align 4).
    pub mod result_list {
        pub const TAG: u32 = 0;
        pub const OK_PTR: u32 = 4;
        pub const OK_LEN: u32 = 8;
        pub const ERR: u32 = 4;
    }
    /// `option<device>` (align 8): the tag, then the `device` record at 8.
    pub mod device {
        pub const TAG: u32 = 0;
        pub const ID: u32 = 8;
        pub const OWNER: u32 = 16;
        pub const GATEWAY_TAG: u32 = 24;
        pub const GATEWAY: u32 = 28;
        pub const KIND: u32 = 36;
        pub const METADATA: u32 = 44;
        pub const STATUS: u32 = 52;
        pub const KEY_TYPE: u32 = 53;
        pub const PUBLIC_KEY: u32 = 56;
        pub const KEY_VERSION: u32 = 64;
        pub const COUNTER: u32 = 72;
        pub const REGISTERED_AT: u32 = 80;
    }
    /// `devices.reading` (size 40, align 8).
    pub mod reading {
        pub const STREAM: u32 = 0;
        pub const COUNTER: u32 = 8;
        pub const DATA: u32 = 16;
        pub const HEIGHT: u32 = 24;
        pub const TIME_MS: u32 = 32;
        pub const SIZE: u32 = 40;
        pub const ALIGN: u32 = 8;
    }
    /// `result<list<reading>, read-error>` (align 4).
    pub mod readings_result {
        pub const TAG: u32 = 0;
        pub const OK_PTR: u32 = 4;
        pub const OK_LEN: u32 = 8;
        pub const ERR: u32 = 4;
    }
    /// `result<option<reading>, read-error>` (align 8).
    pub mod latest_result {
        pub const TAG: u32 = 0;
        pub const OPTION_TAG: u32 = 8;
        pub const READING: u32 = 16;
        pub const ERR: u32 = 8;
    }
    /// `option<grant>` (align 8): the tag, then the `grant` record at 8.
    pub mod grant {
        pub const TAG: u32 = 0;
        pub const GRANTER: u32 = 8;
        pub const EXPIRES_TAG: u32 = 16;
        pub const EXPIRES: u32 = 24;
        pub const GRANTED_AT: u32 = 32;
    }
    /// `option<service>` (align 8): the tag, then the `service` record at 8.
    pub mod service {
        pub const TAG: u32 = 0;
        pub const CONTRACT: u32 = 8;
        pub const OWNER: u32 = 16;
        pub const NAME: u32 = 24;
        pub const DESCRIPTION: u32 = 32;
        pub const GRANTED: u32 = 40;
        pub const REGISTERED_AT: u32 = 48;
    }
    /// `result<u64, send-error>` (align 8).
    pub mod send_result {
        pub const TAG: u32 = 0;
        pub const OK: u32 = 8;
        pub const ERR: u32 = 8;
    }
    /// `option<command-reply>` (align 8): the tag, then the record at 8.
    pub mod reply {
        pub const TAG: u32 = 0;
        pub const ID: u32 = 8;
        pub const DEVICE: u32 = 16;
        pub const COMMAND: u32 = 24;
        pub const STATUS: u32 = 32;
        pub const DATA: u32 = 36;
        pub const HEIGHT: u32 = 48;
    }
    /// `result<list<u8>, call-error>` (align 4).
    pub mod call_result {
        pub const TAG: u32 = 0;
        pub const OK_PTR: u32 = 4;
        pub const OK_LEN: u32 = 8;
        pub const ERR_KIND: u32 = 4;
        pub const ERR_CODE: u32 = 8;
        pub const ERR_MSG_PTR: u32 = 12;
        pub const ERR_MSG_LEN: u32 = 16;
    }
}
