"""Seeding for bench/drills: tenants, verified subdomains and stored certificates,
written straight into PostgreSQL with COPY in the product's own stored format.

What the edge reads back (app/src/certs/store/certificates.rs, acme/src/seal.rs):
- `domains` rows (kind `subdomain`, `verified_at` set) joined to `tenants`: the
  domain policy's one query;
- `certificates` rows: `chain_pem` (leaf, then the root), `key_sealed` = base64
  of version byte 1, a 12-byte nonce and AES-256-GCM(key PEM) with the name as
  associated data, under HKDF-SHA256(salt "statuswatch acme seal v1", secret_key,
  info "private keys"); `issuer` `local` so the local-CA edge serves it.

Leaves are signed by the data directory's local CA (`ca/root.pem`, `ca/root.key`,
created by `statuswatch certs export-ca`), so clients verify them against the
product's own root. One leaf key serves every name: signing is what costs, and a
stored row is opened the same way whatever key it seals.
"""

import base64
import csv
import datetime
import hashlib
import hmac
import os
import subprocess
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SEAL_VERSION = 1
DAY_MS = 86_400_000


def seal_key(secret: bytes) -> bytes:
    """The sealing key acme/src/seal.rs derives from `secret_key` (HKDF-SHA256, one block)."""
    prk = hmac.new(b"statuswatch acme seal v1", secret, hashlib.sha256).digest()
    return hmac.new(prk, b"private keys" + b"\x01", hashlib.sha256).digest()


def seal(aead: AESGCM, name: str, plain: bytes) -> bytes:
    nonce = os.urandom(12)
    return bytes([SEAL_VERSION]) + nonce + aead.encrypt(nonce, plain, name.encode())


def tenant_name(i: int, suffix: str) -> str:
    return f"s{i:06d}.{suffix}"


def psql(db: str, *args: str, stdin=None) -> str:
    out = subprocess.run(["psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-U", "postgres", "-d", db,
                          "-v", "ON_ERROR_STOP=1", *args],
                         check=True, capture_output=True, text=True, input=stdin)
    return out.stdout.strip()


def seed(db: str, data_dir: str, work: str, secret: bytes, suffix: str, count: int) -> dict:
    """Seeds `count` tenants s000000.. under `suffix`, each with a verified
    subdomain and a stored certificate; returns timings."""
    began = time.perf_counter()
    with open(os.path.join(data_dir, "ca", "root.pem"), "rb") as f:
        root_pem = f.read()
    with open(os.path.join(data_dir, "ca", "root.key"), "rb") as f:
        root_key = serialization.load_pem_private_key(f.read(), password=None)
    root = x509.load_pem_x509_certificate(root_pem)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_pem = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    aead = AESGCM(seal_key(secret))
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
    nb_ms, na_ms = int(not_before.timestamp() * 1000), int(not_after.timestamp() * 1000)
    # Renewal due in 20 days: nothing in the drills triggers a re-issue.
    renew_ms, now_ms = na_ms - 10 * DAY_MS, int(time.time() * 1000)
    root_text = root_pem.decode()
    common = (x509.CertificateBuilder()
              .issuer_name(root.subject)
              .public_key(leaf_key.public_key())
              .not_valid_before(not_before)
              .not_valid_after(not_after)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    paths = {t: os.path.join(work, f"seed-{t}.csv") for t in ("tenants", "domains", "certificates")}
    with open(paths["tenants"], "w", newline="") as ft, open(paths["domains"], "w", newline="") as fd, \
            open(paths["certificates"], "w", newline="") as fc:
        wt, wd, wc = csv.writer(ft), csv.writer(fd), csv.writer(fc)
        for i in range(count):
            name = tenant_name(i, suffix)
            tid = str(uuid.uuid4())
            wt.writerow((tid, f"s{i:06d}", f"Tenant {i}", now_ms, now_ms))
            wd.writerow((str(uuid.uuid4()), tid, name, "subdomain", now_ms, now_ms))
            cert = (common.subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                    .serial_number(x509.random_serial_number())
                    .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                    .sign(root_key, hashes.SHA256()))
            chain = cert.public_bytes(serialization.Encoding.PEM).decode() + root_text
            sealed = base64.b64encode(seal(aead, name, leaf_pem)).decode()
            wc.writerow((name, chain, sealed, "local", nb_ms, na_ms, renew_ms, now_ms))
    generated = time.perf_counter()
    copy = (
        f"\\copy tenants (id, slug, name, created_at, updated_at) FROM '{paths['tenants']}' WITH (FORMAT csv)\n"
        f"\\copy domains (id, tenant_id, hostname, kind, verified_at, created_at) FROM '{paths['domains']}' WITH (FORMAT csv)\n"
        f"\\copy certificates (name, chain_pem, key_sealed, issuer, not_before, not_after, renew_after, updated_at) "
        f"FROM '{paths['certificates']}' WITH (FORMAT csv)\n"
        "VACUUM ANALYZE tenants;\nVACUUM ANALYZE domains;\nVACUUM ANALYZE certificates;\n"
    )
    psql(db, "-f", "-", stdin=copy)
    for path in paths.values():
        os.remove(path)
    return {"tenants": count, "generate_s": round(generated - began, 1),
            "copy_s": round(time.perf_counter() - generated, 1)}
