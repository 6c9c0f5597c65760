"""One audit entry: its fields, its hash, and its line in the trail.

An entry is one JSON object on one line (JSON Lines), written in canonical form (see
:mod:`app.audit.canonical`)::

    {"account":"5001@Sim-Demo","action":"order.intent","actor":"gui","hash":"…","payload":{…},
     "prev":"…","seq":42,"time":"2025-01-02T10:11:12.123456Z","v":1}

``hash`` is ``sha256_hex(canonical_bytes(entry without "hash"))``; ``prev`` is the previous entry's
``hash`` (:data:`GENESIS` for entry 1). ``seq`` counts from 1 without gaps across every file, so a
deleted, inserted or moved line shows up as a sequence or ``prev`` mismatch, an edited one as a hash
mismatch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.audit.canonical import canonical_bytes, sha256_hex
from app.audit.errors import AuditError

FORMAT_VERSION = 1
GENESIS = "0" * 64
FIELDS = frozenset({"v", "seq", "time", "actor", "action", "account", "payload", "prev", "hash"})

# "order.intent", "api.login_failed": lower-case words joined by dots, at least two.
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_ACTOR_LENGTH = 128


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and ``Z``: fixed width, so text order is time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def check_actor(actor: str) -> str:
    """Actors are short labels: ``gui``, ``cli``, ``carousel``, ``system``, ``api:<user>``."""
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR_LENGTH:
        raise AuditError(f"invalid audit actor {actor!r}")
    return actor


def check_action(action: str) -> str:
    if not isinstance(action, str) or not _ACTION.match(action):
        raise AuditError(f"invalid audit action {action!r} (expected e.g. 'order.intent')")
    return action


def check_account(account: str | None) -> str | None:
    if account is not None and (not isinstance(account, str) or not account.strip()):
        raise AuditError(f"invalid audit account {account!r} (expected 'login@server' or None)")
    return account


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An entry as stored. Immutable: what was hashed is what is shown."""

    seq: int
    time: str
    actor: str
    action: str
    account: str | None
    payload: dict[str, Any]
    prev: str
    hash: str
    v: int = FORMAT_VERSION

    @property
    def moment(self) -> datetime:
        return parse_time(self.time)

    @property
    def client_id(self) -> str | None:
        """The id that links an order's entries (intent, check, result) — ``payload["client_id"]``."""
        value = self.payload.get("client_id")
        return value if isinstance(value, str) else None

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``: what the hash is computed over."""
        return {
            "v": self.v,
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "account": self.account,
            "payload": self.payload,
            "prev": self.prev,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    def to_line(self) -> bytes:
        """The entry's line in the trail, newline included."""
        return canonical_bytes(self.to_json()) + b"\n"


def compute_hash(body: dict[str, Any]) -> str:
    return sha256_hex(canonical_bytes(body))


def seal(
    *,
    seq: int,
    time: str,
    actor: str,
    action: str,
    account: str | None,
    payload: dict[str, Any],
    prev: str,
) -> AuditEntry:
    """Build the entry that follows ``prev`` and compute its hash."""
    unsealed = AuditEntry(seq, time, actor, action, account, payload, prev, hash="")
    return AuditEntry(seq, time, actor, action, account, payload, prev, compute_hash(unsealed.body()))


class MalformedEntry(ValueError):
    """A line that is not an audit entry at all (not JSON, a field missing or of the wrong type)."""


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise MalformedEntry(what)


def parse_line(line: bytes) -> AuditEntry:
    """The entry on ``line`` (without checking its hash); :class:`MalformedEntry` if it is none."""
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEntry(f"not JSON ({exc})") from None
    _require(isinstance(data, dict), "not a JSON object")
    missing = FIELDS - data.keys()
    _require(not missing, f"missing field(s) {', '.join(sorted(missing))}")
    extra = data.keys() - FIELDS
    _require(not extra, f"unknown field(s) {', '.join(sorted(extra))}")
    _require(type(data["v"]) is int and data["v"] == FORMAT_VERSION, f"unsupported version {data['v']!r}")
    _require(type(data["seq"]) is int and data["seq"] >= 1, "seq is not a positive integer")
    for name in ("time", "actor", "action"):
        _require(isinstance(data[name], str), f"{name} is not a string")
    _require(data["account"] is None or isinstance(data["account"], str), "account is not a string")
    _require(isinstance(data["payload"], dict), "payload is not an object")
    for name in ("prev", "hash"):
        _require(isinstance(data[name], str) and bool(_HEX64.match(data[name])), f"{name} is not a SHA-256")
    try:
        parse_time(data["time"])
    except ValueError:
        raise MalformedEntry(f"time {data['time']!r} is not ISO 8601") from None
    return AuditEntry(
        seq=data["seq"],
        time=data["time"],
        actor=data["actor"],
        action=data["action"],
        account=data["account"],
        payload=data["payload"],
        prev=data["prev"],
        hash=data["hash"],
        v=data["v"],
    )


def hash_is_valid(entry: AuditEntry) -> bool:
    """Whether the stored hash is the hash of the stored content (an edit makes this false)."""
    try:
        return compute_hash(entry.body()) == entry.hash
    except (TypeError, ValueError, UnicodeEncodeError):
        return False
