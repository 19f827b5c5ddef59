-- rakguard-connect schema v1 (PostgreSQL). Times are Unix milliseconds.
CREATE TABLE manifests (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants(id),
    mode TEXT NOT NULL,
    manifest TEXT NOT NULL,
    tier TEXT,
    status TEXT NOT NULL,
    active BIGINT NOT NULL,
    masked_key TEXT NOT NULL,
    ciphertext BYTEA,
    wrapped_key BYTEA,
    master_key_id TEXT,
    verdict TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    verified_at BIGINT NOT NULL,
    next_check_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    disconnected_at BIGINT
);
CREATE UNIQUE INDEX connections_one_active ON connections (tenant, mode) WHERE active = 1;
CREATE INDEX connections_due ON connections (next_check_at) WHERE active = 1;
CREATE TABLE verifications (
    id BIGSERIAL PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    trigger TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX verifications_by_connection ON verifications (connection_id, id);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    connection_id TEXT,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX events_pending ON events (next_attempt_at) WHERE delivered_at IS NULL;
CREATE TABLE orphans (
    id BIGSERIAL PRIMARY KEY,
    connection_id TEXT NOT NULL,
    object_id TEXT NOT NULL,
    cleanup TEXT NOT NULL,
    permission TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    tenant TEXT,
    mode TEXT,
    connection_id TEXT,
    source TEXT,
    detail TEXT NOT NULL
);
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    name TEXT NOT NULL,
    tenant TEXT,
    can_reveal BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
