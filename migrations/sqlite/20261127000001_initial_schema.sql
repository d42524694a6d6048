-- First schema (SQLite). Keep in step with ../postgres: a test compares the two.
-- Times are integer milliseconds since the epoch (UTC); ids are UUIDv7 text;
-- flags are 0/1 integers (sqlx's Any driver maps no SQLite boolean type).

CREATE TABLE tenants (
    id                  TEXT    NOT NULL PRIMARY KEY,
    slug                TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    plan                TEXT    NOT NULL DEFAULT 'free',
    status              TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    stripe_customer_id  TEXT,
    subscription_status TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);

CREATE TABLE domains (
    id                 TEXT    NOT NULL PRIMARY KEY,
    tenant_id          TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hostname           TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('subdomain', 'custom')),
    verification_token TEXT,
    verified_at        BIGINT,
    created_at         BIGINT  NOT NULL
);
-- The edge's hot lookup: may this SNI name have a certificate?
CREATE UNIQUE INDEX domains_hostname_key ON domains (hostname);
CREATE INDEX domains_tenant_idx ON domains (tenant_id);

CREATE TABLE users (
    id                TEXT    NOT NULL PRIMARY KEY,
    email             TEXT    NOT NULL,
    password_hash     TEXT    NOT NULL,
    email_verified_at BIGINT,
    is_superuser      BIGINT  NOT NULL DEFAULT 0 CHECK (is_superuser IN (0, 1)),
    failed_logins     BIGINT  NOT NULL DEFAULT 0,
    locked_until      BIGINT,
    created_at        BIGINT  NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE memberships (
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- tenant_id is null for platform sessions (superusers without a membership).
CREATE TABLE refresh_tokens (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT   NOT NULL,
    token_hash TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE monitors (
    id                   TEXT    NOT NULL PRIMARY KEY,
    tenant_id            TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                 TEXT    NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('http', 'tcp', 'dns', 'tls', 'heartbeat')),
    target               TEXT    NOT NULL,
    settings             TEXT    NOT NULL DEFAULT '{}',
    interval_seconds     BIGINT  NOT NULL CHECK (interval_seconds > 0),
    timeout_ms           BIGINT  NOT NULL CHECK (timeout_ms > 0),
    state                TEXT    NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending', 'up', 'down', 'degraded', 'paused')),
    paused               BIGINT  NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    next_check_at        BIGINT  NOT NULL,
    lease_owner          TEXT,
    lease_expires_at     BIGINT,
    last_checked_at      BIGINT,
    consecutive_failures BIGINT  NOT NULL DEFAULT 0,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL
);
-- The scheduler's hot query: unpaused monitors whose next check is due.
CREATE INDEX monitors_due_idx ON monitors (next_check_at) WHERE paused = 0;
CREATE INDEX monitors_tenant_idx ON monitors (tenant_id, created_at);

CREATE TABLE check_results (
    id          INTEGER NOT NULL PRIMARY KEY,
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    monitor_id  TEXT    NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    checked_at  BIGINT  NOT NULL,
    ok          BIGINT  NOT NULL CHECK (ok IN (0, 1)),
    latency_ms  BIGINT,
    status_code BIGINT,
    error       TEXT,
    region      TEXT    NOT NULL
);
CREATE INDEX check_results_monitor_time_idx ON check_results (monitor_id, checked_at);

CREATE TABLE incidents (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    monitor_id  TEXT   NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    state       TEXT   NOT NULL CHECK (state IN ('open', 'resolved')),
    cause       TEXT,
    started_at  BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX incidents_tenant_time_idx ON incidents (tenant_id, started_at);
CREATE INDEX incidents_monitor_idx ON incidents (monitor_id, started_at);

CREATE TABLE alert_channels (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('email', 'webhook', 'slack', 'discord')),
    settings   TEXT    NOT NULL DEFAULT '{}',
    enabled    BIGINT  NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at BIGINT  NOT NULL
);
CREATE INDEX alert_channels_tenant_idx ON alert_channels (tenant_id);

-- Platform-owned: a wildcard certificate belongs to no tenant.
CREATE TABLE certificates (
    id            TEXT   NOT NULL PRIMARY KEY,
    tenant_id     TEXT   REFERENCES tenants (id) ON DELETE SET NULL,
    hostname      TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    issuer        TEXT,
    chain_pem     TEXT,
    key_encrypted BLOB,
    not_before    BIGINT,
    not_after     BIGINT,
    renew_after   BIGINT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX certificates_hostname_key ON certificates (hostname);
CREATE INDEX certificates_renew_idx ON certificates (renew_after);

CREATE TABLE acme_accounts (
    id                    TEXT   NOT NULL PRIMARY KEY,
    directory_url         TEXT   NOT NULL,
    contact               TEXT,
    credentials_encrypted BLOB   NOT NULL,
    created_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX acme_accounts_directory_key ON acme_accounts (directory_url);

-- Stripe event ids are the primary key, so a redelivered webhook is a no-op.
CREATE TABLE billing_events (
    id           TEXT   NOT NULL PRIMARY KEY,
    tenant_id    TEXT   REFERENCES tenants (id) ON DELETE SET NULL,
    event_type   TEXT   NOT NULL,
    payload      TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT
);
CREATE INDEX billing_events_tenant_idx ON billing_events (tenant_id, received_at);
