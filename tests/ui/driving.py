"""Driving the window as a person does, from async tests: key presses, typing and clicks.

QTest's events are sent from a plain loop callback, not from inside the test's task: the slots they
trigger may start tasks of their own, and asyncio refuses to step a task while another one runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QWidget


async def _outside_the_task(action: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            done.set_exception(exc)
        else:
            done.set_result(None)

    loop.call_soon(run)
    await done


async def press(widget: QWidget | None, sequence: str) -> None:
    """Press ``sequence`` (``"Alt+7"``, ``"End"``, ``"Ctrl+W"`` ...) on ``widget``, or on the widget
    that has the keyboard focus."""

    def go() -> None:
        target = widget or QApplication.focusWidget()
        assert target is not None, "no widget has the focus"
        QTest.keySequence(target, QKeySequence(sequence))

    await _outside_the_task(go)


async def type_text(widget: QWidget, text: str, *, replace: bool = True, enter: bool = False) -> None:
    """Type ``text`` into ``widget`` (a line edit, an editable combo box, a spin box)."""

    def go() -> None:
        if replace:
            QTest.keySequence(widget, QKeySequence(QKeySequence.StandardKey.SelectAll))
            QTest.keyClick(widget, Qt.Key.Key_Delete)
        QTest.keyClicks(widget, text)
        if enter:
            QTest.keyClick(widget, Qt.Key.Key_Return)

    await _outside_the_task(go)


async def click(
    widget: QWidget, pos: QPoint | None = None, button: Qt.MouseButton = Qt.MouseButton.LeftButton
) -> None:
    await _outside_the_task(
        lambda: QTest.mouseClick(widget, button, Qt.KeyboardModifier.NoModifier, pos or QPoint())
    )


async def drag(widget: QWidget, dx: int, steps: int = 10) -> None:
    """Drag with the left button from the middle of ``widget`` by ``dx`` pixels (right: into the past)."""

    def go() -> None:
        start = QPoint(widget.width() // 2 - dx // 2, widget.height() // 2)
        QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for step in range(1, steps + 1):
            QTest.mouseMove(widget, start + QPoint(dx * step // steps, 0))
        QTest.mouseRelease(
            widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(dx, 0)
        )

    await _outside_the_task(go)


def double_click(widget: QWidget, pos: QPoint) -> None:
    """A double click as a mouse makes it: a click, then the second press that Qt reads as double."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


async def activate(window: QWidget, within_s: float = 10.0) -> None:
    """Make ``window`` the active window (keys go to it), as clicking on it does on a desktop."""
    window.activateWindow()
    window.raise_()
    deadline = asyncio.get_running_loop().time() + within_s
    while not window.isActiveWindow():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the window did not become active")
        await asyncio.sleep(0.02)


# What the offscreen platform says when a popup (a completer's list, a menu) or activate() asks for
# what only a real window system does: not the app's fault (tests that need them ignore these).
OFFSCREEN_LIMITS = pytest.mark.qt_log_ignore(
    "This plugin does not support raise()", "This plugin does not support grabbing the keyboard"
)


async def context_menu(widget: QWidget, pos: QPoint) -> QMenu:
    """Right-click ``widget`` at ``pos`` as a mouse does and return the menu that pops up."""
    before = QApplication.activePopupWidget()

    def go() -> None:
        QTest.mouseClick(widget, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, pos)
        if QApplication.activePopupWidget() in (None, before):  # a platform that shows menus on press
            event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos))
            QApplication.sendEvent(widget, event)

    await _outside_the_task(go)
    for _ in range(100):
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu) and popup is not before:
            return popup
        await asyncio.sleep(0.02)
    raise AssertionError("no context menu popped up")


def menu_action(menu: QMenu, *path: str) -> QAction:
    """The action at ``path`` ("Trailing Stop", "20 points") in ``menu`` and its submenus."""
    actions = menu.actions()
    for depth, text in enumerate(path):
        found = next((a for a in actions if a.text().split("\t")[0] == text), None)
        if found is None:
            raise AssertionError(f"no {text!r} in the menu: {[a.text() for a in actions]}")
        if depth == len(path) - 1:
            return found
        submenu = found.menu()
        assert isinstance(submenu, QMenu), f"{text!r} is not a submenu"
        actions = submenu.actions()
    raise AssertionError("an empty path")
