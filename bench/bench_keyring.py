"""A keyring backend for the benchmarks' node processes (``PYTHON_KEYRING_BACKEND=
bench_keyring.DerivedKeyring``): every account's password is derived from its login, as the
benchmark opened the accounts, so 1,000 accounts need no keyring of their own. The OS keyring is
not what is measured; never use this outside a benchmark."""

from __future__ import annotations

from keyring.backend import KeyringBackend


def bench_password(login: int) -> str:
    return f"Bench-{login}"


class DerivedKeyring(KeyringBackend):
    priority = 0  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        login, _, _server = username.partition("@")
        return bench_password(int(login)) if login.isdigit() else None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass
