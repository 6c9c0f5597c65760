"""A process that appends to a trail and says so: ``ACK <seq> <hash>`` once each append has returned.

``python -m tests.audit.writer_process DIR sync|async NAME COUNT SEED [GO_FILE]`` (COUNT 0: until killed;
with GO_FILE, it starts appending once that file exists, so several writers can start together). Some
payloads are large (tens of KB) so that a kill can land in the middle of a write.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

from app.audit import AuditEntry, AuditTrail


def main() -> None:
    directory, mode, name, count, seed = (
        Path(sys.argv[1]),
        sys.argv[2],
        sys.argv[3],
        int(sys.argv[4]),
        int(sys.argv[5]),
    )
    rng = random.Random(seed)

    def payload(n: int) -> dict[str, Any]:
        size = rng.randrange(20_000, 80_000) if rng.random() < 0.05 else rng.randrange(0, 300)
        return {"client_id": f"{name}-{n}", "writer": name, "n": n, "blob": "x" * size}

    def ack(entry: AuditEntry) -> None:
        sys.stdout.write(f"ACK {entry.seq} {entry.hash} {entry.payload['n']}\n")
        sys.stdout.flush()

    trail = AuditTrail(directory, rotate_max_bytes=100_000)
    trail.open()
    print("READY", flush=True)
    if len(sys.argv) > 6:
        go = Path(sys.argv[6])
        while not go.exists():
            time.sleep(0.001)
    if mode == "sync":
        n = 0
        while count == 0 or n < count:
            ack(trail.append_sync("system", "test.append", payload=payload(n)))
            n += 1
    else:

        async def run() -> None:
            n = 0
            while count == 0 or n < count:
                size = rng.randrange(1, 8) if count == 0 else min(rng.randrange(1, 8), count - n)
                burst = [trail.append("system", "test.append", payload=payload(n + k)) for k in range(size)]
                n += len(burst)
                for entry in await asyncio.gather(*burst):
                    ack(entry)

        asyncio.run(run())
    trail.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
