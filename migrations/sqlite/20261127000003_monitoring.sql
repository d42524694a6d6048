-- Monitoring (SQLite). Keep in step with ../postgres: a test compares the two.
-- Monitoring engine: heartbeat pings, incident timelines, maintenance windows,
-- roll-ups and the alert delivery log (outbox).

ALTER TABLE monitors ADD COLUMN heartbeat_token_hash TEXT;
ALTER TABLE monitors ADD COLUMN last_ping_at BIGINT;
ALTER TABLE monitors ADD COLUMN last_error TEXT;
ALTER TABLE monitors ADD COLUMN last_latency_ms BIGINT;
ALTER TABLE monitors ADD COLUMN state_changed_at BIGINT;
-- Regions whose probers saw the current run of failures, as ',east,west,' (second opinion).
ALTER TABLE monitors ADD COLUMN failing_regions TEXT;
-- The push URL names the monitor by the hash of its secret token.
CREATE UNIQUE INDEX monitors_heartbeat_key ON monitors (heartbeat_token_hash);

-- Roll-ups and retention read raw results by time across monitors.
CREATE INDEX check_results_time_idx ON check_results (checked_at);

CREATE TABLE incident_events (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    incident_id TEXT   NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    message     TEXT   NOT NULL
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, at);

-- monitor_id null: the window covers every monitor of the tenant.
CREATE TABLE maintenance_windows (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    monitor_id TEXT   REFERENCES monitors (id) ON DELETE CASCADE,
    title      TEXT   NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL CHECK (ends_at > starts_at),
    created_at BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_tenant_idx ON maintenance_windows (tenant_id, ends_at);

CREATE TABLE check_rollups (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    monitor_id   TEXT   NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    period       TEXT   NOT NULL CHECK (period IN ('hour', 'day')),
    bucket_start BIGINT NOT NULL,
    checks       BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    p50_ms       BIGINT,
    p95_ms       BIGINT,
    p99_ms       BIGINT,
    PRIMARY KEY (monitor_id, period, bucket_start)
);
CREATE INDEX check_rollups_time_idx ON check_rollups (period, bucket_start);

-- One row per alert to send; (channel_id, event_key) is unique, so a state
-- change alerts each channel once however often the transition is replayed.
CREATE TABLE alert_deliveries (
    id               TEXT   NOT NULL PRIMARY KEY,
    tenant_id        TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel_id       TEXT   NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    monitor_id       TEXT   REFERENCES monitors (id) ON DELETE SET NULL,
    event_key        TEXT   NOT NULL,
    event            TEXT   NOT NULL CHECK (event IN ('down', 'up', 'degraded', 'test')),
    payload          TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE UNIQUE INDEX alert_deliveries_event_key ON alert_deliveries (channel_id, event_key);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_tenant_idx ON alert_deliveries (tenant_id, created_at);
