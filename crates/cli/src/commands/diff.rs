//! `rakguard diff`: two verdicts, or a verdict and a manifest.

use std::path::Path;

use anyhow::Context;
use rakguard_catalog::Catalog;
use rakguard_catalog::manifest::Manifest;
use rakguard_verify::Verdict;
use rakguard_verify::diff::{diff_manifest, diff_verdicts};
use rakguard_verify::render::{render_manifest_diff, render_verdict_diff};

use crate::cli::DiffArgs;
use crate::exit::Code;
use crate::input::{read_file, read_file_or_stdin};

/// Runs `rakguard diff`.
pub fn run(args: DiffArgs) -> anyhow::Result<Code> {
    let before = read_verdict(&args.verdict)?;
    let format = args.format.into();
    let (rendered, regressed) = match (&args.other, &args.manifest) {
        (Some(other), _) => {
            let after = read_verdict(other)?;
            let diff = diff_verdicts(&before, &after);
            (render_verdict_diff(&diff, format), diff.has_regressions())
        }
        (None, Some(path)) => {
            let name = path.display().to_string();
            let text = read_file(path)?;
            let manifest = Manifest::parse(Catalog::embedded(), &name, &text)?;
            let diff = diff_manifest(&before, &manifest, args.tier.as_deref())
                .with_context(|| format!("cannot compare with {name}"))?;
            (render_manifest_diff(&diff, format), diff.has_regressions())
        }
        (None, None) => anyhow::bail!("give a second verdict or --manifest FILE"),
    };
    if rendered.ends_with('\n') {
        print!("{rendered}");
    } else {
        println!("{rendered}");
    }
    Ok(if regressed { Code::Negative } else { Code::Ok })
}

fn read_verdict(path: &Path) -> anyhow::Result<Verdict> {
    let (text, name) = read_file_or_stdin(Some(path))?;
    Verdict::from_json(&text).with_context(|| {
        format!("{name} is not a rakguard verdict (the JSON of `rakguard verify --format json`)")
    })
}
