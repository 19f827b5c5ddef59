//! `rakguard manifest check|import` (wired to the manifest module as it lands).

use crate::cli::ManifestCommand;
use crate::exit::Code;

/// Runs `rakguard manifest …`.
pub fn run(_command: ManifestCommand) -> anyhow::Result<Code> {
    anyhow::bail!("manifest commands are being built")
}
