//! Starting the service: configuration, the router, the monitor task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post, put};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, AppState};
use crate::metrics::Metrics;
use crate::monitor::{self, MonitorSettings};
use crate::pages;
use crate::seal::{Keyring, MasterKey};
use crate::service::{Service, Settings};
use crate::store::{Store, TokenRow, now_millis};
use crate::tokens::{ApiToken, Signer};

/// The default address of `rakguard serve`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Everything `start` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// The address people and integrations reach the service at (links in the API).
    /// Default: `http://<listen>`.
    pub public_url: Option<String>,
    /// Master keys (the current one first).
    pub keyring: Keyring,
    /// Service settings (Stripe API base, monitor interval, verifier options).
    pub settings: Settings,
    /// Monitor and webhook settings.
    pub monitor: MonitorSettings,
    /// Manifests to load at start: (id, TOML source).
    pub manifests: Vec<(String, String)>,
    /// Run the monitor in this process.
    pub run_monitor: bool,
}

/// A failure to start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The service could not start.
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
    /// Production mode without a master key.
    #[error(
        "no master key: set RAKGUARD_MASTER_KEY (or --master-key-file) to 32 random bytes in base64,          made with `rakguard keys generate-master` or `openssl rand -base64 32`; keep it in your          secret manager — without it the stored keys cannot be opened"
    )]
    MasterKeyMissing,
    /// The master key could not be loaded.
    #[error(transparent)]
    MasterKey(#[from] crate::seal::SealError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running service.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://<addr>` (or the configured public URL).
    pub base_url: String,
    /// The service, for in-process use (tests, the demo).
    pub service: Service,
    /// The shared state of the HTTP handlers.
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    monitor: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops the monitor and the server, letting in-flight requests finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Some(monitor) = self.monitor {
            let _ = monitor.await;
        }
        let _ = self.server.await;
    }
}

/// The link-signing secret, derived from the current master key so that every replica with the
/// same master key accepts the same links.
fn signer_for(keyring: &Keyring) -> Signer {
    let key = keyring.current.to_base64();
    let mut secret = [0u8; 32];
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes()) {
        mac.update(b"rakguard-links-v1");
        secret.copy_from_slice(&mac.finalize().into_bytes());
    }
    Signer::new(secret)
}

/// The router: the JSON API, health, metrics, OpenAPI, the pages.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics))
        .route("/openapi.json", get(api::openapi))
        .route(
            "/v1/manifests",
            post(api::put_manifest).get(api::list_manifests),
        )
        .route("/v1/connect_sessions", post(api::connect_session))
        .route(
            "/v1/tenants/{tenant}/connections/{mode}",
            put(api::connect).get(api::status).delete(api::disconnect),
        )
        .route(
            "/v1/tenants/{tenant}/connections/{mode}/verify",
            post(api::reverify),
        )
        .route(
            "/v1/tenants/{tenant}/connections/{mode}/reveal",
            post(api::reveal),
        )
        .route("/v1/explain", post(api::explain))
        .route("/v1/events", get(api::events))
        .route(
            "/connect",
            get(pages::connect_page).post(pages::connect_submit),
        )
        .route("/disconnect", post(pages::disconnect_submit))
        .route("/guide/{manifest}", get(pages::guide))
        .route("/static/{name}", get(pages::asset))
        .route("/admin", get(pages::admin))
        .route("/admin/login", post(pages::admin_login))
        .route("/admin/logout", post(pages::admin_logout))
        .route("/admin/reverify", post(pages::admin_reverify))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Logs each request at debug level: method, path (never the query, which carries connect
/// session tokens; a path segment shaped like a Stripe key is masked), status and latency.
async fn log_request(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "http"
    );
    response
}

/// `path` with every segment that starts like a Stripe key masked.
pub fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if rakguard_catalog::key::classify_prefix(segment).is_some() {
                rakguard_catalog::key::mask(segment, rakguard_catalog::key::MaskStyle::Short)
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Opens the store, loads the manifests, binds, and serves (with the monitor unless disabled).
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    let store = Store::open(&config.database_url).await?;
    let service = Service::new(store, config.keyring.clone(), config.settings.clone()).await?;
    for (id, source) in &config.manifests {
        service.load_manifest(id, source).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let metrics = Arc::new(Metrics::default());
    let state = AppState {
        service: service.clone(),
        signer: Arc::new(signer_for(&config.keyring)),
        public_url: base_url.clone(),
        metrics: metrics.clone(),
    };
    let (shutdown, mut stop) = watch::channel(false);
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    let monitor = config.run_monitor.then(|| {
        tokio::spawn(monitor::run(
            service.clone(),
            config.monitor.clone(),
            metrics,
            shutdown.subscribe(),
        ))
    });
    Ok(Running {
        addr,
        base_url,
        service,
        state,
        shutdown,
        server,
        monitor,
    })
}

/// Creates an API token and stores its hash; returns the token (shown once) and its row.
pub async fn create_token(
    store: &Store,
    name: &str,
    tenant: Option<&str>,
    can_reveal: bool,
) -> Result<(SecretString, TokenRow), crate::store::StoreError> {
    let new = ApiToken::generate();
    let row = TokenRow {
        id: new.id.clone(),
        hash: new.hash.clone(),
        hint: new.hint.clone(),
        name: name.to_owned(),
        tenant: tenant.map(str::to_owned),
        can_reveal,
        created_at: now_millis(),
        revoked_at: None,
    };
    store.insert_token(&row).await?;
    Ok((new.token, row))
}

/// Where the master key comes from, for `rakguard serve`.
#[derive(Debug, Clone, Default)]
pub struct MasterKeySource {
    /// `RAKGUARD_MASTER_KEY`'s value.
    pub env: Option<String>,
    /// `--master-key-file`.
    pub file: Option<PathBuf>,
    /// `RAKGUARD_PREVIOUS_MASTER_KEY`'s value (during a rotation).
    pub previous_env: Option<String>,
}

/// Loads the keyring. In production mode a master key is required; otherwise a throwaway one
/// is generated (keys sealed with it cannot be opened after a restart), and `true` is returned
/// to say so.
pub fn load_keyring(
    source: &MasterKeySource,
    production: bool,
) -> Result<(Keyring, bool), ServeError> {
    let current = MasterKey::load(source.env.as_deref(), source.file.as_deref())?;
    let (current, generated) = match current {
        Some(key) => (key, false),
        None if production => return Err(ServeError::MasterKeyMissing),
        None => (MasterKey::generate(), true),
    };
    let mut keyring = Keyring::new(current);
    if let Some(previous) = &source.previous_env {
        keyring = keyring.with_previous(MasterKey::from_base64(previous)?);
    }
    Ok((keyring, generated))
}

/// The default monitor tick for tests and the demo.
pub const QUICK_TICK: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn logged_paths_mask_key_shaped_segments() {
        let key = concat!("rk_", "live_", "51Habcdefghijklmnopqrstuvwx1234");
        let path = format!("/v1/tenants/{key}/connections/test");
        let logged = loggable_path(&path);
        assert!(!logged.contains(key), "{logged}");
        assert_eq!(logged, "/v1/tenants/rk_live_***1234/connections/test");
        assert_eq!(
            loggable_path("/v1/tenants/acme/connections/live"),
            "/v1/tenants/acme/connections/live"
        );
    }
}
