"""The import contract holds, and bites: a Qt import slipped into the Qt-free core fails the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.slow


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--no-cache", "--config", str(project / "pyproject.toml")],
        cwd=project,
        env=subprocess_env(PYTHONPATH=str(project)),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "app", copy / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_contract_is_kept(project_copy: Path) -> None:
    result = lint_imports(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("package", "statement"),
    [
        ("models", "import PySide6.QtCore"),
        ("audit", "from app.ui import main_window"),
        ("mt5", "import pyqtgraph"),
    ],
)
def test_a_qt_import_in_the_core_breaks_the_contract(
    project_copy: Path, package: str, statement: str
) -> None:
    probe = project_copy / "app" / package / "_contract_probe.py"
    probe.write_text(f"{statement}\n", encoding="utf-8")
    result = lint_imports(project_copy)
    assert result.returncode != 0
    assert f"app.{package}._contract_probe" in result.stdout
    assert "BROKEN" in result.stdout
