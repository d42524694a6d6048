#!/usr/bin/env python3
"""Signs up the tenants whose API calls bench/floods measures, and the victim.

usage: setup.py APP_BASE_URL TENANTS
Each tenant signs up from its own address (X-Forwarded-For, believed from a
loopback peer), creates a read-scoped API key and ten paused monitors, so
`GET /api/monitors` returns a real page. The victim (`victim@flood.example`)
is the account whose password the one-account login floods guess.
Prints the API keys, comma-separated, on one line.
"""
import json
import sys
import urllib.request

PASSWORD = "tangerine-umbrella-42"


def call(base: str, method: str, path: str, body: dict, headers: dict) -> dict:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def signup(base: str, slug: str, email: str, ip: str) -> str:
    session = call(
        base,
        "POST",
        "/api/auth/signup",
        {"organization": slug, "slug": slug, "email": email, "password": PASSWORD},
        {"X-Forwarded-For": ip},
    )
    return session["access_token"]


def main() -> None:
    base, tenants = sys.argv[1], int(sys.argv[2])
    signup(base, "victim", "victim@flood.example", "192.0.2.250")
    keys = []
    for i in range(tenants):
        slug = f"tenant{i}"
        bearer = {"Authorization": "Bearer " + signup(base, slug, f"owner@{slug}.example", f"192.0.2.{i + 1}")}
        for m in range(10):
            call(
                base,
                "POST",
                "/api/monitors",
                {"name": f"site {m}", "kind": "http", "url": f"https://{slug}-{m}.example/", "paused": True},
                bearer,
            )
        keys.append(call(base, "POST", "/api/api-keys", {"name": "bench", "scope": "read"}, bearer)["secret"])
    print(",".join(keys))


main()
