//! `cargo bot new`: a contract project from one of the templates embedded in this binary,
//! expanded by the cargo-generate library (no git, no network).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The templates `cargo bot new --template` offers.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "counter",
        "the smallest useful contract: a counter with an event",
    ),
    (
        "device-telemetry",
        "devices report readings; latest and time-range queries; owner-only admin",
    ),
    (
        "service-access",
        "an IoT service authorized by a grant list that records every access",
    ),
];

/// Where generated projects find the SDK: `BOT_PATH`, or the checkout this tool was built from.
pub fn bot_path() -> Result<PathBuf> {
    let path = match std::env::var_os("BOT_PATH") {
        Some(p) => PathBuf::from(p),
        None => bot_build::repo_root(),
    };
    if !path.join("sdk/Cargo.toml").is_file() {
        bail!(
            "{} is not a bot checkout (no sdk/Cargo.toml): set BOT_PATH to the folder holding sdk/ and runtime/",
            path.display()
        );
    }
    path.canonicalize()
        .with_context(|| format!("resolving {}", path.display()))
}

/// Writes the files of `template` into `dir`.
fn extract(template: &str, dir: &Path) -> Result<()> {
    let prefix = format!("{template}/");
    for (path, bytes) in TEMPLATE_FILES {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let file = dir.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&file, bytes).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// Creates the project `name` from `template` under `parent`; returns its folder.
pub fn new_project(name: &str, template: &str, parent: &Path) -> Result<PathBuf> {
    if !TEMPLATES.iter().any(|(t, _)| *t == template) {
        let names: Vec<_> = TEMPLATES.iter().map(|(t, _)| *t).collect();
        bail!(
            "there is no template `{template}`; choose one of: {}",
            names.join(", ")
        );
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        bail!(
            "`{name}` is not a valid crate name: use letters, digits, `-` and `_`, not starting with a digit"
        );
    }
    let destination = parent.join(name);
    if destination.exists() {
        bail!(
            "{} already exists: choose another name or remove it",
            destination.display()
        );
    }
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let bot = bot_path()?;
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    extract(template, scratch.path())?;
    let args = cargo_generate::GenerateArgs {
        template_path: cargo_generate::TemplatePath {
            path: Some(scratch.path().display().to_string()),
            ..Default::default()
        },
        name: Some(name.to_string()),
        force: true,
        silent: true,
        quiet: true,
        vcs: Some(cargo_generate::Vcs::None),
        destination: Some(parent.to_path_buf()),
        define: vec![format!("bot_path={}", bot.display())],
        no_workspace: true,
        no_fmt: true,
        ..Default::default()
    };
    let project = cargo_generate::generate(args)
        .with_context(|| format!("generating {name} from the {template} template"))?;
    // Start from the versions this checkout is tested with: builds are reproducible and work
    // offline once the checkout's dependencies are downloaded. Cargo drops what is unused.
    let lock = bot.join("Cargo.lock");
    if lock.is_file() && !project.join("Cargo.lock").exists() {
        std::fs::copy(&lock, project.join("Cargo.lock"))
            .with_context(|| format!("copying {} into the project", lock.display()))?;
    }
    write_sandbox_config(&project)?;
    Ok(project)
}

/// Points the project's wasm tests (`bot-sandbox`) at this `cargo-bot`, whose engine runs
/// them: `.cargo/config.toml` sets `BOT_SANDBOX_BIN` unless the environment already does.
fn write_sandbox_config(project: &Path) -> Result<()> {
    let exe = std::env::current_exe().context("finding this cargo-bot")?;
    let dir = project.join(".cargo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // A JSON string is a TOML basic string: the path's quotes and backslashes are escaped.
    let config = format!(
        "# The cargo-bot whose engine runs tests/wasm.rs (through bot-sandbox); set {var} to use\n\
         # another, or remove this to use the cargo-bot on PATH.\n\
         [env]\n\
         {var} = {{ value = {exe}, force = false }}\n",
        var = bot_sandbox::SANDBOX_BIN_VAR,
        exe = serde_json::to_string(&exe.display().to_string())?,
    );
    let file = dir.join("config.toml");
    std::fs::write(&file, config).with_context(|| format!("writing {}", file.display()))
}
