"""The carousel's progress for the status bar: a bar for the current cycle and one line of state.

Given the hub; shows the latest :class:`~app.models.CarouselStatus` (topic ``carousel``), counting
down to the next cycle between cycles. Hovering shows the terminals, what each is visiting, the last
cycle's time and the carousel's note, if any.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from app.core.hub import Event, EventHub, Topic
from app.core.times import utc_now
from app.models import CarouselStatus
from app.ui.hub_feed import HubFeed


def describe(status: CarouselStatus, now: datetime) -> str:
    """The one line the status bar shows."""
    if not status.running:
        return "Carousel: stopped"
    if status.paused:
        return f"Carousel: paused (cycle {status.cycle})"
    if status.next_due is not None:
        seconds = max(0, round((status.next_due - now).total_seconds()))
        took = f" in {status.last_cycle_s:.0f} s" if status.last_cycle_s is not None else ""
        return f"Carousel: cycle {status.cycle} done{took}, next in {seconds} s"
    text = f"Carousel: cycle {status.cycle}"
    if status.errors_in_cycle:
        text += f", {status.errors_in_cycle} failed"
    return text


class CarouselProgress(QWidget):
    def __init__(
        self, hub: EventHub, now: Callable[[], datetime] = utc_now, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("CarouselProgress")
        self._now = now
        self.status = CarouselStatus()
        self.label = QLabel("Carousel: stopped")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(140)
        self.bar.setMaximumHeight(14)
        self.bar.setFormat("%v/%m")
        self.bar.setVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.feed = HubFeed(hub, Topic.CAROUSEL, rate_hz=5.0, parent=self)
        self.feed.arrived.connect(self._arrived)
        self._clock = QTimer(self)  # the countdown to the next cycle
        self._clock.setInterval(1_000)
        self._clock.timeout.connect(self._refresh)
        self.feed.start()
        self._clock.start()

    def _arrived(self, events: list[Event]) -> None:
        self.show_status(events[-1].value)

    def show_status(self, status: CarouselStatus) -> None:
        self.status = status
        self._refresh()

    def _refresh(self) -> None:
        status = self.status
        self.label.setText(describe(status, self._now()) + (" ⚠" if status.note else ""))
        in_cycle = status.running and status.next_due is None and status.accounts_in_cycle > 0
        self.bar.setVisible(in_cycle)
        if in_cycle:
            self.bar.setMaximum(status.accounts_in_cycle)
            self.bar.setValue(min(status.visited_in_cycle, status.accounts_in_cycle))
        self.label.setProperty("role", "error" if status.errors_in_cycle or status.note else "")
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        lines = [f"terminals: {', '.join(status.terminals) or 'none'}"]
        lines += [f"{terminal}: visiting account {account}" for terminal, account in status.current]
        if status.last_cycle_s is not None:
            lines.append(f"last cycle: {status.last_cycle_s:.1f} s")
        if status.note:
            lines.append(status.note)
        self.setToolTip("\n".join(lines))

    def shutdown(self) -> None:
        self._clock.stop()
        self.feed.stop()
