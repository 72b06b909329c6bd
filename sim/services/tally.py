"""The services' figures of one day: counts, money in fen, refusals by reason, the attack
drills, the centre's queues and the invariants; merged across shards by adding (the centre
runs in shard 0 only, and a drill is counted once per institution, whichever shard saw it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.services.centre import CentreReport


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class ServicesTally:
    counts: dict[str, int] = field(default_factory=dict)
    money_fen: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # "service:reason" -> count
    drills: dict[str, set[str]] = field(default_factory=dict)  # drill -> institutions refused
    institutions_claimed: set[str] = field(default_factory=set)
    checks: list[ServiceCheck] = field(default_factory=list)
    centre: CentreReport | None = None

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def add_fen(self, name: str, fen: int) -> None:
        self.money_fen[name] = self.money_fen.get(name, 0) + fen

    def refuse(self, service: str, reason: str) -> None:
        key = f"{service}:{reason}"
        self.refused[key] = self.refused.get(key, 0) + 1

    def drill(self, name: str, institution: str) -> None:
        self.drills.setdefault(name, set()).add(institution)

    def claimed(self, institution: str) -> None:
        self.institutions_claimed.add(institution)

    def merge(self, other: ServicesTally) -> None:
        for mine, theirs in (
            (self.counts, other.counts),
            (self.money_fen, other.money_fen),
            (self.refused, other.refused),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        for k, names in other.drills.items():
            self.drills.setdefault(k, set()).update(names)
        self.institutions_claimed |= other.institutions_claimed
        self.checks += other.checks
        self.centre = self.centre or other.centre

    def get(self, name: str) -> int:
        return self.counts.get(name, self.money_fen.get(name, 0))
