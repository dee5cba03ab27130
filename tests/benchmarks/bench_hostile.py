"""A sync against hostile servers: time and peak RSS of one `zondarr sync` per hostile body, in one run (not part
of the test suite; DESIGN §8: a hostile server cannot make a sync run unbounded).

    nice -n 10 .venv/bin/python tests/benchmarks/bench_hostile.py [--tracks 3000] [--deadline 30]

For each case a demo server runs in its own process with the fault (`zondarr demo-server --faults ...`), and the
sync runs in another process (`python -m app sync NAME --json`, default settings: max_response_mb 64, page_size
500, request_timeout_s 30), so its peak RSS (``wait4``'s ``ru_maxrss``) is the sync's alone. Cases:

  * huge=200        a 200 MB listing page (chunked, no Content-Length), on page 1 of the tracks;
  * gzip-bomb       1 MB of gzip on the wire expanding to 1 GiB, on page 1;
  * growing-total   every page claims 1,000 more tracks per page than the last;
  * repeat-page     every page is page 0 and the total claims 1,000,000 tracks;
  * none            the same library without a fault (reference).

Budget per case: the sync ends within ``--deadline`` seconds, with the documented failure, under 300 MB peak RSS.
Prints one line per case and exits 1 when any case misses its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RSS_BUDGET_MB = 300
TOKENS = {"plex": "demo-plex-token", "jellyfin": "demo-jellyfin-key"}
CASES = [
    # (label, fault spec, the failure class the sync must end with; None = succeeds)
    ("none", "", None),
    ("huge=200", "tracks:huge=200@1", "response_too_large"),
    ("gzip-bomb", "tracks:gzip-bomb@1", "response_too_large"),
    ("growing-total", "tracks:growing-total", "listing_inconsistent"),
    ("repeat-page", "tracks:repeat-page=1000000", "listing_inconsistent"),
]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONDARR_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # file-backed secrets in the data dir
    return env


@contextmanager
def demo_process(kind: str, tracks: int, faults: str) -> Iterator[str]:
    """A demo server in its own process; yields its URL and stops it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "demo-server", "--kind", kind, "--tracks", str(tracks),
         "--libraries", "1", "--faults", faults],
        cwd=REPO, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=child_env(),
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"on (http://\S+)", line)
        if match is None:
            raise SystemExit(f"demo {kind} server did not start: {line!r}")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cli(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data), *args],
        cwd=REPO, input=stdin, capture_output=True, text=True, env=child_env(), timeout=120,
    )  # fmt: skip


def timed_sync(data: Path, name: str) -> tuple[float, float, int, dict[str, object]]:
    """(seconds, peak RSS in MB, exit code, --json output) of one `sync NAME --json` in a child process."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data), "sync", name, "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env(),
    )  # fmt: skip
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        parsed = json.loads(out)
    except ValueError:
        parsed = {"unparsed": out[-300:]}
    return seconds, usage.ru_maxrss / 1024, proc.returncode, parsed


def run_case(kind: str, tracks: int, spec: str) -> tuple[float, float, int, dict[str, object]]:
    # A fresh data dir and demo server per case: nothing of one case is in the next one's numbers.
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp, demo_process(kind, tracks, spec) as url:
        data = Path(tmp)
        name = kind.capitalize()
        if kind == "plex":
            assert cli(data, "settings", "set", "plex_tv_url", url).returncode == 0
        added = cli(
            data, "server", "add", "--kind", kind, "--name", name, "--url", url, "--token-stdin",
            stdin=TOKENS[kind] + "\n",
        )  # fmt: skip
        if added.returncode != 0:
            raise SystemExit(f"server add failed: {added.stderr}")
        return timed_sync(data, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=3000)
    ap.add_argument(
        "--deadline",
        type=float,
        default=30.0,
        help="seconds a sync may take (default: one request_timeout_s)",
    )
    ap.add_argument("--kinds", default="plex,jellyfin")
    ap.add_argument("--cases", default=",".join(c[0] for c in CASES), help="comma-separated case labels")
    args = ap.parse_args()
    print(
        f"hostile bodies, {args.tracks:,} tracks, budget: under {args.deadline:g} s and {RSS_BUDGET_MB} MB peak RSS"
    )
    print(f"{'server':9} {'case':14} {'seconds':>8} {'peak MB':>8} {'exit':>4}  outcome")
    missed = 0
    for kind in args.kinds.split(","):
        for label, spec, expected in CASES:
            if label not in args.cases.split(","):
                continue
            seconds, rss, code, out = run_case(kind, args.tracks, spec)
            servers = out.get("servers") if isinstance(out, dict) else None
            result = servers[0] if isinstance(servers, list) and servers else {}
            error = result.get("error") or {}
            outcome = error.get("failure_class") if error else result.get("status", out)
            ok = seconds < args.deadline and rss < RSS_BUDGET_MB
            ok = ok and (code == 0 if expected is None else code == 1 and outcome == expected)
            missed += not ok
            print(
                f"{kind:9} {label:14} {seconds:8.2f} {rss:8.1f} {code:>4}  {outcome}"
                f"{'' if ok else '   <-- MISSED'}",
                flush=True,
            )
    print("all within budget" if not missed else f"{missed} case(s) missed the budget")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
