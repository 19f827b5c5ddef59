//! `rakguard serve`, `rakguard tokens`, `rakguard keys`: the connect service.

use std::time::Duration;

use anyhow::{Context, bail};
use rakguard_connect::seal::MasterKey;
use rakguard_connect::server::{self, MasterKeySource, ServeConfig};
use rakguard_connect::service::{Actor, Service, Settings};
use rakguard_connect::store::Store;
use secrecy::ExposeSecret;

use crate::cli::{KeysCommand, ServeArgs, TokensCommand};
use crate::exit::Code;
use crate::input::read_file;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Reads `ID=FILE` manifest arguments.
fn manifests(args: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|arg| {
            let (id, path) = arg.split_once('=').with_context(|| {
                format!("--manifest {arg:?}: write it as ID=FILE, e.g. selgeo=selgeo.toml")
            })?;
            let source = read_file(std::path::Path::new(path))?;
            Ok((id.to_owned(), source))
        })
        .collect()
}

fn master_source(file: Option<std::path::PathBuf>) -> MasterKeySource {
    MasterKeySource {
        env: std::env::var("RAKGUARD_MASTER_KEY")
            .ok()
            .filter(|v| !v.trim().is_empty()),
        file,
        previous_env: std::env::var("RAKGUARD_PREVIOUS_MASTER_KEY")
            .ok()
            .filter(|v| !v.trim().is_empty()),
    }
}

/// Runs `rakguard serve`.
pub fn serve(args: ServeArgs) -> anyhow::Result<Code> {
    crate::logging::init(&args.log_level, args.log_file.as_deref())?;
    let (keyring, generated) = server::load_keyring(
        &master_source(args.master_key_file.clone()),
        args.production,
    )?;
    if generated {
        eprintln!(
            "warning: no master key (RAKGUARD_MASTER_KEY or --master-key-file): using a throwaway one; \
             keys stored now cannot be opened after a restart. Use --production to require one."
        );
    }
    let mut settings = Settings {
        api_base: args.api_base.trim_end_matches('/').to_owned(),
        monitor_interval: Duration::from_secs(args.monitor_interval.max(60)),
        ..Settings::default()
    };
    settings.verify.api_base = settings.api_base.clone();
    let mut monitor = rakguard_connect::monitor::MonitorSettings {
        webhook_url: args.webhook_url.clone(),
        webhook_secret: std::env::var("RAKGUARD_WEBHOOK_SECRET")
            .ok()
            .map(secrecy::SecretString::from),
        ..Default::default()
    };
    if monitor.webhook_url.is_some() && monitor.webhook_secret.is_none() {
        bail!("--webhook-url needs RAKGUARD_WEBHOOK_SECRET (the secret events are signed with)");
    }
    monitor.tick = Duration::from_secs(15);
    let config = ServeConfig {
        listen: args.listen,
        database_url: args.store.database_url.clone(),
        public_url: args.public_url.clone(),
        keyring,
        settings,
        monitor,
        manifests: manifests(&args.manifests)?,
        run_monitor: !args.no_monitor,
    };
    runtime()?.block_on(async move {
        let running = server::start(config).await?;
        println!("rakguard connect service on {}", running.base_url);
        println!(
            "  API: {}/v1 (OpenAPI: {}/openapi.json)",
            running.base_url, running.base_url
        );
        println!("  admin page: {}/admin", running.base_url);
        println!("  manifests: {}", running.service.manifest_ids().join(", "));
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        eprintln!("stopping");
        running.shutdown().await;
        Ok(Code::Ok)
    })
}

/// Runs `rakguard tokens …`.
pub fn tokens(command: TokensCommand) -> anyhow::Result<Code> {
    let TokensCommand::Create {
        name,
        tenant,
        can_reveal,
        store,
    } = command;
    runtime()?.block_on(async move {
        let store = Store::open(&store.database_url).await?;
        let (token, row) =
            server::create_token(&store, &name, tenant.as_deref(), can_reveal).await?;
        println!("{}", token.expose_secret());
        eprintln!(
            "created {} ({}): {}; shown once, only its hash is stored",
            row.id,
            row.hint,
            match &row.tenant {
                Some(tenant) => format!("tenant {tenant} only"),
                None => "all tenants".to_owned(),
            }
        );
        Ok(Code::Ok)
    })
}

/// Runs `rakguard keys …`.
pub fn keys(command: KeysCommand) -> anyhow::Result<Code> {
    match command {
        KeysCommand::GenerateMaster => {
            println!("{}", MasterKey::generate().to_base64().expose_secret());
            eprintln!("store it in your secret manager and pass it as RAKGUARD_MASTER_KEY");
            Ok(Code::Ok)
        }
        KeysCommand::RotateMaster {
            store,
            master_key_file,
        } => {
            let (keyring, _) = server::load_keyring(&master_source(master_key_file), true)?;
            runtime()?.block_on(async move {
                let store = Store::open(&store.database_url).await?;
                let service = Service::new(store, keyring, Settings::default()).await?;
                let actor = Actor {
                    name: "admin:rotate-master".to_owned(),
                    tenant: None,
                    can_reveal: false,
                    source: None,
                };
                let count = service.rotate_master(&actor).await?;
                println!(
                    "re-wrapped {count} data keys with master key {}",
                    service.with_keyring(|k| k.current.id().to_owned())
                );
                Ok(Code::Ok)
            })
        }
    }
}
