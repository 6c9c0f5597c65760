"""Where a sim terminal finds its trade server, and what the terminal is called.

``initialize(path="sim://HOST:PORT/NAME")`` names both; otherwise ``MT5_SIM_SERVER=HOST:PORT``
(and ``MT5_SIM_TERMINAL=NAME``), otherwise a server on the well-known loopback port if one runs,
otherwise the terminal starts a private one in its own process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PureWindowsPath

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 18_555
ENV_SERVER = "MT5_SIM_SERVER"
ENV_TERMINAL = "MT5_SIM_TERMINAL"
DEFAULT_TERMINAL = "default"
SCHEME = "sim://"


@dataclass(frozen=True, slots=True)
class Target:
    host: str | None
    port: int | None
    terminal: str


def parse(path: str | None) -> Target:
    """Read a ``sim://HOST:PORT/NAME`` path (any part optional); a non-sim path only names the terminal."""
    terminal = os.environ.get(ENV_TERMINAL) or DEFAULT_TERMINAL
    host: str | None = None
    port: int | None = None
    if path and path.startswith(SCHEME):
        rest = path[len(SCHEME) :]
        location, _, name = rest.partition("/")
        if name:
            terminal = name
        if location:
            host, _, port_text = location.rpartition(":")
            if not host:
                host, port_text = port_text, ""
            port = int(port_text) if port_text else DEFAULT_PORT
    elif path:
        folder = PureWindowsPath(path).parent.name  # a terminal64.exe install path names the terminal
        terminal = folder or path
    if host is None:
        env = os.environ.get(ENV_SERVER)
        if env:
            env_host, _, env_port = env.rpartition(":")
            host, port = env_host or DEFAULT_HOST, int(env_port)
    return Target(host, port, terminal)


def split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)
