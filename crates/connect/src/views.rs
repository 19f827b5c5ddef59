//! What the web pages show: plain data, filled by the service, rendered by [`crate::web`].

use serde::Serialize;

/// One permission as the merchant sees it on Stripe's form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionLine {
    /// The form section ("Core resources", "Billing", …), for grouping.
    pub group: String,
    /// The row's label ("Coupons").
    pub row: String,
    /// "Read" or "Write".
    pub level: String,
    /// Why the integration needs it (from the manifest), if given.
    pub purpose: String,
}

/// The state of one mode's field on the connect page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FieldState {
    /// Nothing connected: the empty field and the Connect button.
    Empty,
    /// Connected: the masked key, when it was verified, the Disconnect button.
    Connected {
        /// The key, masked.
        masked_key: String,
        /// `active`, `degraded`, `revoked`, `expired`, `unreachable`.
        status: String,
        /// When it was last verified, as text ("2026-11-23 09:41 UTC").
        verified_at: String,
        /// For a degraded connection: the permissions it lost, as on the form.
        lost: Vec<String>,
    },
    /// The last attempt failed: the red panel.
    Refused {
        /// The verdict code (`STRIPE_PERMISSIONS_MISSING`, `STRIPE_KEY_INVALID`, …).
        code: String,
        /// The headline ("Your Stripe key is missing required permissions" for missing ones).
        title: String,
        /// One or two sentences in plain words.
        message: String,
        /// For missing permissions: each as on the form ("Billing → Coupons: Write").
        missing: Vec<String>,
        /// The masked key that was tried, if it was a key at all.
        masked_key: Option<String>,
    },
}

/// One mode's section of the connect page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeSection {
    /// `test` or `live`.
    pub mode: String,
    /// "Test mode" / "Live mode".
    pub title: String,
    /// The Dashboard's API keys page for this mode.
    pub dashboard_url: String,
    /// The generated guide for this mode ("Create one →").
    pub guide_url: String,
    /// What the field shows.
    pub state: FieldState,
}

/// The hosted connect page (the integration's "Settings → Stripe").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectPage {
    /// The integration's name ("Selgeo").
    pub integration: String,
    /// The tenant the page is for (shown small, for support).
    pub tenant: String,
    /// The signed session token the forms post back (hidden field `session`).
    pub session: String,
    /// The CSRF token (hidden field `csrf`).
    pub csrf: String,
    /// Where the forms post: the connect action (`/connect`) and the disconnect action.
    pub connect_action: String,
    /// The disconnect action (`/disconnect`).
    pub disconnect_action: String,
    /// Where to go back to, if the integration gave a return URL.
    pub return_url: Option<String>,
    /// The required permissions, in the form's order (grouped by `group` when rendered).
    pub permissions: Vec<PermissionLine>,
    /// The key name to suggest ("Selgeo Affiliates").
    pub key_name: String,
    /// Test first, then live (only the modes the session allows).
    pub modes: Vec<ModeSection>,
    /// A one-line notice at the top ("Connected." / "Disconnected."), if any.
    pub notice: Option<String>,
}

/// One connection on the admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminConnection {
    /// `conn_…`.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// `test` or `live`.
    pub mode: String,
    /// The manifest id (and tier).
    pub manifest: String,
    /// The status.
    pub status: String,
    /// The key, masked.
    pub masked_key: String,
    /// When it was connected, as text.
    pub connected_at: String,
    /// When it was last verified, as text.
    pub verified_at: String,
    /// The last verdict code.
    pub code: String,
    /// The last verifications: (when, trigger, code, status).
    pub history: Vec<(String, String, String, String)>,
}

/// The admin page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminPage {
    /// Every tenant id.
    pub tenants: Vec<String>,
    /// Connections (active first, then past ones).
    pub connections: Vec<AdminConnection>,
    /// Orphans: (when, connection, object id, cleanup request, reason).
    pub orphans: Vec<(String, String, String, String, String)>,
    /// The latest audit lines: (when, actor, action, tenant/mode, detail).
    pub audit: Vec<(String, String, String, String, String)>,
    /// The CSRF token for the page's forms (re-verify, logout).
    pub csrf: String,
}

/// A page with one message (an expired link, a bad request, the admin login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessagePage {
    /// The title.
    pub title: String,
    /// The message, in plain words.
    pub message: String,
    /// Whether it reports a problem (styled as an error).
    pub error: bool,
}
