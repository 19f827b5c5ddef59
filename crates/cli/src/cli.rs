//! The command-line definition (clap derive). Parsing only: commands live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// rakguard: verify, emulate and manage Stripe restricted API keys.
#[derive(Debug, Parser)]
#[command(name = "rakguard", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the permission form's rows, or look up what an endpoint needs.
    Catalog(CatalogArgs),
    /// Inspect a Stripe key offline (read from STRIPE_API_KEY or standard input).
    Key {
        /// What to do with the key.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Check or import integration manifests.
    Manifest {
        /// What to do with the manifest.
        #[command(subcommand)]
        command: ManifestCommand,
    },
    /// Write the merchant-facing guide to creating the key a manifest needs.
    Guide(GuideArgs),
    /// Run a local Stripe-compatible API that enforces restricted keys like Stripe.
    Emulator(EmulatorArgs),
    /// Check by probing the API that a key holds what a manifest needs (key from
    /// STRIPE_API_KEY or standard input).
    Verify(VerifyArgs),
    /// Find the level a key holds on every row of the permission form, by probing the API.
    Scan(ScanArgs),
    /// Explain a Stripe error body: which permission to set, where, and how.
    Explain(ExplainArgs),
    /// Suggest the fewest permissions that allow the requests in a log, as a manifest.
    Suggest(SuggestArgs),
    /// Compare two verdicts, or a verdict with a manifest.
    Diff(DiffArgs),
    /// Run the connect service: the API, the hosted connect page and the monitor.
    Serve(ServeArgs),
    /// Run the emulator and the connect service together with the example integrations.
    Demo(DemoArgs),
    /// Manage the connect service's API tokens.
    Tokens {
        /// What to do.
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Manage the connect service's master key.
    Keys {
        /// What to do.
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// How a verdict or explanation is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for a terminal.
    Table,
    /// Stable JSON.
    Json,
    /// Markdown, for tickets and pull requests.
    Md,
}

impl From<OutputFormat> for rakguard_verify::Format {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Table => rakguard_verify::Format::Table,
            OutputFormat::Json => rakguard_verify::Format::Json,
            OutputFormat::Md => rakguard_verify::Format::Markdown,
        }
    }
}

/// The options `verify` and `scan` share: where to probe, the key, and the limits.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The Stripe-compatible API to probe (e.g. an emulator's http://127.0.0.1:12111).
    #[arg(long, default_value = rakguard_verify::STRIPE_API_BASE)]
    pub api_base: String,
    /// How to print the verdict.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Read the key from standard input instead of STRIPE_API_KEY.
    #[arg(long)]
    pub key_stdin: bool,
    /// The mode the key must be in; a key of the other mode is refused without a request.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Probe a connected account (sent as Stripe-Account); `verify` then checks the
    /// manifest's Connect permissions.
    #[arg(long, value_name = "ACCT")]
    pub stripe_account: Option<String>,
    /// Sent as Stripe-Context (organisation keys).
    #[arg(long, value_name = "CTX")]
    pub stripe_context: Option<String>,
    /// The key verified before: an "unknown key" answer then means it was revoked.
    #[arg(long)]
    pub previously_valid: bool,
    /// Requests per second at most (default: 80% of Stripe's limit for the key's mode).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: Option<u32>,
    /// Requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_in_flight: u64,
    /// Seconds the whole run may take; probes not answered by then are unknown.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub deadline: u64,
}

/// `rakguard verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The integration's manifest (TOML).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// The tier to verify (required when the manifest has tiers).
    #[arg(long, value_name = "T")]
    pub tier: Option<String>,
    /// Also probe every other row, to list what the key holds beyond the manifest.
    #[arg(long)]
    pub check_excess: bool,
    /// Where, how and how fast to probe.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// `rakguard scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan a full secret key too (it holds every permission, so the scan only checks that
    /// Stripe accepts it).
    #[arg(long)]
    pub accept_secret_key: bool,
    /// Where, how and how fast to probe.
    #[command(flatten)]
    pub probe: ProbeArgs,
}

/// `rakguard explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A file with the error's JSON body; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The HTTP status the body came with (inferred from the body when left out).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(100..=599))]
    pub status: Option<u16>,
    /// How to print the explanation.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

/// `rakguard suggest`.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The requests: the emulator's request log (JSON of GET /_emulator/v1/requests) or lines
    /// `METHOD PATH`; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub log: PathBuf,
    /// Only the requests of this emulator key object (mk_…), in a JSON log.
    #[arg(long, value_name = "KEY_ID")]
    pub key_id: Option<String>,
    /// The suggested manifest's id.
    #[arg(long, default_value = "suggested")]
    pub id: String,
    /// The suggested manifest's name.
    #[arg(long, default_value = "Suggested permissions")]
    pub name: String,
    /// Print the whole suggestion as stable JSON instead of the manifest.
    #[arg(long)]
    pub json: bool,
}

/// `rakguard diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A verdict (JSON from `verify` or `scan --format json`); `-` reads standard input.
    pub verdict: PathBuf,
    /// A second verdict to compare the first with (the first is the baseline).
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    pub other: Option<PathBuf>,
    /// Compare the verdict with what this manifest needs instead.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// The manifest's tier (with --manifest).
    #[arg(long, value_name = "T", requires = "manifest")]
    pub tier: Option<String>,
    /// How to print the comparison.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

/// Wording of 403 permission errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PermissionErrors {
    /// Stripe's current wording (`more_permissions_required`, Dashboard label, edit link).
    Current,
    /// The 2021–2025 wording naming `'rak_…'` permissions.
    Legacy,
}

/// `rakguard emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = DEFAULT_EMULATOR_PORT)]
    pub port: u16,
    /// A TOML file of keys (`[[key]]` tables: name, type, mode, secret, permissions,
    /// connect_permissions, expires_at, allowed_ips). Without it, one secret and one
    /// publishable key per mode are generated.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Seeds generated ids, secrets and faults, for reproducible runs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The wording of 403 permission errors.
    #[arg(long, value_enum, default_value = "current")]
    pub permission_errors: PermissionErrors,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this many more milliseconds, drawn per request.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Share of requests (0 to 1) answered with 500 api_error.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Share of requests (0 to 1) whose connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub reset_rate: f64,
    /// Requests per second per account and mode (default: Stripe's, 25 in test mode and 100 in
    /// live mode).
    #[arg(long)]
    pub rate_limit_per_second: Option<u32>,
    /// Connected accounts reachable with the Stripe-Account header (repeatable).
    #[arg(long = "connected-account")]
    pub connected_accounts: Vec<String>,
}

/// The emulator's default port (stripe-mock's is 12111 too, so SDK examples work unchanged).
pub const DEFAULT_EMULATOR_PORT: u16 = 12111;

/// `rakguard catalog`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CatalogArgs {
    /// A lookup or a report instead of the row list.
    #[command(subcommand)]
    pub command: Option<CatalogCommand>,
    /// Only the rows of this form section (e.g. Billing), case-insensitive.
    #[arg(long)]
    pub group: Option<String>,
    /// Print stable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `rakguard catalog …`.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// The operation a request is for and the permission it needs:
    /// `rakguard catalog lookup GET /v1/customers/cus_123`.
    Lookup {
        /// GET, POST or DELETE.
        method: String,
        /// The request path, with ids and query string as sent.
        path: String,
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// How many API operations are mapped to a permission, by evidence grade.
    Coverage {
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The safe probe the verifier sends for each permission.
    Probes {
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The Dashboard's permission templates, as far as they are known.
    Templates {
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `rakguard key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Classify a key (secret, restricted, publishable; test or live) and show it masked.
    Inspect {
        /// Read the key from standard input instead of STRIPE_API_KEY.
        #[arg(long)]
        key_stdin: bool,
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `rakguard manifest …`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Validate a manifest; every problem is listed with its line and field.
    Check {
        /// The manifest (TOML).
        file: PathBuf,
        /// Print stable JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert a Stripe App manifest (stripe-app.json) into a rakguard manifest (TOML on stdout).
    Import {
        /// The Stripe App manifest (JSON).
        file: PathBuf,
    },
    /// Print the `permissions` array a Stripe App manifest needs to request what a tier needs.
    Export {
        /// The rakguard manifest (TOML).
        file: PathBuf,
        /// The tier to export (required when the manifest has tiers).
        #[arg(long)]
        tier: Option<String>,
    },
}

/// Output format of a guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuideFormat {
    /// Markdown.
    Md,
    /// A standalone HTML page.
    Html,
}

/// Which flow a guide describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuideKind {
    /// The merchant creates a restricted key by hand in the Dashboard.
    CreateKey,
    /// A Stripe App issues the key when the merchant installs it.
    StripeApp,
}

/// A mode on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Test mode (sandbox).
    Test,
    /// Live mode.
    Live,
}

impl From<ModeArg> for rakguard_catalog::key::Mode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::Test => rakguard_catalog::key::Mode::Test,
            ModeArg::Live => rakguard_catalog::key::Mode::Live,
        }
    }
}

/// `rakguard guide`.
#[derive(Debug, Args)]
pub struct GuideArgs {
    /// The integration's manifest (TOML).
    pub manifest: PathBuf,
    /// The tier to write the guide for (required when the manifest has tiers).
    #[arg(long)]
    pub tier: Option<String>,
    /// The Dashboard mode the key is created in.
    #[arg(long, value_enum, default_value = "test")]
    pub mode: ModeArg,
    /// Markdown or HTML.
    #[arg(long, value_enum, default_value = "md")]
    pub format: GuideFormat,
    /// Hand-made key, or a key issued by a Stripe App.
    #[arg(long, value_enum, default_value = "create-key")]
    pub kind: GuideKind,
    /// Where the merchant pastes the key, in words ("Settings → Stripe in the Selgeo dashboard").
    #[arg(long)]
    pub paste_location: Option<String>,
    /// A link to that place (http or https).
    #[arg(long)]
    pub integration_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

/// The connect service's database and master key, shared by `serve`, `tokens` and `keys`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The database: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://rakguard.db")]
    pub database_url: String,
}

/// `rakguard serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The address integrations and merchants reach the service at (for links); default
    /// `http://<listen>`.
    #[arg(long)]
    pub public_url: Option<String>,
    /// Database.
    #[command(flatten)]
    pub store: StoreArgs,
    /// A manifest to load at start, as `ID=FILE` (repeatable).
    #[arg(long = "manifest", value_name = "ID=FILE")]
    pub manifests: Vec<String>,
    /// The Stripe-compatible API keys are verified against.
    #[arg(long, default_value = "https://api.stripe.com")]
    pub api_base: String,
    /// Seconds between re-verifications of each connection (jittered by ±10%).
    #[arg(long, default_value_t = 86_400)]
    pub monitor_interval: u64,
    /// Do not run the monitor in this process (another replica runs it).
    #[arg(long)]
    pub no_monitor: bool,
    /// Where to deliver events (signed with RAKGUARD_WEBHOOK_SECRET).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// A file holding the master key (base64); RAKGUARD_MASTER_KEY wins when set.
    #[arg(long)]
    pub master_key_file: Option<PathBuf>,
    /// Refuse to start without a master key (otherwise a throwaway one is generated).
    #[arg(long)]
    pub production: bool,
    /// Log level for rakguard's own events: off, error, warn, info, debug or trace.
    #[arg(long, env = "RAKGUARD_LOG", default_value = "info")]
    pub log_level: String,
    /// Append logs to this file instead of stderr.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
}

/// `rakguard demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database, master key and log.
    #[arg(long, default_value = "./rakguard-demo")]
    pub data_dir: PathBuf,
    /// The service's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The emulator's port.
    #[arg(long, default_value_t = DEFAULT_EMULATOR_PORT)]
    pub emulator_port: u16,
    /// Log level for the demo's log (`DATA_DIR/demo.log`): off, error, warn, info, debug or
    /// trace.
    #[arg(long, env = "RAKGUARD_LOG", default_value = "info")]
    pub log_level: String,
    /// Start, print, and stop at once instead of serving until Ctrl-C (for scripted checks).
    #[arg(long, hide = true)]
    pub no_wait: bool,
}

/// `rakguard tokens …`.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token (printed once; only its hash is stored).
    Create {
        /// A name for people.
        #[arg(long)]
        name: String,
        /// Limit the token to one tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Allow the token to reveal stored keys.
        #[arg(long)]
        can_reveal: bool,
        /// Database.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `rakguard keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random master key (base64) for RAKGUARD_MASTER_KEY.
    GenerateMaster,
    /// Re-wrap every stored data key with RAKGUARD_MASTER_KEY; keys wrapped by
    /// RAKGUARD_PREVIOUS_MASTER_KEY are unwrapped with it. Safe while the service runs.
    RotateMaster {
        /// Database.
        #[command(flatten)]
        store: StoreArgs,
        /// A file holding the new master key; RAKGUARD_MASTER_KEY wins when set.
        #[arg(long)]
        master_key_file: Option<PathBuf>,
    },
}
