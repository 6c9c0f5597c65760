"""Window mode: asyncio runs on the Qt event loop (qasync); one stop event ends the run.

Closing the window, Ctrl+C and SIGTERM all set the same event; services then stop and the process
exits 0. Qt's own quit-on-last-window is off so that the loop outlives the window until services stop.
The window layout is read before the window shows and written after it closes, both off the GUI
thread.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from app.audit import AuditReader, audit_dir
from app.config import APP_NAME, Settings, default_config_file
from app.logs import LogBus
from app.runtime import EventLoopEnded, Runtime, build_runtime
from app.shutdown import install_stop_signals, remove_stop_signals
from app.ui.accounts_tab import AccountsTab
from app.ui.audit_tab import AuditTab
from app.ui.carousel_progress import CarouselProgress
from app.ui.exposure_tab import ExposureTab
from app.ui.layout import layout_path, load_layout, save_layout
from app.ui.main_window import MainWindow, WindowServices
from app.ui.theme import apply_theme
from app.ui.toolbox.alerts_tab import AlertsTab

log = logging.getLogger(__name__)


def _qt_application() -> QApplication:
    existing = QApplication.instance()
    qt_app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    qt_app.setApplicationName(APP_NAME)
    qt_app.setOrganizationName(APP_NAME)
    qt_app.setQuitOnLastWindowClosed(False)
    apply_theme(qt_app)
    return qt_app


async def run_window_async(settings: Settings, log_bus: LogBus, config_file: Path | None = None) -> None:
    """Show the main window, start the services, and run until the window closes or a stop signal.

    ``config_file`` is the TOML file the settings came from (``--config``), which the settings
    dialog edits; by default the user's config file."""
    loop = asyncio.get_running_loop()
    runtime = build_runtime(settings, log_bus)
    stop = asyncio.Event()
    install_stop_signals(loop, stop.set)
    layout_file = layout_path(settings.data_dir)
    layout = await asyncio.to_thread(load_layout, layout_file)
    config_path = config_file or default_config_file()
    window = MainWindow(WindowServices.from_runtime(runtime), config_path=config_path)
    extras: list[AccountsTab | ExposureTab | CarouselProgress | AlertsTab] = []
    window.closed.connect(stop.set)
    window.restore_layout(layout)
    window.show()
    try:
        await runtime.start()
        # Views that read the database on creation come once it is open.
        extras = [*_dock_account_views(window, runtime)]
        window.add_tab("Audit", AuditTab(AuditReader(audit_dir(settings.data_dir))))
        extras.append(_dock_alerts(window, runtime))
        window.start()  # after the log forwarder started: the Journal's backlog and feed then join up
        log.info("window mode running")
        await stop.wait()
        log.info("stopping")
    finally:
        window.closed.disconnect(stop.set)
        final = window.final_layout or window.capture_layout()
        window.close()
        for view in extras:
            view.shutdown()
        await window.shutdown()
        try:
            await asyncio.to_thread(save_layout, layout_file, final)
        except (OSError, RuntimeError) as exc:  # RuntimeError: the display went, and the loop with it
            log.warning("window layout not saved: %s", exc)
        await runtime.stop()
        remove_stop_signals(loop)
    log.info("stopped")


def _dock_account_views(
    window: MainWindow, runtime: Runtime
) -> list[AccountsTab | ExposureTab | CarouselProgress]:
    """The carousel's views: the Accounts and Exposure tabs, and its progress in the status bar."""
    stale_after = timedelta(seconds=runtime.settings.carousel.stale_after_s)
    accounts = AccountsTab(
        runtime.hub,
        runtime.accounts,
        runtime.carousel,
        terminal_ids=[c.terminal_id for c in runtime.pool.clients],
        stale_after=stale_after,
    )
    accounts.failed.connect(lambda what, text: window.notifications.notify(logging.ERROR, f"{what}: {text}"))
    exposure = ExposureTab(runtime.hub, runtime.accounts, stale_after=stale_after)
    progress = CarouselProgress(runtime.hub)
    window.add_tab("Accounts", accounts)
    window.add_tab("Exposure", exposure)
    window.status.addPermanentWidget(progress)
    return [accounts, exposure, progress]


def _dock_alerts(window: MainWindow, runtime: Runtime) -> AlertsTab:
    """The Alerts tab: the core's price alerts; a firing toasts (and beeps, per ``alerts.sound``)."""

    def digits(symbol: str) -> int:
        spec = runtime.market_data.cached_spec(symbol)
        return spec.digits if spec else 5

    tab = AlertsTab(
        runtime.alerts,
        runtime.hub,
        window.tasks,
        lambda: runtime.market_data.subscribed,
        digits,
        window.notifications.show_toast,  # the core wrote the Journal line already
        sound=runtime.settings.alerts.sound,
    )
    window.add_tab("Alerts", tab)
    return tab


# What qasync raises when Qt's event loop ends under it - Qt does that itself when the display
# connection breaks (the X server or the Wayland compositor went away).
_LOOP_ENDED_BY_QT = "Event loop stopped before Future completed"


def run_window(settings: Settings, log_bus: LogBus, config_file: Path | None = None) -> int:
    """Run the window until it is closed (0), or until the display is lost (1, with one log line)."""
    qt_app = _qt_application()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qt_app)) as runner:
            runner.run(run_window_async(settings, log_bus, config_file))
    except RuntimeError as exc:
        if not isinstance(exc, EventLoopEnded) and _LOOP_ENDED_BY_QT not in str(exc):
            raise
        # Nothing can run on a loop Qt keeps ending. What matters is already safe: every audit
        # entry was fsynced when written, and the terminal workers and the simulated trade server
        # end with this process.
        log.error("the display connection was lost; the window cannot go on, exiting (%s)", exc)
        return 1
    return 0
