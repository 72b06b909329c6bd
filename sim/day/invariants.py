"""The day's invariants, checked at the end of every simulated day.

Money is conserved: every card's closing balance is its opening balance plus the records of
its loads minus its purchases, whether those records reached the clearing port or still sit
in a terminal; each card's records are exactly its counters (no record lost or duplicated);
every load was funded by a bank or in cash, and no funding is left half-done; no torn
transaction is left unresolved. A violation stops the run with a report (`InvariantError`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devices.card_state import CardState
from model.errors import CardTwinError
from sim.city import World
from sim.day.night import CardTally, NightReport

VIOLATION_EXAMPLES_MAX = 5


class InvariantError(CardTwinError):
    """A day ended with money or records that do not add up."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class Closing:
    """The day's money at close, for reports."""

    opening_float_fen: int
    closing_float_fen: int
    loads_fen: int
    purchases_fen: int
    funded_fen: int
    held_records: int
    uploaded_records: int
    held_net_fen: int = 0  # the net card effect of records still in terminals


def _card_columns(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    balances, offline, online = (np.zeros(len(world.population), np.int64) for _ in range(3))
    for row, image in enumerate(world.population.images):
        state = CardState.from_image(image)
        balances[row], offline[row], online[row] = (
            state.ep_balance_fen,
            state.ep_offline_counter,
            state.ep_online_counter,
        )
    return balances, offline, online


def _compare(name: str, want: np.ndarray, got: np.ndarray, world: World) -> Check:
    bad = np.flatnonzero(want != got)
    if len(bad) == 0:
        return Check(name, True, f"{len(want)} cards")
    examples = ", ".join(
        f"card {int(world.population.index[r])}: expected {int(want[r])}, found {int(got[r])}"
        for r in bad[:VIOLATION_EXAMPLES_MAX]
    )
    return Check(name, False, f"{len(bad)} cards differ ({examples})")


def check_day(
    world: World, sent: CardTally, sent_records: int, night: NightReport, issued_fen: int = 0
) -> tuple[list[Check], Closing]:
    """`issued_fen`: yesterday's balances loaded by real records at the issuance window (they
    are in the records, and in the opening float)."""
    """Every invariant, each as a named check; nothing raises here (see `enforce`)."""
    held = CardTally.zeros(len(world.population))
    held_records = 0
    pending = 0
    for terminal in world.terminals():
        for record in terminal.app.journal.records():
            held.add(world.row_of_asn(record.asn), record)
            held_records += 1
        pending += len(terminal.app.pending)
    balances, offline, online = _card_columns(world)
    opening = world.population.opening_balance_fen
    checks = [
        _compare(
            "card balance = balance brought forward + loads - purchases (records uploaded or held)",
            world.carried_fen + sent.signed_fen + held.signed_fen,
            balances,
            world,
        ),
        _compare(
            "purchase records per card = card's purchase counter",
            offline,
            sent.purchases + held.purchases,
            world,
        ),
        _compare("load records per card = card's load counter", online, sent.loads + held.loads, world),
        _compare(
            "purchase record counters are each of 0..n-1 once",
            offline * (offline - 1) // 2,
            sent.purchase_counter_sum + held.purchase_counter_sum,
            world,
        ),
        _compare(
            "load record counters are each of 0..n-1 once",
            online * (online - 1) // 2,
            sent.load_counter_sum + held.load_counter_sum,
            world,
        ),
    ]
    load_signed = sent.signed_fen + held.signed_fen
    loads_fen = int((sent.load_fen + held.load_fen).sum())
    funded = world.funding.funded_fen
    checks.append(
        Check(
            "load records = loads confirmed by the host = loads funded by banks and cash",
            loads_fen == world.host.confirmed_fen == funded,
            f"records {loads_fen} fen, host {world.host.confirmed_fen} fen, funding {funded} fen",
        )
    )
    checks.append(
        Check(
            "no load authorisation or bank reservation left open",
            world.host.open_authorisations == 0 and world.funding.open_reservations == 0,
            f"host {world.host.open_authorisations}, funding {world.funding.open_reservations}",
        )
    )
    checks.append(Check("no torn transaction left unresolved", pending == 0, f"{pending} pending"))
    made = sum(t.app.journal.total_appended for t in world.terminals())
    checks.append(
        Check(
            "records made = records uploaded once + records held",
            made == sent_records + held_records,
            f"made {made}, uploaded {sent_records}, held {held_records}",
        )
    )
    checks.append(
        Check(
            f"records uploaded = records accepted by the clearing port ({night.port})",
            night.accepted_records == sent_records,
            f"uploaded {sent_records}, accepted {night.accepted_records}, "
            f"rejected {sum(night.rejected_by_reason.values())}",
        )
    )
    closing = int(balances.sum())
    net = int(load_signed.sum())
    purchases_fen = loads_fen - net
    day_loads_fen = loads_fen - issued_fen
    assert issued_fen in (0, int(opening.sum())), "issuance loads every opening balance or none"
    checks.append(
        Check(
            "float: opening + loads - purchases = closing",
            int(opening.sum()) + day_loads_fen - purchases_fen == closing,
            f"{int(opening.sum())} + {day_loads_fen} - {purchases_fen} vs {closing}",
        )
    )
    return checks, Closing(
        opening_float_fen=int(opening.sum()),
        closing_float_fen=closing,
        loads_fen=day_loads_fen,
        purchases_fen=purchases_fen,
        funded_fen=funded,
        held_records=held_records,
        uploaded_records=sent_records,
        held_net_fen=int(held.signed_fen.sum()),
    )


def enforce(checks: list[Check], where: str) -> None:
    failed = [c for c in checks if not c.ok]
    if failed:
        raise InvariantError(
            f"{where}: invariant violated: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
