-- Certificates and ACME state shared by every edge node. Not tenant-owned:
-- rows are keyed by hostname and read only by the edge and operations code.

-- The first schema reserved these two tables before the certificate store
-- existed; nothing ever wrote to them. Replaced by the shapes below.
DROP TABLE certificates;
DROP TABLE acme_accounts;

CREATE TABLE certificates (
    name          TEXT    NOT NULL PRIMARY KEY,
    chain_pem     TEXT    NOT NULL,
    -- AES-256-GCM sealed PEM key, base64; the key derives from secret_key.
    key_sealed    TEXT    NOT NULL,
    issuer        TEXT    NOT NULL,
    not_before    BIGINT  NOT NULL,
    not_after     BIGINT  NOT NULL,
    renew_after   BIGINT  NOT NULL,
    last_error    TEXT,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX certificates_renew_idx ON certificates (renew_after);

-- One ACME account per directory, credentials sealed.
CREATE TABLE acme_accounts (
    directory          TEXT    NOT NULL PRIMARY KEY,
    credentials_sealed TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL
);

-- Issuance leases: one node orders per name; fence grows with every lease.
CREATE TABLE acme_leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    fence      BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- Challenge answers, so whichever node the validator reaches can answer.
CREATE TABLE acme_challenges (
    kind       TEXT    NOT NULL,
    lookup     TEXT    NOT NULL,
    answer     TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (kind, lookup, answer)
);

-- Names to issue ahead of their first handshake.
CREATE TABLE acme_queue (
    name            TEXT    NOT NULL PRIMARY KEY,
    reason          TEXT    NOT NULL,
    queued_at       BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT
);

-- Every order placed, for the cluster-wide and per-tenant budgets.
CREATE TABLE acme_orders (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    tenant_id  TEXT,
    node       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX acme_orders_created_idx ON acme_orders (created_at);
