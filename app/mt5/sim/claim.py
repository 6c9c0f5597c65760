"""One trade server per state directory, and how another process finds the one that runs.

A trade server started with ``--state-dir DIR`` holds an OS lock on ``DIR/server.lock`` for as long
as it runs (the OS drops it when the process dies, however it dies) and writes ``DIR/server.json``
— its address, pid and who started it — once it listens. A second server on the same directory
would keep a second copy of the broker's books; it refuses to start instead. Whoever needs the
server of a data dir (the ``accounts sync`` command) reads ``server.json`` and trusts it only while
the lock is held.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from app.oslock import OsLock, is_locked

LOCK_FILE = "server.lock"
INFO_FILE = "server.json"


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A running trade server: ``address`` ("host:port"), its pid, and who started it (app, cli)."""

    address: str
    pid: int
    owner: str

    def describe(self) -> str:
        return f"pid {self.pid} at {self.address}, started by {self.owner}"


class StateDirClaim:
    """The lock a trade server holds on its state directory while it runs."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._lock = OsLock(state_dir / LOCK_FILE)

    def acquire(self) -> bool:
        """Take the directory; False when another process holds it."""
        return self._lock.try_acquire()

    def publish(self, address: str, owner: str) -> None:
        """Say where the server listens (written whole, then renamed: a reader never sees half)."""
        info = {"address": address, "pid": os.getpid(), "owner": owner}
        partial = self.state_dir / f".{INFO_FILE}.{os.getpid()}"
        partial.write_text(json.dumps(info), encoding="utf-8")
        partial.replace(self.state_dir / INFO_FILE)

    def release(self) -> None:
        if not self._lock.held:
            return
        with contextlib.suppress(OSError):
            (self.state_dir / INFO_FILE).unlink()
        self._lock.release()


def _read_info(state_dir: Path) -> ServerInfo | None:
    try:
        data = json.loads((state_dir / INFO_FILE).read_text(encoding="utf-8"))
        return ServerInfo(str(data["address"]), int(data["pid"]), str(data.get("owner", "?")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def claimed(state_dir: Path) -> bool:
    """A trade server holds ``state_dir`` right now."""
    return is_locked(state_dir / LOCK_FILE)


def running_server(state_dir: Path) -> ServerInfo | None:
    """The trade server that runs on ``state_dir``, if one does (it holds the lock and said where it
    listens); None otherwise (a ``server.json`` left by a killed server is ignored)."""
    if not claimed(state_dir):
        return None
    return _read_info(state_dir)
