"""Property-based run of schemathesis over the served ``/openapi.json``, with a valid token, against the
real server on the simulator: every phase — examples, coverage, fuzzing and the stateful one, which
follows the document's links (an added account to its reads, sync and removal; a placed order to its
close and modify) — with no 5xx, and every answer matching the documented status, content type and
schema. Bounded to fit CI: a fixed seed, a few examples per operation, short stateful scenarios."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.server.conftest import Running

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
    "use_after_free,ensure_resource_availability"
)
MAX_EXAMPLES = 20
CONFIG = """
[phases.stateful]
max-steps = 8

[phases.stateful.generation]
max-examples = 25
"""
RUN_LIMIT_S = 300  # the whole run: about 30 s on a quiet machine, 2 workers


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    running: Running, token: str, tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
        f"{running.url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "20261121",
        "--workers", "2",
        "--generation-database", "none",
        "--request-timeout", "20",
        "--no-color",
        "--suppress-health-check", "all",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=subprocess_env(SCHEMATHESIS_HOOKS="tests.server.schemathesis_hooks"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_LIMIT_S)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-20_000:]
    links = re.search(r"API Links:\s+(\d+) covered", text)  # the stateful phase followed links
    assert links is not None and int(links[1]) >= 5, text[-5_000:]
