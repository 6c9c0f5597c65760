"""A carousel cycle with nothing to do is routine (DEBUG: not in the Journal's default view); one
that visited accounts says so, in words a trader reads."""

from __future__ import annotations

import logging

import pytest

from tests.core.carousel.conftest import Harness

pytestmark = pytest.mark.slow


async def test_an_empty_cycle_is_debug_and_a_busy_one_is_info(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    live, other = await harness.terminals("t1", "t2")
    carousel = harness.carousel(harness.pool([live, other]))
    caplog.set_level(logging.DEBUG, logger="app.core.carousel")
    await carousel.run_cycle()
    (empty,) = [r for r in caplog.records if r.getMessage().startswith("carousel cycle")]
    assert empty.levelno == logging.DEBUG

    caplog.clear()
    await harness.account()
    await carousel.run_cycle()
    (busy,) = [r for r in caplog.records if r.getMessage().startswith("carousel cycle")]
    assert busy.levelno == logging.INFO
    assert busy.getMessage().startswith("carousel cycle 2 done: 1 account(s) visited, 0 failed, in ")
