"""Settings precedence (flags > env > .env > TOML > defaults) and one-line errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import SettingsError, default_data_dir, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_put_data_under_the_user_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.data_dir == default_data_dir()
    assert str(settings.data_dir).startswith(str(tmp_path / "xdg-data"))
    assert settings.server.host == "127.0.0.1"
    assert settings.logging.level == "INFO"


def test_each_source_overrides_the_one_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = write(
        tmp_path / "c.toml",
        '[server]\nport = 1001\nhost = "10.0.0.1"\n[logging]\nlevel = "ERROR"\nfile_backups = 3\n',
    )
    dotenv = write(tmp_path / ".env", "MT5C_SERVER__PORT=1002\nMT5C_LOGGING__LEVEL=warning\n")
    from_files = load_settings(config_file=toml, env_file=dotenv)
    assert (from_files.server.port, from_files.server.host) == (1002, "10.0.0.1")
    assert (from_files.logging.level, from_files.logging.file_backups) == ("WARNING", 3)

    monkeypatch.setenv("MT5C_SERVER__PORT", "1003")
    assert load_settings(config_file=toml, env_file=dotenv).server.port == 1003

    flagged = load_settings({"server": {"port": 1004}}, config_file=toml, env_file=dotenv)
    assert flagged.server.port == 1004
    assert flagged.server.host == "10.0.0.1"  # a flag for one key keeps the rest of its table


def test_default_config_file_is_read(tmp_path: Path) -> None:
    config_dir = tmp_path / "xdg-config" / "mt5-console"
    config_dir.mkdir(parents=True)
    write(config_dir / "config.toml", "[terminals]\nsim = true\nsim_terminals = 3\n")
    settings = load_settings(env_file=None)
    assert settings.terminals.sim is True
    assert settings.terminals.sim_terminals == 3


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server]\nport = 70000\n", "invalid setting server.port=70000"),
        ('[logging]\nlevel = "LOUD"\n', "invalid setting logging.level='LOUD'"),
        ("[server]\nprot = 1\n", "unknown setting 'server.prot'"),
        ("[server\nport = 1\n", "is not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_the_setting(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(config_file=write(tmp_path / "bad.toml", toml), env_file=None)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_environment_value_names_the_variable_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT5C_TERMINALS__CALL_TIMEOUT_S", "soon")
    with pytest.raises(SettingsError, match=r"terminals\.call_timeout_s='soon'"):
        load_settings(env_file=None)


def test_missing_config_file_given_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(config_file=tmp_path / "nope.toml", env_file=None)


def test_accounts_and_storage_settings(tmp_path: Path) -> None:
    toml = write(
        tmp_path / "c.toml",
        '[accounts]\nserver_utc_offset_hours = 2\nweek_start = "Sunday"\n'
        '[accounts.server_utc_offsets]\n"Broker-Live" = 3\n'
        "[storage]\nsnapshot_keep_all_days = 3\nsnapshot_retention_days = 0\n",
    )
    settings = load_settings(config_file=toml, env_file=None)
    assert settings.accounts.week_start == "sunday"
    assert settings.accounts.utc_offset_hours("broker-live") == 3
    assert settings.accounts.utc_offset_hours("Other") == 2
    assert (settings.storage.snapshot_keep_all_days, settings.storage.snapshot_retention_days) == (3, 0)
    defaults = load_settings(env_file=None)
    assert defaults.accounts.server_utc_offset_hours == 0 and defaults.accounts.week_start == "monday"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[accounts]\nweek_start = 'someday'\n", "invalid setting accounts.week_start='someday'"),
        ("[accounts]\nserver_utc_offset_hours = 15\n", "invalid setting accounts.server_utc_offset_hours=15"),
        ("[accounts.server_utc_offsets]\nX = 20\n", "offset for 'X' must be between -12 and 14 hours"),
        (
            "[storage]\nsnapshot_keep_all_days = 30\nsnapshot_retention_days = 7\n",
            "at least snapshot_keep_all_days",
        ),
    ],
)
def test_bad_accounts_and_storage_settings(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config_file=write(tmp_path / "c.toml", toml), env_file=None)
