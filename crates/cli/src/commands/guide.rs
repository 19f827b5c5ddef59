//! `rakguard guide` (wired to the guide module as it lands).

use crate::cli::GuideArgs;
use crate::exit::Code;

/// Runs `rakguard guide`.
pub fn run(_args: GuideArgs) -> anyhow::Result<Code> {
    anyhow::bail!("guides are being built")
}
