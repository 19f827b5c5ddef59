//! `rakguard guide`: the merchant-facing guide to creating the key a manifest needs.

use anyhow::Context;
use rakguard_catalog::Catalog;
use rakguard_catalog::guide::{self, GuideOptions};
use rakguard_catalog::manifest::Manifest;

use crate::cli::{GuideArgs, GuideFormat, GuideKind};
use crate::exit::Code;
use crate::input::read_file;

/// Runs `rakguard guide`.
pub fn run(args: GuideArgs) -> anyhow::Result<Code> {
    let catalog = Catalog::embedded();
    let name = args.manifest.display().to_string();
    let text = read_file(&args.manifest)?;
    let manifest = Manifest::parse(catalog, &name, &text)?;
    let options = GuideOptions {
        tier: args.tier,
        mode: args.mode.into(),
        format: match args.format {
            GuideFormat::Md => guide::GuideFormat::Markdown,
            GuideFormat::Html => guide::GuideFormat::Html,
        },
        kind: match args.kind {
            GuideKind::CreateKey => guide::GuideKind::CreateKey,
            GuideKind::StripeApp => guide::GuideKind::StripeApp,
        },
        paste_location: args.paste_location,
        integration_url: args.integration_url,
    };
    let rendered = guide::render(catalog, &manifest, &options)
        .with_context(|| format!("cannot write the guide for {name}"))?;
    print!("{rendered}");
    Ok(Code::Ok)
}
