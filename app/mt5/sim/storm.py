"""Tick-storm schedule: from which second which symbols tick at a storm rate.

A change takes effect at the next whole second and is never retroactive, so ticks already revealed
never change. The schedule is part of the server's persisted state: after a restart, the ticks of a
past storm are the same ticks.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StormEntry:
    start_ms: int  # a whole second
    rate: float  # ticks per second per symbol; 0 = calm
    symbols: frozenset[str] | None  # None = every symbol


@dataclass
class StormSchedule:
    entries: list[StormEntry] = field(default_factory=list)

    def set(self, now_ms: int, rate: float, symbols: frozenset[str] | None = None) -> int:
        """Storm at ``rate`` ticks/s (0 = calm) from the next whole second; returns that time."""
        if rate < 0:
            raise ValueError("rate must be >= 0")
        start = (now_ms // 1000 + 1) * 1000
        while self.entries and self.entries[-1].start_ms >= start:
            self.entries.pop()  # a change within the same second replaces the previous one
        self.entries.append(StormEntry(start, float(rate), symbols))
        return start

    def _entry_at(self, time_ms: int) -> StormEntry | None:
        index = bisect.bisect_right([e.start_ms for e in self.entries], time_ms) - 1
        return self.entries[index] if index >= 0 else None

    def rate(self, symbol: str, time_ms: int) -> float:
        entry = self._entry_at(time_ms)
        if entry is None or (entry.symbols is not None and symbol not in entry.symbols):
            return 0.0
        return entry.rate

    def seconds(self, symbol: str, start_s: int, end_s: int) -> list[tuple[int, float]]:
        """(second, rate) for each storm second of ``symbol`` in [start_s, end_s)."""
        if not self.touches(symbol, start_s * 1000, end_s * 1000):
            return []
        out = []
        for second in range(start_s, end_s):
            rate = self.rate(symbol, second * 1000)
            if rate > 0:
                out.append((second, rate))
        return out

    def touches(self, symbol: str, start_ms: int, end_ms: int) -> bool:
        """Whether any storm second of ``symbol`` lies in [start_ms, end_ms)."""
        for i, entry in enumerate(self.entries):
            stop = self.entries[i + 1].start_ms if i + 1 < len(self.entries) else 2**62
            if entry.rate <= 0 or (entry.symbols is not None and symbol not in entry.symbols):
                continue
            if entry.start_ms < end_ms and stop > start_ms:
                return True
        return False

    def current(self, now_ms: int) -> dict[str, object]:
        entry = self._entry_at(now_ms + 1000)
        if entry is None or entry.rate <= 0:
            return {"rate": 0.0, "symbols": None}
        return {"rate": entry.rate, "symbols": sorted(entry.symbols) if entry.symbols else None}

    def to_json(self) -> list[list[object]]:
        return [[e.start_ms, e.rate, sorted(e.symbols) if e.symbols else None] for e in self.entries]

    @classmethod
    def from_json(cls, data: list[list[object]]) -> StormSchedule:
        entries = [
            StormEntry(int(start), float(rate), frozenset(symbols) if symbols else None)  # type: ignore[arg-type, call-overload]
            for start, rate, symbols in data
        ]
        return cls(entries)
