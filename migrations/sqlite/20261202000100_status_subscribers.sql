-- Status-page subscribers (SQLite). Keep in step with ../postgres: a test compares the two.
-- People (email, double opt-in) and endpoints (signed webhooks) told about a
-- page's incidents and maintenance; what was announced; and the queue of
-- mails and webhook calls, retried with backoff by the prober's worker.

CREATE TABLE status_subscribers (
    id              TEXT   NOT NULL PRIMARY KEY,
    tenant_id       TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    page_id         TEXT   NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    kind            TEXT   NOT NULL CHECK (kind IN ('email', 'webhook')),
    -- The email address (lowercased domain) or the webhook URL.
    address         TEXT   NOT NULL,
    -- HMAC-SHA256 key of webhook signatures; null for email.
    secret          TEXT,
    -- 1: every component (and incidents naming none); 0: those in status_subscriber_components.
    all_components  BIGINT NOT NULL DEFAULT 1 CHECK (all_components IN (0, 1)),
    -- scheme://host[:port] the subscriber used; links in mails point there.
    origin          TEXT   NOT NULL,
    -- Random number inside every signed link; a new subscription draws a new
    -- one, so links of an earlier subscription stop working.
    token_stamp     BIGINT NOT NULL,
    -- Last confirmation mail queued (at most one per address and page per hour).
    confirm_sent_at BIGINT,
    confirmed_at    BIGINT,
    unsubscribed_at BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX status_subscribers_address_key ON status_subscribers (page_id, kind, address);
CREATE INDEX status_subscribers_tenant_idx ON status_subscribers (tenant_id, page_id, created_at);

CREATE TABLE status_subscriber_components (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subscriber_id TEXT NOT NULL REFERENCES status_subscribers (id) ON DELETE CASCADE,
    component_id  TEXT NOT NULL REFERENCES status_components (id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX status_subscriber_components_component_idx ON status_subscriber_components (component_id);

-- One row per announcement (incident created, updated, resolved; maintenance
-- scheduled, started); the unique key makes each announcement happen once,
-- also when several probers look for maintenance that has started.
CREATE TABLE status_notices (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    page_id     TEXT   NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    incident_id TEXT   NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    event       TEXT   NOT NULL,
    event_key   TEXT   NOT NULL,
    -- What the mails and webhook calls say (JSON), fixed when announced.
    payload     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX status_notices_event_key ON status_notices (event_key);
CREATE INDEX status_notices_incident_idx ON status_notices (incident_id, event);

-- The queue: one row per subscriber and announcement (or confirmation mail).
CREATE TABLE status_deliveries (
    id               TEXT   NOT NULL PRIMARY KEY,
    tenant_id        TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subscriber_id    TEXT   NOT NULL REFERENCES status_subscribers (id) ON DELETE CASCADE,
    -- Null for confirmation mails.
    notice_id        TEXT   REFERENCES status_notices (id) ON DELETE CASCADE,
    event            TEXT   NOT NULL,
    event_key        TEXT   NOT NULL,
    status           TEXT   NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE UNIQUE INDEX status_deliveries_event_key ON status_deliveries (subscriber_id, event_key);
CREATE INDEX status_deliveries_due_idx ON status_deliveries (status, next_attempt_at);
CREATE INDEX status_deliveries_tenant_idx ON status_deliveries (tenant_id, created_at);
