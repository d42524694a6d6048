#!/usr/bin/env python3
"""bench/drills: the edge under scale and floods, on PostgreSQL, with figures.

Run through bench/drills/run.sh (it installs what is missing, raises the file
limit and finds the binary). Each drill gets a fresh database, dropped after.
The edge (`statuswatch edge`, one tokio worker) runs on CPU 0; this client,
psql and the seeding on CPU 1; PostgreSQL where the kernel puts it.

- idle:  CONNS TLS connections opened and held without a request; RSS before,
         with them held and per connection; a fresh client's TTFB (new
         connection, handshake, GET /) before and while they are held; how
         long the edge keeps them.
- sni:   SNI_NAMES random names no tenant owns (half under the tenant suffix,
         half outside), in a burst, then the same names again: handshake
         outcomes, orders, certificates and leases written, policy queries
         (the edge's metric) and PostgreSQL transactions (pg_stat_database),
         RSS.
- scale: TENANTS tenants with stored certificates; start-up (listening, first
         answer), RSS after start and after touching TOUCH names, handshake
         p50/p99 for names not yet in memory (cold, from PostgreSQL) and held
         ones (warm); then a burst of unknown names with the name cache full.

Prints one JSON document on stdout; progress on stderr.
"""

import asyncio
import gc
import json
import os
import random
import socket
import ssl
import statistics
import string
import subprocess
import time
import urllib.request

import seed
from procstat import log, rss_kib

WORK = os.environ["WORK"]
BINARY = os.environ["SW_BINARY"]
SITE = os.environ["SITE_DIR"]
SERVER_CPU, CLIENT_CPU = "0", "1"
HTTPS, HTTP, ADMIN, APP = 25443, 25080, 25019, 25000
SUFFIX = "drill.test"
SECRET = b"bench-drills-secret-key-0123456789abcdef"
# Client source addresses: spreads 4-tuples so bursts never run out of ports.
SOURCES = [f"127.0.0.{i}" for i in range(2, 12)]
# Addresses that hold no idle connection: the fresh client and the fill to
# `max_connections` come from these, so the per-address share (the idle
# connections spread over SOURCES fill it exactly) does not refuse them.
OTHER_SOURCES = [f"127.0.1.{i}" for i in range(2, 12)]


def env_int(name, default):
    return int(os.environ.get(name, default))


CONNS = env_int("CONNS", 10_000)
HOLD = env_int("HOLD", 20)
PROBES = env_int("PROBES", 200)
SNI_NAMES = env_int("SNI_NAMES", 10_000)
CONCURRENCY = env_int("CONCURRENCY", 100)
TENANTS = env_int("TENANTS", 100_000)
SAMPLE = env_int("SAMPLE", 1000)
TOUCH = [int(n) for n in os.environ.get("TOUCH", "10000,50000,100000").split(",") if n]


def pct(values, p):
    """The p-th percentile (nearest rank) of `values`, in ms."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return round(ordered[rank - 1] * 1000, 2)


def summary(times):
    return {"n": len(times), "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
            "max_ms": round(max(times) * 1000, 2) if times else None}


# ---- the database and the edge ------------------------------------------------

class Drill:
    """One drill's database, data directory and edge process."""

    def __init__(self, name, max_connections=None, per_address=None):
        self.name = name
        self.db = f"sw_drill_{name}_{os.getpid()}"
        self.data = os.path.join(WORK, name)
        os.makedirs(self.data, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSWATCH")}
        self.env.update({
            "STATUSWATCH_ENV": "development",
            "STATUSWATCH__LOG__LEVEL": os.environ.get("SW_LOG", "warn"),
            "STATUSWATCH__DATABASE__URL": f"postgres://postgres@127.0.0.1:5432/{self.db}",
            "STATUSWATCH__SECRET_KEY": SECRET.decode(),
            "STATUSWATCH__APP__LISTEN": f"127.0.0.1:{APP}",
            "STATUSWATCH__EDGE__APP_UPSTREAMS": f"127.0.0.1:{APP}",
            "STATUSWATCH__EDGE__HTTPS_LISTEN": f"127.0.0.1:{HTTPS}",
            "STATUSWATCH__EDGE__HTTP_LISTEN": f"127.0.0.1:{HTTP}",
            "STATUSWATCH__EDGE__ADMIN_LISTEN": f"127.0.0.1:{ADMIN}",
            "STATUSWATCH__EDGE__STATIC_ROOT": SITE,
            "STATUSWATCH__TENANCY__DOMAIN_SUFFIX": SUFFIX,
            "STATUSWATCH__ACME__PREISSUE": "false",
        })
        if max_connections:
            self.env["STATUSWATCH__EDGE__MAX_CONNECTIONS"] = str(max_connections)
        if per_address:
            self.env["STATUSWATCH__EDGE__MAX_CONNECTIONS_PER_ADDRESS"] = str(per_address)
        self.proc = None
        seed.psql("postgres", "-c", f"CREATE DATABASE {self.db}")
        self.cli("migrate")
        # Creates the local CA in the data directory; its root verifies every leaf.
        root = self.cli("certs", "export-ca")
        self.root = os.path.join(self.data, "root.pem")
        with open(self.root, "w") as f:
            f.write(root)

    def cli(self, *args):
        out = subprocess.run([BINARY, "--data-dir", self.data, *args], env=self.env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"statuswatch {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def seed(self, count):
        log(f"  seeding {count} tenants with certificates")
        return seed.seed(self.db, self.data, WORK, SECRET, SUFFIX, count)

    def start(self):
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, BINARY, "--data-dir", self.data, "edge"],
            env=dict(self.env, TOKIO_WORKER_THREADS="1"),
            stdout=open(os.path.join(self.data, "edge.log"), "w"), stderr=subprocess.STDOUT)
        return self.proc

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def drop(self):
        self.stop()
        seed.psql("postgres", "-c", f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")

    def rss(self):
        return rss_kib(self.proc.pid)

    def metrics(self):
        """The edge's admin /metrics as {series: value}."""
        began = time.perf_counter()
        text = urllib.request.urlopen(f"http://127.0.0.1:{ADMIN}/metrics", timeout=30).read().decode()
        values = {"scrape_ms": round((time.perf_counter() - began) * 1000, 1)}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                try:
                    values[key] = float(value)
                except ValueError:
                    pass
        return values

    def counters(self):
        """What the floods are judged by: the edge's own counts and the database's."""
        m = self.metrics()
        row = seed.psql(self.db, "-c",
                        "SELECT xact_commit, tup_returned, tup_fetched FROM pg_stat_database "
                        f"WHERE datname = '{self.db}'")
        xact, returned, fetched = (int(v) for v in row.split("|"))
        rows = seed.psql(self.db, "-c", "SELECT (SELECT count(*) FROM certificates), "
                         "(SELECT count(*) FROM acme_leases), (SELECT count(*) FROM acme_orders)")
        certs, leases, orders = (int(v) for v in rows.split("|"))
        return {
            "policy_queries": int(m.get("edge_cert_policy_queries", 0)),
            "acme_orders_metric": int(m.get("edge_acme_orders", 0)),
            "unknown_name": int(m.get('edge_tls_handshakes_total{outcome="unknown_name"}', 0)),
            "handshakes_ok": int(m.get('edge_tls_handshakes_total{outcome="ok"}', 0)),
            "cache_refused": int(m.get('edge_certificates{state="refused"}', 0)),
            "cache_ready": int(m.get('edge_certificates{state="ready"}', 0)),
            "connections_open": int(m.get("edge_connections_open", 0)),
            "refused_per_address": int(
                m.get('edge_connections_refused_total{reason="per_address"}', 0)),
            "refused_max_connections": int(
                m.get('edge_connections_refused_total{reason="max_connections"}', 0)),
            "pg_xact_commit": xact, "pg_tup_returned": returned, "pg_tup_fetched": fetched,
            "certificates_rows": certs, "acme_leases_rows": leases, "acme_orders_rows": orders,
            "rss_kib": self.rss(),
            "scrape_ms": m["scrape_ms"],
        }

    def settled_counters(self):
        # PostgreSQL 15 flushes an idle backend's statistics within 10 s
        # (PGSTAT_IDLE_INTERVAL): wait that out so every query is counted.
        time.sleep(11.5)
        return self.counters()


def delta(after, before):
    return {k: after[k] - before[k] for k in after if k != "scrape_ms"}


def wait_tcp(port, deadline):
    while time.perf_counter() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.005)
    return False


# ---- the client ------------------------------------------------------------------

def contexts(root):
    verified = ssl.create_default_context(cafile=root)
    unverified = ssl._create_unverified_context()  # noqa: SLF001 - counting, not trusting
    return verified, unverified


async def handshake(name, ctx, source, timeout=30):
    """(seconds to a finished handshake, outcome, writer) for one new connection."""
    began = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", HTTPS, ssl=ctx, server_hostname=name, local_addr=(source, 0),
            ssl_handshake_timeout=timeout), timeout)
        return time.perf_counter() - began, "ok", (reader, writer)
    except ssl.SSLError as err:
        return time.perf_counter() - began, (err.reason or type(err).__name__).lower(), None
    except (OSError, asyncio.TimeoutError) as err:
        return time.perf_counter() - began, type(err).__name__, None


async def fresh_request(name, ctx, source):
    """Seconds from connect to the first byte of GET / on a new connection, or None."""
    began = time.perf_counter()
    took, outcome, conn = await handshake(name, ctx, source, timeout=10)
    if conn is None:
        return None, outcome
    reader, writer = conn
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        first = await asyncio.wait_for(reader.read(1), 10)
        elapsed = time.perf_counter() - began
        status = (first + await asyncio.wait_for(reader.readline(), 10)).decode(errors="replace")
        await asyncio.wait_for(reader.read(), 10)
        return (elapsed, "ok") if " 200 " in status else (None, status.strip())
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as err:
        return None, type(err).__name__
    finally:
        writer.close()


async def probe_series(name, ctx, count, sources=SOURCES):
    """`count` fresh clients one after another: their TTFBs and failures."""
    times, failures = [], {}
    for i in range(count):
        elapsed, outcome = await fresh_request(name, ctx, sources[i % len(sources)])
        if elapsed is None:
            failures[outcome] = failures.get(outcome, 0) + 1
        else:
            times.append(elapsed)
        await asyncio.sleep(0.01)
    return dict(summary(times), failures=failures)


async def burst(names, ctx, concurrency, keep=False, sources=SOURCES):
    """Handshakes for `names`, `concurrency` at a time: outcomes, times, held connections."""
    gate = asyncio.Semaphore(concurrency)
    outcomes, times, held = {}, [], []

    async def one(i, name):
        async with gate:
            took, outcome, conn = await handshake(name, ctx, sources[i % len(sources)])
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        times.append(took)
        if conn is not None:
            if keep:
                held.append((*conn, time.perf_counter()))
            else:
                conn[1].close()

    began = time.perf_counter()
    await asyncio.gather(*(one(i, n) for i, n in enumerate(names)))
    return {"seconds": round(time.perf_counter() - began, 2), "outcomes": outcomes,
            **summary(times)}, held


async def sequential(names, ctx):
    """Handshake times for `names` one at a time (no client-side queueing)."""
    times, failures = [], {}
    for i, name in enumerate(names):
        took, outcome, conn = await handshake(name, ctx, SOURCES[i % len(SOURCES)])
        if conn is None:
            failures[outcome] = failures.get(outcome, 0) + 1
        else:
            times.append(took)
            conn[1].close()
    return dict(summary(times), failures=failures)


def random_names(count, rng):
    """Names no tenant owns: half one label under the suffix, half elsewhere."""
    letters = string.ascii_lowercase + string.digits
    tlds = ["com", "net", "org", "io", "example", "dev"]
    names = set()
    while len(names) < count:
        label = "".join(rng.choice(letters) for _ in range(rng.randint(6, 20)))
        if len(names) % 2:
            names.add(f"{label}.{SUFFIX}")
        else:
            names.add(f"{label}.{''.join(rng.choice(letters) for _ in range(8))}.{rng.choice(tlds)}")
    return sorted(names, key=lambda _: rng.random())


def settle(seconds=2.0):
    time.sleep(seconds)


# ---- drill (a): idle connections ---------------------------------------------------

async def drill_idle():
    # Room above the held connections for the fresh client: at the limit the
    # edge drops new connections (measured at the end).
    limit = env_int("MAX_CONNECTIONS", CONNS + 100)
    # The idle connections come from SOURCES in turn: each address holds
    # exactly its share, and one more from it is refused (measured below).
    share = env_int("PER_ADDRESS", -(-CONNS // len(SOURCES)))
    drill = Drill("idle", max_connections=limit, per_address=share)
    try:
        drill.seed(10)
        drill.start()
        wait_tcp(HTTPS, time.perf_counter() + 30)
        verified, unverified = contexts(drill.root)
        name = seed.tenant_name(0, SUFFIX)
        await probe_series(name, verified, 20)  # warm-up: pools, caches, allocator
        settle(10)
        out = {"conns": CONNS, "max_connections": limit, "per_address": share,
               "rss_before_kib": drill.rss()}
        out["fresh_before"] = await probe_series(name, verified, PROBES, OTHER_SOURCES)
        log(f"  idle: fresh client before: {out['fresh_before']}")
        names = [seed.tenant_name(i % 10, SUFFIX) for i in range(CONNS)]
        opened, held = await burst(names, unverified, CONCURRENCY, keep=True)
        out["open"] = opened
        log(f"  idle: opened {len(held)} in {opened['seconds']} s: {opened['outcomes']}")
        opened_at = time.perf_counter()
        closed_at = []

        async def watch(reader, since):
            try:
                await reader.read(1)
            except (OSError, ssl.SSLError):
                pass
            closed_at.append(time.perf_counter() - since)

        # Seconds from each connection's handshake to the edge closing it.
        watchers = [asyncio.ensure_future(watch(r, t)) for r, _, t in held]
        # 10,000 connections' objects: keep the client's collector from
        # pausing the fresh client's measurements.
        gc.collect()
        gc.freeze()
        settle()
        m = drill.counters()
        out["held_edge_count"] = m["connections_open"]
        out["rss_held_kib"] = m["rss_kib"]
        out["per_conn_bytes"] = round((m["rss_kib"] - out["rss_before_kib"]) * 1024 / max(len(held), 1))
        out["fresh_held"] = await probe_series(name, verified, PROBES, OTHER_SOURCES)
        log(f"  idle: held {m['connections_open']}, rss {m['rss_kib']} KiB, fresh client: {out['fresh_held']}")
        # An address holding its share: one more connection from it is
        # refused, while other addresses are still served.
        refused_before = m.get("refused_per_address", 0)
        over = await probe_series(name, verified, 20, SOURCES)
        out["over_share"] = {"answered": over["n"], "failures": over["failures"],
                             "refused_counted": drill.counters()["refused_per_address"] - refused_before}
        log(f"  idle: one more from a held address: {out['over_share']}")
        # Fill the edge to its limit: the fresh client's connection is dropped.
        # Right after the fresh client's series: before the first held
        # connections reach the edge's 60 s wait for a first request.
        if len(held) + 1 <= limit and os.environ.get("AT_LIMIT", "1") == "1":
            extra_names = [name] * (limit - drill.counters()["connections_open"])
            extra, extra_held = await burst(extra_names, unverified, CONCURRENCY, keep=True,
                                            sources=OTHER_SOURCES)
            settle(1)
            edge_count = drill.counters()["connections_open"]
            fresh = await probe_series(name, verified, 20, OTHER_SOURCES)
            out["at_limit"] = {"opened": len(extra_held), "outcomes": extra["outcomes"],
                               "edge_count": edge_count, "fresh": fresh,
                               "refused_max_connections":
                                   drill.counters()["refused_max_connections"]}
            log(f"  idle: at the limit: {out['at_limit']}")
            for _, w, _ in extra_held:
                w.close()
        await asyncio.sleep(max(0, HOLD - (time.perf_counter() - opened_at)))
        out["still_open_after_hold"] = len(held) - len(closed_at)
        out["hold_s"] = round(time.perf_counter() - opened_at, 1)
        # How long the edge keeps a connection that never sends a request.
        deadline = time.perf_counter() + env_int("REAP_WAIT", 90)
        while len(closed_at) < len(held) and time.perf_counter() < deadline:
            await asyncio.sleep(1)
        if closed_at:
            out["closed_by_edge"] = {"n": len(closed_at), "first_s": round(min(closed_at), 1),
                                     "median_s": round(statistics.median(closed_at), 1),
                                     "last_s": round(max(closed_at), 1)}
        for w in watchers:
            w.cancel()
        for _, w, _ in held:
            w.close()
        settle(3)
        out["rss_after_close_kib"] = drill.rss()
        out["edge_count_after"] = drill.counters()["connections_open"]
        return out
    finally:
        drill.drop()


# ---- drill (b): random SNI names -----------------------------------------------------

async def drill_sni():
    drill = Drill("sni")
    try:
        drill.seed(1000)
        drill.start()
        wait_tcp(HTTPS, time.perf_counter() + 30)
        verified, unverified = contexts(drill.root)
        await probe_series(seed.tenant_name(0, SUFFIX), verified, 20)
        names = random_names(SNI_NAMES, random.Random(env_int("SEED", 15)))
        out = {"names": len(names), "under_suffix": sum(n.endswith("." + SUFFIX) for n in names)}
        # What the database does on its own over the same wait (background sweeps, stats).
        quiet0 = drill.settled_counters()
        base = drill.settled_counters()
        out["quiet"] = delta(base, quiet0)
        rounds = []
        for label in ("first", "repeat"):
            result, _ = await burst(names, unverified, CONCURRENCY)
            after = drill.settled_counters()
            rounds.append(dict(result, label=label, delta=delta(after, base)))
            log(f"  sni {label}: {result['seconds']} s {result['outcomes']} {delta(after, base)}")
            base = after
        out["rounds"] = rounds
        out["rss_kib"] = base["rss_kib"]
        out["cache_refused"] = base["cache_refused"]
        return out
    finally:
        drill.drop()


# ---- drill (c): 100,000 tenants ------------------------------------------------------

async def drill_scale():
    drill = Drill("scale")
    try:
        out = {"tenants": TENANTS, "seed": drill.seed(TENANTS)}
        out["db_size"] = seed.psql(drill.db, "-c", f"SELECT pg_size_pretty(pg_database_size('{drill.db}'))")
        verified, unverified = contexts(drill.root)
        first = seed.tenant_name(TENANTS - 1, SUFFIX)
        began = time.perf_counter()
        drill.start()
        listening = wait_tcp(HTTPS, began + 60) and time.perf_counter() - began
        # Ready: the first answer for a stored name, loaded from PostgreSQL.
        ready = None
        while time.perf_counter() - began < 60:
            elapsed, outcome = await fresh_request(first, verified, SOURCES[0])
            if elapsed is not None:
                ready = time.perf_counter() - began
                break
            await asyncio.sleep(0.01)
        out["start"] = {"listening_ms": round(listening * 1000, 1) if listening else None,
                        "first_answer_ms": round(ready * 1000, 1) if ready else None}
        out["rss_at_first_answer_kib"] = drill.rss()
        settle(10)
        out["rss_after_start_kib"] = drill.rss()
        log(f"  scale: start {out['start']}, rss {out['rss_after_start_kib']} KiB")
        rng = random.Random(env_int("SEED", 15))
        order = list(range(TENANTS - 1))
        rng.shuffle(order)
        sample = [seed.tenant_name(i, SUFFIX) for i in order[:SAMPLE]]
        before = drill.settled_counters()
        out["cold"] = await sequential(sample, verified)
        after = drill.settled_counters()
        out["cold"]["pg_xact_per_name"] = round((after["pg_xact_commit"] - before["pg_xact_commit"]) / SAMPLE, 2)
        out["warm"] = await sequential(sample, verified)
        log(f"  scale: cold {out['cold']}, warm {out['warm']}")
        touched, steps = SAMPLE + 1, []
        rest = [seed.tenant_name(i, SUFFIX) for i in order[SAMPLE:]]
        for step in TOUCH:
            step = min(step, TENANTS)
            if step <= touched:
                continue
            result, _ = await burst(rest[touched - SAMPLE - 1:step - SAMPLE - 1], unverified, CONCURRENCY)
            touched = step
            settle()
            c = drill.counters()
            steps.append({"touched": step, "rss_kib": c["rss_kib"], "ready": c["cache_ready"],
                          "scrape_ms": c["scrape_ms"],
                          "seconds": result["seconds"], "outcomes": result["outcomes"],
                          "p99_ms": result["p99_ms"]})
            log(f"  scale: touched {step}: {steps[-1]}")
        out["touch"] = steps
        out["warm_after_touch"] = await sequential(sample, verified)
        # Unknown names with the name cache as full as the touches left it,
        # twice: the repeat shows whether the refusals were kept.
        names = random_names(env_int("FULL_SNI_NAMES", 10_000), random.Random(99))
        base = drill.settled_counters()
        rounds = []
        for label in ("first", "repeat"):
            flood = asyncio.ensure_future(burst(names, unverified, CONCURRENCY))
            await asyncio.sleep(0.2)
            during = await sequential(sample[:200], verified)
            result, _ = await flood
            after = drill.settled_counters()
            rounds.append(dict(result, label=label, warm_during=during, delta=delta(after, base)))
            log(f"  scale: flood {label} with the cache full: {rounds[-1]}")
            base = after
        out["flood_full"] = rounds
        return out
    finally:
        drill.drop()


def main():
    os.sched_setaffinity(0, {int(CLIENT_CPU)})
    results = {}
    for name in os.environ.get("DRILLS", "idle sni scale").split():
        log(f"==> drill {name}")
        results[name] = asyncio.run({"idle": drill_idle, "sni": drill_sni, "scale": drill_scale}[name]())
        log(json.dumps(results[name]))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
