#!/usr/bin/env python3
"""Drives prometheus-blackbox-exporter at a fixed rate, as Prometheus would.

usage: drive.py EXPORTER_HOSTPORT TARGET_URL RATE SECONDS
Prints one line: `sent=N ok=N failed=N late_p99_ms=X` (late = request start
behind its slot; a sign the driver, not the exporter, was the bottleneck).
"""
import http.client
import queue
import sys
import threading
import time
import urllib.parse

exporter, target, rate, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
slots: "queue.Queue[float | None]" = queue.Queue()
lock = threading.Lock()
stats = {"sent": 0, "ok": 0, "failed": 0}
late: list[float] = []


def worker() -> None:
    conn = http.client.HTTPConnection(exporter, timeout=30)
    while True:
        slot = slots.get()
        if slot is None:
            return
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        lag = time.monotonic() - slot
        path = "/probe?module=http_2xx&target=" + urllib.parse.quote(target, safe="")
        try:
            conn.request("GET", path)
            body = conn.getresponse().read()
            good = b"probe_success 1" in body
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection(exporter, timeout=30)
            good = False
        with lock:
            stats["sent"] += 1
            stats["ok" if good else "failed"] += 1
            late.append(lag)


threads = [threading.Thread(target=worker, daemon=True) for _ in range(64)]
for t in threads:
    t.start()
start = time.monotonic() + 0.2
count = int(rate * seconds)
for i in range(count):
    slots.put(start + i / rate)
for _ in threads:
    slots.put(None)
for t in threads:
    t.join()
late.sort()
p99 = late[int(0.99 * (len(late) - 1))] * 1000 if late else 0.0
print(f"sent={stats['sent']} ok={stats['ok']} failed={stats['failed']} late_p99_ms={p99:.0f}")
