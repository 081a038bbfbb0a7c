//! Compiled modules, kept in a bounded in-memory LRU and as serialized artifacts on disk.
//!
//! Disk artifacts are written as `magic | sha256(payload) | payload` to a temporary file and
//! renamed into place, where the payload is what the module declares (seven little-endian
//! u64s, which price its instances) followed by wasmer's serialized module. On load the
//! checksum is verified before wasmer sees a byte: a truncated or altered file is reported as
//! [`DiskLoad::Corrupt`] and recompiled, never deserialized.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::gas::COSTS;
use crate::validate::Declared;

const MAGIC: &[u8; 8] = b"BOTART02";
const HEADER: usize = MAGIC.len() + 32;
const DECLARED: usize = 7 * 8;

pub type ArtifactKey = [u8; 32];

/// A module ready to instantiate, with what the engine needs to know about its methods.
#[derive(Clone)]
pub struct LoadedCode {
    pub module: wasmer::Module,
    /// Methods the contract's ABI marks `#[view]`: they run read-only.
    pub views: Arc<BTreeSet<String>>,
    /// What one instance costs, from what the module declares.
    pub instantiate_gas: u64,
}

impl LoadedCode {
    /// Reads the views from the `bot:abi` section the module carries (validated at deploy).
    pub fn new(module: wasmer::Module, declared: &Declared) -> LoadedCode {
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
            instantiate_gas: COSTS.instantiate_gas(declared),
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
    /// What the module declares, and its serialized artifact.
    Hit(Declared, Vec<u8>),
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
        if bytes.len() < HEADER + DECLARED || &bytes[..MAGIC.len()] != MAGIC {
            return DiskLoad::Corrupt;
        }
        let (header, payload) = bytes.split_at(HEADER);
        let digest: [u8; 32] = Sha256::digest(payload).into();
        if header[MAGIC.len()..] != digest {
            return DiskLoad::Corrupt;
        }
        let (declared, artifact) = payload.split_at(DECLARED);
        let mut words = [0u64; 7];
        for (word, bytes) in words.iter_mut().zip(declared.chunks_exact(8)) {
            *word = u64::from_le_bytes(bytes.try_into().expect("chunks of 8"));
        }
        DiskLoad::Hit(Declared::from_words(words), artifact.to_vec())
    }

    /// Writes atomically; a failure to write only costs a recompile later, so callers may ignore it.
    pub fn store(
        &self,
        key: &ArtifactKey,
        declared: &Declared,
        artifact: &[u8],
    ) -> std::io::Result<()> {
        let path = self.path(key);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            let mut file = fs::File::create(&tmp)?;
            let declared: Vec<u8> = declared
                .to_words()
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect();
            let mut digest = Sha256::new();
            digest.update(&declared);
            digest.update(artifact);
            file.write_all(MAGIC)?;
            file.write_all(&digest.finalize())?;
            file.write_all(&declared)?;
            file.write_all(artifact)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)
    }
}
