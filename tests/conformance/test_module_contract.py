"""The MetaTrader5 module as a user's script meets it (argument conventions, times), on every target.

A probe script (probe_module.py) runs in a process of its own against the target; what it saw is
recorded as facts and checked against what the real package's code does (read from the wheel: see
scripts/derive_mt5_api.py). On a real terminal a failure here is a difference between our reading of
the wheel and the package itself: the report says which.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import Observed, Target
from tests.conftest import subprocess_env

pytestmark = pytest.mark.slow

PROBE = Path(__file__).with_name("probe_module.py")
TOO_MANY = [-2, "Invalid number of arguments"]
NO_POSITIONAL = [-2, "Unnamed arguments not allowed"]


@pytest.fixture(scope="session")
def probed(target: Target) -> dict[str, Any]:
    env = subprocess_env(
        MT5_DEMO_LOGIN=str(target.login),
        MT5_DEMO_PASSWORD=target.password,
        MT5_DEMO_SERVER=target.server,
        MT5_DEMO_SYMBOL=target.symbol,
    )
    if os.name == "posix":  # a time zone other than UTC, so a naive datetime's reading shows
        env["TZ"] = "JST-9"  # (on Windows the computer's own, which is seldom UTC)
    result = subprocess.run(
        [sys.executable, str(PROBE), target.module, target.path],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


@pytest.fixture
def module_facts(probed: dict[str, Any], fact: Observed) -> dict[str, Any]:
    for key, value in probed.items():
        fact(f"module.{key}", value)
    return probed


def test_initialize_takes_the_path_positionally_and_the_rest_by_keyword(module_facts: dict[str, Any]) -> None:
    assert module_facts["initialize.path_and_keywords"] is True
    assert module_facts["initialize.too_many_positional"] == [False, TOO_MANY]


def test_login_takes_login_password_server_positionally(module_facts: dict[str, Any]) -> None:
    assert module_facts["login.positional"] is True
    assert module_facts["login.keywords"] is True
    assert module_facts["login.too_many_positional"] == [False, TOO_MANY]


def test_positions_and_orders_take_keywords_only(module_facts: dict[str, Any]) -> None:
    assert module_facts["positions_get.positional_symbol"] == [None, NO_POSITIONAL]
    assert module_facts["orders_get.positional_symbol"] == [None, NO_POSITIONAL]
    assert module_facts["positions_get.keyword_symbol"] != "TypeError"
    assert not str(module_facts["positions_get.unknown_keyword"]).startswith("TypeError")  # ignored


def test_symbols_get_takes_the_group_positionally(module_facts: dict[str, Any]) -> None:
    assert module_facts["symbols_get.positional_group"] == "a tuple of SymbolInfo"
    assert module_facts["symbols_get.too_many_positional"] == [None, TOO_MANY]


def test_history_takes_a_period_positionally(module_facts: dict[str, Any]) -> None:
    assert not str(module_facts["history_deals_get.positional_period"]).startswith(("TypeError", "[None"))
    assert module_facts["history_deals_get.three_positional"] == [None, [-2, "Invalid arguments"]]
    assert module_facts["history_deals_get.one_positional_and_ticket"] == [None, NO_POSITIONAL]


def test_order_check_takes_the_request_or_its_fields(module_facts: dict[str, Any]) -> None:
    assert module_facts["order_check.request_dict"] == "OrderCheckResult"
    assert module_facts["order_check.fields_as_keywords"] == "OrderCheckResult"
    assert module_facts["order_check.dict_and_keywords"] == [None, NO_POSITIONAL]
    assert module_facts["order_check.no_arguments"] == [None, TOO_MANY]


def test_times_are_whole_seconds_and_naive_datetimes_local(module_facts: dict[str, Any]) -> None:
    assert module_facts["time.float_seconds_are_cut_to_whole_seconds"] is True
    assert module_facts["time.naive_datetime_is"] in (
        "local time",
        "undetermined: the computer's time zone is UTC",
    )
