#!/usr/bin/env python3
"""bench/acme: on-demand certificates, StatusWatch's edge beside Caddy 2.

Run through bench/acme/run.sh, which installs the peers and builds the binary.

Two phases per server, one server at a time, each server pinned to CPU 0 and
everything else (pebble, challtestsrv, this client) to CPU 1:

1. Time to first byte for new names against Debian's pebble (background
   pre-issuance off): 20 names one after another, then 50 new names at once.
   TTFB = TCP connect + TLS handshake (which waits for the order) + GET / to
   the first response byte, verified against pebble's root.
2. Memory per held certificate: RSS after 1,000 and 10,000 names were each
   handshaken once. Issued by each server's own local CA on demand (Caddy:
   `tls internal { on_demand }`; StatusWatch: its embedded CA), because
   Caddy's ACME client allows 10 orders per 10 s per account (certmagic
   RateLimitEvents), which would make 10,000 ACME orders take ~17 minutes.
"""

import json
import os
import socket
import sqlite3
import ssl
import statistics
import subprocess
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from procstat import log, rss_kib

WORK = os.environ["WORK"]
BINARY = os.environ["SW_BINARY"]
SERVER_CPU, CLIENT_CPU = "0", "1"
HTTP_PORT, HTTPS_PORT, ADMIN_PORT, APP_PORT = 24080, 24443, 24019, 24000
ASK_PORT = 24999
SUFFIX = "bench.test"
SEQUENTIAL, BURST = int(os.environ.get("SEQUENTIAL", "20")), int(os.environ.get("BURST", "50"))
MEMORY_STEPS = [int(n) for n in os.environ.get("MEMORY_STEPS", "1000,10000").split(",")]
WARMUP = int(os.environ.get("WARMUP", "100"))
TOTAL_NAMES = SEQUENTIAL + BURST + WARMUP + max(MEMORY_STEPS) + 10


def wait_port(port, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on {port}")


# ---- the CA side: challtestsrv + pebble -------------------------------------

def start_challtestsrv():
    dns, mgmt = 24053, 24055
    proc = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPU, "pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns}",
         "-management", f"127.0.0.1:{mgmt}", "-http01", "", "-https01", "", "-tlsalpn01", "",
         "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(mgmt, "challtestsrv")
    return proc, dns


def start_pebble(dns_port):
    config = os.path.join(WORK, "pebble.json")
    with open(config, "w") as f:
        json.dump({"pebble": {
            "listenAddress": "127.0.0.1:24140", "managementListenAddress": "127.0.0.1:24150",
            "certificate": os.path.join(WORK, "pebble-cert.pem"),
            "privateKey": os.path.join(WORK, "pebble-key.pem"),
            "httpPort": HTTP_PORT, "tlsPort": HTTPS_PORT,
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
    proc = subprocess.Popen(
        ["taskset", "-c", CLIENT_CPU, "pebble", "-config", config, "-dnsserver", f"127.0.0.1:{dns_port}"],
        stdout=open(os.path.join(WORK, "pebble.log"), "w"), stderr=subprocess.STDOUT, env=env)
    wait_port(24140, "pebble")
    wait_port(24150, "pebble management")
    ctx = ssl.create_default_context(cafile=os.path.join(WORK, "pebble-ca.pem"))
    root = urllib.request.urlopen("https://127.0.0.1:24150/roots/0", context=ctx).read().decode()
    root_path = os.path.join(WORK, "pebble-root.pem")
    with open(root_path, "w") as f:
        f.write(root)
    return proc, root_path


# ---- Caddy's `ask` hook ------------------------------------------------------

class Ask(BaseHTTPRequestHandler):
    def do_GET(self):
        domain = self.path.split("domain=", 1)[-1]
        ok = domain.endswith("." + SUFFIX)
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


# ---- the servers --------------------------------------------------------------

def seed_tenants(db_path):
    """Tenants t0..tN with verified subdomains, written straight into the SQLite file."""
    now = int(time.time() * 1000)
    con = sqlite3.connect(db_path)
    tenants, domains = [], []
    for i in range(TOTAL_NAMES):
        tid = str(uuid.uuid4())
        tenants.append((tid, f"t{i}", f"Tenant {i}", now, now))
        domains.append((str(uuid.uuid4()), tid, f"t{i}.{SUFFIX}", now, now))
    con.executemany("INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES (?,?,?,?,?)", tenants)
    con.executemany("INSERT INTO domains (id, tenant_id, hostname, kind, verified_at, created_at) "
                    "VALUES (?,?,?,'subdomain',?,?)", domains)
    con.commit()
    con.close()


def start_statuswatch(data_dir, acme, fresh=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSWATCH")}
    env.update({
        "STATUSWATCH_ENV": "development", "RUST_LOG": os.environ.get("SW_LOG", "warn"),
        "STATUSWATCH__LOG__LEVEL": os.environ.get("SW_LOG", "warn"),
        "STATUSWATCH__APP__LISTEN": f"127.0.0.1:{APP_PORT}",
        "STATUSWATCH__EDGE__HTTP_LISTEN": f"127.0.0.1:{HTTP_PORT}",
        "STATUSWATCH__EDGE__HTTPS_LISTEN": f"127.0.0.1:{HTTPS_PORT}",
        "STATUSWATCH__EDGE__ADMIN_LISTEN": f"127.0.0.1:{ADMIN_PORT}",
        "STATUSWATCH__EDGE__STATIC_ROOT": os.path.join(WORK, "site"),
        "STATUSWATCH__TENANCY__DOMAIN_SUFFIX": SUFFIX,
        "STATUSWATCH__ACME__PREISSUE": "false",
    })
    if acme:
        env["STATUSWATCH__ACME__ORDERS_PER_HOUR"] = "1000000"
        env["STATUSWATCH__ACME__DIRECTORY_URL"] = "https://127.0.0.1:24140/dir"
        env["STATUSWATCH__ACME__EXTRA_ROOT_PEM"] = os.path.join(WORK, "pebble-ca.pem")
    os.makedirs(data_dir, exist_ok=True)
    if fresh:
        subprocess.run([BINARY, "--data-dir", data_dir, "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seed_tenants(os.path.join(data_dir, "statuswatch.db"))
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, BINARY, "--data-dir", data_dir, "serve"],
        env=dict(env, TOKIO_WORKER_THREADS="1"),
        stdout=open(os.path.join(data_dir, "server.log"), "w"), stderr=subprocess.STDOUT)
    wait_port(HTTPS_PORT, "statuswatch")
    wait_port(APP_PORT, "statuswatch app")
    return proc


def start_caddy(data_dir, acme, fresh=True):
    os.makedirs(data_dir, exist_ok=True)
    issuer = "" if acme else "internal"
    caddyfile = os.path.join(data_dir, "Caddyfile")
    with open(caddyfile, "w") as f:
        f.write(f"""{{
  admin off
  http_port {HTTP_PORT}
  https_port {HTTPS_PORT}
  acme_ca https://127.0.0.1:24140/dir
  acme_ca_root {WORK}/pebble-ca.pem
  storage file_system {{
    root {data_dir}/storage
  }}
  on_demand_tls {{
    ask http://127.0.0.1:{ASK_PORT}/ask
  }}
  log {{
    output discard
  }}
}}
https:// {{
  tls {issuer} {{
    on_demand
  }}
  root * {WORK}/site
  try_files {{path}} /index.html
  file_server
}}
""")
    env = dict(os.environ, GOMAXPROCS="1", XDG_DATA_HOME=data_dir, XDG_CONFIG_HOME=data_dir, HOME=data_dir)
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, "caddy", "run", "--config", caddyfile, "--adapter", "caddyfile"],
        env=env, stdout=open(os.path.join(data_dir, "server.log"), "w"), stderr=subprocess.STDOUT)
    wait_port(HTTPS_PORT, "caddy")
    return proc


# ---- the client ----------------------------------------------------------------

def first_byte(name, context):
    """Seconds from connect to the first response byte for `name`, or an error string."""
    began = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=120) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
                first = tls.recv(1)
                if not first:
                    return None, "closed without a response"
                elapsed = time.perf_counter() - began
                while tls.recv(65536):
                    pass
                return elapsed, None
    except Exception as err:  # noqa: BLE001 - every failure is a data point
        return None, f"{type(err).__name__}: {err}"


def ttfb_phase(server, context, names):
    sequential = [first_byte(n, context) for n in names[:SEQUENTIAL]]
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        burst = list(pool.map(lambda n: first_byte(n, context), names[SEQUENTIAL:SEQUENTIAL + BURST]))

    def summary(results):
        times = sorted(t for t, _ in results if t is not None)
        errors = [e for _, e in results if e is not None]
        return {
            "ok": len(times), "failed": len(errors), "errors": errors[:3],
            "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
            "p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1) if times else None,
            "max_ms": round(times[-1] * 1000, 1) if times else None,
        }
    result = {"sequential": summary(sequential), "burst": summary(burst)}
    log(f"  {server} ttfb: {json.dumps(result)}")
    return result


def memory_phase(server, proc, context, names):
    """RSS per held certificate, after a warm-up (connection pools, caches,
    allocator arenas) that every server gets alike, so fixed costs are not
    counted as per-certificate memory."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: first_byte(n, context), names[:WARMUP]))
        time.sleep(1)
        base = rss_kib(proc.pid)
        out = {"baseline_kib": base, "warmup_names": WARMUP}
        done, held, prev_rss, prev_held = WARMUP, 0, base, 0
        for step in MEMORY_STEPS:
            results = list(pool.map(lambda n: first_byte(n, context), names[done:WARMUP + step]))
            failed = sum(1 for t, _ in results if t is None)
            held += len(results) - failed
            done = WARMUP + step
            time.sleep(2)
            rss = rss_kib(proc.pid)
            out[str(step)] = {
                "rss_kib": rss, "failed": failed, "held": held,
                "per_cert_bytes": round((rss - base) * 1024 / max(held, 1)),
                "marginal_bytes": round((rss - prev_rss) * 1024 / max(held - prev_held, 1)),
            }
            prev_rss, prev_held = rss, held
            log(f"  {server} after {step}: rss {rss} KiB, {out[str(step)]['per_cert_bytes']} B/cert "
                f"({out[str(step)]['marginal_bytes']} B/cert since the last step), {failed} failed")
    return out


def run(server):
    names = [f"t{i}.{SUFFIX}" for i in range(TOTAL_NAMES)]
    result = {}
    chall, dns = start_challtestsrv()
    pebble, root = start_pebble(dns)
    data = os.path.join(WORK, f"{server}-acme")
    proc = (start_statuswatch if server == "statuswatch" else start_caddy)(data, True)
    try:
        context = ssl.create_default_context(cafile=root)
        result["ttfb"] = ttfb_phase(server, context, names)
        with open(os.path.join(WORK, "pebble.log")) as f:
            result["pebble_orders"] = sum(1 for line in f if "POST /order-plz" in line)
    finally:
        proc.terminate()
        proc.wait()
        pebble.terminate()
        chall.terminate()
    # Memory: each server's own CA, names it has not seen.
    start = start_statuswatch if server == "statuswatch" else start_caddy
    data = os.path.join(WORK, f"{server}-local")
    proc = start(data, False)
    context = ssl._create_unverified_context()  # local roots differ per server; TTFB above is verified
    try:
        result["memory"] = memory_phase(server, proc, context, names[SEQUENTIAL + BURST:])
    finally:
        proc.terminate()
        proc.wait()
    # Restart with everything stored: time until an old name is served again.
    began = time.perf_counter()
    proc = start(data, False, fresh=False)
    try:
        listening = time.perf_counter() - began
        elapsed, error = first_byte(names[SEQUENTIAL + BURST + WARMUP + 1], context)
        result["restart"] = {
            "stored": WARMUP + max(MEMORY_STEPS),
            "listening_ms": round(listening * 1000),
            "first_byte_ms": round((time.perf_counter() - began) * 1000) if error is None else error,
        }
        log(f"  {server} restart: {result['restart']}")
    finally:
        proc.terminate()
        proc.wait()
    return result


def main():
    ask = ThreadingHTTPServer(("127.0.0.1", ASK_PORT), Ask)
    threading.Thread(target=ask.serve_forever, daemon=True).start()
    servers = os.environ.get("SERVERS", "statuswatch caddy").split()
    results = {server: run(server) for server in servers}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
