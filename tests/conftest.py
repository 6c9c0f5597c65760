"""Test setup shared by every test: Qt offscreen, no user settings leaking in, a fresh data dir."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from tests.support.keyrings import private_secret_service

os.environ["QT_QPA_PLATFORM"] = "offscreen"
pytest_plugins = [
    "tests.support.sim_fixtures",
    "tests.support.postgres",
    "tests.support.real_terminal",
]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No MT5C_ variable, user config or .env of the developer's machine reaches a test."""
    for name in list(os.environ):
        if name.startswith("MT5C_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def app_command(*args: str) -> list[str]:
    """The command line that runs the app as a user would (``python -m app``)."""
    return [sys.executable, "-m", "app", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT5C_")}
    env["PYTHONPATH"] = str(ROOT)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


@pytest.fixture
def secret_service() -> KeyringBackend:
    """The real Secret Service keyring that scripts/test starts (see tests.support.keyrings)."""
    return private_secret_service()
