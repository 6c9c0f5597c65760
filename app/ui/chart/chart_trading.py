"""What a chart's trading gestures do: the one-click panel's clicks and a dragged line's drop.

Widgets only collect the intent (a side and a volume, a line and a price); this object hands it to
the Qt-free services — :class:`~app.core.one_click.OneClickTrading` and the trading service's
modify — which validate, apply the risk limits, audit and send. Refusals come back as the reason,
shown to the trader; a refused or cancelled drop puts the line back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.one_click import RISK_TEXT, OneClickTrading
from app.core.trading import TradingService
from app.models import OrderResult, Side, SymbolSpec
from app.ui.chart.levels import LevelChange
from app.ui.service_calls import describe_error
from app.ui.tasks import TaskRunner

Notify = Callable[[str], None]


class ChartTrading(QObject):
    def __init__(
        self,
        trading: TradingService,
        one_click: OneClickTrading,
        tasks: TaskRunner,
        spec: Callable[[str], SymbolSpec | None],
        *,
        confirm_drag: bool = True,
        one_click_default: bool = False,
        notify: Notify | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.trading = trading
        self.one_click_service = one_click
        self.tasks = tasks
        self.spec = spec
        self.confirm_drag = confirm_drag
        self.one_click_default = one_click_default and one_click.acknowledged
        self._notify = notify
        self.dialog: QMessageBox | None = None  # the open question (tests answer it)

    # ------------------------------------------------------------------ one-click
    @property
    def acknowledged(self) -> bool:
        return self.one_click_service.acknowledged

    def ask_acknowledgement(self, parent: QWidget, answered: Callable[[bool], None]) -> None:
        """Once: the risk of one-click trading, accepted or not (``answered`` hears which)."""
        if self.acknowledged:
            answered(True)
            return
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("One-click trading")
        box.setText(f"{RISK_TEXT}\n\nSwitch one-click trading on?")
        accept = box.addButton("I understand the risk", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.dialog = box

        def finished(_result: int) -> None:
            self.dialog = None
            if box.clickedButton() is not accept:
                answered(False)
                return

            def failed(_error: BaseException) -> bool:
                answered(False)
                return False  # the default handler says why

            self.tasks.run(
                self.one_click_service.acknowledge(),
                what="one-click trading",
                owner=parent,
                on_result=lambda _none: answered(True),
                on_error=failed,
            )

        box.finished.connect(finished)
        box.open()

    def one_click(
        self,
        symbol: str,
        side: Side,
        volume: float,
        owner: QObject,
        done: Callable[[OrderResult | None, str], None] | None = None,
    ) -> None:
        """One click: one market order (``done`` hears the result, or None and the refusal)."""

        def failed(error: BaseException) -> bool:
            if done is not None:
                done(None, describe_error(error))
            return False  # the default handler says it too (a toast and the Journal)

        self.tasks.run(
            self.one_click_service.trade(symbol, side, volume),
            what=f"one-click {side.value} {symbol} {volume:g}",
            owner=owner,
            on_result=lambda result: done(result, "") if done is not None else None,
            on_error=failed,
        )

    # ------------------------------------------------------------------ dragged lines
    def drop(
        self,
        change: LevelChange,
        digits: int,
        parent: QWidget,
        snap_back: Callable[[str], None],
    ) -> None:
        """A line dropped at a new level: ask first (per the setting), then the modify; a cancel or
        a refusal calls ``snap_back`` with the reason ("" for a cancel)."""
        if not self.confirm_drag:
            self._modify(change, parent, snap_back)
            return
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Modify")
        pl = (
            f"\nP/L at that level: {change.profit:+,.2f}".replace(",", " ")
            if change.profit is not None
            else ""
        )
        box.setText(f"Move the {change.describe(digits)}?{pl}")
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        self.dialog = box

        def finished(result: int) -> None:
            self.dialog = None
            if result == QMessageBox.StandardButton.Yes:
                self._modify(change, parent, snap_back)
            else:
                snap_back("")

        box.finished.connect(finished)
        box.open()

    def _modify(self, change: LevelChange, owner: QObject, snap_back: Callable[[str], None]) -> None:
        if change.is_order:
            call = self.trading.modify_order(
                change.ticket, change.order_price, change.sl, change.tp, change.stoplimit
            )
        else:
            call = self.trading.modify_position(change.ticket, change.sl, change.tp)

        def failed(error: BaseException) -> bool:
            reason = describe_error(error)
            snap_back(reason)
            if self._notify is not None:
                self._notify(f"Modify refused: {reason}")
                return True
            return False

        self.tasks.run(call, what="modify", owner=owner, on_error=failed)
