"""Named webhooks' secrets: 256 random bits shown once, kept as a SHA-256 digest, compared in
constant time. A secret is never logged, audited or stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets

from app.audit import Action, AuditTrail
from app.core.storage import Database
from app.core.times import utc_now
from app.models.signals import Webhook

log = logging.getLogger(__name__)

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
_NAME = re.compile(NAME_PATTERN)
# A digest compared when the webhook does not exist, so that an unknown name costs the same as a wrong
# secret (the answer is the same 401 too: names cannot be probed).
_ABSENT = hashlib.sha256(b"no such webhook").hexdigest()


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(given: str | None, stored_digest: str | None) -> bool:
    """Constant time in the secret: the digests are compared with ``hmac.compare_digest``."""
    expected = stored_digest or _ABSENT
    candidate = digest(given or "")
    return hmac.compare_digest(candidate, expected) and stored_digest is not None and bool(given)


class WebhookError(ValueError):
    """A webhook change that cannot be made (``status``: 404, 409 or 422; ``field`` names the culprit)."""

    def __init__(
        self, message: str, field: str = "name", status: int = 422, code: str = "invalid_webhook"
    ) -> None:
        super().__init__(message)
        self.field = field
        self.status = status
        self.code = code


class WebhookBook:
    """The named webhooks (shared by the server and ``mt5-console webhooks``); every change audited,
    never with a secret."""

    def __init__(self, db: Database, audit: AuditTrail) -> None:
        self._db = db
        self._audit = audit

    async def add(self, hook: Webhook, *, actor: str) -> tuple[Webhook, str]:
        """Store a new webhook; returns it with its secret (shown once, kept only as a digest)."""
        if not valid_name(hook.name):
            raise WebhookError("name: a webhook name is 1 to 32 letters, digits, _ or -")
        secret = new_secret()
        now = utc_now()
        hook = Webhook(
            hook.name, digest(secret), hook.mode, hook.symbols, hook.volume, hook.symbol_map, now, now
        )
        if not await self._db.run(lambda tx: tx.webhooks.add(hook)):
            raise WebhookError(f"webhook {hook.name} exists already", status=409, code="conflict")
        await self._audit.append(actor, Action.WEBHOOK_ADD, payload=hook.to_json())
        log.info("webhook %s added (%s)", hook.name, hook.mode.value)
        return hook, secret

    async def all(self) -> list[Webhook]:
        return await self._db.run(lambda tx: tx.webhooks.all(), readonly=True)

    async def get(self, name: str) -> Webhook | None:
        return await self._db.run(lambda tx: tx.webhooks.get(name), readonly=True)

    async def remove(self, name: str, *, actor: str) -> None:
        if not await self._db.run(lambda tx: tx.webhooks.remove(name)):
            raise WebhookError(f"no webhook {name}", status=404, code="not_found")
        await self._audit.append(actor, Action.WEBHOOK_REMOVE, payload={"name": name})

    async def rotate(self, name: str, *, actor: str) -> str:
        """A new secret; the old one stops working at once."""
        secret = new_secret()
        if not await self._db.run(lambda tx: tx.webhooks.set_secret(name, digest(secret), utc_now())):
            raise WebhookError(f"no webhook {name}", status=404, code="not_found")
        await self._audit.append(actor, Action.WEBHOOK_ROTATE, payload={"name": name})
        return secret

    async def authorised(self, name: str, secret: str | None) -> Webhook | None:
        """The webhook if ``secret`` is its secret (constant time), else None (also for no such name)."""
        hook = await self.get(name) if valid_name(name) else None
        return hook if secret_matches(secret, hook.secret_sha256 if hook else None) else None

    async def refused(self, name: str, address: str, why: str) -> None:
        """A refused call, in the trail: the name and the address, never what was sent as the secret."""
        payload = {"name": name[:64], "address": address, "why": why}
        await self._audit.append(f"webhook:{name[:32]}", Action.WEBHOOK_REFUSED, payload=payload)
