-- Status pages (SQLite). Keep in step with ../postgres: a test compares the two.
-- A tenant's public status pages, their components, groups, and the incidents
-- and maintenance that people write for them. Subscribers (later) hang off
-- status_pages and status_components by id.

CREATE TABLE status_pages (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title       TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    logo_url    TEXT,
    -- 1 on the page served at /status/ of the tenant's hostnames (one per tenant).
    is_default  BIGINT NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    -- A verified custom domain that serves this page at / (one page per domain).
    domain_id   TEXT   REFERENCES domains (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX status_pages_tenant_idx ON status_pages (tenant_id, created_at);
CREATE UNIQUE INDEX status_pages_default_key ON status_pages (tenant_id) WHERE is_default = 1;
CREATE UNIQUE INDEX status_pages_domain_key ON status_pages (domain_id);

CREATE TABLE status_component_groups (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant_id  TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    page_id    TEXT   NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX status_component_groups_page_idx ON status_component_groups (page_id, position);

CREATE TABLE status_components (
    id                    TEXT   NOT NULL PRIMARY KEY,
    tenant_id             TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    page_id               TEXT   NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    group_id              TEXT   REFERENCES status_component_groups (id) ON DELETE SET NULL,
    name                  TEXT   NOT NULL,
    description           TEXT   NOT NULL DEFAULT '',
    position              BIGINT NOT NULL DEFAULT 0,
    -- Set by hand; null means derived from the bound monitors.
    manual_status         TEXT   CHECK (manual_status IN ('operational', 'degraded_performance',
                                 'partial_outage', 'major_outage', 'under_maintenance')),
    only_show_if_degraded BIGINT NOT NULL DEFAULT 0 CHECK (only_show_if_degraded IN (0, 1)),
    showcase              BIGINT NOT NULL DEFAULT 1 CHECK (showcase IN (0, 1)),
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX status_components_page_idx ON status_components (page_id, position);

CREATE TABLE status_component_monitors (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES status_components (id) ON DELETE CASCADE,
    monitor_id   TEXT NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    PRIMARY KEY (component_id, monitor_id)
);
CREATE INDEX status_component_monitors_monitor_idx ON status_component_monitors (monitor_id);

-- Incidents (kind 'incident') and scheduled maintenance (kind 'maintenance').
CREATE TABLE status_incidents (
    id                  TEXT   NOT NULL PRIMARY KEY,
    tenant_id           TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    page_id             TEXT   NOT NULL REFERENCES status_pages (id) ON DELETE CASCADE,
    kind                TEXT   NOT NULL CHECK (kind IN ('incident', 'maintenance')),
    title               TEXT   NOT NULL,
    impact              TEXT   NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical', 'maintenance')),
    status              TEXT   NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring',
                               'resolved', 'scheduled', 'in_progress', 'verifying', 'completed')),
    scheduled_for       BIGINT,
    scheduled_until     BIGINT,
    -- The automatic monitor incident this one was published from.
    monitor_incident_id TEXT   REFERENCES incidents (id) ON DELETE SET NULL,
    started_at          BIGINT NOT NULL,
    monitoring_at       BIGINT,
    resolved_at         BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX status_incidents_page_idx ON status_incidents (page_id, kind, started_at);
CREATE INDEX status_incidents_tenant_idx ON status_incidents (tenant_id, created_at);
CREATE UNIQUE INDEX status_incidents_published_key ON status_incidents (page_id, monitor_incident_id);

CREATE TABLE status_incident_updates (
    id          TEXT   NOT NULL PRIMARY KEY,
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    incident_id TEXT   NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    status      TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX status_incident_updates_incident_idx ON status_incident_updates (incident_id, created_at);

CREATE TABLE status_incident_components (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    incident_id  TEXT NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES status_components (id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, component_id)
);
CREATE INDEX status_incident_components_component_idx ON status_incident_components (component_id);
