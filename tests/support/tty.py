"""Run a command on a pseudo-terminal, as a person at a terminal would (``getpass`` reads /dev/tty)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import termios
import time


def _take_terminal() -> None:  # runs in the child, before exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TerminalSession:
    """A child process whose stdin/stdout/stderr and controlling terminal are one pty."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self._master, slave = pty.openpty()
        self.proc = subprocess.Popen(  # noqa: S603 - the test's own command line
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=_take_terminal,  # noqa: PLW1509 - single-threaded at this point of the test
        )
        os.close(slave)
        self.transcript = b""

    def expect(self, text: str, timeout: float = 30.0) -> None:
        """Read until ``text`` has appeared in the output (fail with the transcript if it never does)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.transcript:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(remaining):
                raise AssertionError(f"never saw {text!r}; got:\n{self.transcript.decode(errors='replace')}")

    def send_line(self, text: str) -> None:
        os.write(self._master, text.encode() + b"\r")

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the exit, collecting the rest of the output; return the exit code."""
        deadline = time.monotonic() + timeout
        while self._read(max(0.0, deadline - time.monotonic())):
            pass
        code = self.proc.wait(max(0.1, deadline - time.monotonic()))
        os.close(self._master)
        return code

    @property
    def output(self) -> str:
        return self.transcript.decode(errors="replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.transcript += chunk
        return bool(chunk)
