//! `cargo bot check <file.wasm>`: the deploy check, without deploying.

use std::path::Path;

use anyhow::{Context, Result};
use bot_engine::{Engine, ValidatedModule, ValidationError};

/// Reads and validates `path`. The outer error is for files that cannot be read; the inner one
/// is the rule the module breaks.
pub fn check_file(
    engine: &Engine,
    path: &Path,
) -> Result<Result<ValidatedModule, ValidationError>> {
    let wasm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(engine.validate(&wasm))
}
