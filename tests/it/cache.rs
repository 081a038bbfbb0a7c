//! The module caches: memory hits, disk hits across engines, and corrupt artifacts detected
//! and recompiled rather than trusted.

use std::sync::atomic::Ordering;

use bot_engine::{Address, Engine, EngineConfig, Outcome};
use bot_tests::{Chain, wasm};

const COUNTER: Address = Address([0x0c; 20]);

fn engine(dir: &std::path::Path) -> Engine {
    Engine::new(EngineConfig {
        disk_cache: Some(dir.to_path_buf()),
        ..EngineConfig::default()
    })
    .unwrap()
}

fn run(engine: &Engine) -> Outcome {
    let chain = Chain {
        engine: engine.clone(),
        host: Default::default(),
        gas_limit: 10_000_000,
    };
    let code = chain.host.put_code(&wasm("counter"));
    chain.host.put_contract(COUNTER, code);
    chain.call(COUNTER, "increment", &2u64)
}

fn stats(engine: &Engine) -> [u64; 4] {
    let s = engine.stats();
    [&s.compiles, &s.memory_hits, &s.disk_hits, &s.disk_corrupt].map(|c| c.load(Ordering::Relaxed))
}

fn artifact(dir: &std::path::Path) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "artifact"));
    assert_eq!(files.len(), 1, "one artifact on disk: {files:?}");
    files.remove(0)
}

#[test]
fn compiled_modules_are_reused_from_memory_and_disk() {
    let dir = tempfile::tempdir().unwrap();
    let first = engine(dir.path());
    let reference = run(&first);
    assert_eq!(
        stats(&first),
        [1, 0, 0, 0],
        "compiles, memory hits, disk hits, corrupt"
    );
    assert_eq!(run(&first), reference);
    assert_eq!(stats(&first), [1, 1, 0, 0]);

    let restarted = engine(dir.path());
    assert_eq!(run(&restarted), reference);
    assert_eq!(
        stats(&restarted),
        [0, 0, 1, 0],
        "loaded from disk, not compiled"
    );
}

#[test]
fn tampered_or_truncated_artifacts_are_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let reference = run(&engine(dir.path()));
    let path = artifact(dir.path());

    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let after_tamper = engine(dir.path());
    assert_eq!(run(&after_tamper), reference);
    assert_eq!(
        stats(&after_tamper),
        [1, 0, 0, 1],
        "detected and recompiled"
    );

    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, &good[..good.len() / 3]).unwrap();
    let after_truncate = engine(dir.path());
    assert_eq!(run(&after_truncate), reference);
    assert_eq!(stats(&after_truncate), [1, 0, 0, 1]);

    // The rewritten artifact is whole again.
    let healed = engine(dir.path());
    assert_eq!(run(&healed), reference);
    assert_eq!(stats(&healed), [0, 0, 1, 0]);
}
