"""The guard that keeps passwords and tokens out of the trail, whatever a caller passes.

The trail is kept for years and copied to auditors, so a secret that enters it can never be taken back.
At any depth of the payload, a member whose key names a secret (``password``, ``api_key``,
``Authorization``, ``refresh-token``, ...) is removed, and strings that carry one inline (``token=...``,
``Bearer ...``, a JWT) are redacted as the logs redact them. The payload then lists what was removed or
redacted under ``_redacted`` (paths like ``"request.password"``), so an auditor sees that something
was there without seeing it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from app.logs import redact

REDACTED_KEY = "_redacted"

# Matched against the key lower-cased with separators removed ("API-Key" -> "apikey").
_SECRET_PART = re.compile(
    "password|passwd|passphrase|secret|token|apikey|authorization|credential|privatekey|cookie|jwt|bearer"
)
_SECRET_WORDS = frozenset({"pwd", "pass", "pin", "auth", "otp", "totp", "signature", "sig"})
_SEPARATORS = re.compile(r"[\s_\-.]+")


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a member called ``key`` may hold a secret (then it never enters the trail)."""
    squashed = _SEPARATORS.sub("", key.lower())
    return squashed in _SECRET_WORDS or _SECRET_PART.search(squashed) is not None


def _clean(value: Any, path: str, removed: list[str]) -> Any:
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, item in value.items():
            item_path = f"{path}.{key}" if path else key
            if is_secret_key(key):
                removed.append(item_path)
            else:
                kept[key] = _clean(item, item_path, removed)
        return kept
    if isinstance(value, list):
        return [_clean(item, f"{path}[{index}]", removed) for index, item in enumerate(value)]
    if isinstance(value, str):
        cleaned = redact(value)
        if cleaned != value:
            removed.append(path)
        return cleaned
    return value


def strip_secrets(payload: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``payload`` without secrets, and the paths of what was removed or redacted (in order)."""
    removed: list[str] = []
    cleaned = _clean({k: v for k, v in payload.items() if k != REDACTED_KEY}, "", removed)
    return cleaned, removed


def guard_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as it may be stored: secrets gone, and ``_redacted`` listing them if any were."""
    cleaned, removed = strip_secrets(payload)
    if removed:
        cleaned[REDACTED_KEY] = removed
    return cleaned
