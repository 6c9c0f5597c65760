"""The names the trail uses: actions, actors, accounts, and the id that links an order's entries.

One place for the vocabulary, so ``audit show --action order`` finds what every writer recorded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from app.audit.recovery import SYSTEM_ACTOR, TORN_TAIL_ACTION
from app.audit.secrets import is_secret_key

CLIENT_ID = "client_id"
"""Payload key of the id that links an order's entries (intent, check, result). The order's own client
id (the API's ``uuid``) when it has one."""

MASKED = "***"


class Action(StrEnum):
    # An order command's intent (on disk before the terminal sees the order) ...
    ORDER_INTENT = "order.intent"  # place a new order
    ORDER_MODIFY = "order.modify"  # change SL/TP or a pending order's price
    ORDER_CLOSE = "order.close"  # close (part of) a position
    ORDER_CANCEL = "order.cancel"  # remove a pending order
    # ... then what came of it, linked by client_id.
    ORDER_CHECK = "order.check"  # order_check's answer
    ORDER_RESULT = "order.result"  # order_send's answer: retcode, ticket, latency
    ORDER_RECONCILE = "order.reconcile"  # an ambiguous result settled from the terminal's orders/deals
    ACCOUNT_ADD = "account.add"
    ACCOUNT_EDIT = "account.edit"
    ACCOUNT_REMOVE = "account.remove"
    CAROUSEL_START = "carousel.start"
    CAROUSEL_STOP = "carousel.stop"
    API_LOGIN = "api.login"
    API_LOGIN_FAILED = "api.login_failed"
    USER_ADD = "user.add"
    USER_REMOVE = "user.remove"
    USER_SET_ROLE = "user.set_role"
    USER_SET_PASSWORD = "user.set_password"  # noqa: S105 - an action's name, never a password
    USER_SET_ACCOUNTS = "user.set_accounts"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    SETTING_CHANGE = "setting.change"
    RISK_KILL_SWITCH = "risk.kill_switch"
    SIGNAL_RECEIVED = "signal.received"  # a signal as it came in (its source, never a secret)
    SIGNAL_DECISION = "signal.decision"  # its verdicts and what was decided (and by whom)
    WEBHOOK_ADD = "webhook.add"
    WEBHOOK_REMOVE = "webhook.remove"
    WEBHOOK_ROTATE = "webhook.rotate"  # a new secret (never recorded)
    WEBHOOK_REFUSED = "webhook.refused"  # a wrong secret or an unknown webhook (the address, no secret)
    STRATEGY_CHANGE = "strategy.change"
    AUDIT_TORN_TAIL = TORN_TAIL_ACTION  # written by the trail itself after a crash


class Actor(StrEnum):
    GUI = "gui"
    CLI = "cli"
    CAROUSEL = "carousel"
    SYSTEM = SYSTEM_ACTOR
    RISK = "risk"

    @staticmethod
    def api(username: str) -> str:
        """``api:<user>``: an action taken through the REST/Socket.IO endpoint by that user."""
        return f"api:{username}"

    @staticmethod
    def key(prefix: str, name: str) -> str:
        """``key:<prefix>(<name>)``: an action taken with that API key."""
        return f"key:{prefix}({name})"


def account_ref(login: int | str, server: str) -> str:
    """How an entry names an account: ``login@server``."""
    return f"{login}@{server}"


def setting_change(key: str, old: Any, new: Any) -> dict[str, Any]:
    """The payload of a ``setting.change``; the values of a secret setting are masked, not recorded."""
    if is_secret_key(key.rsplit(".", 1)[-1]):
        return {"key": key, "old": MASKED, "new": MASKED}
    return {"key": key, "old": old, "new": new}
