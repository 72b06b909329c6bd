"""What the verify campaign checks after every night, as pure functions of plain figures.

Each function takes what the period read off the clearing database, the world and the seed's
ground truth (rows, sums, counts, the genuine records by key) and returns its checks, each
`(name, ok, detail)`; a failed check is a violation of the seed, the detail carries the figures
that disagree. Nothing here reads a database, runs a day or keeps state between nights: the
period gathers the figures and owns what it must remember (e.g. yesterday's card counters).

Money is conserved across the whole system: the balances on the cards equal the float in the
ledger plus what the clearing house holds for review, what terminals still hold and what is
uploaded and not yet ingested; every bank's accounts plus what it paid out equal what it
opened them with. A record is cleared at most once, only as a card made it, and never both
cleared and held; counters and serials only go forward; a terminal that has the hotlist
refuses the card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from model.backoffice import RELEASABLE, Reason, record_key
from model.records import RECORD_SIZE, TransactionRecord, WireRecord, decode_record


class Check(NamedTuple):
    """One thing that must hold of the books, whether it did, and the figures behind it."""

    name: str
    ok: bool
    detail: str


ClearedRow = tuple[bytes, int, bytes, int]  # record key, amount_fen, terminal id, terminal serial


@dataclass(frozen=True, slots=True)
class Held:
    """What the clearing house holds for review and may yet pay (a releasable reason, not
    released): the records' keys, their net effect on the cards (+ loads, - purchases) and the
    loads by the participant whose recharge point made them."""

    keys: frozenset[bytes]
    net_fen: int
    loads_fen: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class BankBooks:
    """One bank as its own books stand: what it opened its citizens' accounts with, what they
    hold now, and what it paid out for loads; `participant` is the one whose loads it funds."""

    name: str
    participant: str
    opened_fen: int
    balances_fen: int
    captured_fen: int


def violations(day: int, checks: Iterable[Check]) -> list[str]:
    """The failed checks, as the seed's report names them."""
    return [f"day {day}: {name}: {detail}" for name, ok, detail in checks if not ok]


def database_intact(integrity: str) -> Check:
    """SQLite's own `PRAGMA integrity_check` answer after the clearing process was killed."""
    return Check("clearing database intact after SIGKILL", integrity == "ok", integrity)


def settlement_nets(positions_fen: Iterable[int]) -> Check:
    """Every participant's position and the reserve's: what one is owed another owes."""
    total = sum(positions_fen)
    return Check("settlement positions net to zero", total == 0, f"sum {total}")


def reconciliation(sums: Iterable[tuple[str, int, int]]) -> list[Check]:
    """The back office's own reconciliation (name, left, right), each sum pair one check."""
    return [
        Check(f"reconciliation: {name}", left_fen == right_fen, f"{left_fen} vs {right_fen}")
        for name, left_fen, right_fen in sums
    ]


def cleared_once(rows: Sequence[ClearedRow], genuine: Mapping[bytes, TransactionRecord]) -> list[Check]:
    """The clearing house's cleared records against the records the cards made."""
    cleared = Counter(key for key, *_ in rows)
    twice = [key for key, n in cleared.items() if n > 1]
    wrong = [
        key
        for key, amount_fen, terminal_id, serial in rows
        if (g := genuine.get(key)) is None
        or (g.amount_fen, g.terminal_id, g.terminal_serial) != (amount_fen, terminal_id, serial)
    ]
    return [
        Check("no record cleared twice (no double charge)", not twice, f"{len(twice)} keys"),
        Check(
            "every cleared record is one a card made, with its amount, terminal and serial",
            not wrong,
            f"{len(wrong)} records, e.g. {wrong[0].hex() if wrong else ''}",
        ),
    ]


def is_genuine(r: WireRecord, genuine: Mapping[bytes, TransactionRecord]) -> bool:
    """Whether a card made this record: its key, amount, terminal and serial are a card's."""
    g = genuine.get(record_key(r.asn, r.tx_type, r.counter))
    return g is not None and (g.amount_fen, g.terminal_id, g.terminal_serial) == (
        r.amount_fen,
        r.terminal_id,
        r.terminal_serial,
    )


def held_for_review(
    quarantine: Iterable[tuple[bytes, str]],
    participant_of: Callable[[bytes], str],
    genuine: Mapping[bytes, TransactionRecord],
) -> Held:
    """The held figures from the quarantine's unreleased entries (raw record, reason); entries
    held for good (a forged TAC, a malformed record) and records no card made (a dishonest
    terminal's forged no-proof claim) are no money of any card's."""
    keys: set[bytes] = set()
    net_fen = 0
    loads_fen: Counter[str] = Counter()
    for raw, reason in quarantine:
        if Reason(reason) not in RELEASABLE:
            continue
        r = decode_record(raw, "quarantine", check_crc=False)
        if not is_genuine(r, genuine):
            continue
        keys.add(record_key(r.asn, r.tx_type, r.counter))
        net_fen += r.amount_fen if r.is_load else -r.amount_fen
        if r.is_load:
            loads_fen[participant_of(r.terminal_id)] += r.amount_fen
    return Held(frozenset(keys), net_fen, loads_fen)


def holds_explained(
    quarantine: Iterable[tuple[bytes, str]], genuine: Mapping[bytes, TransactionRecord], dishonest: Set[bytes]
) -> Check:
    """Every held record (not released, not rejected) is a card's own, a copy of one (a
    replay, a re-sent batch), or one a dishonest terminal made up: none is unexplained."""
    unexplained = []
    for raw, reason in quarantine:
        if len(raw) != RECORD_SIZE or reason in ("corrupt-record", "truncated", "bad-checksum"):
            continue  # damaged bytes: the upload-corrupt fault, re-sent whole
        r = decode_record(raw, "quarantine", check_crc=False)
        if not is_genuine(r, genuine) and raw not in dishonest:
            unexplained.append(f"{reason} {r.asn.hex()}/{r.counter}")
    return Check(
        "every held record is a card's, a copy of one, or a dishonest terminal's forgery",
        not unexplained,
        f"{len(unexplained)} unexplained, e.g. {unexplained[0] if unexplained else ''}",
    )


def banks_against_books(
    banks: Iterable[BankBooks], cleared_loads_fen: Mapping[str, int], held_loads_fen: Mapping[str, int]
) -> list[Check]:
    """What each bank paid for loads = the loads its recharge points cleared + those held for
    review (a lost card loaded after its hotlisting: the money is on the card)."""
    out = []
    for b in banks:
        cleared_fen = cleared_loads_fen.get(b.participant, 0)
        held_fen = held_loads_fen.get(b.participant, 0)
        out.append(
            Check(
                f"bank {b.name}: captured for loads = cleared + held loads of {b.participant}",
                b.captured_fen == cleared_fen + held_fen,
                f"captured {b.captured_fen}, cleared {cleared_fen}, held {held_fen}",
            )
        )
    return out


def records_accounted(
    genuine: Iterable[bytes], cleared: Set[bytes], held: Set[bytes], in_transit: Set[bytes]
) -> list[Check]:
    """Every record a terminal sent is in exactly one place: cleared, held, or on its way."""
    both = held & cleared
    missing = [k for k in genuine if k not in cleared and k not in held and k not in in_transit]
    return [
        Check("no record both cleared and held", not both, f"{len(both)} keys"),
        Check(
            "every uploaded record is cleared, held, or still in transit",
            not missing,
            f"{len(missing)} lost, e.g. {missing[0].hex() if missing else ''}",
        ),
    ]


def in_transit_fen(
    genuine: Mapping[bytes, TransactionRecord], cleared: Set[bytes], held: Set[bytes], in_transit: Set[bytes]
) -> int:
    """The cards' money in uploads not yet ingested (+ loads, - purchases)."""
    return sum(
        g.signed_amount_fen
        for k, g in genuine.items()
        if k not in cleared and k not in held and k in in_transit
    )


def money_conserved(
    *, cards_fen: int, float_fen: int, held_fen: int, terminals_fen: int, transit_fen: int
) -> Check:
    """The balances on the cards against where the books say the money is."""
    return Check(
        "cards = ledger float + held + in terminals + in transit",
        cards_fen == float_fen + held_fen + terminals_fen + transit_fen,
        f"cards {cards_fen}, float {float_fen}, held {held_fen}, terminals {terminals_fen}, "
        f"transit {transit_fen}",
    )


def bank_accounts(banks: Iterable[BankBooks]) -> list[Check]:
    """No bank makes or loses money: its accounts plus what it paid out are what it opened."""
    out = []
    for b in banks:
        have_fen = b.balances_fen + b.captured_fen
        out.append(
            Check(
                f"bank {b.name}: accounts + paid out = opened",
                have_fen == b.opened_fen,
                f"{have_fen} vs {b.opened_fen}",
            )
        )
    return out


def settled_once(unsettled: int, orphans: int) -> Check:
    """Cleared records up to the settled day with no settlement, and settlements of no record."""
    return Check(
        "every cleared record up to the settled day settled exactly once",
        unsettled == 0 and orphans == 0,
        f"{unsettled} unsettled, {orphans} settled without a record",
    )


def no_clones(suspects: Sequence[str]) -> Check:
    """The clone rule's findings, one line each. There is no clone in this city: duplicates
    from re-sent, corrupted or replayed uploads must never make it name a genuine card."""
    return Check("no genuine card flagged as a clone", not suspects, suspects[0] if suspects else "")


def never_back(
    counters_before: npt.NDArray[np.int64],
    counters_now: npt.NDArray[np.int64],
    serials_before: Mapping[bytes, int],
    serials_now: Mapping[bytes, int],
) -> list[Check]:
    """The cards' counters (one row per counter, one column per card) and the purchase
    terminals' PSAM serials (by terminal) since the last night: none went back."""
    back = int((counters_now < counters_before).sum())
    serials_back = sum(serial < serials_before.get(t, 0) for t, serial in serials_now.items())
    return [
        Check("card counters never go back", back == 0, f"{back} counters went back"),
        Check("PSAM serials never go back", serials_back == 0, f"{serials_back} serials went back"),
    ]


def hotlist_honoured(
    genuine: Mapping[bytes, TransactionRecord],
    hotlist_at: Mapping[tuple[bytes, bytes], datetime],
    skew: Mapping[bytes, timedelta],
) -> Check:
    """A terminal that has received the list never accepts the card again. It dates records by
    its own clock (off by `skew`), and a record dated within the second the list arrived may
    still be the tap that was under way."""
    late = [
        k
        for k, r in genuine.items()
        if r.tac
        and (got := hotlist_at.get((r.terminal_id, r.asn))) is not None
        and r.moment >= got + skew.get(r.terminal_id, timedelta()) + timedelta(seconds=1)
    ]
    return Check(
        "no terminal accepted a card after the hotlist naming it reached the terminal",
        not late,
        f"{len(late)} records, e.g. {late[0].hex() if late else ''}",
    )


def period_closed(
    genuine: Mapping[bytes, TransactionRecord],
    cleared: Set[bytes],
    held: Set[bytes],
    hotlisted: Set[bytes],
    in_transit: Set[bytes],
    in_terminals: int,
) -> Check:
    """After the last night every committed record is settled once; only a hotlisted card's
    records stay held (the operator refuses them), and no upload or terminal still holds one."""
    not_settled = [
        k for k, g in genuine.items() if k not in cleared and not (k in held and g.asn in hotlisted)
    ]
    return Check(
        "at the period's close every committed record is settled once (hotlisted ones held)",
        not not_settled and not in_transit and in_terminals == 0,
        f"{len(not_settled)} not settled, {len(in_transit)} in transit, {in_terminals} in terminals",
    )
