"""The ``[audit]`` settings: read like every other section, checked, and handed to the trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit import AuditTrail, audit_dir
from app.config import SettingsError, load_settings


def test_defaults_rotate_daily_and_by_size(data_dir: Path) -> None:
    settings = load_settings({"data_dir": data_dir}, env_file=None)
    assert (settings.audit.rotate_daily, settings.audit.rotate_max_bytes) == (True, 64_000_000)


def test_from_toml_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[audit]\nrotate_max_bytes = 100000\nlock_timeout_s = 2.5\n", encoding="utf-8")
    monkeypatch.setenv("MT5C_AUDIT__ROTATE_DAILY", "false")
    settings = load_settings(config_file=config, env_file=None)
    assert settings.audit.rotate_max_bytes == 100_000 and settings.audit.rotate_daily is False
    trail = AuditTrail.for_data_dir(settings.data_dir, settings.audit)
    assert trail.directory == audit_dir(settings.data_dir)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("rotate_max_bytes = 1000", "invalid setting audit.rotate_max_bytes=1000: Value error, must be 0"),
        ("lock_timeout_s = 0", "invalid setting audit.lock_timeout_s=0"),
        ("rotate = true", "unknown setting 'audit.rotate'"),
    ],
)
def test_bad_values_are_one_line_naming_the_setting(tmp_path: Path, toml: str, expected: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[audit]\n{toml}\n", encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_settings(config_file=config, env_file=None)
    assert str(error.value).startswith(expected)
