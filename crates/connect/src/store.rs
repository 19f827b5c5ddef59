//! Storage: SQLite by default (a file in WAL mode, created and migrated on first start),
//! PostgreSQL when the URL says so. One set of queries through `sqlx::Any` (placeholders `$1`,
//! which both accept); the few backend-specific statements (the monitor's lease with
//! `FOR UPDATE SKIP LOCKED`) branch on [`Backend`].
//!
//! Every multi-row change runs in one transaction, so a crash leaves each connection either
//! whole or absent. Times are Unix milliseconds.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// The embedded migrations, in order, per backend.
const SQLITE_MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../migrations/sqlite/0001_init.sql"))];
const POSTGRES_MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../migrations/postgres/0001_init.sql"))];

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (single node).
    Sqlite,
    /// PostgreSQL (one or several replicas).
    Postgres,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error(
        "database URL {0:?} is not supported: use sqlite://PATH (created if missing) or postgres://USER@HOST/DB"
    )]
    Url(String),
    /// The database answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A stored manifest (its TOML source; parsed by the service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    /// The id, e.g. `selgeo`.
    pub id: String,
    /// The integration's name.
    pub name: String,
    /// The TOML source.
    pub source: String,
    /// When it was last stored.
    pub updated_at: i64,
}

/// A connection: one key for one tenant and mode.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionRow {
    /// `conn_…`.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// `test` or `live`.
    pub mode: String,
    /// The manifest id it was verified against.
    pub manifest: String,
    /// The tier, if any.
    pub tier: Option<String>,
    /// `active`, `degraded`, `revoked`, `expired`, `unreachable`, `disconnected`.
    pub status: String,
    /// Whether it is the tenant's current connection for the mode.
    pub active: bool,
    /// The key, masked.
    pub masked_key: String,
    /// The sealed key (nonce || ciphertext); `None` once disconnected (crypto-shredded).
    pub ciphertext: Option<Vec<u8>>,
    /// The wrapped data key; `None` once disconnected.
    pub wrapped_key: Option<Vec<u8>>,
    /// Which master key wrapped the data key.
    pub master_key_id: Option<String>,
    /// The last verdict, as JSON.
    pub verdict: String,
    /// When it was connected.
    pub created_at: i64,
    /// When it was last verified.
    pub verified_at: i64,
    /// When the monitor should verify it next.
    pub next_check_at: i64,
    /// Consecutive inconclusive re-verifications.
    pub failures: i64,
    /// When it was disconnected.
    pub disconnected_at: Option<i64>,
}

impl std::fmt::Debug for ConnectionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRow")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("mode", &self.mode)
            .field("status", &self.status)
            .field("masked_key", &self.masked_key)
            .field("sealed", &self.ciphertext.is_some())
            .finish_non_exhaustive()
    }
}

/// One verification of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRow {
    /// Sequence number.
    pub id: i64,
    /// `connect`, `manual`, `monitor`.
    pub trigger: String,
    /// The verdict code.
    pub code: String,
    /// The connection status that followed.
    pub status: String,
    /// The verdict, as JSON.
    pub verdict: String,
    /// When.
    pub at: i64,
}

/// An event for the integrator (and its delivery state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// `evt_…`.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The connection, if any.
    pub connection_id: Option<String>,
    /// `connection.degraded`, …
    pub event_type: String,
    /// The event's JSON.
    pub payload: String,
    /// When it happened.
    pub created_at: i64,
    /// When the webhook accepted it.
    pub delivered_at: Option<i64>,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When to try next.
    pub next_attempt_at: i64,
    /// The last delivery failure.
    pub last_error: Option<String>,
}

/// An object a probe created and could not delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanRow {
    /// The connection whose verification left it.
    pub connection_id: String,
    /// The object's id.
    pub object_id: String,
    /// The request that removes it.
    pub cleanup: String,
    /// The permission whose probe created it.
    pub permission: String,
    /// Why it was left.
    pub reason: String,
    /// When.
    pub created_at: i64,
}

/// One line of the audit log. Never holds a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// When.
    pub at: i64,
    /// Who: `token:tok_…`, `page:<tenant>`, `monitor`, `admin`.
    pub actor: String,
    /// `connect`, `reverify`, `reveal`, `disconnect`, `rotate-master`, …
    pub action: String,
    /// The tenant concerned.
    pub tenant: Option<String>,
    /// The mode concerned.
    pub mode: Option<String>,
    /// The connection concerned.
    pub connection_id: Option<String>,
    /// Where from (the client address), when known.
    pub source: Option<String>,
    /// What happened, in words (verdict code, status change).
    pub detail: String,
}

/// An API token's stored form: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// `tok_…`.
    pub id: String,
    /// SHA-256 of the token, hex.
    pub hash: String,
    /// A hint for people (`rgk_AbCd…wxyz`).
    pub hint: String,
    /// A name for people.
    pub name: String,
    /// The one tenant it may act for; `None` for all.
    pub tenant: Option<String>,
    /// Whether it may reveal keys.
    pub can_reveal: bool,
    /// When it was made.
    pub created_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer; taking turns here avoids its busy-wait backoff (which sleeps
    /// for up to 100 ms per retry) when many requests write at once.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens (creating and migrating on first start) the database at `url`: `sqlite://PATH`
    /// (or a bare path) or `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite://").or(Some(url))
            && !path.contains("://")
        {
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::Url(url.to_owned()));
            }
            let url = if path == ":memory:" {
                "sqlite::memory:".to_owned()
            } else {
                format!("sqlite://{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else {
            return Err(StoreError::Url(url.to_owned()));
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::Url(url.clone()))?;
        let mut pool_options = AnyPoolOptions::new();
        pool_options = match backend {
            Backend::Sqlite => pool_options
                .max_connections(if url.contains(":memory:") { 1 } else { 8 })
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => pool_options.max_connections(16),
        };
        let pool = pool_options.connect_with(options).await?;
        if backend == Backend::Sqlite && !url.contains(":memory:") {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let store = Store {
            pool,
            backend,
            writer: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Takes this process's turn to write (SQLite only; PostgreSQL handles concurrent writers).
    async fn turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Applies the migrations not applied yet. On PostgreSQL an advisory lock makes replicas
    /// starting together apply them once.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_lock(7238001)")
                .execute(&mut *conn)
                .await?;
        }
        let result = async {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS rakguard_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            let applied: Vec<i64> = sqlx::query("SELECT version FROM rakguard_migrations")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| row.try_get::<i64, _>(0))
                .collect::<Result<_, _>>()?;
            let migrations = match self.backend {
                Backend::Sqlite => SQLITE_MIGRATIONS,
                Backend::Postgres => POSTGRES_MIGRATIONS,
            };
            for (version, sql) in migrations {
                if applied.contains(version) {
                    continue;
                }
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                for statement in sql.split(';').map(str::trim).filter(|s| {
                    !s.lines()
                        .all(|line| line.trim().is_empty() || line.trim().starts_with("--"))
                }) {
                    sqlx::query(statement).execute(&mut *tx).await?;
                }
                sqlx::query("INSERT INTO rakguard_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(now_millis())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock(7238001)")
                .execute(&mut *conn)
                .await?;
        }
        result.map_err(StoreError::from)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Removes every row (tests and the demo's reset).
    pub async fn clear(&self) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        for table in [
            "verifications",
            "orphans",
            "events",
            "audit",
            "connections",
            "tenants",
            "manifests",
            "api_tokens",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // Manifests.

    /// Stores (or replaces) a manifest's source.
    pub async fn put_manifest(&self, row: &ManifestRow) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        sqlx::query(
            "INSERT INTO manifests (id, name, source, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, source = excluded.source, updated_at = excluded.updated_at",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.source)
        .bind(row.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every stored manifest, by id.
    pub async fn manifests(&self) -> Result<Vec<ManifestRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, source, updated_at FROM manifests ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ManifestRow {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    source: row.try_get(2)?,
                    updated_at: row.try_get(3)?,
                })
            })
            .collect()
    }

    // Tenants and connections.

    /// Every tenant id, sorted.
    pub async fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM tenants ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// Stores a new verified connection as the tenant's active one for its mode, in one
    /// transaction: creates the tenant on first use, retires (and crypto-shreds) the previous
    /// active connection, records the verification, the orphans and the audit line.
    pub async fn insert_connection(
        &self,
        row: &ConnectionRow,
        trigger: &str,
        code: &str,
        orphans: &[OrphanRow],
        audit: &AuditRow,
    ) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&row.tenant)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE connections SET active = 0, status = 'replaced', ciphertext = NULL, wrapped_key = NULL,
             disconnected_at = $3, lease_owner = NULL, lease_until = NULL
             WHERE tenant = $1 AND mode = $2 AND active = 1",
        )
        .bind(&row.tenant)
        .bind(&row.mode)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO connections (id, tenant, mode, manifest, tier, status, active, masked_key,
               ciphertext, wrapped_key, master_key_id, verdict, created_at, verified_at, next_check_at, failures)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 0)",
        )
        .bind(&row.id)
        .bind(&row.tenant)
        .bind(&row.mode)
        .bind(&row.manifest)
        .bind(&row.tier)
        .bind(&row.status)
        .bind(i64::from(row.active))
        .bind(&row.masked_key)
        .bind(&row.ciphertext)
        .bind(&row.wrapped_key)
        .bind(&row.master_key_id)
        .bind(&row.verdict)
        .bind(row.created_at)
        .bind(row.verified_at)
        .bind(row.next_check_at)
        .execute(&mut *tx)
        .await?;
        insert_verification(
            &mut tx,
            &row.id,
            trigger,
            code,
            &row.status,
            &row.verdict,
            row.verified_at,
        )
        .await?;
        for orphan in orphans {
            insert_orphan(&mut tx, orphan).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tenant's active connection for `mode`.
    pub async fn active_connection(
        &self,
        tenant: &str,
        mode: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 AND mode = $2 AND active = 1"
        ))
        .bind(tenant)
        .bind(mode)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    /// A connection by id.
    pub async fn connection(&self, id: &str) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(connection_from_row).transpose()
    }

    /// Connections, newest first: the active ones only, or all.
    pub async fn connections(&self, active_only: bool) -> Result<Vec<ConnectionRow>, StoreError> {
        let filter = if active_only { "WHERE active = 1" } else { "" };
        let rows = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections {filter} ORDER BY created_at DESC, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// Records a re-verification: the new status and verdict, the schedule, the history line,
    /// orphans, an event when the status changed, the audit line — in one transaction. Only
    /// applies while the connection is still active (a concurrent disconnect wins).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_verification(
        &self,
        connection_id: &str,
        trigger: &str,
        code: &str,
        status: &str,
        verdict: &str,
        at: i64,
        next_check_at: i64,
        failures: i64,
        orphans: &[OrphanRow],
        event: Option<&EventRow>,
        audit: &AuditRow,
    ) -> Result<bool, StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE connections SET status = $2, verdict = $3, verified_at = $4, next_check_at = $5,
             failures = $6, lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND active = 1",
        )
        .bind(connection_id)
        .bind(status)
        .bind(verdict)
        .bind(at)
        .bind(next_check_at)
        .bind(failures)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_verification(&mut tx, connection_id, trigger, code, status, verdict, at).await?;
        for orphan in orphans {
            insert_orphan(&mut tx, orphan).await?;
        }
        if let Some(event) = event {
            insert_event(&mut tx, event).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disconnects the tenant's active connection for `mode`: crypto-shreds the key (the
    /// ciphertext and the wrapped data key are deleted), records the event and the audit line.
    /// Returns the connection as it was, or `None` when there was none.
    pub async fn disconnect(
        &self,
        tenant: &str,
        mode: &str,
        at: i64,
        event: &EventRow,
        audit: &AuditRow,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM connections WHERE tenant = $1 AND mode = $2 AND active = 1"
        ))
        .bind(tenant)
        .bind(mode)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row.as_ref().map(connection_from_row).transpose()? else {
            tx.rollback().await?;
            return Ok(None);
        };
        sqlx::query(
            "UPDATE connections SET active = 0, status = 'disconnected', ciphertext = NULL,
             wrapped_key = NULL, disconnected_at = $2, lease_owner = NULL, lease_until = NULL
             WHERE id = $1",
        )
        .bind(&row.id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut event = event.clone();
        event.connection_id = Some(row.id.clone());
        insert_event(&mut tx, &event).await?;
        let mut audit = audit.clone();
        audit.connection_id = Some(row.id.clone());
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(Some(row))
    }

    /// A connection's verification history, newest first.
    pub async fn history(
        &self,
        connection_id: &str,
        limit: i64,
    ) -> Result<Vec<VerificationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, trigger, code, status, verdict, at FROM verifications
             WHERE connection_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(connection_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VerificationRow {
                    id: row.try_get(0)?,
                    trigger: row.try_get(1)?,
                    code: row.try_get(2)?,
                    status: row.try_get(3)?,
                    verdict: row.try_get(4)?,
                    at: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Claims up to `limit` active connections due for re-verification for `owner` until
    /// `lease_until`, so that no other replica verifies them in this cycle. On PostgreSQL the
    /// candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent replicas claim
    /// disjoint sets; SQLite serialises writers.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let ids: Vec<String> = sqlx::query(&format!(
            "SELECT id FROM connections
             WHERE active = 1 AND next_check_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
             ORDER BY next_check_at, id LIMIT $2 {lock}"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in &ids {
            sqlx::query("UPDATE connections SET lease_owner = $2, lease_until = $3 WHERE id = $1")
                .bind(id)
                .bind(owner)
                .bind(lease_until)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(&format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            claimed.push(connection_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Makes every active connection due now (on-demand monitoring).
    pub async fn make_all_due(&self, now: i64) -> Result<u64, StoreError> {
        let _turn = self.turn().await;
        Ok(
            sqlx::query("UPDATE connections SET next_check_at = $1 WHERE active = 1")
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Wrapped data keys of every connection that still holds a key (for master key rotation).
    pub async fn wrapped_keys(&self) -> Result<Vec<(String, Vec<u8>, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, wrapped_key, master_key_id FROM connections WHERE wrapped_key IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// Replaces one connection's wrapped data key (rotation), only if it is still wrapped by
    /// `old_master_key_id` (a concurrent rotation or disconnect wins).
    pub async fn rewrap(
        &self,
        connection_id: &str,
        old_master_key_id: &str,
        wrapped_key: &[u8],
        master_key_id: &str,
    ) -> Result<bool, StoreError> {
        let _turn = self.turn().await;
        Ok(sqlx::query(
            "UPDATE connections SET wrapped_key = $3, master_key_id = $4
             WHERE id = $1 AND master_key_id = $2 AND wrapped_key IS NOT NULL",
        )
        .bind(connection_id)
        .bind(old_master_key_id)
        .bind(wrapped_key)
        .bind(master_key_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    // Events.

    /// `select` (a `SELECT … FROM table`) for one tenant or all, in `order`, at most `limit`.
    async fn newest(
        &self,
        select: &str,
        order: &str,
        tenant: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let rows = match tenant {
            Some(tenant) => {
                sqlx::query(&format!(
                    "{select} WHERE tenant = $1 ORDER BY {order} LIMIT $2"
                ))
                .bind(tenant)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!("{select} ORDER BY {order} LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows)
    }

    /// Events, newest first, for one tenant or all.
    pub async fn events(
        &self,
        tenant: Option<&str>,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = self
            .newest(
                &format!("SELECT {EVENT_COLUMNS} FROM events"),
                "created_at DESC, id DESC",
                tenant,
                limit,
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Events due for delivery, oldest first.
    pub async fn pending_events(&self, now: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE delivered_at IS NULL AND next_attempt_at <= $1
             ORDER BY created_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Records a delivery attempt.
    pub async fn event_attempted(
        &self,
        id: &str,
        delivered_at: Option<i64>,
        next_attempt_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        sqlx::query(
            "UPDATE events SET attempts = attempts + 1, delivered_at = $2, next_attempt_at = $3, last_error = $4
             WHERE id = $1",
        )
        .bind(id)
        .bind(delivered_at)
        .bind(next_attempt_at)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // Orphans and audit.

    /// Every orphan, newest first.
    pub async fn orphans(&self) -> Result<Vec<OrphanRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT connection_id, object_id, cleanup, permission, reason, created_at FROM orphans
             ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OrphanRow {
                    connection_id: row.try_get(0)?,
                    object_id: row.try_get(1)?,
                    cleanup: row.try_get(2)?,
                    permission: row.try_get(3)?,
                    reason: row.try_get(4)?,
                    created_at: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Appends an audit line on its own.
    pub async fn audit(&self, row: &AuditRow) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let mut tx = self.pool.begin().await?;
        insert_audit(&mut tx, row).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, newest first; for one tenant or all.
    pub async fn audit_log(
        &self,
        tenant: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = self
            .newest(
                "SELECT at, actor, action, tenant, mode, connection_id, source, detail FROM audit",
                "id DESC",
                tenant,
                limit,
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditRow {
                    at: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    action: row.try_get(2)?,
                    tenant: row.try_get(3)?,
                    mode: row.try_get(4)?,
                    connection_id: row.try_get(5)?,
                    source: row.try_get(6)?,
                    detail: row.try_get(7)?,
                })
            })
            .collect()
    }

    // API tokens.

    /// Stores a token's hash.
    pub async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        sqlx::query(
            "INSERT INTO api_tokens (id, hash, hint, name, tenant, can_reveal, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.hash)
        .bind(&row.hint)
        .bind(&row.name)
        .bind(&row.tenant)
        .bind(i64::from(row.can_reveal))
        .bind(row.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The unrevoked token with this hash.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, hash, hint, name, tenant, can_reveal, created_at, revoked_at FROM api_tokens
             WHERE hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(TokenRow {
                id: row.try_get(0)?,
                hash: row.try_get(1)?,
                hint: row.try_get(2)?,
                name: row.try_get(3)?,
                tenant: row.try_get(4)?,
                can_reveal: row.try_get::<i64, _>(5)? != 0,
                created_at: row.try_get(6)?,
                revoked_at: row.try_get(7)?,
            })
        })
        .transpose()
    }
}

const CONNECTION_COLUMNS: &str = "id, tenant, mode, manifest, tier, status, active, masked_key, ciphertext, \
     wrapped_key, master_key_id, verdict, created_at, verified_at, next_check_at, failures, disconnected_at";

const EVENT_COLUMNS: &str = "id, tenant, connection_id, type, payload, created_at, delivered_at, attempts, \
     next_attempt_at, last_error";

fn connection_from_row(row: &AnyRow) -> Result<ConnectionRow, StoreError> {
    Ok(ConnectionRow {
        id: row.try_get(0)?,
        tenant: row.try_get(1)?,
        mode: row.try_get(2)?,
        manifest: row.try_get(3)?,
        tier: row.try_get(4)?,
        status: row.try_get(5)?,
        active: row.try_get::<i64, _>(6)? != 0,
        masked_key: row.try_get(7)?,
        ciphertext: row.try_get(8)?,
        wrapped_key: row.try_get(9)?,
        master_key_id: row.try_get(10)?,
        verdict: row.try_get(11)?,
        created_at: row.try_get(12)?,
        verified_at: row.try_get(13)?,
        next_check_at: row.try_get(14)?,
        failures: row.try_get(15)?,
        disconnected_at: row.try_get(16)?,
    })
}

fn event_from_row(row: &AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: row.try_get(0)?,
        tenant: row.try_get(1)?,
        connection_id: row.try_get(2)?,
        event_type: row.try_get(3)?,
        payload: row.try_get(4)?,
        created_at: row.try_get(5)?,
        delivered_at: row.try_get(6)?,
        attempts: row.try_get(7)?,
        next_attempt_at: row.try_get(8)?,
        last_error: row.try_get(9)?,
    })
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

async fn insert_verification(
    tx: &mut Tx<'_>,
    connection_id: &str,
    trigger: &str,
    code: &str,
    status: &str,
    verdict: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO verifications (connection_id, trigger, code, status, verdict, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(connection_id)
    .bind(trigger)
    .bind(code)
    .bind(status)
    .bind(verdict)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_orphan(tx: &mut Tx<'_>, orphan: &OrphanRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO orphans (connection_id, object_id, cleanup, permission, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&orphan.connection_id)
    .bind(&orphan.object_id)
    .bind(&orphan.cleanup)
    .bind(&orphan.permission)
    .bind(&orphan.reason)
    .bind(orphan.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event(tx: &mut Tx<'_>, event: &EventRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (id, tenant, connection_id, type, payload, created_at, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&event.id)
    .bind(&event.tenant)
    .bind(&event.connection_id)
    .bind(&event.event_type)
    .bind(&event.payload)
    .bind(event.created_at)
    .bind(event.next_attempt_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_audit(tx: &mut Tx<'_>, row: &AuditRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit (at, actor, action, tenant, mode, connection_id, source, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.at)
    .bind(&row.actor)
    .bind(&row.action)
    .bind(&row.tenant)
    .bind(&row.mode)
    .bind(&row.connection_id)
    .bind(&row.source)
    .bind(&row.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unix milliseconds now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
