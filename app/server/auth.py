"""Who may use the server: one admin user, a password hash in the data dir, JWTs signed with a secret
kept in the OS keyring.

* **Password.** There is no default. ``mt5-console server set-password`` (or the window, through
  :func:`set_admin_password`) stores an argon2id hash (salted, slow, memory-hard) in
  ``<data_dir>/server/admin-password.json`` (mode 0600). A hash is not a secret the way a password is,
  and keeping it beside the database means ``--data-dir`` picks the user's password along with
  everything else. Until it exists every login is refused with a message saying how to set it.
* **Signing secret.** 32 random bytes made on the server's first start and kept in the OS keyring
  (one per data dir); no keyring → the server does not start, and says why.
* **Tokens.** HS256 JWTs with ``sub``, ``role``, ``iat``, ``exp`` and ``pwv`` — a fingerprint of the
  password hash, so setting a new password invalidates every token issued before it.
* **Revocation.** A token that stops being valid must stop working everywhere, also on a Socket.IO
  connection opened with it. :class:`Revocations` publishes a :class:`Revocation` per subject (the
  user) whenever that can have happened — a new password, set in this process or by
  ``server set-password`` in another (:meth:`TokenService.watch` looks twice a second) — and whoever
  holds tokens (the realtime gateway) re-checks that subject's and closes what no longer passes.
  Removing a user or revoking an API key (issue #18) publishes the same event.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import os
import secrets
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.config import APP_NAME
from app.core.credentials import CredentialStore, Secret

ALGORITHM = "HS256"
VERIFIED_CACHE_SIZE = 256
ISSUER = APP_NAME
ROLE_ADMIN = "admin"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
SECRET_BYTES = 32
PASSWORD_FILE = Path("server") / "admin-password.json"
NO_PASSWORD_MESSAGE = (
    "no admin password is set for the server: run `mt5-console server set-password` "  # noqa: S105 - a message
    "(with the same --data-dir), or set it in the window's server settings"
)

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile: 64 MiB, 3 passes, salted
log = logging.getLogger(__name__)
WATCH_INTERVAL_S = 0.5


class AuthError(Exception):
    """A request that is not authenticated; ``code`` says why (for the uniform error body)."""

    def __init__(self, message: str, code: str = "unauthorized") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NoPasswordSetError(AuthError):
    def __init__(self) -> None:
        super().__init__(NO_PASSWORD_MESSAGE, "no_password_set")


class PasswordPolicyError(ValueError):
    """A new password that is refused (too short, a control character, ...). Never quotes it."""


def password_path(data_dir: Path) -> Path:
    return data_dir / PASSWORD_FILE


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        raise PasswordPolicyError("the password contains a control character (a line break?)")
    return password


def set_admin_password(data_dir: Path, password: str | Secret) -> None:
    """Hash ``password`` and store it for the admin user (blocking: ~0.1 s of argon2; the window calls
    it off the event loop). Replaces any earlier password, which invalidates every issued token."""
    text = check_new_password(password.reveal() if isinstance(password, Secret) else password)
    record = {"hash": _hasher.hash(text), "set_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    path = password_path(data_dir)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


async def aset_admin_password(data_dir: Path, password: str | Secret) -> None:
    await asyncio.to_thread(set_admin_password, data_dir, password)


def admin_password_is_set(data_dir: Path) -> bool:
    return password_path(data_dir).is_file()


class PasswordStore:
    """The admin's password hash, re-read when the file changes (a ``set-password`` run from another
    process takes effect without a restart)."""

    def __init__(self, data_dir: Path, recheck_s: float = 1.0) -> None:
        self.path = password_path(data_dir)
        self.recheck_s = recheck_s
        self._stamp: tuple[int, int] | None = None
        self._hash: str | None = None
        self._fingerprint: str | None = None
        self._checked_at = -math.inf

    def current_hash(self) -> str | None:
        """The stored hash; the file is looked at again at most every ``recheck_s`` seconds."""
        now = time.monotonic()
        if now - self._checked_at < self.recheck_s:
            return self._hash
        self._checked_at = now
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._hash, self._fingerprint = None, None, None
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                self._hash = str(json.loads(self.path.read_text(encoding="utf-8"))["hash"])
            except (OSError, ValueError, KeyError, TypeError):
                self._hash = None  # unreadable: as if unset (the login message says how to fix it)
            self._stamp = stamp
            self._fingerprint = (
                None if self._hash is None else hashlib.sha256(self._hash.encode()).hexdigest()[:16]
            )
        return self._hash

    def fingerprint(self) -> str | None:
        """A short digest of the current hash: tokens carry it, so a new password revokes them."""
        self.current_hash()
        return self._fingerprint

    def forget(self) -> None:
        """Look at the file on the next call (after this process changed it)."""
        self._checked_at = -math.inf

    def verify(self, password: str) -> bool:
        """Blocking (argon2 on purpose takes time): call it off the event loop."""
        current = self.current_hash()
        if current is None:
            raise NoPasswordSetError
        try:
            return bool(_hasher.verify(current, password))
        except (VerificationError, InvalidHashError):
            return False


def jwt_secret_name(data_dir: Path) -> str:
    """The keyring entry of the signing secret: one per data dir (one per installation)."""
    return f"server-jwt-secret:{data_dir.resolve()}"


async def load_or_create_secret(credentials: CredentialStore, data_dir: Path) -> Secret:
    """The signing secret from the keyring, made on first use.

    Raises :class:`~app.core.credentials.CredentialStoreUnavailable` (saying how to get a keyring) when
    there is no usable keyring: then the server does not start.
    """
    await credentials.aensure_available()
    name = jwt_secret_name(data_dir)
    secret = await credentials.aread_named(name)
    if secret is None:
        secret = Secret(secrets.token_urlsafe(SECRET_BYTES))
        await credentials.astore_named(name, secret)
    return secret


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: str = ROLE_ADMIN
    expires_at: float = 0.0  # the token's expiry (epoch seconds), when the user comes from a token
    fingerprint: str = ""  # the password the token was issued under (see PasswordStore.fingerprint)

    @property
    def actor(self) -> str:
        """How the audit trail names this user's actions."""
        return f"api:{self.username}"


@dataclass(frozen=True, slots=True)
class Revocation:
    """Tokens of ``subject`` may have stopped being valid: whoever holds one checks it again."""

    subject: str
    reason: str


RevocationListener = Callable[[Revocation], None]


class Revocations:
    """Who wants to hear of revoked subjects (the realtime gateway closes their sockets)."""

    def __init__(self) -> None:
        self._listeners: list[RevocationListener] = []

    def subscribe(self, listener: RevocationListener) -> Callable[[], None]:
        """Call ``listener`` on each revocation (on the event loop); returns the way to stop."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, revocation: Revocation) -> None:
        log.info("tokens of %s revoked: %s", revocation.subject, revocation.reason)
        for listener in list(self._listeners):
            try:
                listener(revocation)
            except Exception:
                log.exception("a revocation listener failed")


class TokenService:
    """Issues and checks the admin's tokens."""

    def __init__(self, secret: Secret, passwords: PasswordStore, username: str, expiry_s: int) -> None:
        self._key = secret.reveal()
        self.passwords = passwords
        self.username = username
        self.expiry_s = expiry_s
        self.revocations = Revocations()
        self._fingerprint_seen = passwords.fingerprint()
        # Tokens whose signature checked out, with their claims: a dashboard sends the same token with
        # every request, and an HMAC plus JSON decode each time is most of an authenticated request.
        self._verified: OrderedDict[str, User] = OrderedDict()

    async def login(self, username: str, password: str) -> User:
        """The admin, if ``username`` and ``password`` match; else :class:`AuthError`."""
        fingerprint = self.passwords.fingerprint()
        if fingerprint is None:
            raise NoPasswordSetError
        # Verify even for a wrong user name: the answer takes as long either way.
        ok = await asyncio.to_thread(self.passwords.verify, password)
        if not ok or not self.is_user(username):
            raise AuthError("wrong username or password", "bad_credentials")
        return User(self.username)

    def notice_changes(self) -> None:
        """Publish a revocation if the password changed since the last look (here or in another
        process): every token issued under the old one is dead, so are the sockets opened with them."""
        self.passwords.forget()
        current = self.passwords.fingerprint()
        if current != self._fingerprint_seen:
            self._fingerprint_seen = current
            self.revocations.publish(Revocation(self.username, "the admin password was changed"))

    async def watch(self, interval_s: float = WATCH_INTERVAL_S) -> None:
        """Look for a password change every ``interval_s`` (a ``server set-password`` run elsewhere)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.notice_changes()  # a stat (and a small read when it changed): on the loop, in order
            except Exception:
                log.exception("checking the admin password for a change failed")

    def is_user(self, username: str) -> bool:
        """``username`` is the admin's (compared in constant time)."""
        return secrets.compare_digest(username.encode(), self.username.encode())

    def issue(self, user: User, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": user.username,
            "role": user.role,
            "iat": issued,
            "exp": issued + self.expiry_s,
            "iss": ISSUER,
            "pwv": self.passwords.fingerprint(),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> User:
        user = self._verified.get(token)
        if user is None:
            user = self._decode(token)
            self._verified[token] = user
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        if time.time() >= user.expires_at:
            raise AuthError("the token has expired: log in again", "token_expired")
        if user.fingerprint != self.passwords.fingerprint():
            raise AuthError("the token is no longer valid (password changed): log in again", "token_revoked")
        return user

    def _decode(self, token: str) -> User:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired: log in again", "token_expired") from None
        except jwt.PyJWTError:
            raise AuthError("invalid token", "invalid_token") from None
        if claims.get("sub") != self.username:
            raise AuthError("the token is no longer valid (user changed): log in again", "token_revoked")
        return User(
            str(claims["sub"]),
            str(claims.get("role", ROLE_ADMIN)),
            float(claims["exp"]),
            str(claims.get("pwv")),
        )


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
