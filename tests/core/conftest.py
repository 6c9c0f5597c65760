"""Fixtures for the core's tests against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import Services

TEST_ACCOUNT = (5001006, "Demo-1006", "SimBroker-Demo")  # USD hedging, no positions


@pytest.fixture
async def services(client_factory: Any, tmp_path: Path) -> AsyncIterator[Services]:
    """The services wired over a real worker, logged in to a demo account with no positions."""
    client, _ = await client_factory()
    await client.login(*TEST_ACCOUNT)
    found = await Services(client, tmp_path).start()
    yield found
    await found.stop()
