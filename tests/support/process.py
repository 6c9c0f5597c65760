"""Run the app (or any command) as a real subprocess and follow its output line by line."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType


class RunningProcess:
    """A subprocess whose merged stdout/stderr is collected by a reader thread.

    ``wait_for`` blocks until a line containing the text appears (or the process exits / times out),
    so tests synchronise on what the program says rather than on sleeps.
    """

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.command = command
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 30.0, *, new_only: bool = False) -> str:
        """Return the first line containing ``text`` (among those not seen yet with ``new_only``); fail
        with the output so far if it never comes."""
        if not new_only:
            for line in self.lines:
                if text in line:
                    return line
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"process exited before printing {text!r}:\n{self.output}")
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} within {timeout}s:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and return the exit code once the process has ended."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout, f"of signal {sig}")

    def wait_exit(self, timeout: float = 30.0, after: str = "") -> int:
        """The exit code once the process ends by itself; fails (killing it) if it does not."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"no exit within {timeout}s {after}:\n{self.output}") from None
        self._reader.join(5)
        self._drain()
        return code

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.lines.append(line)

    @property
    def output(self) -> str:
        self._drain()
        return "\n".join(self.lines)

    def __enter__(self) -> RunningProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
