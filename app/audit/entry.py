"""One audit entry: its fields, its hash, and its line in the trail.

An entry is one JSON object on one line (JSON Lines), written in canonical form (see
:mod:`app.audit.canonical`)::

    {"account":"5001@Sim-Demo","action":"order.intent","actor":"gui","hash":"…","payload":{…},
     "prev":"…","seq":42,"time":"2025-01-02T10:11:12.123456Z","v":1}

``hash`` is ``sha256_hex(canonical_bytes(entry without "hash"))``; ``prev`` is the previous entry's
``hash`` (:data:`GENESIS` for entry 1). ``time`` is when the writer chained the entry, under the lock,
so across processes times follow sequence numbers (unless the clock itself steps back). ``seq``
counts from 1 without gaps across every file, so a deleted, inserted or moved line shows up as a
sequence or ``prev`` mismatch, an edited one as a hash mismatch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.audit.canonical import canonical_bytes, canonical_json, canonical_scalar, sha256_hex
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

    def _text(self, payload_json: str, with_hash: bool) -> str:
        # canonical_json(self.body()) (+ "hash"), assembled by hand: the members in their sorted order,
        # so the payload, the one costly part, is encoded once per entry (a test holds the equivalence).
        s = canonical_scalar
        hash_member = f',"hash":{s(self.hash)}' if with_hash else ""
        return (
            f'{{"account":{s(self.account)},"action":{s(self.action)},"actor":{s(self.actor)}{hash_member}'
            f',"payload":{payload_json},"prev":{s(self.prev)},"seq":{s(self.seq)},"time":{s(self.time)}'
            f',"v":{s(self.v)}}}'
        )

    def encode(self, payload_json: str | None = None) -> tuple[bytes, bytes]:
        """``(body, line)``: the canonical bytes the hash is over, and the entry's line with its newline.

        ``payload_json`` is ``canonical_json(self.payload)`` when the caller already has it.
        """
        if payload_json is None:
            payload_json = canonical_json(self.payload)
        body = self._text(payload_json, with_hash=False).encode("utf-8")
        return body, (self._text(payload_json, with_hash=True) + "\n").encode("utf-8")

    def to_line(self, payload_json: str | None = None) -> bytes:
        """The entry's line in the trail, newline included."""
        return self.encode(payload_json)[1]


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
    payload_json: str | None = None,
) -> AuditEntry:
    """Build the entry that follows ``prev`` and compute its hash (``payload_json``: see ``encode``)."""
    unsealed = AuditEntry(seq, time, actor, action, account, payload, prev, hash="")
    body, _ = unsealed.encode(payload_json)
    return AuditEntry(seq, time, actor, action, account, payload, prev, sha256_hex(body))


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


def check_encoding(entry: AuditEntry, line: bytes) -> tuple[bool, bool]:
    """``(hash valid, line canonical)`` for an entry read from ``line`` (without its newline).

    The first is false when the content no longer matches the stored hash (an edit); the second when the
    line is not exactly the canonical text of what it holds (reformatted, duplicate keys, ...).
    """
    try:
        body, canonical_line = entry.encode()
    except (TypeError, ValueError):  # NaN, a lone surrogate, ...: nothing we wrote
        return False, False
    return sha256_hex(body) == entry.hash, canonical_line == line + b"\n"
