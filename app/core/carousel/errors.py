"""What can go wrong in the carousel, as exceptions whose ``str()`` is one line fit to show the user."""

from __future__ import annotations


class CarouselError(Exception):
    """Base of the carousel's errors."""


class VisitFailed(CarouselError):
    """A visit to an account failed; ``reason`` is what the account's status now says."""

    def __init__(self, account_key: str, reason: str) -> None:
        super().__init__(f"visit to {account_key} failed: {reason}")
        self.account_key = account_key
        self.reason = reason


class NoTerminalError(CarouselError):
    """No terminal of the pool may visit this account (e.g. it is assigned to one that is not there)."""


class TerminalUnavailable(CarouselError):  # noqa: N818 - a state, not a failure of the account
    """The terminal could not make the visit (not ready, restarting): not the account's fault, so the
    account goes back to the queue instead of being marked as failing."""


class SharingRefused(TerminalUnavailable):
    """The live terminal cannot be lent now: it has no account to return to, or no password for it."""
