"""Property-based run of schemathesis over the served ``/openapi.json``, with a valid token, against the
real server on the simulator: no 5xx, and every answer matches the documented status, content type and
schema."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.server.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = 20


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    running: Running, token: str, tmp_path: Path
) -> None:
    excluded: list[str] = []
    if getattr(running.runtime, "carousel", None) is None:
        # Until the carousel is in the runtime its routes answer 503 by design (not a crash).
        excluded += ["--exclude-path-regex", r"^/api/carousel|/sync$"]
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{running.url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "20261121",
        "--workers", "2",
        "--generation-database", "none",
        "--request-timeout", "20",
        "--no-color",
        "--suppress-health-check", "all",
        *excluded,
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=subprocess_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 240)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
