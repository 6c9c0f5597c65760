"""The sim module offers exactly the real MetaTrader5 package's API: names, values, signatures, shapes."""

from __future__ import annotations

import inspect
import json
import types
from pathlib import Path

import numpy as np

import app.mt5.sim as mt5
from app.mt5.sim import errors, structs

DATA = Path(__file__).resolve().parents[1] / "data"
API = json.loads((DATA / "mt5_api.json").read_text(encoding="utf-8"))
STRUCTS = json.loads((DATA / "mt5_structs.json").read_text(encoding="utf-8"))


def _public_callables() -> set[str]:
    return {
        name
        for name, value in vars(mt5).items()
        if not name.startswith("_") and callable(value) and not isinstance(value, (type, types.ModuleType))
    }


def test_every_constant_has_the_real_name_and_value() -> None:
    constants = API["constants"]
    assert len(constants) == 223
    wrong = {
        name: (getattr(mt5, name, None), value)
        for name, value in constants.items()
        if getattr(mt5, name, None) != value
    }
    assert wrong == {}


def test_no_constant_that_the_real_package_lacks() -> None:
    ours = {
        n
        for n, value in vars(mt5).items()
        if n.isupper() and not n.startswith("_") and isinstance(value, int)
    }
    assert ours == set(API["constants"])


def test_every_function_and_helper_exists_and_nothing_more() -> None:
    expected = set(API["functions"]) | set(API["helpers"])
    assert len(API["functions"]) == 32
    assert _public_callables() == expected


def test_function_parameters_follow_the_real_usage_lines() -> None:
    for name, entry in API["functions"].items():
        usage = entry["usage"]
        documented = [
            p.strip("[]= ").split("=")[0] for p in usage[len(name) + 1 : -1].replace("[", ",").split(",")
        ]
        documented = [p for p in documented if p]
        params = inspect.signature(getattr(mt5, name)).parameters
        missing = [p for p in documented if p not in params]
        assert missing == [], f"{usage}: {missing} not in {list(params)}"


def test_functions_take_arguments_as_the_extension_does() -> None:
    """The C functions' METH_* flags (read from the wheel's method table): those without arguments
    take none here either; those reading keywords from a dict ignore unknown ones, as the dict
    lookups there do; the positional-only ones take their documented names (and, here, as keywords)."""
    assert len(API["calling"]) == 32
    for name, calling in API["calling"].items():
        params = list(inspect.signature(getattr(mt5, name)).parameters.values())
        takes_any_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
        if calling == "noargs":
            assert params == [], name
        else:
            assert takes_any_keyword == (calling == "positional+keywords"), name


def test_argument_errors_are_the_extensions_own() -> None:
    ours = {"Invalid number of arguments", "Unnamed arguments not allowed", "Invalid arguments"}
    ours |= {errors.invalid_argument(name).message for name in ("symbol", "comment", "login", "ticket")}
    assert ours <= set(API["argument_errors"])


def _unannotated(name: str) -> str:
    """``Buy(symbol, volume, price=None, *, comment=None, ticket=None)`` from our signature."""
    parts: list[str] = []
    for param in inspect.signature(getattr(mt5, name)).parameters.values():
        if param.kind is param.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        parts.append(param.name if param.default is param.empty else f"{param.name}={param.default!r}")
    return f"{name}({', '.join(parts)})"


def test_helpers_have_the_real_signatures() -> None:
    for name, usage in API["helpers"].items():
        assert _unannotated(name) == usage


def test_version_and_author() -> None:
    assert mt5.__version__ == API["version"] == "5.0.6231"
    assert mt5.__author__ == API["author"]


def test_result_types_have_the_real_names_and_fields_in_order() -> None:
    for name, fields in STRUCTS["structs"].items():
        cls = getattr(structs, name)
        assert cls.__name__ == name
        assert list(cls._fields) == fields, name
    assert len(structs.SymbolInfo._fields) == 96


def test_rates_and_ticks_dtypes_are_the_real_ones() -> None:
    for key, dtype in (("rates", structs.RATES_DTYPE), ("ticks", structs.TICKS_DTYPE)):
        assert dtype == np.dtype([tuple(field) for field in STRUCTS["dtypes"][key]])


def test_error_texts_are_the_extensions_own() -> None:
    real = set(API["error_texts"])
    assert set(errors.MESSAGES.values()) <= real
    assert errors.SUCCESS == (1, "Success")


def test_importing_starts_nothing() -> None:
    import app.mt5.sim.terminal as terminal_module

    assert terminal_module._embedded is None or terminal_module._embedded.address
    # a fresh interpreter: importing the module leaves no thread or socket behind
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    code = "import threading, app.mt5.sim as m; assert threading.active_count() == 1, threading.enumerate()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
