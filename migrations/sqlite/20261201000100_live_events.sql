-- Live events and the root-to-tenant sign-in hand-over (SQLite). Keep in step
-- with ../postgres: a test compares the two.

-- Append-only feed behind GET /api/events, written in the transaction of the
-- change it describes; every app node polls it, so every node sees every
-- tenant's events. AUTOINCREMENT: a sequence number is never reused, even
-- after retention deleted the newest rows, so a resumed stream misses nothing.
CREATE TABLE events (
    seq       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL,
    data      TEXT    NOT NULL,
    at        BIGINT  NOT NULL
);
CREATE INDEX events_tenant_seq_idx ON events (tenant_id, seq);
CREATE INDEX events_at_idx ON events (at);

-- Tenants with an open event stream on some node (renewed while it is open):
-- probers write per-check events only for these.
CREATE TABLE event_watchers (
    tenant_id  TEXT   NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

-- Single-use codes that carry a signed-in session from the root domain to a
-- tenant's host; only the SHA-256 of a code is stored.
CREATE TABLE handover_codes (
    code_hash  TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX handover_codes_expiry_idx ON handover_codes (expires_at);
