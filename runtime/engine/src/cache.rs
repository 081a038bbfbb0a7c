//! Compiled modules, kept in a bounded in-memory LRU and as serialized artifacts on disk.
//!
//! Disk artifacts are written as `magic | sha256(payload) | payload` to a temporary file and
//! renamed into place. On load the checksum is verified before wasmer sees a byte: a truncated
//! or altered file is reported as [`DiskLoad::Corrupt`] and recompiled, never deserialized.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"BOTART01";
const HEADER: usize = MAGIC.len() + 32;

pub type ArtifactKey = [u8; 32];

/// A module ready to instantiate, with what the engine needs to know about its methods.
#[derive(Clone)]
pub struct LoadedCode {
    pub module: wasmer::Module,
    /// Methods the contract's ABI marks `#[view]`: they run read-only.
    pub views: Arc<BTreeSet<String>>,
}

impl LoadedCode {
    /// Reads the views from the `bot:abi` section the module carries (validated at deploy).
    pub fn new(module: wasmer::Module) -> LoadedCode {
        let views = module
            .custom_sections(bot_abi::SECTION)
            .next()
            .and_then(|data| bot_abi::ContractAbi::from_section(&data).ok())
            .map(|abi| {
                abi.methods
                    .into_iter()
                    .filter(|m| m.kind == bot_abi::MethodKind::View)
                    .map(|m| m.name)
                    .collect()
            })
            .unwrap_or_default();
        LoadedCode {
            module,
            views: Arc::new(views),
        }
    }
}

/// The in-memory cache: artifact key to loaded module.
pub struct MemoryCache {
    modules: Mutex<LruCache<ArtifactKey, LoadedCode>>,
}

impl MemoryCache {
    pub fn new(entries: usize) -> Self {
        let entries = NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN);
        MemoryCache {
            modules: Mutex::new(LruCache::new(entries)),
        }
    }

    pub fn get(&self, key: &ArtifactKey) -> Option<LoadedCode> {
        // A poisoned lock only means another thread panicked mid-update of an LRU of
        // immutable modules; the entries are still sound.
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules.get(key).cloned()
    }

    pub fn insert(&self, key: ArtifactKey, code: LoadedCode) {
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules.put(key, code);
    }

    pub fn clear(&self) {
        self.modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// What reading an artifact from disk found.
#[derive(Debug)]
pub enum DiskLoad {
    Hit(Vec<u8>),
    Miss,
    /// The file exists but is truncated or its checksum does not match.
    Corrupt,
}

/// Serialized artifacts in a directory, one file per artifact key.
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(DiskCache {
            dir: dir.to_path_buf(),
        })
    }

    pub fn path(&self, key: &ArtifactKey) -> PathBuf {
        self.dir.join(format!("{}.artifact", hex::encode(key)))
    }

    pub fn load(&self, key: &ArtifactKey) -> DiskLoad {
        let Ok(bytes) = fs::read(self.path(key)) else {
            return DiskLoad::Miss;
        };
        if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
            return DiskLoad::Corrupt;
        }
        let (header, payload) = bytes.split_at(HEADER);
        let digest: [u8; 32] = Sha256::digest(payload).into();
        if header[MAGIC.len()..] != digest {
            return DiskLoad::Corrupt;
        }
        DiskLoad::Hit(payload.to_vec())
    }

    /// Writes atomically; a failure to write only costs a recompile later, so callers may ignore it.
    pub fn store(&self, key: &ArtifactKey, artifact: &[u8]) -> std::io::Result<()> {
        let path = self.path(key);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&Sha256::digest(artifact))?;
            file.write_all(artifact)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)
    }
}
