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
    world: World, sent: CardTally, sent_records: int, night: NightReport
) -> tuple[list[Check], Closing]:
    """Every invariant, each as a named check; nothing raises here (see `enforce`).

    `sent` tallies the records that left the terminals, `sent_records` counts them. The records
    still held in terminals are tallied here, so a card's money is checked against both.
    """
    held = _held_in_terminals(world)
    balances, offline, online = _card_columns(world)
    loads_fen = int((sent.load_fen + held.tally.load_fen).sum())
    closing = _closing(world, balances, sent, held, loads_fen, sent_records)
    checks = [
        *_card_checks(world, sent, held.tally, balances, offline, online),
        *_funding_checks(world, loads_fen),
        *_record_checks(world, night, sent_records, held),
        _float_check(closing),
    ]
    return checks, closing


@dataclass(slots=True)
class _Held:
    """What the terminals still hold at close: records not uploaded, and torn transactions."""

    tally: CardTally
    records: int
    pending: int


def _held_in_terminals(world: World) -> _Held:
    held = _Held(CardTally.zeros(len(world.population)), 0, 0)
    for terminal in world.terminals():
        for record in terminal.app.journal.records():
            held.tally.add(world.row_of_asn(record.asn), record)
            held.records += 1
        held.pending += len(terminal.app.pending)
    return held


def _card_checks(
    world: World,
    sent: CardTally,
    held: CardTally,
    balances: np.ndarray,
    offline: np.ndarray,
    online: np.ndarray,
) -> list[Check]:
    """Each card against its records: its balance, and its two counters (count and each value once)."""
    return [
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


def _funding_checks(world: World, loads_fen: int) -> list[Check]:
    """The loads on the cards against the host that authorised them and the money behind them."""
    funded = world.funding.funded_fen
    return [
        Check(
            "load records = loads confirmed by the host = loads funded by banks and cash",
            loads_fen == world.host.confirmed_fen == funded,
            f"records {loads_fen} fen, host {world.host.confirmed_fen} fen, funding {funded} fen",
        ),
        Check(
            "no load authorisation or bank reservation left open",
            world.host.open_authorisations == 0 and world.funding.open_reservations == 0,
            f"host {world.host.open_authorisations}, funding {world.funding.open_reservations}",
        ),
    ]


def _record_checks(world: World, night: NightReport, sent_records: int, held: _Held) -> list[Check]:
    """Every record made is uploaded once or still held, and the clearing port took each upload."""
    made = sum(t.app.journal.total_appended for t in world.terminals())
    return [
        Check("no torn transaction left unresolved", held.pending == 0, f"{held.pending} pending"),
        Check(
            "records made = records uploaded once + records held",
            made == sent_records + held.records,
            f"made {made}, uploaded {sent_records}, held {held.records}",
        ),
        Check(
            f"records uploaded = records accepted by the clearing port ({night.port})",
            night.accepted_records == sent_records,
            f"uploaded {sent_records}, accepted {night.accepted_records}, "
            f"rejected {sum(night.rejected_by_reason.values())}",
        ),
    ]


def _closing(
    world: World,
    balances: np.ndarray,
    sent: CardTally,
    held: _Held,
    loads_fen: int,
    sent_records: int,
) -> Closing:
    """The day's money: purchases are what the loads put on the cards less what stayed there.
    Yesterday's balances are the opening float (model.backoffice.opening_float), not loads."""
    opening_float_fen = int(world.population.opening_balance_fen.sum())
    net_fen = int((sent.signed_fen + held.tally.signed_fen).sum())
    return Closing(
        opening_float_fen=opening_float_fen,
        closing_float_fen=int(balances.sum()),
        loads_fen=loads_fen,
        purchases_fen=loads_fen - net_fen,
        funded_fen=world.funding.funded_fen,
        held_records=held.records,
        uploaded_records=sent_records,
        held_net_fen=int(held.tally.signed_fen.sum()),
    )


def _float_check(c: Closing) -> Check:
    return Check(
        "float: opening + loads - purchases = closing",
        c.opening_float_fen + c.loads_fen - c.purchases_fen == c.closing_float_fen,
        f"{c.opening_float_fen} + {c.loads_fen} - {c.purchases_fen} vs {c.closing_float_fen}",
    )


def enforce(checks: list[Check], where: str) -> None:
    failed = [c for c in checks if not c.ok]
    if failed:
        raise InvariantError(
            f"{where}: invariant violated: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
