-- Accounts (PostgreSQL): API keys, invitations, audit log. Keep in step with ../sqlite.

CREATE TABLE api_keys (
    id           TEXT   NOT NULL PRIMARY KEY,
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    prefix       TEXT   NOT NULL,
    secret_hash  TEXT   NOT NULL,
    scope        TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    created_by   TEXT   REFERENCES users (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
-- Keys are looked up by their public prefix, then the secret hash is compared.
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

CREATE TABLE invitations (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       TEXT   NOT NULL,
    role        TEXT   NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    token_hash  TEXT   NOT NULL,
    invited_by  TEXT   REFERENCES users (id) ON DELETE SET NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, created_at);

-- Admin and security-relevant actions; tenant_id is null for platform-wide ones.
CREATE TABLE audit_log (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   REFERENCES tenants (id) ON DELETE SET NULL,
    actor_id   TEXT   REFERENCES users (id) ON DELETE SET NULL,
    action     TEXT   NOT NULL,
    target     TEXT,
    ip         TEXT,
    details    TEXT   NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_time_idx ON audit_log (created_at);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, created_at);

-- Password changes invalidate outstanding reset links (their signature covers this stamp).
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
