#!/usr/bin/env python3
"""Turns bench/floods/run.sh's result lines into the Markdown table (medians over rounds).

usage: table.py SECONDS RATE < results   (the window and the tenants' calls/s)
stdin: lines `ROUND<TAB>SCENARIO<TAB>flood=… | tenants=… | cpu=… rss_mb=… threads=…`,
where the flood and tenants parts are the summary lines of flood.lua and tenants.lua.
A round in which no call of the other tenants was answered counts as slower
than SECONDS (the window) for their p50 and p99.
"""
import re
import statistics
import sys
from collections import defaultdict

WHAT = {
    "baseline": "no flood",
    "login-one-account": "login: one account, one address",
    "login-many-accounts": "login: unknown emails, one address",
    "login-many-ips": "login: unknown emails, a new address each",
    "login-one-account-many-ips": "login: one account, a new address each",
    "signup": "signup: one address",
    "signup-many-ips": "signup: a new address each",
}


def fields(text: str) -> dict:
    return dict(re.findall(r"([\w]+)=([^\s|]+)", text))


def median(values):
    return statistics.median(values) if values else float("nan")


SECONDS = float(sys.argv[1])
SCHEDULED = SECONDS * float(sys.argv[2])


def latency(tenants: dict, key: str) -> float:
    """A percentile in ms, or infinity when nothing was answered."""
    return float(tenants[key]) if int(tenants["sent"]) > 0 else float("inf")


def ms(value: float) -> str:
    return f"> {SECONDS * 1000:.0f}" if value == float("inf") else f"{value:.2f}"


rows = defaultdict(list)
baseline_p99 = {}
order = []
for line in sys.stdin:
    round_, name, rest = line.rstrip("\n").split("\t")
    flood_text, tenants_text, server_text = rest.split(" | ")
    flood = fields(flood_text.removeprefix("flood="))
    tenants = fields(tenants_text.removeprefix("tenants="))
    server = fields(server_text)
    if name not in order:
        order.append(name)
    if name == "baseline":
        baseline_p99[round_] = float(tenants["p99_ms"])
    rows[name].append((round_, flood, tenants, server))

print("| flood | flood answered/s | 429 share | 429 with Retry-After | flood answers (last round) "
      "| others' calls answered | others' p50 ms | others' p99 ms | p99 flood / baseline | others' failed | server CPU s/s | RSS max MB | threads max | busy after, s |")
print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in order:
    runs = rows[name]
    p50 = median([latency(t, "p50_ms") for _, _, t, _ in runs])
    p99 = median([latency(t, "p99_ms") for _, _, t, _ in runs])
    ratios = [latency(t, "p99_ms") / baseline_p99[r] for r, _, t, _ in runs if baseline_p99.get(r)]
    failed = median([int(t["failed"]) for _, _, t, _ in runs])
    answered = median([int(t["sent"]) for _, _, t, _ in runs]) / SCHEDULED
    cpu = median([float(s["cpu"]) for _, _, _, s in runs])
    rss = max(int(s["rss_mb"]) for _, _, _, s in runs)
    threads = max(int(s["threads"]) for _, _, _, s in runs)
    settle = median([int(s.get("settle_s", 0)) for _, _, _, s in runs])
    floods = [f for _, f, _, _ in runs if f]
    if floods:
        rate = f"{median([float(f['rate']) for f in floods]):.0f}"
        share = f"{median([int(f['429']) / max(1, int(f['sent'])) for f in floods]):.1%}"
        with_retry = f"{median([int(f['retry_after']) / max(1, int(f['429'])) for f in floods]):.0%}"
        answers = floods[-1]["codes"].replace(",", ", ").replace("-:", "201 (created):")
    else:
        rate = share = with_retry = answers = "–"
    ratio = median(ratios)
    ratio_text = "∞" if ratio == float("inf") else f"{ratio:.2f}"
    print(f"| {WHAT.get(name, name)} | {rate} | {share} | {with_retry} | {answers} | {answered:.0%} | {ms(p50)} | {ms(p99)} "
          f"| {ratio_text} | {failed:.0f} | {cpu:.2f} | {rss} | {threads} | {settle:.0f} |")
