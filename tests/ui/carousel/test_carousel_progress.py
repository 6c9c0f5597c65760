"""The status bar's carousel progress: stopped, a cycle under way with its bar, failures, paused, the
countdown to the next cycle, and the note when it cannot go on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.core.hub import EventHub, Topic
from app.models import CarouselStatus
from app.ui.carousel_progress import CarouselProgress
from tests.support.factories import utc
from tests.support.sim_fixtures import wait_until

pytestmark = pytest.mark.gui

NOW = utc(2026, 12, 1, 12)


async def test_the_progress_follows_the_carousel(qtbot: QtBot) -> None:
    hub = EventHub()
    widget = CarouselProgress(hub, now=lambda: NOW)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.label.text() == "Carousel: stopped" and not widget.bar.isVisible()

    running = CarouselStatus(
        running=True,
        cycle=3,
        cycle_started_at=NOW,
        visited_in_cycle=40,
        accounts_in_cycle=100,
        errors_in_cycle=2,
        current=(("sim-2", 17), ("sim-3", 18)),
        last_cycle_s=25.4,
        terminals=("sim-2", "sim-3"),
    )
    hub.publish(Topic.CAROUSEL, running)
    await wait_until(lambda: widget.bar.isVisible())
    assert (widget.bar.value(), widget.bar.maximum()) == (40, 100)
    assert widget.label.text() == "Carousel: cycle 3, 2 failed" and widget.label.property("role") == "error"
    assert widget.toolTip().splitlines() == [
        "terminals: sim-2, sim-3",
        "sim-2: visiting account 17",
        "sim-3: visiting account 18",
        "last cycle: 25.4 s",
    ]

    hub.publish(
        Topic.CAROUSEL,
        CarouselStatus(running=True, cycle=3, last_cycle_s=24.6, next_due=NOW + timedelta(seconds=35)),
    )
    await wait_until(lambda: not widget.bar.isVisible())
    assert widget.label.text() == "Carousel: cycle 3 done in 25 s, next in 35 s"

    hub.publish(Topic.CAROUSEL, CarouselStatus(running=True, paused=True, cycle=4))
    await wait_until(lambda: "paused" in widget.label.text())
    assert widget.label.text() == "Carousel: paused (cycle 4)"

    note = "cannot share the live terminal: no password known for the live account 1@X"
    hub.publish(Topic.CAROUSEL, CarouselStatus(running=True, cycle=5, note=note))
    await wait_until(lambda: widget.label.text().endswith("⚠"))
    assert note in widget.toolTip()
    widget.shutdown()
