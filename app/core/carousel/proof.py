"""Which password last logged in to each account: so a visit that skips the login (the live terminal
is on that account already) only does so for a password a login has proven.

A terminal that is on an account says nothing about the password the keyring holds for it — the
trader may have typed it wrong when adding the account, or changed it since. Skipping the login for
an unproven password would show a wrong one as ok. The memory is in-process only and keeps HMACs
under a random key made at start, never the passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from app.core.credentials import Secret


class ProvenPasswords:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._proven: dict[int, bytes] = {}

    def _mac(self, password: Secret) -> bytes:
        return hmac.new(self._key, password.reveal().encode(), hashlib.sha256).digest()

    def remember(self, account_id: int, password: Secret) -> None:
        """``password`` just logged in to the account."""
        self._proven[account_id] = self._mac(password)

    def proves(self, account_id: int, password: Secret) -> bool:
        """A login with exactly ``password`` succeeded on this account before."""
        known = self._proven.get(account_id)
        return known is not None and hmac.compare_digest(known, self._mac(password))

    def forget(self, account_id: int) -> None:
        self._proven.pop(account_id, None)
