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

The method table (``PyMethodDef``: name, function, flags, docstring; found in the PE image) also
says how each C function takes its arguments: ``noargs``, ``positional`` (METH_VARARGS: a keyword is
a TypeError) or ``positional+keywords`` (METH_VARARGS | METH_KEYWORDS). How many positional arguments
the latter accept is in their code (``PyTuple_Size`` comparisons; read with ``objdump -d``):
initialize 1 (path), login 3 (login, password, server), symbols_get 1 (group), history_*_get 0 or 2
(date_from, date_to), order_check / order_send 1 (the request) or none (the request's fields as
keywords), positions_get and orders_get none ("Unnamed arguments not allowed"). Argument errors are
not exceptions: the function returns None/False and ``last_error()`` is (-2, one of
``argument_errors``).
"""

from __future__ import annotations

import ast
import json
import operator
import re
import struct
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


# The extension's messages for bad arguments (last_error() code -2, RES_E_INVALID_PARAMS).
_ARGUMENT_ERROR = re.compile(rb"(?<=\x00)((?:Invalid [^\x00]{1,40})|(?:Unnamed arguments not allowed))\x00")


def argument_errors(core: Path) -> list[str]:
    return sorted({match[1].decode() for match in _ARGUMENT_ERROR.finditer(core.read_bytes())})


_METH = {0x1: "positional", 0x3: "positional+keywords", 0x4: "noargs"}


def calling_conventions(core: Path) -> dict[str, str]:
    """Each C function's METH_* flags, from the module's PyMethodDef table in the PE image."""
    data = core.read_bytes()
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    sections, header_size = (
        struct.unpack_from("<H", data, pe + 6)[0],
        struct.unpack_from("<H", data, pe + 20)[0],
    )
    optional = pe + 24
    image_base = struct.unpack_from("<Q", data, optional + 24)[0]
    table = []
    for i in range(sections):
        entry = optional + header_size + 40 * i
        size, rva, raw_size, raw = struct.unpack_from("<IIII", data, entry + 8)
        table.append((rva, max(size, raw_size), raw, raw_size))

    def text(address: int) -> str | None:
        rva = address - image_base
        for start, size, raw, _ in table:
            if start <= rva < start + size:
                offset = raw + rva - start
                end = data.find(b"\x00", offset)
                try:
                    return data[offset:end].decode("ascii")
                except UnicodeDecodeError:
                    return None
        return None

    found: dict[str, str] = {}
    for _, _, raw, raw_size in table:
        for offset in range(raw, raw + raw_size - 32, 8):
            name, function, flags, doc = struct.unpack_from("<QQQQ", data, offset)
            if flags not in _METH or not image_base < function < image_base + 0x1000000:
                continue
            label, usage = text(name), text(doc) if doc else None
            if label and label.isidentifier() and usage and usage.startswith(f"{label}("):
                found[label] = _METH[flags]
    return dict(sorted(found.items()))


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
        "argument_errors": argument_errors(core),
        "calling": calling_conventions(core),
    }
    json.dump(api, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
