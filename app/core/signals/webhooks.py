"""Named webhooks' secrets: 256 random bits shown once, kept as a SHA-256 digest, compared in
constant time. A secret is never logged, audited or stored in clear."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

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
