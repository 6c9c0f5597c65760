"""The packaged program (dist/mt5-console, built by scripts/build) as a user runs it.

Runs when ``MT5C_PACKAGED`` names the built program (``.ci/run`` builds it and sets it); otherwise
skipped, since building takes a minute and a half.
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from app import __version__
from tests.support.process import RunningProcess
from tests.support.tls import self_signed

pytestmark = pytest.mark.packaging

PROGRAM = os.environ.get("MT5C_PACKAGED", "")
needs_build = pytest.mark.skipif(not PROGRAM, reason="set MT5C_PACKAGED to the built program (scripts/build)")


def clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH: the program must run on what it carries."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("MT5C_")
    }
    env.update(extra)
    return env


@needs_build
def test_version() -> None:
    result = subprocess.run(
        [PROGRAM, "--version"], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mt5-console {__version__}"


@needs_build
def test_serve_on_the_simulator_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    command = [PROGRAM, "--serve", "--sim", "--port", "0", "--data-dir", str(tmp_path)]
    with RunningProcess(command, clean_env()) as proc:
        url = proc.wait_for("serving on http://", timeout=60).split("serving on ", 1)[1].strip()
        proc.wait_for("logged_in", timeout=60)  # a worker process of the packaged program is connected
        health = httpx.get(f"{url}/api/health", timeout=10)
        page = httpx.get(f"{url}/", timeout=10)  # the web dashboard, carried by the packaged program
        scripts = re.findall(r'src="(/assets/app-[^"]+\.js)"', page.text)
        script = httpx.get(f"{url}{scripts[0]}", timeout=10) if scripts else None
        code = proc.stop(signal.SIGTERM)
    assert page.status_code == 200 and "MT5 Trading Console" in page.text, page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert script is not None and script.status_code == 200 and "immutable" in script.headers["cache-control"]
    assert health.status_code == 200
    body = health.json()
    assert body["version"] == __version__ and body["mt5_connected"] is True
    assert code == 0, proc.output
    assert "Traceback" not in proc.output and " ERROR " not in proc.output


@needs_build
def test_the_window_opens_offscreen_and_closes_cleanly(tmp_path: Path) -> None:
    command = [PROGRAM, "--sim", "--data-dir", str(tmp_path)]
    with RunningProcess(command, clean_env(QT_QPA_PLATFORM="offscreen")) as proc:
        proc.wait_for("window mode running", timeout=60)
        proc.wait_for("logged_in", timeout=60)
        code = proc.stop(signal.SIGTERM)
    assert code == 0, proc.output
    assert "Traceback" not in proc.output and " ERROR " not in proc.output


@needs_build
def test_serve_over_tls_and_verify_the_audit_chain(tmp_path: Path) -> None:
    """The packaged program's one OpenSSL (build.spec links the system's names to psycopg's copy)
    serves HTTPS, and hashlib's SHA-256 on it checks the audit chain the run wrote."""
    cert, key = self_signed(tmp_path)
    data = tmp_path / "data"
    env = clean_env(MT5C_SERVER__TLS_CERT=str(cert), MT5C_SERVER__TLS_KEY=str(key))
    command = [PROGRAM, "--serve", "--sim", "--port", "0", "--data-dir", str(data)]
    with RunningProcess(command, env) as proc:
        url = proc.wait_for("serving on https://", timeout=60).split("serving on ", 1)[1].strip()
        health = httpx.get(f"{url}/api/health", timeout=10, verify=ssl.create_default_context(cafile=cert))
        maps = Path(f"/proc/{proc.proc.pid}/maps").read_text()
        code = proc.stop(signal.SIGTERM)
    openssl = {Path(line.split()[-1]).resolve() for line in maps.splitlines() if "libcrypto" in line}
    # Python's ssl and hashlib run on the one OpenSSL the program carries for libpq
    assert [p.parent.name for p in openssl] == ["psycopg_binary.libs"], openssl
    assert health.status_code == 200 and health.json()["version"] == __version__
    assert code == 0, proc.output
    verify = subprocess.run(
        [PROGRAM, "audit", "verify", "--data-dir", str(data)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0 and verify.stdout.startswith("OK: "), verify.stdout + verify.stderr
