"""Settings: command-line flags > environment (``MT5C_``) and ``.env`` > a TOML file > defaults.

One frozen object, built once at start by :func:`load_settings`; every service receives the part it
needs. A bad value stops the program with one line naming the setting (see :class:`SettingsError`).
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "mt5-console"
ENV_PREFIX = "MT5C_"

MIN_AUDIT_FILE_BYTES = 65_536

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def default_config_file() -> Path:
    """The TOML file read when no ``--config`` is given (it need not exist)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_data_dir() -> Path:
    """Database, audit trail and logs live here unless ``--data-dir`` says otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoggingSettings(_Section):
    level: LogLevel = "INFO"
    file_max_bytes: int = Field(5_000_000, ge=10_000)
    file_backups: int = Field(5, ge=0, le=100)
    buffer_size: int = Field(2_000, ge=10, le=1_000_000)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class TerminalSettings(_Section):
    """The terminal pool: real MT5 install paths and/or simulated terminals."""

    paths: list[str] = Field(default_factory=list)
    sim: bool = False
    sim_terminals: int = Field(1, ge=1, le=32)
    call_timeout_s: float = Field(10.0, gt=0, le=600)
    login_timeout_s: float = Field(60.0, gt=0, le=600)


class SimSettings(_Section):
    """The simulated trade server the app starts when it runs on the simulator."""

    seed: int = 20_240_601
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)  # 0: any free port
    # Start the server clock at this UTC time instead of now (e.g. a weekday, for a weekend demo)
    start: datetime | None = None
    speed: float = Field(1.0, gt=0, le=10_000)  # with `start`: how fast the clock runs
    # The clock stands still and moves only when told to (SimAdmin.advance): a market stepped through
    # bar by bar, the same ticks every run (tests, demonstrations of a strategy)
    manual_clock: bool = False


class MarketSettings(_Section):
    symbols: list[str] = Field(
        default_factory=lambda: [
            "EURUSD",
            "GBPUSD",
            "USDJPY",
            "USDCHF",
            "AUDUSD",
            "XAUUSD",
            "US500",
            "BTCUSD",
        ]
    )
    tick_poll_interval_ms: int = Field(10, ge=1, le=5_000)
    account_refresh_s: float = Field(0.5, ge=0.05, le=60)


class ServerSettings(_Section):
    """The embedded REST + Socket.IO server (always on with ``--serve``; optional in the window).

    The admin password is never a setting: ``mt5-console server set-password`` stores its argon2 hash
    in the data dir; the JWT signing secret lives in the OS keyring.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)  # 0: any free port (the log and stdout say which)
    admin_username: str = Field("admin", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    token_expiry_s: int = Field(3600, ge=60, le=30 * 86_400)
    cors_origins: list[str] = Field(default_factory=list)  # exact origins; empty: no cross-origin access
    tls_cert: Path | None = None  # both or neither: HTTPS/WSS with this certificate chain and key
    tls_key: Path | None = None
    login_attempts: int = Field(5, ge=1, le=1000)  # per client address within login_window_s
    login_window_s: float = Field(60.0, gt=0, le=86_400)
    max_body_bytes: int = Field(65_536, ge=1024, le=16 * 1024 * 1024)  # REST bodies and Socket.IO messages
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)  # /api/place below this is refused unless force
    shutdown_timeout_s: float = Field(3.0, gt=0, le=60)
    # live market data on the Socket.IO (seed 002's subscribe {symbol, timeframe}, the candles/book channels)
    max_subscriptions: int = Field(50, ge=1, le=10_000)  # symbol x timeframe subscriptions per connection
    candle_interval_s: float = Field(0.1, ge=0.01, le=10)  # a live bar at most this often per key (10/s)
    book_interval_s: float = Field(0.5, ge=0.05, le=60)  # depth read this often while someone follows it
    market_summary_s: float = Field(2.0, ge=0.2, le=300)  # market_summary every this many seconds
    # permessage-deflate on WebSockets: off, each live event's frame is built once for every client; on,
    # each client's frames are compressed for it (less traffic on a slow link, far more server CPU)
    ws_compression: bool = False

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class AccountsSettings(_Section):
    """How the managed accounts' P/L periods are cut, and how long the OS keyring may take to answer.

    Periods (today, this week, this month) are cut on the trade server's clock: UTC plus
    ``server_utc_offset_hours``, or the offset given for that server by name in ``server_utc_offsets``.
    """

    server_utc_offset_hours: float = Field(0.0, ge=-12, le=14)
    server_utc_offsets: dict[str, float] = Field(default_factory=dict)
    week_start: Weekday = "monday"
    keyring_timeout_s: float = Field(60.0, gt=0, le=600)

    @field_validator("week_start", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("server_utc_offsets")
    @classmethod
    def _offsets_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for server, hours in value.items():
            if not -12 <= hours <= 14:
                raise ValueError(f"offset for {server!r} must be between -12 and 14 hours")
        return value

    def utc_offset_hours(self, server: str) -> float:
        """The UTC offset of ``server``'s clock (server names compare without regard to case)."""
        wanted = server.casefold()
        for name, hours in self.server_utc_offsets.items():
            if name.casefold() == wanted:
                return hours
        return self.server_utc_offset_hours


PriorityRule = Literal["open_positions", "stale", "errors_last"]
PRIORITY_RULES: tuple[PriorityRule, ...] = ("open_positions", "stale", "errors_last")


class CarouselSettings(_Section):
    """The carousel: how it visits the managed accounts on the terminals of the pool.

    There is no wait between accounts: a cycle takes as long as its logins, spread over the terminals.
    ``cycle_interval_s`` only keeps cycles from starting more often than that (a broker sees one
    login per account per interval at most). Each step of a visit has its own timeout; a failing
    account is retried after ``retry_initial_s``, doubling up to ``retry_max_s``. Within a cycle,
    ``priority`` orders the accounts (earlier rules first; then the least recently seen):
    ``open_positions`` (accounts that had open positions), ``stale`` (no snapshot for
    ``stale_after_s``), ``errors_last`` (accounts whose last visit failed go after the others).
    """

    autostart: bool = True
    cycle_interval_s: float = Field(60.0, ge=0, le=86_400)
    login_timeout_s: float = Field(30.0, gt=0, le=600)
    snapshot_timeout_s: float = Field(15.0, gt=0, le=600)  # account, positions and orders together
    deals_timeout_s: float = Field(30.0, gt=0, le=600)
    store_timeout_s: float = Field(30.0, gt=0, le=600)  # reading the keyring, writing the database
    retry_initial_s: float = Field(30.0, gt=0, le=86_400)
    retry_max_s: float = Field(1_800.0, gt=0, le=7 * 86_400)
    deals_overlap_s: float = Field(86_400.0, ge=0, le=31 * 86_400)  # fetch deals from this long before
    history_days: float = Field(0.0, ge=0, le=36_500)  # first visit: deals of this many days (0 = all)
    stale_after_s: float = Field(900.0, gt=0, le=30 * 86_400)
    priority: list[PriorityRule] = Field(default_factory=lambda: list(PRIORITY_RULES))
    # With one terminal in the pool the carousel borrows the live one (orders are refused meanwhile)
    share_live_terminal: bool = True
    shared_pause_s: float = Field(3.0, ge=0, le=3_600)  # ... and leaves it on the live account this long
    stop_grace_s: float = Field(5.0, gt=0, le=600)  # stop waits this long for visits under way

    @field_validator("priority", mode="before")
    @classmethod
    def _lower_rules(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.lower() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("priority")
    @classmethod
    def _unique_rules(cls, value: list[PriorityRule]) -> list[PriorityRule]:
        if len(set(value)) != len(value):
            raise ValueError("each priority rule may appear once")
        return value

    @model_validator(mode="after")
    def _retry_bounds(self) -> CarouselSettings:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError("retry_max_s must be at least retry_initial_s")
        return self


class StorageSettings(_Section):
    """Where the database is, and bounds on the snapshot history.

    ``url``: unset for the SQLite file in the data dir (one machine); ``postgresql://user@host:5432/db``
    for a PostgreSQL server that several machines share (the password, if any, is best kept in
    ``~/.pgpass`` or ``PGPASSWORD`` rather than in the URL; it never reaches a log either way).

    Every snapshot is kept for ``snapshot_keep_all_days``; older ones are thinned to one per account per
    ``snapshot_thin_minutes``; snapshots older than ``snapshot_retention_days`` are deleted (0 keeps the
    thinned history for ever). Deals are never pruned: P/L is computed from them."""

    url: str | None = Field(None, repr=False)
    snapshot_keep_all_days: float = Field(7.0, ge=0, le=3650)
    snapshot_thin_minutes: int = Field(60, ge=1, le=10_080)
    snapshot_retention_days: float = Field(365.0, ge=0, le=36_500)
    maintenance_interval_s: float = Field(3600.0, ge=1, le=86_400)

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in ("postgresql", "postgres", "postgresql+psycopg", "sqlite"):
            raise ValueError(
                "must be a database URL: postgresql://user@host:5432/dbname (or unset for the SQLite "
                "file in the data dir)"
            )
        return value.strip()

    @model_validator(mode="after")
    def _retention_covers_keep_all(self) -> StorageSettings:
        if 0 < self.snapshot_retention_days < self.snapshot_keep_all_days:
            raise ValueError("snapshot_retention_days must be 0 or at least snapshot_keep_all_days")
        return self


class DistributedSettings(_Section):
    """The carousel on several machines (issue 22; app/distributed and docs/architecture.md).

    Each machine runs ``mt5-console node``: its terminals visit the accounts whose password its own
    OS keyring holds, taking the visits as jobs from the PostgreSQL store (``storage.url``).
    ``enabled`` makes a console (window or ``--serve``) show and drive that carousel instead of
    running its own. A node beats every ``heartbeat_interval_s``; one not heard from for
    ``heartbeat_timeout_s`` is dead, and the visit it was making runs again elsewhere. The timeout must
    exceed the longest terminal call (``terminals.login_timeout_s``, 60 s by default): a node cut off
    from the store may still be inside that call, and the account must not be visited twice at once.
    """

    enabled: bool = False
    node_name: str = Field("", max_length=64)  # default: the machine's host name
    sim_server: str | None = None  # sim nodes: HOST:PORT of the trade server all nodes share
    heartbeat_interval_s: float = Field(5.0, gt=0, le=600)
    heartbeat_timeout_s: float = Field(90.0, gt=0, le=3600)
    announce_interval_s: float = Field(60.0, gt=0, le=3600)  # the keyring is read again this often
    planner_interval_s: float = Field(1.0, gt=0, le=60)  # how often the planner looks at the cycle
    cycles_kept: int = Field(1_000, ge=10, le=1_000_000)  # cycles (and their visits) kept in the store
    db_connections: int = Field(0, ge=0, le=64)  # a node's store connections (0: 3)

    @field_validator("node_name")
    @classmethod
    def _node_name(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError("a node name is letters, digits, '.', '_' and '-' (e.g. vps-1)")
        return value

    @model_validator(mode="after")
    def _heartbeat_bounds(self) -> DistributedSettings:
        if self.heartbeat_timeout_s <= 2 * self.heartbeat_interval_s:
            raise ValueError("heartbeat_timeout_s must be more than twice heartbeat_interval_s")
        return self


class AuditSettings(_Section):
    """The audit trail's files: they rotate at a size and/or at UTC midnight (the chain runs on)."""

    rotate_max_bytes: int = Field(64_000_000, ge=0)  # 0: no size limit
    rotate_daily: bool = True
    lock_timeout_s: float = Field(10.0, gt=0, le=600)  # waiting for another process's append
    max_pending: int = Field(10_000, ge=1)  # queued appends beyond this are refused, not buffered

    @field_validator("rotate_max_bytes")
    @classmethod
    def _sane_size(cls, value: int) -> int:
        if 0 < value < MIN_AUDIT_FILE_BYTES:
            raise ValueError(f"must be 0 (no limit) or at least {MIN_AUDIT_FILE_BYTES}")
        return value


class RiskLimits(_Section):
    """Limits on new orders for one account (0 = no limit). Closing and reducing are never limited."""

    max_volume_per_order: float = Field(0.0, ge=0)
    max_open_positions: int = Field(0, ge=0)
    max_orders_per_second: float = Field(5.0, ge=0)
    max_daily_loss: float = Field(0.0, ge=0)  # in the account currency: realised today + floating
    close_all_on_kill: bool = False  # when the daily-loss kill switch trips, close every position


class TradingSettings(_Section):
    """Order safety: which real accounts may trade, risk limits, and how ambiguous sends are settled."""

    # Real-money accounts (``login@server``) on which the app may trade; every other real account is
    # refused. Demo and contest accounts always may.
    real_enabled: list[str] = Field(default_factory=list)
    limits: RiskLimits = Field(default_factory=RiskLimits)
    account_limits: dict[str, RiskLimits] = Field(default_factory=dict)  # per ``login@server``
    deviation_points: int = Field(20, ge=0, le=100_000)
    reconcile_window_s: float = Field(10.0, gt=0, le=600)  # how long to look for an ambiguous order
    risk_check_interval_s: float = Field(2.0, gt=0, le=3600)  # the daily-loss monitor
    client_order_retention_days: float = Field(30.0, gt=0, le=3650)  # idempotency memory
    # One-click trading (a chart's Sell | volume | Buy panel sends at once, no ticket): refused until
    # the trader acknowledged its risk once (the window asks, then writes this); ``one_click`` shows
    # the panel on every chart, else it is switched on chart by chart.
    one_click_acknowledged: bool = False
    one_click: bool = False
    # Dragging an SL, TP or pending-price line on a chart asks before sending the modify.
    confirm_drag: bool = True
    # Client-side trailing stops (app.core.trailing): a refused SL move is tried again after
    # ``trailing_retry_s``, the wait doubling with each refusal in a row up to ``trailing_retry_max_s``.
    trailing_retry_s: float = Field(2.0, gt=0, le=3600)
    trailing_retry_max_s: float = Field(60.0, gt=0, le=86_400)

    def limits_for(self, account_key: str) -> RiskLimits:
        return self.account_limits.get(account_key, self.limits)

    def real_trading_enabled(self, account_key: str) -> bool:
        wanted = account_key.casefold()
        return any(key.casefold() == wanted for key in self.real_enabled)


SignalModeSetting = Literal["auto", "confirm", "notify"]


class SignalSettings(_Section):
    """Signals (alerts, strategies, API callers) in front of the trading service (docs in README).

    A source not named in ``sources`` gets ``default_mode``; auto-trading is off until a source is
    switched to ``auto`` here (a webhook carries its own mode). The validators' limits apply to all.
    """

    enabled: bool = True
    default_mode: Literal["confirm", "notify"] = "confirm"
    sources: dict[str, SignalModeSetting] = Field(default_factory=dict)  # e.g. {"my-bot" = "auto"}
    confirm_timeout_s: float = Field(300.0, gt=0, le=7 * 86_400)  # a signal waiting for a person expires
    default_volume: float | None = Field(None, gt=0, le=1_000_000)  # when a signal names no volume
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    max_spread_points: int = Field(0, ge=0, le=1_000_000)  # 0: no limit
    trading_hours: list[str] = Field(default_factory=list)  # "HH:MM-HH:MM" on the server clock; empty: any
    max_per_minute: int = Field(30, ge=1, le=100_000)  # per source
    validators: list[str] = Field(default_factory=list)  # user validators, "module:attribute"
    validator_timeout_s: float = Field(2.0, gt=0, le=60)  # a slower user validator rejects
    strategy_dir: Path | None = None  # *.py files defining strategies (besides the entry points)
    webhook_failures: int = Field(10, ge=1, le=10_000)  # wrong secrets per address within a minute

    @field_validator("trading_hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for window in value:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d", window):
                raise ValueError(f"trading window {window!r}: write it as HH:MM-HH:MM (e.g. 07:00-21:00)")
        return value


class AlertsSettings(_Section):
    """Price alerts: how many may be set, and how often a repeating one may fire."""

    max_alerts: int = Field(500, ge=1, le=100_000)
    repeat_interval_s: float = Field(60.0, ge=0, le=86_400)  # a repeating alert fires at most this often
    sound: bool = True  # the window beeps when one fires


class Settings(BaseSettings):
    """Everything configurable. Sections map to TOML tables and ``MT5C_SECTION__KEY`` variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    terminals: TerminalSettings = Field(default_factory=TerminalSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    market: MarketSettings = Field(default_factory=MarketSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    accounts: AccountsSettings = Field(default_factory=AccountsSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    carousel: CarouselSettings = Field(default_factory=CarouselSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    distributed: DistributedSettings = Field(default_factory=DistributedSettings)
    signals: SignalSettings = Field(default_factory=SignalSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)

    @model_validator(mode="after")
    def _distributed_needs_postgresql(self) -> Settings:
        if not self.distributed.enabled:
            return self
        url = self.storage.url or ""
        if not url.lower().startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError(
                "distributed.enabled needs storage.url on PostgreSQL (postgresql://user@host:5432/dbname)"
            )
        longest = max(
            self.terminals.login_timeout_s, self.terminals.call_timeout_s, self.carousel.login_timeout_s
        )
        timeout = self.distributed.heartbeat_timeout_s
        if timeout <= longest:
            raise ValueError(
                f"distributed.heartbeat_timeout_s ({timeout:g} s) must be longer than the longest "
                f"terminal call ({longest:g} s: terminals.login_timeout_s)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, TomlConfigSettingsSource(settings_cls))


class SettingsError(Exception):
    """A setting that cannot be used; ``str()`` is the one line shown to the user."""


def _format_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    if not first["loc"]:  # a rule across sections: its message names the settings (never the input)
        return f"invalid settings: {first['msg'].removeprefix('Value error, ')}"
    name = ".".join(str(part) for part in first["loc"]) or "settings"
    if first["type"] == "extra_forbidden":
        return f"unknown setting {name!r}"
    value = first.get("input")
    if isinstance(value, str) and "://" in value:  # a URL's password never reaches the screen
        value = _URL_PASSWORD.sub(r"\1***@", value)
    return f"invalid setting {name}={value!r}: {first['msg']}"


_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


def load_settings(
    overrides: dict[str, Any] | None = None,
    config_file: Path | None = None,
    env_file: Path | None = Path(".env"),
) -> Settings:
    """Build the settings from every source; raise :class:`SettingsError` with one line on bad input.

    ``overrides`` are the command-line flags, nested like the settings (``{"server": {"port": 1}}``).
    """
    toml_path = config_file if config_file is not None else default_config_file()
    if config_file is not None and not toml_path.is_file():
        raise SettingsError(f"config file not found: {toml_path}")
    if toml_path.is_file():
        try:
            tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"config file {toml_path} is not valid TOML: {exc}") from None

    class _FromFiles(Settings):
        model_config = SettingsConfigDict(toml_file=toml_path, env_file=env_file)

    try:
        loaded = _FromFiles(**(overrides or {}))
        return Settings.model_validate(loaded.model_dump())
    except ValidationError as exc:
        raise SettingsError(_format_validation_error(exc)) from None
