"""The window on a real X server (Xvfb), driven by real key presses from outside (xdotool, as a
keyboard sends them): new chart, close chart, a timeframe, tile, full screen there and back, quit.
What the keys did is read back from the layout the app saves when it quits; Qt's complaints about
ambiguous shortcuts would show in its output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import app_command, subprocess_env
from tests.support.process import RunningProcess
from tests.support.xvfb import xvfb

pytestmark = [
    pytest.mark.slow,
    pytest.mark.gui,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Xvfb"),
]

SCREEN = (1280, 720)


@pytest.fixture
def display() -> Iterator[str]:
    with xvfb(*SCREEN) as server:
        yield server.display


def xdotool(display: str, *args: str, window_may_go: bool = False) -> str:
    """``window_may_go``: the key closes the window (Ctrl+Q), which may be gone before xdotool sends
    the key's release — X then answers BadWindow, and that is the key having worked."""
    tool = shutil.which("xdotool")
    assert tool, "xdotool is needed (scripts/lib.sh installs it)"
    done = subprocess.run(  # noqa: S603 - a fixed tool
        [tool, *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=30
    )
    gone = window_may_go and "BadWindow" in done.stderr
    assert done.returncode == 0 or gone, done.stderr
    return done.stdout


def test_keys_on_a_real_display_act_once(display: str, data_dir: Path) -> None:
    env = subprocess_env(QT_QPA_PLATFORM="xcb", DISPLAY=display, MT5C_SIM__START="2026-11-18T09:00:00Z")
    with RunningProcess(app_command("--sim", "--data-dir", str(data_dir)), env) as app:
        app.wait_for("window mode running", timeout=90)
        app.wait_for("logged_in", timeout=90)
        window = xdotool(
            display, "search", "--sync", "--onlyvisible", "--name", "MT5 Trading Console"
        ).split()[0]
        xdotool(display, "windowfocus", "--sync", window)
        geometry = xdotool(display, "getwindowgeometry", "--shell", window)
        shape = dict(line.split("=", 1) for line in geometry.split())
        assert int(shape["WIDTH"]) <= SCREEN[0] and int(shape["HEIGHT"]) <= SCREEN[1]  # it fits the screen
        # a new chart and closing it again, then D1 on the one left, tiled; F11 there and back
        for key in ("ctrl+n", "ctrl+w", "alt+7", "alt+r", "F11", "F11"):
            xdotool(display, "key", "--window", window, "--clearmodifiers", key)
        xdotool(display, "key", "--window", window, "--clearmodifiers", "ctrl+q", window_may_go=True)
        code = app.wait_exit(60, "after Ctrl+Q")
    assert code == 0, app.output
    assert "Ambiguous shortcut" not in app.output and "Traceback" not in app.output
    layout = json.loads((data_dir / "ui" / "layout.json").read_text(encoding="utf-8"))
    assert [(c["symbol"], c["timeframe"]) for c in layout["charts"]] == [("EURUSD", "D1")]
    assert layout["tabbed"] is False
