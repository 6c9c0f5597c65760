"""Secrets never enter the trail, at any depth or in any spelling; payloads are plain JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest

from app.audit import AuditError, AuditTrail, setting_change
from app.audit.payload import to_json_value
from app.audit.secrets import guard_payload, is_secret_key


@pytest.mark.parametrize(
    "key",
    ["password", "Password", "new_password", "passwd", "pwd", "secret", "jwt_secret", "token", "access-token",
     "refreshToken", "api_key", "API-Key", "Authorization", "credentials", "private_key", "cookie", "otp"],
)  # fmt: skip
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["client_id", "symbol", "volume", "ticket", "server", "login", "key", "comment"]
)
def test_ordinary_key_names(key: str) -> None:
    assert not is_secret_key(key)


def test_secrets_are_removed_at_any_depth_and_listed() -> None:
    payload = {
        "login": 5001,
        "password": "hunter2",
        "request": {"symbol": "EURUSD", "auth": {"token": "abc", "user": "bob"}},
        "accounts": [{"login": 1, "investor_password": "x"}, {"login": 2}],
    }
    cleaned = guard_payload(payload)
    assert cleaned == {
        "login": 5001,
        "request": {"symbol": "EURUSD"},
        "accounts": [{"login": 1}, {"login": 2}],
        "_redacted": ["password", "request.auth", "accounts[0].investor_password"],
    }


def test_secrets_inside_text_are_redacted() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlMTIz"
    cleaned = guard_payload({"note": f"login with password=hunter2 then Bearer {jwt}", "comment": "fine"})
    assert "hunter2" not in str(cleaned) and jwt not in str(cleaned)
    assert cleaned["comment"] == "fine"
    assert cleaned["_redacted"] == ["note"]


def test_a_caller_cannot_forge_the_redaction_list() -> None:
    assert guard_payload({"_redacted": ["nothing"], "a": 1}) == {"a": 1}


def test_a_secret_setting_change_records_no_value() -> None:
    assert setting_change("server.admin_password", "old-pw", "new-pw") == {
        "key": "server.admin_password",
        "old": "***",
        "new": "***",
    }
    assert setting_change("server.port", 8765, 9000) == {"key": "server.port", "old": 8765, "new": 9000}


class Side(Enum):
    BUY = "buy"


@dataclass(frozen=True)
class Request:
    symbol: str
    side: Side
    volume: Decimal
    at: datetime
    ticket: int


def test_domain_objects_become_plain_json() -> None:
    request = Request("EURUSD", Side.BUY, Decimal("0.10"), datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), 2**60)
    assert to_json_value({"request": request, "levels": (1.5, float("nan"))}) == {
        "request": {
            "symbol": "EURUSD",
            "side": "buy",
            "volume": "0.10",
            "at": "2025-01-02T03:04:05.000000Z",
            "ticket": str(2**60),  # beyond 2**53 a double would lose digits
        },
        "levels": [1.5, "NaN"],
    }


def test_unknown_objects_are_refused_not_stringified(trail_dir: Path) -> None:
    class Credentials:
        def __str__(self) -> str:
            return "password=hunter2"

    with AuditTrail(trail_dir) as trail, pytest.raises(AuditError, match="cannot go into an audit payload"):
        trail.append_sync("cli", "account.add", payload={"creds": Credentials()})


def test_what_reaches_the_disk_has_no_secret(trail_dir: Path) -> None:
    with AuditTrail(trail_dir) as trail:
        entry = trail.append_sync(
            "api:bob",
            "account.add",
            account="5001@Sim-Demo",
            payload={"login": 5001, "password": "hunter2", "headers": {"Authorization": "Bearer abc.def"}},
        )
    raw = b"".join(path.read_bytes() for path in trail_dir.glob("*.jsonl"))
    assert b"hunter2" not in raw and b"abc.def" not in raw
    assert entry.payload == {"login": 5001, "headers": {}, "_redacted": ["password", "headers.Authorization"]}
