"""The trimmed ICU data of the packaged program (scripts/icudata.py, used by build.spec) answers
everything Qt asks of ICU exactly as the whole data does."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import PySide6
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("icu_probe.py")
WHOLE = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"), None)
PACKAGED = os.environ.get("MT5C_PACKAGED", "")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or WHOLE is None, reason="Qt bundles ICU on Linux only"
)


def icudata() -> ModuleType:
    spec = importlib.util.spec_from_file_location("icudata", ROOT / "scripts" / "icudata.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def qt_answers(library: Path | None) -> dict[str, object]:
    """What Qt answers with `library` standing in for the ICU data library (None: the wheel's own)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if library is not None:
        env["LD_PRELOAD"] = str(library)
    result = subprocess.run(
        [sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def test_common_data_packs_back_byte_for_byte() -> None:
    tool = icudata()
    assert WHOLE is not None
    _, common = tool.common_data(WHOLE)
    header_size, items = tool.items(common)
    assert len(items) > 1000 and any(name.endswith("/coll/root.res") for name, _ in items)
    assert tool.pack(common[:header_size], items) == common


@pytest.mark.slow
def test_trimmed_data_answers_qt_as_the_whole_does(tmp_path: Path) -> None:
    tool = icudata()
    assert WHOLE is not None
    trimmed = tmp_path / WHOLE.name
    before, after = tool.trim(WHOLE, trimmed)
    assert after < 0.6 * before
    assert qt_answers(trimmed) == qt_answers(None)


@pytest.mark.slow
def test_the_probe_notices_missing_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above can fail: data without collation or converters answers differently."""
    tool = icudata()
    assert WHOLE is not None
    monkeypatch.setattr(tool, "DROPPED", re.compile(r"/coll/|\.cnv$"))
    crippled = tmp_path / WHOLE.name
    tool.trim(WHOLE, crippled)
    whole, answers = qt_answers(None), qt_answers(crippled)
    assert answers["sorted sv_SE"] != whole["sorted sv_SE"]
    assert len(answers["codecs"]) < len(whole["codecs"])  # type: ignore[arg-type]


@pytest.mark.packaging
@pytest.mark.skipif(not PACKAGED, reason="set MT5C_PACKAGED to the built program (scripts/build)")
def test_the_packaged_program_carries_the_trimmed_data() -> None:
    assert WHOLE is not None
    packaged = next((Path(PACKAGED).parent / "_internal").rglob(WHOLE.name))
    assert packaged.stat().st_size < 0.6 * WHOLE.stat().st_size
    assert qt_answers(packaged) == qt_answers(None)
