-- Orders in flight, one per name: the order's URL at the CA and, once the
-- order was finalised, the CSR's private key (sealed, base64), so a node
-- that restarts mid-order resumes it instead of placing another.
CREATE TABLE acme_pending_orders (
    name       TEXT    NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    key_sealed TEXT,
    created_at BIGINT  NOT NULL
);
