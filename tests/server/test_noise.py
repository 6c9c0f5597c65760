"""The noise log: one line per client address per window, with how many were left out; bounded."""

from __future__ import annotations

import logging

import pytest

from app.server.noise import NoiseLog


def test_one_line_per_address_per_window_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    noise = NoiseLog(60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="app.server.noise"):
        for _ in range(1000):
            noise.note("a bad frame", "10.0.0.1")
        noise.note("a bad frame", "10.0.0.2")
        now[0] = 61.0
        noise.note("a bad frame", "10.0.0.1")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("from 10.0.0.1: a bad frame") and "more" not in lines[0]
    assert "from 10.0.0.2" in lines[1]
    assert "(999 more since the last line)" in lines[2]


def test_the_addresses_it_remembers_are_bounded() -> None:
    noise = NoiseLog(60.0, max_addresses=100, clock=lambda: 0.0)
    for i in range(10_000):
        noise.note("x", f"10.0.{i // 256}.{i % 256}")
    assert len(noise._seen) == 100
