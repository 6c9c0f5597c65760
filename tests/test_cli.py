"""The entry point as a user meets it: a real subprocess per run mode, exit codes, one-line errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import __version__
from tests.conftest import app_command, subprocess_env
from tests.support.keyrings import PRIVATE_SECRET_SERVICE_VAR
from tests.support.process import RunningProcess
from tests.support.xvfb import xvfb

pytestmark = pytest.mark.slow


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        app_command(*args), env=subprocess_env(**env), capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mt5-console {__version__}"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("mt5-console")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"mt5-console {__version__}"


def test_unknown_flag_is_exit_2_with_one_line() -> None:
    result = run("--frobnicate")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mt5-console: error: unrecognized arguments: --frobnicate (see --help)"
    ]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("--log-level", "LOUD", "--serve"), {}, "invalid setting logging.level='LOUD'"),
        (("--port", "99999", "--serve"), {}, "invalid setting server.port=99999"),
        (("--serve",), {"MT5C_SERVER__PORT": "eighty"}, "invalid setting server.port='eighty'"),
    ],
)
def test_bad_setting_is_exit_2_with_one_line(
    args: tuple[str, ...], env: dict[str, str], expected: str, data_dir: Path
) -> None:
    result = run(*args, "--data-dir", str(data_dir), **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mt5-console: ") and expected in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_config_file_is_exit_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[terminals]\ncall_timeout_s = -1\n", encoding="utf-8")
    result = run("--config", str(config), "--serve")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "mt5-console: invalid setting terminals.call_timeout_s=-1: Input should be greater than 0"
    ]


def test_unusable_data_dir_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = run("--serve", "--data-dir", str(blocker / "sub"))
    assert result.returncode == 2
    assert "invalid setting data_dir=" in result.stderr and "Traceback" not in result.stderr


# --serve runs the API server, which keeps its signing key in the OS keyring: only on the private one.
needs_private_keyring = pytest.mark.skipif(
    os.environ.get(PRIVATE_SECRET_SERVICE_VAR) != "private",
    reason="--serve needs the private Secret Service that scripts/test starts (never your own keyring)",
)


@needs_private_keyring
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_and_stops_cleanly_on_signal(data_dir: Path, sig: int) -> None:
    command = app_command("--serve", "--port", "0", "--data-dir", str(data_dir))
    with RunningProcess(command, subprocess_env()) as proc:
        proc.wait_for("headless mode running")
        code = proc.stop(sig)
    assert code == 0, proc.output
    assert "using the simulator" in proc.output  # no MetaTrader5 here: the simulator, and the log says so
    assert "stopped" in proc.output
    assert (data_dir / "logs" / "mt5-console.log").is_file()


@needs_private_keyring
def test_serve_imports_no_qt_module(data_dir: Path) -> None:
    probe = (
        "import logging, os, signal, sys\n"
        "from app.cli import main\n"
        # SIGTERM once the app says it runs (a fixed delay came before the handlers under load)
        "class StopWhenRunning(logging.Handler):\n"
        "    def emit(self, record):\n"
        "        if 'headless mode running' in record.getMessage():\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "logging.getLogger('app.headless').addHandler(StopWhenRunning())\n"
        f"code = main(['--serve', '--sim', '--port', '0', '--data-dir', {str(data_dir)!r}])\n"
        "print('QT-MODULES', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'qasync', 'shiboken6') or m.startswith('app.ui')))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=subprocess_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "QT-MODULES []" in result.stdout


def test_window_mode_opens_and_exits_0_on_sigterm(data_dir: Path) -> None:
    with RunningProcess(app_command("--sim", "--data-dir", str(data_dir)), subprocess_env()) as proc:
        proc.wait_for("window mode running")
        code = proc.stop(signal.SIGTERM)
    assert code == 0, proc.output


def processes_mentioning(text: str) -> list[str]:
    """Command lines of the running processes that contain ``text`` (their data dir, say)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Xvfb")
@pytest.mark.parametrize("with_sigterm", [False, True], ids=["display-dies", "display-dies-at-sigterm"])
def test_losing_the_display_exits_1_with_one_line_and_leaves_nothing_running(
    data_dir: Path, with_sigterm: bool
) -> None:
    """The X server dies under the window - alone, or as at a logout together with a SIGTERM while
    the app stops: no traceback, one clear line, exit 1, no stray child process."""
    with xvfb(1280, 800) as server:
        env = subprocess_env(QT_QPA_PLATFORM="xcb", DISPLAY=server.display)
        with RunningProcess(app_command("--sim", "--data-dir", str(data_dir)), env) as proc:
            proc.wait_for("window mode running", timeout=60)
            proc.wait_for("logged_in", timeout=60)
            if with_sigterm:
                proc.proc.send_signal(signal.SIGTERM)
            server.kill()
            code = proc.wait_exit(60, "after the X server died")
    assert code == 1, proc.output
    assert "the display connection was lost" in proc.output
    assert "Traceback" not in proc.output
    deadline = time.monotonic() + 15  # the sim server and the workers notice their parent is gone
    while processes_mentioning(str(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(str(data_dir)) == []
