"""Recording the services' changes in the audit trail (orders are recorded by the trading service)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from app.audit import Action, AuditTrail, account_ref
from app.models import AccountAction, AccountUpdate

_ACCOUNT_ACTIONS = {
    AccountAction.ADDED: Action.ACCOUNT_ADD,
    AccountAction.EDITED: Action.ACCOUNT_EDIT,
    AccountAction.REMOVED: Action.ACCOUNT_REMOVE,
}


def account_change_recorder(trail: AuditTrail) -> Callable[[AccountUpdate], Awaitable[None]]:
    """The account registry's ``on_change`` hook: add, edit and remove, with who did it (never a
    password: only whether one was written)."""

    async def record(update: AccountUpdate) -> None:
        action = _ACCOUNT_ACTIONS.get(update.action)
        if action is None:
            return
        account = update.account
        await trail.append(
            update.actor,
            action,
            account=account_ref(account.login, account.server),
            payload={
                "account_id": account.id,
                "alias": account.alias,
                "broker": account.broker,
                "terminal": account.terminal_id,
                "enabled": account.enabled,
                "password_changed": update.password_changed,
            },
        )

    return record
