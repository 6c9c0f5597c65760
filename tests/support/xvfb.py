"""A private X server (Xvfb) for tests that run the window on a real display."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Xvfb:
    process: subprocess.Popen[bytes]
    display: str  # ":N", for DISPLAY

    def kill(self) -> None:
        self.process.kill()


@contextmanager
def xvfb(width: int = 1280, height: int = 800) -> Iterator[Xvfb]:
    """An X server on a free display number (it tells which), stopped afterwards."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(  # noqa: S603 - a fixed command
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as display_fd:
            number = display_fd.readline().strip()
        assert number, "Xvfb did not start"
        yield Xvfb(process, f":{number}")
    finally:
        process.kill()
        process.wait()
