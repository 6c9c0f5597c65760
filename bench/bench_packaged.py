"""The packaged program: folder size, and the time from start to ``/api/health`` answering OK.

    scripts/build && scripts/test-packaged   # or just scripts/build, then:
    dbus-run-session ... .venv/bin/python bench/bench_packaged.py [--runs 5]

Needs a Secret Service (the server keeps its signing secret in the keyring): run it like the tests,
e.g. ``bash -c 'source scripts/lib.sh; with_test_keyring .venv/bin/python bench/bench_packaged.py'``.
Each run starts `mt5-console --serve --sim --port P` (a free port) in a fresh data dir and polls
/api/health every 20 ms from the moment it starts; "OK" is the first 200 answer, and "connected" the
first answer with mt5_connected true.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "dist" / "mt5-console" / "mt5-console"


def folder_size_mb(path: Path) -> float:
    """What the folder takes, as ``du`` counts it (a symlink's target once)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_run() -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - our own program
            [str(PROGRAM), "--serve", "--sim", "--port", str(port), "--data-dir", data],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            ok_at = connected_at = 0.0
            while not connected_at and time.perf_counter() - started < 60:
                try:
                    answer = httpx.get(f"{url}/api/health", timeout=1)
                except httpx.HTTPError:
                    answer = None
                now = time.perf_counter() - started
                if answer is not None and answer.status_code == 200:
                    ok_at = ok_at or now
                    if answer.json().get("mt5_connected"):
                        connected_at = now
                time.sleep(0.02)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    return ok_at, connected_at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"folder: {folder_size_mb(PROGRAM.parent):.0f} MB ({PROGRAM.parent})")
    runs = [one_run() for _ in range(args.runs)]
    ok = statistics.median(r[0] for r in runs)
    connected = statistics.median(r[1] for r in runs)
    print(f"start → /api/health OK: median {ok:.2f} s; → mt5_connected: median {connected:.2f} s "
          f"({args.runs} runs: {', '.join(f'{a:.2f}/{b:.2f}' for a, b in runs)})")  # fmt: skip


if __name__ == "__main__":
    main()
