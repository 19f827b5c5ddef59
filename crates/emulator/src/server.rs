//! Assembling and running the emulator: [`router`] builds the axum app from a state, [`spawn`]
//! binds a socket and serves it in the background until [`Running::shutdown`].

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Bytes;
use axum::routing::any;
use http_body::Frame;
use rakguard_catalog::key::{KeyKind, Mode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::admin::{self, ADMIN_PREFIX};
use crate::api;
use crate::config::EmulatorConfig;
use crate::error::EmulatorError;
use crate::state::AppState;
use crate::webhooks::{DeliveryTask, Webhooks};

/// The emulator's HTTP app: `/v1/…` (Stripe-compatible) and `/_emulator/v1/…` (admin).
///
/// Requests need `ConnectInfo<SocketAddr>` for IP allowlists; [`spawn`] provides it, and tests
/// driving the router directly can insert it into the request's extensions.
pub fn router(state: AppState) -> Router {
    let stripe = Router::new()
        .route("/v1", any(api::serve))
        .route("/v1/{*rest}", any(api::serve))
        .route("/v2/{*rest}", any(api::serve));
    Router::new()
        .merge(stripe)
        .nest(ADMIN_PREFIX, admin::routes())
        .with_state(state)
}

/// A generated or configured key, as handed back by [`spawn`]. `Debug` shows the secret masked.
#[derive(Clone)]
pub struct StartedKey {
    /// The key object's id (`mk_…`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Secret, restricted or publishable.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
    /// The full secret.
    pub secret: String,
}

impl std::fmt::Debug for StartedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartedKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("secret", &crate::keys::redacted(&self.secret))
            .finish()
    }
}

/// A running emulator.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://<addr>`.
    pub base_url: String,
    /// Every key with its secret.
    pub keys: Vec<StartedKey>,
    /// The state, for inspection (request log, clock).
    pub state: AppState,
    /// Webhook delivery (queue and attempts), run in the background until shutdown.
    pub webhooks: Webhooks,
    delivery: Option<DeliveryTask>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The first key of this kind and mode.
    pub fn key(&self, kind: KeyKind, mode: Mode) -> Option<&StartedKey> {
        self.keys
            .iter()
            .find(|key| key.kind == kind && key.mode == mode)
    }

    /// Sends one Stripe API request through the emulator in-process (no socket), authenticated
    /// with `key`, with `form` as the body of a `POST` (or the query of a `GET`): for seeding
    /// data in tests, benchmarks and the demo. Returns the status and the JSON body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        key: &str,
        form: &str,
    ) -> (u16, serde_json::Value) {
        let is_get = method.eq_ignore_ascii_case("GET");
        let uri = if is_get && !form.is_empty() {
            format!("{path}?{form}")
        } else {
            path.to_owned()
        };
        let built = axum::http::Request::builder()
            .method(method.to_ascii_uppercase().as_str())
            .uri(uri)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .extension(axum::extract::ConnectInfo(SocketAddr::from((
                [127, 0, 0, 1],
                0,
            ))))
            .body(axum::body::Body::from(if is_get {
                String::new()
            } else {
                form.to_owned()
            }));
        let Ok(request) = built else {
            let error = serde_json::json!({"error": {"message": "the request could not be built"}});
            return (400, error);
        };
        let response = match tower::ServiceExt::oneshot(router(self.state.clone()), request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// One confirmed card payment of `amount` cents in USD with `pm_card_visa`, made with `key`
    /// (a secret key): a paid charge and its balance transaction, as a merchant's account has.
    /// The error is the emulator's status and body when it refuses.
    pub async fn seed_paid_charge(
        &self,
        key: &str,
        amount: u64,
    ) -> Result<serde_json::Value, (u16, serde_json::Value)> {
        let form = format!("amount={amount}&currency=usd&payment_method=pm_card_visa&confirm=true");
        match self
            .request("POST", "/v1/payment_intents", key, &form)
            .await
        {
            (200, body) => Ok(body),
            refused => Err(refused),
        }
    }

    /// Stops accepting connections, lets in-flight requests finish and waits for the server.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(delivery) = self.delivery.take() {
            delivery.stop().await;
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

/// Binds `config.host:config.port` and serves the emulator on the current tokio runtime.
pub async fn spawn(config: EmulatorConfig) -> Result<Running, EmulatorError> {
    let state = AppState::new(&config)?;
    let address = SocketAddr::new(config.host, config.port);
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| EmulatorError::Bind {
            address: address.to_string(),
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            address: address.to_string(),
            source,
        })?;
    let keys = state
        .keys()
        .into_iter()
        .map(|record| StartedKey {
            id: record.id,
            name: record.spec.name,
            kind: record.spec.kind,
            mode: record.spec.mode,
            secret: record.secret,
        })
        .collect();
    let (sender, receiver) = oneshot::channel::<()>();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // Small JSON answers on kept-alive connections: without TCP_NODELAY, Nagle's algorithm and
    // delayed ACKs can hold a response back for tens of milliseconds.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = receiver.await;
            })
            .await
    });
    let webhooks = Webhooks::new(state.clone(), config.webhooks);
    let delivery = Some(webhooks.start());
    Ok(Running {
        addr,
        base_url: format!("http://{addr}"),
        keys,
        state,
        webhooks,
        delivery,
        shutdown: Some(sender),
        task,
    })
}

/// A response body that fails at once, which makes the server close the connection without
/// sending a response (the `reset_rate` fault).
#[derive(Debug)]
pub struct AbortBody;

impl http_body::Body for AbortBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        ))))
    }
}
