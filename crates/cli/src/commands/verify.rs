//! `rakguard verify` and `rakguard scan`: probe the API with the key and print the verdict.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rakguard_catalog::Catalog;
use rakguard_catalog::key::ApiKey;
use rakguard_catalog::manifest::Manifest;
use rakguard_verify::options::Progress;
use rakguard_verify::{Options, Verdict, render_verdict};
use secrecy::ExposeSecret;

use crate::cli::{ProbeArgs, ScanArgs, VerifyArgs};
use crate::exit::Code;
use crate::input::{read_file, read_key};

/// Runs `rakguard verify`.
pub fn verify(args: VerifyArgs) -> anyhow::Result<Code> {
    let catalog = Catalog::embedded();
    let name = args.manifest.display().to_string();
    let text = read_file(&args.manifest)?;
    let manifest = Manifest::parse(catalog, &name, &text)?;
    let tiers = manifest.tier_ids();
    match &args.tier {
        None if !tiers.is_empty() => bail!(
            "{name} has tiers ({}); say which to verify with --tier",
            tiers.join(", ")
        ),
        Some(tier) if manifest.tier(tier).is_none() => bail!(
            "{name} has no tier {tier:?} ({})",
            if tiers.is_empty() {
                "it has no tiers".to_owned()
            } else {
                format!("its tiers: {}", tiers.join(", "))
            }
        ),
        _ => {}
    }
    let mut options = options(&args.probe)?;
    options.tier = args.tier.clone();
    options.check_excess = args.check_excess;
    let format = args.probe.format;
    let Some(key) = parse_key(&args.probe, "verify", &options)? else {
        return Ok(Code::KeyRefused);
    };
    let verdict = run(options, |options| async move {
        rakguard_verify::verify(&key, &manifest, &options).await
    })?;
    print_verdict(&verdict, format)
}

/// Runs `rakguard scan`.
pub fn scan(args: ScanArgs) -> anyhow::Result<Code> {
    let mut options = options(&args.probe)?;
    if args.accept_secret_key {
        options.accept_secret_keys = Some(true);
    }
    let format = args.probe.format;
    let Some(key) = parse_key(&args.probe, "scan", &options)? else {
        return Ok(Code::KeyRefused);
    };
    let verdict = run(options, |options| async move {
        rakguard_verify::scan(&key, &options).await
    })?;
    print_verdict(&verdict, format)
}

fn options(args: &ProbeArgs) -> anyhow::Result<Options> {
    let mut options = Options::with_api_base(args.api_base.trim());
    options.mode = args.mode.map(Into::into);
    options.rate_per_second = args.rate;
    options.max_in_flight =
        usize::try_from(args.max_in_flight).context("--max-in-flight is too large")?;
    options.deadline = Duration::from_secs(args.deadline);
    options.stripe_account = args.stripe_account.clone();
    options.stripe_context = args.stripe_context.clone();
    options.previously_valid = args.previously_valid;
    Ok(options)
}

/// Reads and parses the key. Text that is not a key is a verdict of its own
/// (`STRIPE_KEY_MALFORMED`), printed here; `None` then tells the caller to exit 3.
fn parse_key(args: &ProbeArgs, command: &str, options: &Options) -> anyhow::Result<Option<ApiKey>> {
    let secret = read_key(args.key_stdin)?;
    match ApiKey::parse_lenient(secret.expose_secret()) {
        Ok((key, _cleanups)) => Ok(Some(key)),
        Err(error) => {
            let verdict = rakguard_verify::malformed(&error, command, options);
            print_verdict(&verdict, args.format)?;
            Ok(None)
        }
    }
}

/// Runs a verification on a fresh runtime, with a progress bar on a terminal.
fn run<F, Fut>(mut options: Options, verification: F) -> anyhow::Result<Verdict>
where
    F: FnOnce(Options) -> Fut,
    Fut: std::future::Future<Output = Result<Verdict, rakguard_verify::VerifyError>>,
{
    let bar = progress_bar();
    if let Some((_, progress)) = &bar {
        options.progress = Some(progress.clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(verification(options));
    if let Some((bar, _)) = bar {
        bar.finish_and_clear();
    }
    Ok(result?)
}

/// A progress bar on standard error, when it is a terminal.
fn progress_bar() -> Option<(ProgressBar, Progress)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("probing {bar:40} {pos}/{len} answers  {elapsed}")
    {
        bar.set_style(style);
    }
    let handle = bar.clone();
    let progress = Progress(Arc::new(move |answered: usize, planned: usize| {
        handle.set_length(u64::try_from(planned).unwrap_or(u64::MAX));
        handle.set_position(u64::try_from(answered).unwrap_or(u64::MAX));
    }));
    Some((bar, progress))
}

fn print_verdict(verdict: &Verdict, format: crate::cli::OutputFormat) -> anyhow::Result<Code> {
    let rendered = render_verdict(verdict, format.into());
    if rendered.ends_with('\n') {
        print!("{rendered}");
    } else {
        println!("{rendered}");
    }
    Ok(Code::for_verdict(verdict.code))
}
