"""The verify campaign's vocabulary and its reliability report.

Fault class names and how a user names them on the command line, one seed's result, the
one-line replay command of a seed, and the report over all seeds (JSON and text). Kept apart
from the campaign itself (sim.verify.campaign) so the report can be read without running anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from model.errors import CardTwinError
from sim.verify.bank_names import BANK_FAULTS
from sim.verify.region_faults import REGION_FAULTS

FAULTS: dict[str, str] = {
    "card-tear": "card torn at any APDU boundary of a tap, before or after the card processed it",
    "psam-failure": "PSAM link fails on a command, before or after the PSAM processed it",
    "power-loss": "purchase terminal loses power around a journal write, record flushed or not",
    "upload-late": "batch arrives a night late (and buses miss the depot cut-off)",
    "upload-duplicate": "batch sent twice (lost acknowledgement)",
    "upload-reorder": "batch arrives hours early or late relative to the others",
    "upload-corrupt": "batch bytes bit-flipped or truncated in transit, then re-sent whole",
    "bank-outage": "a bank's link is down for a stretch: loads declined half-way",
    "clearing-crash": "clearing house killed mid-ingest (SQLite interrupted) and restarted",
    "clearing-kill9": "clearing house as a separate process, SIGKILLed mid-ingest, restarted",
    "clearing-sigkill": "the real `cardtwin clearing` SIGKILLed at seeded moments of a night, rerun, "
    "its database compared with an uninterrupted run's",
    "clearing-concurrent": "a second real `cardtwin clearing` process on the database while a night runs",
    "clearing-disk-full": "the clearing database's disk fills up inside an ingest (SQLITE_FULL), then frees",
    "clearing-bad-keys": "the night is first tried with a wrong issuer key file",
    "hotlist-delay": "lost cards hotlisted; each terminal receives the list hours later",
    "clock-skew": "terminal clock off by minutes to hours",
    "terminal-dishonest": "a terminal operator edits its own uploads after sending them: counters "
    "re-encoded, records replayed under a fresh header and CRCs, a no-proof record forged for the "
    "card's next counter, an amount raised with the header totals fixed up",
    **BANK_FAULTS,
    **REGION_FAULTS,  # between two cities' clearing houses (sim.verify.region_faults)
}


class VerifyError(CardTwinError):
    """A verify request that cannot run (unknown fault name, bad count)."""


def parse_faults(text: str) -> frozenset[str]:
    """`all`, `none`, or a comma-separated list of fault class names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return frozenset(FAULTS)
    if names == ["none"]:
        return frozenset()
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise VerifyError(
            f"--faults: unknown fault class {unknown[0] if unknown else repr(text)} "
            f"(allowed: all, none, {', '.join(FAULTS)})"
        )
    return frozenset(names)


def faults_arg(faults: frozenset[str]) -> str:
    if faults == frozenset(FAULTS):
        return "all"
    return ",".join(n for n in FAULTS if n in faults) or "none"


@dataclass(slots=True)
class SeedResult:
    seed: int
    days: int
    transactions: int
    records: int
    faults: dict[str, int]
    violations: list[str]
    wall_s: float
    cleared: int = 0
    held: int = 0
    cpu_s: float = 0.0  # the seed's process and its children, user + system

    @property
    def ok(self) -> bool:
        return not self.violations


def replay_command(seed: int, faults: frozenset[str], days: int, sample: float) -> str:
    return f"cardtwin verify --seed {seed} --faults {faults_arg(faults)} --days {days} --sample {sample}"


# -- the report ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    faults: frozenset[str]
    days: int
    sample: float
    results: list[SeedResult] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        per_class = Counter[str]()
        for r in self.results:
            per_class.update(r.faults)
        slowest = max(self.results, key=lambda r: r.wall_s) if self.results else None
        return {
            "seeds": len(self.results),
            "simulated_days": sum(r.days for r in self.results),
            "transactions": sum(r.transactions for r in self.results),
            "records": sum(r.records for r in self.results),
            "faults_injected": {n: per_class[n] for n in FAULTS if n in self.faults},
            "power_loss_unflushed": per_class["power-loss-unflushed"],
            "violations": sum(len(r.violations) for r in self.results),
            "failed_seeds": [r.seed for r in self.results if not r.ok],
            "slowest_seed": slowest.seed if slowest else None,
            "slowest_seed_wall_s": round(slowest.wall_s, 3) if slowest else 0.0,
            "cpu_s": round(sum(r.cpu_s for r in self.results), 1),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "faults": faults_arg(self.faults),
            "days_per_seed": self.days,
            "sample": self.sample,
            "totals": self.totals(),
            "seeds": [
                {
                    "seed": r.seed,
                    "transactions": r.transactions,
                    "records": r.records,
                    "cleared": r.cleared,
                    "held": r.held,
                    "faults": r.faults,
                    "violations": r.violations,
                    "wall_s": round(r.wall_s, 3),
                    "cpu_s": round(r.cpu_s, 3),
                    "replay": replay_command(r.seed, self.faults, self.days, self.sample),
                }
                for r in self.results
            ],
        }

    def text(self) -> list[str]:
        t = self.totals()
        out = [
            f"seeds {t['seeds']}, simulated days {t['simulated_days']}, transactions {t['transactions']}, "
            f"records {t['records']}",
        ]
        width = max([len("fault class"), *(len(name) for name in t["faults_injected"])])
        out.append(f"{'fault class':<{width}} {'injected':>9}")
        out += [f"{name:<{width}} {n:>9}" for name, n in t["faults_injected"].items()]
        out.append(f"invariant violations {t['violations']} (failed seeds: {t['failed_seeds'] or 'none'})")
        out.append(f"slowest seed {t['slowest_seed']}: {t['slowest_seed_wall_s']:.2f} s wall")
        out.append(f"cpu_s {t['cpu_s']:.1f} (every seed's process and its children, user + system)")
        return out
