"""A verifier written in another language (JavaScript, sharing no code) recomputes the same chain."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.audit import AuditTrail, verify_trail
from tests.audit.conftest import only_segment, read_lines, write_lines

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")
SCRIPT = Path(__file__).with_name("verify_chain.mjs")

AWKWARD_PAYLOADS = [
    {"price": 1.00001, "point": 0.00001, "big": 1e21, "tiny": 1e-7, "whole": 5.0, "neg": -0.0},
    {"text": "€ ü 中文 😀", "ctrl": "tab\there\nnew\u000f\u2028", "quote": 'say "hi" \\ /'},
    {
        "😀": 1,
        "\ufb33": 2,
        "\u00f6": 3,
        "Z": 4,
        "a": 5,
        "nested": {"list": [1, [2.5, None, True]], "empty": {}},
    },
    {"ticket": 2**53 - 1, "huge_int": 2**60, "volume": 0.1 + 0.2},
]


def node_verify(directory: Path) -> str:
    assert NODE is not None
    result = subprocess.run([NODE, str(SCRIPT), str(directory)], capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


def test_javascript_recomputes_every_hash(trail_dir: Path) -> None:
    with AuditTrail(trail_dir, rotate_max_bytes=1_000) as trail:
        for round_ in range(3):
            for payload in AWKWARD_PAYLOADS:
                trail.append_sync("api:ünïcode", "order.intent", account="5001@Sim-Demo", payload=payload)
            trail.append_sync("system", "setting.change", payload={"round": round_})
    report = verify_trail(trail_dir)
    assert report.ok
    assert node_verify(trail_dir) == f"OK {report.entries} {report.last_hash}"


def test_javascript_finds_the_same_edit(trail_dir: Path) -> None:
    with AuditTrail(trail_dir) as trail:
        for payload in AWKWARD_PAYLOADS:
            trail.append_sync("gui", "order.intent", payload=payload)
    lines = read_lines(only_segment(trail_dir))
    lines[1] = lines[1].replace("😀".encode(), "😁".encode())
    write_lines(only_segment(trail_dir), lines)
    report = verify_trail(trail_dir)
    assert report.finding is not None and report.finding.line == 2
    assert node_verify(trail_dir) == f"BAD {only_segment(trail_dir).name} 2 hash"
