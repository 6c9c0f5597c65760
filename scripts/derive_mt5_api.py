"""Derive the MetaTrader5 package's public API (constants and functions) from the real wheel.

The simulator (``app.mt5.sim``) must offer every constant and function of the official package; the
test ``tests/sim/test_api_surface.py`` compares it with ``tests/data/mt5_api.json``, which this script
writes. The wheel exists only for Windows, but it can be downloaded and read anywhere:

    pip download --no-deps --platform win_amd64 --python-version 3.12 --only-binary=:all: \
        MetaTrader5==5.0.6231 -d /tmp/mt5
    python -m zipfile -e /tmp/mt5/metatrader5-5.0.6231-cp312-cp312-win_amd64.whl /tmp/mt5/x
    python scripts/derive_mt5_api.py /tmp/mt5/x/MetaTrader5 > tests/data/mt5_api.json

Constants come from ``MetaTrader5/__init__.py`` (module-level integer assignments, evaluated without
importing it). Functions come from two places: the Python helpers defined in ``__init__.py`` (Buy,
Sell, Close) and the C functions of ``_core*.pyd``, whose method table carries a usage line per
function (``copy_rates_from(symbol, timeframe, date_from, count)``) that is found in its strings.
"""

from __future__ import annotations

import ast
import json
import operator
import re
import sys
from pathlib import Path

_BINOPS = {ast.BitOr: operator.or_, ast.Add: operator.add, ast.LShift: operator.lshift}


def _evaluate(node: ast.expr) -> int:
    """Evaluate the small integer expressions the package uses (``1 | 0x4000``, ``-1``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return int(_BINOPS[type(node.op)](_evaluate(node.left), _evaluate(node.right)))
    raise ValueError(f"unsupported constant expression: {ast.dump(node)}")


def constants_and_helpers(init_py: Path) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    tree = ast.parse(init_py.read_text(encoding="utf-8"))
    constants: dict[str, int] = {}
    helpers: dict[str, str] = {}
    meta: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                meta[name] = node.value.value
            else:
                constants[name] = _evaluate(node.value)
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            helpers[node.name] = f"{node.name}({ast.unparse(node.args)})"
    return constants, helpers, meta


# A method-table docstring: "name(args)\n\ndescription", a string of its own in the binary.
_DOCSTRING = re.compile(rb"(?<=\x00)(([a-z_][a-z0-9_]*)\([^()\x00]*\))\n\n([^\x00]*)\x00")


def core_functions(core: Path) -> dict[str, dict[str, str]]:
    """Usage line and description of each C function, keyed by function name."""
    found: dict[str, dict[str, str]] = {}
    for match in _DOCSTRING.finditer(core.read_bytes()):
        found[match[2].decode()] = {"usage": match[1].decode(), "doc": match[3].decode()}
    return found


# last_error() descriptions the extension sets (the codes are the RES_* constants).
_ERROR_TEXT = re.compile(
    rb"(?<=\x00)((?:Terminal: [A-Za-z ,]+)|(?:IPC [a-z ]+(?:, %S)?)|(?:No IPC connection))\x00"
)


def error_texts(core: Path) -> list[str]:
    return sorted({match[1].decode() for match in _ERROR_TEXT.finditer(core.read_bytes())})


def main(package_dir: str) -> int:
    package = Path(package_dir)
    constants, helpers, meta = constants_and_helpers(package / "__init__.py")
    (core,) = package.glob("_core*.pyd")
    functions = {name: usage for name, usage in sorted(core_functions(core).items())}
    api = {
        "version": meta.get("__version__"),
        "author": meta.get("__author__"),
        "source": "MetaTrader5 wheel (win_amd64), derived by scripts/derive_mt5_api.py",
        "constants": constants,
        "functions": functions,
        "helpers": helpers,
        "error_texts": error_texts(core),
    }
    json.dump(api, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
