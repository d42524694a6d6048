"""What the Python bench drivers share: progress to stderr, and a process's
resident memory read from /proc."""

import sys


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def rss_kib(pid):
    """Resident set size of `pid` in KiB (0 once it is gone)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
