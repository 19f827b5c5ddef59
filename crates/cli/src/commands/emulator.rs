//! `rakguard emulator`: runs the Stripe-compatible emulator until Ctrl-C.

use anyhow::Context;
use rakguard_catalog::key::{MaskStyle, mask};
use rakguard_emulator::config::parse_keys_file;
use rakguard_emulator::{EmulatorConfig, ErrorEra, FaultSettings};

use crate::cli::{EmulatorArgs, PermissionErrors};
use crate::exit::Code;
use crate::input::read_file;

/// Runs `rakguard emulator`.
pub fn run(args: EmulatorArgs) -> anyhow::Result<Code> {
    let config = config(&args)?;
    let fixed: Vec<String> = config
        .keys
        .iter()
        .filter(|key| key.secret.is_some())
        .map(|key| key.name.clone())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = rakguard_emulator::spawn(config)
            .await
            .context("cannot start the emulator")?;
        println!("Stripe emulator listening on {}", running.base_url);
        println!("account {}", running.state.account_id());
        println!("keys:");
        for key in &running.keys {
            // Keys the emulator generated are shown in full so they can be used; keys given
            // in the keys file are the user's own and are shown masked, as Stripe shows them.
            let shown = if fixed.contains(&key.name) {
                mask(&key.secret, MaskStyle::InvalidKey)
            } else {
                key.secret.clone()
            };
            println!(
                "  {:<28} {:<12} {:<5} {}  ({})",
                key.name,
                key.kind.as_str(),
                key.mode.as_str(),
                shown,
                key.id
            );
        }
        println!(
            "admin API: {}/_emulator/v1/keys (see docs/emulator.md); Ctrl-C stops",
            running.base_url
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        eprintln!("stopping");
        running
            .shutdown()
            .await
            .context("the emulator did not stop cleanly")?;
        Ok(Code::Ok)
    })
}

fn config(args: &EmulatorArgs) -> anyhow::Result<EmulatorConfig> {
    let keys = match &args.keys {
        Some(path) => {
            let text = read_file(path)?;
            parse_keys_file(&text)
                .with_context(|| format!("--keys: {} is not a valid keys file", path.display()))?
        }
        None => Vec::new(),
    };
    for (name, rate) in [
        ("--error-rate", args.error_rate),
        ("--reset-rate", args.reset_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            anyhow::bail!("{name}: {rate} is not a share between 0 and 1");
        }
    }
    Ok(EmulatorConfig {
        host: args.host,
        port: args.port,
        keys,
        seed: args.seed,
        era: match args.permission_errors {
            PermissionErrors::Current => ErrorEra::Current,
            PermissionErrors::Legacy => ErrorEra::Legacy,
        },
        faults: FaultSettings {
            latency_ms: args.latency_ms,
            jitter_ms: args.jitter_ms,
            error_rate: args.error_rate,
            reset_rate: args.reset_rate,
            rate_limit_per_second: args.rate_limit_per_second,
            ..FaultSettings::default()
        },
        connected_accounts: args.connected_accounts.clone(),
        ..EmulatorConfig::default()
    })
}
