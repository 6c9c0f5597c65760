"""The app side's copy of MT5's error codes equals the real package's, and codes map to the taxonomy.

(``app.mt5.errors`` keeps its own copy so that the app process never imports the simulator.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.models import AuthorizationError, NotConnectedError, RejectedError, TemporaryError, TerminalError
from app.mt5 import errors
from app.mt5.errors import error_from_failure
from app.mt5.protocol import Failure

REAL = json.loads((Path(__file__).parent.parent / "data" / "mt5_api.json").read_text(encoding="utf-8"))


def test_error_codes_are_the_real_packages() -> None:
    ours = {name: getattr(errors, name) for name in dir(errors) if name.startswith("RES_")}
    real = {name: value for name, value in REAL["constants"].items() if name.startswith("RES_")}
    assert ours == real


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (-10005, NotConnectedError),
        (-10004, NotConnectedError),
        (-10003, NotConnectedError),
        (-6, AuthorizationError),
        (-2, RejectedError),
        (-4, RejectedError),
        (-1, TemporaryError),
    ],
)
def test_codes_map_to_the_taxonomy(code: int, kind: type[TerminalError]) -> None:
    error = error_from_failure(Failure("mt5", "order_send", code, "text"), "t1")
    assert type(error) is kind
    assert error.code == code and error.terminal_id == "t1" and "order_send: text" in str(error)


def test_a_bug_in_the_worker_is_a_plain_terminal_error() -> None:
    error = error_from_failure(Failure("exception", "tick", None, "TypeError: x"), "t1")
    assert type(error) is TerminalError
