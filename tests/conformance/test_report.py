"""The --real-terminal machinery itself: what it needs, and the difference report it writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.support.real_terminal import KNOWN_DIFFERENCES, Facts, RealTerminal, real_terminal, write_report


class Options:
    def __init__(self, **options: object) -> None:
        self.options = {"--real-terminal": None, "--real-terminal-module": "MetaTrader5", **options}

    def getoption(self, name: str) -> object:
        return self.options[name]


def test_without_the_option_the_real_terminal_is_skipped_saying_how_to_run_it() -> None:
    assert "scripts/test --real-terminal PATH" in str(real_terminal(Options()))  # type: ignore[arg-type]


def test_what_is_missing_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MT5_DEMO_LOGIN", "MT5_DEMO_PASSWORD", "MT5_DEMO_SERVER"):
        monkeypatch.delenv(name, raising=False)
    reason = str(real_terminal(Options(**{"--real-terminal": str(tmp_path / "terminal64.exe")})))  # type: ignore[arg-type]
    assert "MT5_DEMO_LOGIN, MT5_DEMO_PASSWORD, MT5_DEMO_SERVER" in reason
    assert "terminal64.exe" in reason
    if sys.platform != "win32":
        assert "Windows" in reason


def test_the_account_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT5_DEMO_LOGIN", "5001006")
    monkeypatch.setenv("MT5_DEMO_PASSWORD", "Demo-1006")
    monkeypatch.setenv("MT5_DEMO_SERVER", "SimBroker-Demo")
    found = real_terminal(
        Options(**{"--real-terminal": "sim://127.0.0.1:1/x", "--real-terminal-module": "app.mt5.sim"})  # type: ignore[arg-type]
    )
    assert found == RealTerminal(
        "sim://127.0.0.1:1/x", 5001006, "Demo-1006", "SimBroker-Demo", "EURUSD", "app.mt5.sim"
    )
    assert "Demo-1006" not in repr(found)  # never in a log or a report


def test_the_report_lists_each_difference_and_keeps_known_ones_apart(tmp_path: Path) -> None:
    facts = Facts()
    for target, value in (("sim", 10014), ("real", 10015)):
        facts.record(target, "order_check.volume_below_min.retcode", value)
        facts.record(target, "connect.status", "logged_in")
    known = next(iter(KNOWN_DIFFERENCES))
    facts.record("sim", known, "ndarray")
    facts.record("real", known, "TypeError: takes no keyword arguments")
    report = tmp_path / "conformance-report.md"
    terminal = RealTerminal("C:/MT5/terminal64.exe", 123, "secret", "Broker-Demo", "EURUSD")

    differences = write_report(facts, report, terminal)

    text = report.read_text(encoding="utf-8")
    assert [d[0] for d in differences] == [known, "order_check.volume_below_min.retcode"]
    assert "| `order_check.volume_below_min.retcode` | `10014` | `10015` |" in text
    assert "Known differences" in text and known in text and "Facts compared: 3; different: 2." in text
    assert "connect.status" not in text and "secret" not in text
    assert (
        json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))["real"]["connect.status"]
        == "logged_in"
    )
