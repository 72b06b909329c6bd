"""One region run: build both cities, ride the day, run the nights, check every fen, report.

The result's figures come from the run's own state (cards, terminals, both clearing
databases): `lines` prints them; nothing in it is typed in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from model.money import format_fen
from scenarios.region_schema import RegionScenario
from sim.region.checks import Check, card_checks, interchange_checks, ledger_checks
from sim.region.day import DayTally, run_day
from sim.region.night import Faults, Traffic, run_nights
from sim.region.world import City, build_region

NIGHTS_DEFAULT = 3


@dataclass(slots=True)
class CityFigures:
    name: str
    cards: int
    card_balances_fen: int
    cleared_records: int
    held_records: int
    fees_fen: int
    interchange_fees_paid_fen: int
    settlements: int
    held_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class RegionResult:
    scenario: str
    seed: int
    tally: DayTally
    traffic: Traffic
    cities: list[CityFigures]
    checks: list[Check]
    interchange: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _figures(city: City) -> CityFigures:
    db = city.office.ledger.db
    return CityFigures(
        city.spec.name,
        len(city.cards),
        sum(c.state.ep_balance_fen for c in city.cards.values()),
        int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0]),
        len(city.office.clearing.held()),
        -city.office.ledger.balance("fees"),
        city.office.ledger.balance("interchange-fees"),
        int(db.execute("SELECT COUNT(*) FROM settlements").fetchone()[0]),
        dict(sorted(Counter(reason for _, reason, _ in city.office.clearing.held()).items())),
    )


def _interchange(cities: list[City]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for src in cities:
        for dst in cities:
            if src is dst:
                continue
            transit = src.outbox.in_transit(dst.code)
            posted, held = dst.inbox.received_fen(src.code)
            gross, ix_fee, own_fee, paid = src.outbox.payouts_fen(dst.code)
            files = int(
                src.office.ledger.db.execute(
                    "SELECT COUNT(*) FROM ix_out WHERE to_city = ?", (dst.code,)
                ).fetchone()[0]
            )
            out[f"{src.spec.name}->{dst.spec.name}"] = {
                "files": files,
                "acked_fen": transit.acked_fen,
                "unacked_fen": transit.unacked_fen,
                "pending_fen": transit.pending_fen,
                "cleared_at_issuer_fen": posted,
                "held_at_issuer_fen": held,
                "settled_gross_fen": gross,
                "interchange_fee_fen": ix_fee,
                "acquirer_fee_fen": own_fee,
                "paid_to_acquirers_fen": paid,
            }
    return out


def run_region(
    s: RegionScenario, folder: Path, faults: Faults | None = None, nights: int = NIGHTS_DEFAULT
) -> RegionResult:
    """The two-city day under `faults`, in `folder` (its clearing databases)."""
    folder.mkdir(parents=True, exist_ok=True)
    cities = build_region(s, folder)
    try:
        tally = run_day(s, cities)
        traffic = run_nights(cities, s.day, faults or Faults(), nights)
        checks = card_checks(cities, traffic.made) + interchange_checks(cities) + ledger_checks(cities)
        return RegionResult(
            s.name, s.seed, tally, traffic, [_figures(c) for c in cities], checks, _interchange(cities)
        )
    finally:
        for city in cities:
            city.office.close()


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in counts.items()) or "none"


def lines(r: RegionResult) -> list[str]:
    out = [f"region {r.scenario}, seed {r.seed}"]
    taps = ", ".join(f"{home} cards in {where} {n}" for (where, home), n in sorted(r.tally.taps.items()))
    refused = ", ".join(f"{n} {why}" for why, n in sorted(r.tally.refused.items())) or "none"
    out.append(f"taps: {taps}; refused {refused}; torn taps recovered {r.tally.torn}; loads {r.tally.loads}")
    for c in r.cities:
        out.append(
            f"{c.name}: {c.cards} cards hold {format_fen(c.card_balances_fen)}; "
            f"cleared {c.cleared_records} records, "
            f"held {c.held_records} ({_reasons(c.held_reasons)}); fees {format_fen(c.fees_fen)}, "
            "interchange fees paid "
            f"{format_fen(c.interchange_fees_paid_fen)}; {c.settlements} settlements"
        )
    for pair, f in r.interchange.items():
        acquirer, issuer = pair.split("->")
        out.append(
            f"interchange {issuer} cards in {acquirer}: {f['files']} files, "
            f"acknowledged {format_fen(f['acked_fen'])} "
            f"(issuer cleared {format_fen(f['cleared_at_issuer_fen'])}, "
            f"held {format_fen(f['held_at_issuer_fen'])}), "
            f"unacknowledged {format_fen(f['unacked_fen'])}, not yet filed {format_fen(f['pending_fen'])}; "
            f"cross-settled gross {format_fen(f['settled_gross_fen'])} - interchange fee "
            f"{format_fen(f['interchange_fee_fen'])}; "
            f"paid to acquirers {format_fen(f['paid_to_acquirers_fen'])} "
            f"after their fee {format_fen(f['acquirer_fee_fen'])}"
        )
    files = ", ".join(f"{k} {v}" for k, v in sorted(r.traffic.files.items()) if v)
    out.append(f"transport: files {files or 'none'}; advices delivered {r.traffic.advices['delivered']}")
    bad = [c for c in r.checks if not c.ok]
    out.append(f"checks: {len(r.checks) - len(bad)}/{len(r.checks)} hold" + ("" if not bad else "; FAILED:"))
    out += [f"  {c.name}: {c.left_fen} != {c.right_fen} ({c.detail})" for c in bad]
    return out
