//! `rakguard demo`: the emulator and the connect service in one process, with the three example
//! integrations loaded and keys to try, on embedded defaults (no setup).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rakguard_catalog::Catalog;
use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_catalog::manifest::Manifest;
use rakguard_catalog::permission::Permission;
use rakguard_connect::api::SessionClaims;
use rakguard_connect::seal::{Keyring, MasterKey};
use rakguard_connect::server::{self, ServeConfig};
use rakguard_connect::service::Settings;
use rakguard_connect::store::now_millis;
use rakguard_emulator::{EmulatorConfig, KeySpec};
use secrecy::ExposeSecret;

use crate::cli::DemoArgs;
use crate::exit::Code;

/// The example manifests, compiled in: (id, tier to verify, source).
const MANIFESTS: [(&str, Option<&str>, &str); 3] = [
    (
        "frontegg",
        None,
        include_str!("../../../../examples/manifests/frontegg.toml"),
    ),
    (
        "contacts-inbox",
        Some("premium"),
        include_str!("../../../../examples/manifests/contacts-inbox.toml"),
    ),
    (
        "selgeo",
        None,
        include_str!("../../../../examples/manifests/selgeo.toml"),
    ),
];

/// Runs `rakguard demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<Code> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    crate::logging::init(&args.log_level, Some(&args.data_dir.join("demo.log")))?;
    let keyring = Keyring::new(demo_master_key(&args.data_dir)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(demo(args, keyring))
}

/// The demo's throwaway master key, kept in the data directory (mode 600) so that a restarted
/// demo can still open what it stored.
fn demo_master_key(dir: &Path) -> anyhow::Result<MasterKey> {
    let path = dir.join("master.key");
    if path.exists() {
        return MasterKey::load(None, Some(&path))?
            .with_context(|| format!("{} is empty", path.display()));
    }
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{}", key.to_base64().expose_secret())?;
    Ok(key)
}

struct DemoKey {
    integration: &'static str,
    case: &'static str,
    name: String,
    spec: KeySpec,
}

fn keys(catalog: &Catalog) -> anyhow::Result<Vec<DemoKey>> {
    let mut keys = Vec::new();
    for (id, tier, source) in MANIFESTS {
        let manifest = Manifest::parse(catalog, id, source)
            .map_err(|errors| anyhow::anyhow!("example manifest {id}: {errors}"))?;
        let needed: Vec<Permission> = manifest.required_permissions(tier)?.into_iter().collect();
        let all: BTreeSet<Permission> = needed.iter().cloned().collect();
        // Missing the last two permissions of the form's order.
        let mut sorted = needed.clone();
        catalog.sort_as_form(&mut sorted);
        let missing: BTreeSet<Permission> = sorted
            .iter()
            .take(sorted.len().saturating_sub(2))
            .cloned()
            .collect();
        for (case, permissions) in [
            ("complete", all.clone()),
            ("missing two permissions", missing),
            ("revoked", all),
        ] {
            let name = format!("{id} {case}");
            let mut spec = KeySpec::new(&name, KeyKind::Restricted, Mode::Test);
            spec.permissions = permissions;
            keys.push(DemoKey {
                integration: id,
                case,
                name,
                spec,
            });
        }
    }
    let publishable = KeySpec::new("publishable", KeyKind::Publishable, Mode::Test);
    keys.push(DemoKey {
        integration: "any",
        case: "publishable",
        name: "publishable".to_owned(),
        spec: publishable,
    });
    Ok(keys)
}

async fn demo(args: DemoArgs, keyring: Keyring) -> anyhow::Result<Code> {
    let catalog = Catalog::embedded();
    let demo_keys = keys(catalog)?;
    let mut specs: Vec<KeySpec> = demo_keys.iter().map(|key| key.spec.clone()).collect();
    specs.push(KeySpec::new("demo seeder", KeyKind::Secret, Mode::Test));
    let emulator = rakguard_emulator::spawn(EmulatorConfig {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: args.emulator_port,
        keys: specs,
        ..EmulatorConfig::default()
    })
    .await
    .context("cannot start the emulator (is the port free? --emulator-port)")?;
    let secret_of = |name: &str| {
        emulator
            .keys
            .iter()
            .find(|key| key.name == name)
            .map(|key| (key.id.clone(), key.secret.clone()))
    };
    // An account with a payment in it, as a merchant's has.
    if let Some((_, seeder)) = secret_of("demo seeder") {
        emulator
            .seed_paid_charge(&seeder, 4200)
            .await
            .map_err(|(status, body)| {
                anyhow::anyhow!("cannot seed the emulator: {status} {body}")
            })?;
    }
    let client = reqwest::Client::new();
    // Revoke the "revoked" keys.
    for key in demo_keys.iter().filter(|key| key.case == "revoked") {
        if let Some((id, _)) = secret_of(&key.name) {
            client
                .delete(format!("{}/_emulator/v1/keys/{id}", emulator.base_url))
                .send()
                .await
                .context("cannot revoke a demo key")?;
        }
    }

    let mut settings = Settings {
        api_base: emulator.base_url.clone(),
        monitor_interval: Duration::from_secs(120),
        ..Settings::default()
    };
    settings.verify.api_base = emulator.base_url.clone();
    let database = args.data_dir.join("rakguard.db");
    let config = ServeConfig {
        listen: args.listen,
        database_url: format!("sqlite://{}", database.display()),
        public_url: None,
        keyring,
        settings,
        monitor: rakguard_connect::monitor::MonitorSettings {
            tick: Duration::from_secs(2),
            ..Default::default()
        },
        manifests: MANIFESTS
            .iter()
            .map(|(id, _, source)| ((*id).to_owned(), (*source).to_owned()))
            .collect(),
        run_monitor: true,
    };
    let running = server::start(config)
        .await
        .context("cannot start the connect service (is the port free? --listen)")?;
    let (admin_token, _) =
        server::create_token(running.service.store(), "demo admin", None, true).await?;

    let mut out = String::new();
    out.push_str(&format!(
        "rakguard demo\n  Stripe emulator: {}\n  connect service: {} (data in {})\n\n",
        emulator.base_url,
        running.base_url,
        args.data_dir.display()
    ));
    out.push_str("Connect pages (one tenant per integration; links valid for 30 minutes):\n");
    for (id, tier, _) in MANIFESTS {
        let claims = SessionClaims {
            tenant: format!("acme-{id}"),
            mode: None,
            manifest: id.to_owned(),
            tier: tier.map(str::to_owned),
            return_url: None,
        };
        let payload = serde_json::to_string(&claims)?;
        let token = running.state.signer.sign(
            &payload,
            now_millis() / 1000 + rakguard_connect::api::SESSION_SECONDS,
        );
        out.push_str(&format!(
            "  {id:<15} {}/connect?session={token}\n",
            running.base_url
        ));
    }
    out.push_str(&format!(
        "\nAdmin page: {}/admin   API token (all tenants, may reveal): {}\n",
        running.base_url,
        admin_token.expose_secret()
    ));
    out.push_str("\nKeys to paste into the Test mode field (emulator keys, test mode):\n");
    for key in &demo_keys {
        if let Some((_, secret)) = secret_of(&key.name) {
            out.push_str(&format!(
                "  {:<15} {:<25} {secret}\n",
                key.integration, key.case
            ));
        }
    }
    out.push_str(&format!(
        "\nThe API: curl -H 'Authorization: Bearer <token>' {}/v1/manifests\n",
        running.base_url
    ));
    print!("{out}");
    tracing::info!(
        emulator = %emulator.base_url,
        service = %running.base_url,
        "demo started"
    );
    if args.no_wait {
        running.shutdown().await;
        emulator.shutdown().await.ok();
        return Ok(Code::Ok);
    }
    println!("\nServing until Ctrl-C.");
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    eprintln!("stopping");
    running.shutdown().await;
    emulator.shutdown().await.ok();
    Ok(Code::Ok)
}
