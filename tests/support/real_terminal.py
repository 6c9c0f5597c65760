"""``--real-terminal PATH``: run the conformance suite (tests/conformance) against a real MetaTrader 5
terminal too, and report every difference from the simulator (a pytest plugin, see tests/conftest.py).

The real terminal needs Windows, the ``MetaTrader5`` package, the terminal's ``terminal64.exe`` and a
demo account whose login, password and server come from the environment (never from a file, never
stored): ``MT5_DEMO_LOGIN``, ``MT5_DEMO_PASSWORD``, ``MT5_DEMO_SERVER`` (and ``MT5_DEMO_SYMBOL`` if
the broker does not call it EURUSD). Without ``--real-terminal`` the real terminal's half of the
suite is skipped; with it, anything missing stops the run at once, saying what.

Each conformance test records what it observed (``facts``) per target; at the end, when the real
terminal ran, the two sets are compared and written to ``--conformance-report`` (default
``conformance-report.md`` in the current directory, with a ``.json`` twin): please send it in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ENV_LOGIN, ENV_PASSWORD, ENV_SERVER, ENV_SYMBOL = (
    "MT5_DEMO_LOGIN",
    "MT5_DEMO_PASSWORD",
    "MT5_DEMO_SERVER",
    "MT5_DEMO_SYMBOL",
)


@dataclass(frozen=True)
class RealTerminal:
    """Where the real terminal is and which demo account to use (the password never leaves memory)."""

    path: str
    login: int
    password: str = field(repr=False)
    server: str
    symbol: str
    module: str = "MetaTrader5"  # or another MetaTrader5-compatible module (--real-terminal-module)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "the terminal layer's conformance suite (tests/conformance)")
    group.addoption(
        "--real-terminal",
        metavar="PATH",
        default=None,
        help="also run the conformance suite against the MetaTrader 5 terminal at PATH (terminal64.exe) "
        f"on the demo account in {ENV_LOGIN}, {ENV_PASSWORD}, {ENV_SERVER} (Windows only)",
    )
    group.addoption(
        "--real-terminal-module",
        metavar="MODULE",
        default="MetaTrader5",
        help="drive this MetaTrader5-compatible module for the real terminal instead of MetaTrader5 "
        "(a bridge to a terminal under Wine; app.mt5.sim with a sim:// PATH tries the suite itself)",
    )
    group.addoption(
        "--conformance-report",
        metavar="FILE",
        default="conformance-report.md",
        help="where the differences between the real terminal and the simulator go (with --real-terminal)",
    )


def real_terminal(config: pytest.Config) -> RealTerminal | str:
    """The real terminal to test, or why there is none (the reason a skipped test gives)."""
    path = config.getoption("--real-terminal")
    module = config.getoption("--real-terminal-module")
    if not path:
        return "no real terminal: run `scripts/test --real-terminal PATH` on Windows with MetaTrader 5"
    missing = []
    if module == "MetaTrader5":
        if sys.platform != "win32":
            missing.append("Windows (MetaTrader 5 runs only there)")
        if not Path(path).is_file():
            missing.append(f"the terminal at {path}")
    if importlib.util.find_spec(module) is None:
        missing.append(
            f"the {module} package" + (" (pip install MetaTrader5)" if module == "MetaTrader5" else "")
        )
    absent = [name for name in (ENV_LOGIN, ENV_PASSWORD, ENV_SERVER) if not os.environ.get(name)]
    if absent:
        missing.append("the demo account in " + ", ".join(absent))
    login = os.environ.get(ENV_LOGIN, "")
    if login and not login.isdigit():
        missing.append(f"a numeric {ENV_LOGIN}")
    if missing:
        return "the real terminal needs " + "; ".join(missing)
    return RealTerminal(
        path,
        int(login),
        os.environ[ENV_PASSWORD],
        os.environ[ENV_SERVER],
        os.environ.get(ENV_SYMBOL) or "EURUSD",
        module,
    )


# Differences the README's Simulator section documents: reported apart, as expected.
KNOWN_DIFFERENCES = {
    "module.copy_rates_from.keywords": "the simulator also takes keywords where the extension takes "
    "only positional arguments",
    "module.history_deals_get.keyword_period": "the simulator also takes date_from/date_to as keywords",
}


class Facts:
    """What each target showed, by key (``connect.state``, ``order_check.margin_is_total``, ...)."""

    def __init__(self) -> None:
        self.by_target: dict[str, dict[str, Any]] = {}

    def record(self, target: str, key: str, value: Any) -> None:
        self.by_target.setdefault(target, {})[key] = _plain(value)

    def differences(self) -> list[tuple[str, Any, Any]]:
        sim, real = self.by_target.get("sim", {}), self.by_target.get("real", {})
        return [
            (k, sim.get(k, "(not seen)"), real[k])
            for k in sorted(real)
            if sim.get(k, "(not seen)") != real[k]
        ]


def _plain(value: Any) -> Any:
    """JSON-friendly and comparable: tuples become lists, numpy scalars Python numbers."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


FACTS = pytest.StashKey[Facts]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FACTS] = Facts()
    if config.getoption("--real-terminal"):  # asked for: a terminal that cannot be used is an error
        found = real_terminal(config)
        if not isinstance(found, RealTerminal):
            raise pytest.UsageError(found)


def facts_of(config: pytest.Config) -> Facts:
    return config.stash[FACTS]


def write_report(facts: Facts, path: Path, terminal: RealTerminal) -> list[tuple[str, Any, Any]]:
    differences = facts.differences()
    real = facts.by_target.get("real", {})
    lines = [
        "# Conformance: the real MetaTrader 5 terminal against the simulator",
        "",
        f"Terminal: `{terminal.path}`; account {terminal.login} on {terminal.server}; "
        f"symbol {terminal.symbol}.",
        f"Facts compared: {len(real)}; different: {len(differences)}.",
        "",
    ]
    unexpected = [d for d in differences if d[0] not in KNOWN_DIFFERENCES]
    known = [d for d in differences if d[0] in KNOWN_DIFFERENCES]
    if unexpected:
        lines += ["| fact | simulator | real terminal |", "| --- | --- | --- |"]
        lines += [f"| `{key}` | `{json.dumps(sim)}` | `{json.dumps(got)}` |" for key, sim, got in unexpected]
    else:
        lines.append("The real terminal behaved as the simulator does in every fact the suite looks at.")
    if known:
        lines += ["", "Known differences (documented in the README's Simulator section):", ""]
        lines += [f"- `{key}`: {KNOWN_DIFFERENCES[key]}" for key, _, _ in known]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.with_suffix(".json").write_text(
        json.dumps(facts.by_target, indent=1, sort_keys=True), encoding="utf-8"
    )
    return differences


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    facts = facts_of(config)
    terminal = real_terminal(config)
    if not isinstance(terminal, RealTerminal) or not facts.by_target.get("real"):
        return
    path = Path(config.getoption("--conformance-report")).resolve()
    differences = write_report(facts, path, terminal)
    terminalreporter.section("conformance: real terminal vs simulator")
    unexpected = [d for d in differences if d[0] not in KNOWN_DIFFERENCES]
    for key, sim, real in unexpected:
        terminalreporter.write_line(f"{key}: simulator {json.dumps(sim)}, real terminal {json.dumps(real)}")
    terminalreporter.write_line(
        f"{len(unexpected)} difference(s) in {len(facts.by_target['real'])} facts "
        f"(and {len(differences) - len(unexpected)} known); report: {path} — please send it in"
    )
