"""An exception no handler knows ends as the uniform 500 inside the app: logged once with its traceback,
never re-raised to the server (which would log it again and drop the keep-alive connection)."""

from __future__ import annotations

import logging
import types
from typing import cast

import httpx
import pytest

from app.server.app import create_api
from app.server.context import ServerContext
from app.server.errors import EXPECTED, to_api_error


def _api_with_a_broken_route() -> object:
    api = create_api(cast(ServerContext, types.SimpleNamespace()))

    @api.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return api


async def test_an_unexpected_exception_is_a_500_and_goes_no_further(caplog: pytest.LogCaptureFixture) -> None:
    transport = httpx.ASGITransport(app=_api_with_a_broken_route(), raise_app_exceptions=True)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        with caplog.at_level(logging.ERROR):
            answer = await http.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (see the server's log)", "code": "internal_error"}
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and "a bug" in str(logged[0].exc_info[1])  # type: ignore[index]


def test_every_error_class_with_an_answer_is_handled_as_expected() -> None:
    """What ``to_api_error`` answers without a 500 must be registered as an expected error."""
    from app.core.carousel.errors import NoTerminalError, VisitFailed
    from app.core.credentials import CredentialMissing
    from app.models import AmbiguousOutcomeError, TemporaryError

    samples = [
        VisitFailed("1@x", "wrong password"),
        NoTerminalError("none"),
        CredentialMissing("none"),
        TemporaryError("requote"),
        AmbiguousOutcomeError("lost", client_id="x"),
    ]
    for exc in samples:
        assert to_api_error(exc).status != 500
        assert isinstance(exc, EXPECTED), type(exc)
