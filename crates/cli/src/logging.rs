//! Logs for the long-running commands (`serve`, `demo`): `tracing` events as plain text lines on
//! stderr or appended to a file. The level applies to rakguard's own crates; dependencies log
//! warnings and errors only, unless the level is `trace`. No key is ever logged: the service
//! logs masked keys, and paths with key-shaped segments are masked (`rakguard_connect::server`).

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The crates whose events follow the chosen level.
const OWN: [&str; 5] = [
    "rakguard",
    "rakguard_connect",
    "rakguard_verify",
    "rakguard_emulator",
    "rakguard_catalog",
];

/// Parses a level name (`off`, `error`, `warn`, `info`, `debug`, `trace`).
pub fn parse_level(level: &str) -> anyhow::Result<LevelFilter> {
    LevelFilter::from_str(level.trim()).map_err(|_| {
        anyhow::anyhow!(
            "--log-level: {level:?} is not a level; use off, error, warn, info, debug or trace"
        )
    })
}

/// Installs the global subscriber: to `file` (appended, created with mode 600) or stderr.
pub fn init(level: &str, file: Option<&Path>) -> anyhow::Result<()> {
    let level = parse_level(level)?;
    let others = if level == LevelFilter::TRACE {
        LevelFilter::TRACE
    } else {
        LevelFilter::WARN.min(level)
    };
    let filter = OWN
        .iter()
        .fold(Targets::new().with_default(others), |targets, name| {
            targets.with_target(*name, level)
        });
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(true);
    let registry = tracing_subscriber::registry().with(filter);
    match file {
        Some(path) => {
            let file = open_log(path)?;
            registry
                .with(layer.with_writer(std::sync::Mutex::new(file)))
                .try_init()
        }
        None => registry.with(layer.with_writer(std::io::stderr)).try_init(),
    }
    .context("cannot install the logger")
}

fn open_log(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot open the log file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_bad_ones_name_the_flag() {
        assert_eq!(parse_level("debug").unwrap(), LevelFilter::DEBUG);
        assert_eq!(parse_level(" INFO ").unwrap(), LevelFilter::INFO);
        let error = parse_level("loud").unwrap_err().to_string();
        assert!(error.contains("--log-level"), "{error}");
        assert!(error.contains("debug"), "{error}");
    }
}
