"""Running the trade server as its own process, as the app does in sim mode.

:func:`start_server_process` starts ``python -m app.mt5.sim`` (or, in the packaged app,
``mt5-console sim``), waits for the line that announces its address, and returns a handle that
stops it with SIGTERM (then SIGKILL after a grace period). The handle reaps the process whenever it
ends, however it ends, and tells whoever asked (:meth:`ServerProcess.on_exit`): the app restarts a
trade server that died (see :mod:`app.mt5.sim_service`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

READY_PREFIX = "sim trade server listening on "
IN_USE_PREFIX = "sim trade server: state dir in use: "
CANNOT_LISTEN_PREFIX = "sim trade server: cannot listen on "
EXIT_STATE_DIR_IN_USE = 3
OUTPUT_TAIL_LINES = 20  # the last lines of a server's output, for the log when it dies

ExitCallback = Callable[["ServerProcess", int], None]


class StateDirInUse(RuntimeError):
    """Another trade server runs on that state directory (one directory, one server)."""


class PortInUse(RuntimeError):
    """The server could not listen on the port it was given (another program holds it)."""


class ServerProcess:
    """A trade server in a child process: ``address`` ("host:port"), ``url``, ``pid``, ``stop()``.

    A thread reads its output until the pipe closes, then reaps the process (no zombie is left,
    whether it was stopped, crashed or was killed) and calls the :meth:`on_exit` callbacks with the
    exit code (negative: the signal that ended it)."""

    def __init__(self, proc: subprocess.Popen[str], address: str, output: list[str] | None = None) -> None:
        self.proc = proc
        self.address = address
        self.started_at = time.monotonic()
        self.tail: deque[str] = deque(output or (), maxlen=OUTPUT_TAIL_LINES)
        self._exit_lock = threading.Lock()
        self._exit_callbacks: list[ExitCallback] = []
        self._exit_code: int | None = None
        self._drain = threading.Thread(target=self._read_rest, name=f"sim-server-{proc.pid}", daemon=True)
        self._drain.start()

    def _read_rest(self) -> None:
        for line in self.proc.stdout or ():  # keep the pipe flowing; the server logs to it
            self.tail.append(line.rstrip())
        code = self.proc.wait()  # the pipe closes when the process ends: reap it at once
        for stream in (self.proc.stdout, self.proc.stdin):
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # its stdin: the other end is gone
                    pass
        with self._exit_lock:
            self._exit_code = code
            callbacks = list(self._exit_callbacks)
        for callback in callbacks:
            callback(self, code)

    def on_exit(self, callback: ExitCallback) -> None:
        """Call ``callback(self, exit_code)`` (from a thread of this handle) once the process has ended
        and been reaped; at once if it already has."""
        with self._exit_lock:
            code = self._exit_code
            if code is None:
                self._exit_callbacks.append(callback)
                return
        callback(self, code)

    @property
    def exit_code(self) -> int | None:
        """None while the process runs; its exit code once it has ended and been reaped."""
        return self._exit_code

    @property
    def url(self) -> str:
        return f"sim://{self.address}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, timeout: float = 10.0) -> int:
        """Close its stdin (it stops by itself: the graceful way on every platform), then SIGTERM,
        then kill, each after a wait; returns the exit code."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        for escalate in (None, self.proc.terminate, self.proc.kill):
            if self.proc.poll() is not None:
                break
            if escalate is not None:
                escalate()
            try:
                self.proc.wait(timeout / 2)
            except subprocess.TimeoutExpired:
                continue
        self._drain.join(2)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return int(self.proc.returncode)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def server_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):  # the PyInstaller app: its own sub-command
        # On Windows the windowed program has no console streams; its console twin prints the address.
        console_twin = Path(sys.executable).with_name("mt5-console-cli.exe")
        program = console_twin if sys.platform == "win32" and console_twin.is_file() else Path(sys.executable)
        return [str(program), "sim", *args]
    return [sys.executable, "-m", "app.mt5.sim", *args]


def start_server_process(
    state_dir: Path | None,
    seed: int = 20_240_601,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    extra_args: tuple[str, ...] = (),
    startup_timeout: float = 60.0,
    owner: str = "app",
) -> ServerProcess:
    """Start a trade server process and return once it listens (``port=0``: a free port).

    With a ``state_dir`` the server claims it (:mod:`app.mt5.sim.claim`); :class:`StateDirInUse` when
    another trade server holds it. ``owner`` is recorded for whoever looks for the server later.
    """
    args = [
        "--host",
        host,
        "--port",
        str(port),
        "--seed",
        str(seed),
        "--owner",
        owner,
        "--exit-with-parent",
        *extra_args,
    ]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[3])  # so the child imports this very app package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        server_command(*args),
        stdin=subprocess.PIPE,  # held open while we live: if this process dies, the server stops too
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        # no console window flashing up beside the desktop app on Windows
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )
    found: list[str] = []
    seen: list[str] = []  # the output up to the ready line (its log lines, or why it did not start)

    def wait_ready() -> None:
        for line in proc.stdout or ():
            seen.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                found.append(line[len(READY_PREFIX) :].strip())
                return

    reader = threading.Thread(target=wait_ready, daemon=True)
    reader.start()
    reader.join(startup_timeout)
    if not found:
        proc.kill()
        proc.wait()
        reader.join(5)
        for stream in (proc.stdout, proc.stdin):
            if stream is not None:
                stream.close()
        for line in seen:
            if line.startswith(IN_USE_PREFIX):
                raise StateDirInUse(line[len(IN_USE_PREFIX) :])
            if line.startswith(CANNOT_LISTEN_PREFIX):
                raise PortInUse(line[len(CANNOT_LISTEN_PREFIX) :])
        raise RuntimeError("sim trade server did not start:\n" + "\n".join(seen[-20:]))
    return ServerProcess(proc, found[0], seen)
