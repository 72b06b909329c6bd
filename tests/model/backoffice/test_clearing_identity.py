"""Issue 13, defects 1-3: a transaction identity no terminal can forge, one post per identity
even past a bypassed writer lock, no-proof records that take nothing. Records are made by real
card transactions; the dishonest terminal edits its own uploads (the CRCs are recomputed by
`write_batch`, as an operator with the format would)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.psam import Psam
from devices.sim_channel import SimChannel
from model.backoffice import (
    ClearingError,
    ClearingHouse,
    Ledger,
    Reason,
    TacVerifier,
    open_database,
    reconcile,
)
from model.backoffice.registry import TerminalEntry
from model.records.batch import write_batch
from model.records.record import TransactionRecord
from model.security.keys import IssuerKeys, IssuerKeyStore, KeyUsage
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import CLEARING_DAY, batch, office, registry
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]
SHOP = bytes.fromhex("000000000102")


def _shop(issuer_keys: IssuerKeys) -> PurchaseTerminal:
    keys = IssuerKeyStore(issuer_keys, frozenset({KeyUsage.PURCHASE, KeyUsage.MAINTENANCE}))
    return PurchaseTerminal(SimChannel(Psam(SHOP, keys)))


def _reasons(quarantined: list[tuple[Reason, str]]) -> list[Reason]:
    return [reason for reason, _ in quarantined]


def _rides(
    make_card: Maker, bus: PurchaseTerminal, shop: PurchaseTerminal
) -> tuple[TransactionRecord, TransactionRecord]:
    card, channel = make_card(asn_int=1)
    card.state.ep_balance_fen = 10_000
    ride = bus.purchase(channel, 182, MOMENT + timedelta(minutes=1))
    coffee = shop.purchase(channel, 1_500, MOMENT + timedelta(minutes=9))
    assert coffee.counter == ride.counter + 1
    return ride, coffee


def test_a_re_encoded_counter_is_held_as_serial_reused_and_the_next_genuine_record_clears(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    back.clearing.registry.register(TerminalEntry(SHOP, SHOP, "bus"))
    ride, coffee = _rides(make_card, purchase_terminal, _shop(issuer_keys))
    assert back.clearing.ingest_file(batch([ride]), "bus-1.ctb", CLEARING_DAY).posted == 1
    resent = replace(ride, counter=ride.counter + 1)  # the TAC does not cover the counter
    report = back.clearing.ingest_file(batch([resent], seq=2), "bus-2.ctb", CLEARING_DAY)
    assert report.posted == 0 and _reasons(report.quarantined) == [Reason.SERIAL_REUSED]
    assert len(report.alerts) == 1 and "already cleared with other card fields" in report.alerts[0]
    assert back.ledger.db.execute("SELECT kind FROM alerts").fetchall() == [("serial-reused",)]
    genuine = back.clearing.ingest_file(batch([coffee]), "shop.ctb", CLEARING_DAY)
    assert genuine.posted == 1 and genuine.quarantined == []
    assert back.ledger.balance("payable:bus") == -(182 + 1_500)
    qid = back.clearing.held()[0][0]
    with pytest.raises(ClearingError, match=r"\(serial-reused\): a serial-reused record can never be posted"):
        back.clearing.release(qid, "operator insists", CLEARING_DAY)
    back.clearing.reject(qid, "re-encoded copy of bus-1.ctb record 0")
    assert back.clearing.held() == []
    with pytest.raises(ClearingError, match="already rejected"):
        back.clearing.reject(qid, "again")


def test_whichever_copy_arrives_first_the_serial_pays_once_and_the_genuine_next_is_not_condemned(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    back.clearing.registry.register(TerminalEntry(SHOP, SHOP, "bus"))
    ride, coffee = _rides(make_card, purchase_terminal, _shop(issuer_keys))
    forged_first = replace(ride, counter=ride.counter + 1)
    first = back.clearing.ingest_file(batch([forged_first]), "bus-1.ctb", CLEARING_DAY)
    assert _reasons(first.quarantined) == [Reason.COUNTER_GAP]  # counter 0 not seen yet: waits
    second = back.clearing.ingest_file(batch([ride], seq=2), "bus-2.ctb", CLEARING_DAY)
    # The genuine copy arrives second: its serial is spent, so it is the one held (and alerted).
    assert _reasons(second.quarantined) == [Reason.SERIAL_REUSED] and len(second.alerts) == 1
    coffee_report = back.clearing.ingest_file(batch([coffee]), "shop.ctb", CLEARING_DAY)
    # The coffee's counter was taken by the re-encoded ride: held, alerted, never a duplicate.
    assert _reasons(coffee_report.quarantined) == [Reason.COUNTER_CONFLICT]
    assert "re-encoded counter or a cloned card" in coffee_report.alerts[0]
    held = {reason: qid for qid, reason, _ in back.clearing.held()}
    back.clearing.release(
        held["counter-conflict"], "shop receipt matches; bus terminal re-encoded", CLEARING_DAY
    )
    back.clearing.release(held["counter-gap"], "serial proven by TAC", CLEARING_DAY)
    # Each proven transaction paid once: the ride (under its re-encoded counter) and the coffee.
    assert back.ledger.balance("payable:bus") == -(182 + 1_500)
    assert [r for _, r, _ in back.clearing.held()] == ["serial-reused"]


def test_a_forged_no_proof_record_never_takes_the_counter_of_the_genuine_one(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    ride, coffee = _rides(make_card, purchase_terminal, _shop(issuer_keys))
    back.clearing.registry.register(TerminalEntry(SHOP, SHOP, "bus"))
    assert back.clearing.ingest_file(batch([ride]), "bus-1.ctb", CLEARING_DAY).posted == 1
    # The bus operator claims the card's next counter with no proof, at a serial of its own.
    forged = replace(ride, counter=coffee.counter, terminal_serial=ride.terminal_serial + 1, tac=b"")
    held = back.clearing.ingest_file(batch([forged], seq=2), "bus-2.ctb", CLEARING_DAY)
    assert _reasons(held.quarantined) == [Reason.NO_PROOF]
    qid = back.clearing.held()[0][0]
    genuine = back.clearing.ingest_file(batch([coffee]), "shop.ctb", CLEARING_DAY)
    assert genuine.posted == 1 and genuine.quarantined == []
    # The genuine record answers the hold: closed by the house, with the reason, and alerted.
    assert genuine.superseded == 1 and back.clearing.held() == []
    assert genuine.alerts == [
        f"serial-reused: no-proof quarantine {qid} contradicts a TAC-proven record: card "
        f"{ride.asn.hex()} counter {coffee.counter} cleared with a valid TAC"
    ]
    notes = back.ledger.db.execute("SELECT note FROM rejections WHERE quarantine_id = ?", (qid,)).fetchall()
    assert notes == [
        (f"superseded: card {ride.asn.hex()} counter {coffee.counter} cleared with a valid TAC",)
    ]
    with pytest.raises(ClearingError, match=f"quarantine {qid} is already rejected"):
        back.clearing.release(qid, "terminal says it was real", CLEARING_DAY)
    assert back.ledger.balance("payable:bus") == -(182 + 1_500)


@pytest.mark.parametrize("together", [False, True], ids=["two-files", "one-file"])
def test_a_no_proof_copy_is_closed_when_the_proven_record_of_the_same_transaction_clears(
    make_card: Maker,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    tmp_path: Path,
    together: bool,
) -> None:
    # verify seed 121: a terminal sent a purchase committed without proof, then the same
    # purchase with its TAC. The no-proof hold was left undecided for good: counted both
    # cleared and held, and a reviewer's release refused.
    back = office(tmp_path, issuer_keys)
    ride, _ = _rides(make_card, purchase_terminal, _shop(issuer_keys))
    unproven = replace(ride, tac=b"")
    if together:
        reports = [back.clearing.ingest_file(batch([unproven, ride]), "bus-1.ctb", CLEARING_DAY)]
    else:
        reports = [
            back.clearing.ingest_file(batch([unproven]), "bus-1.ctb", CLEARING_DAY),
            back.clearing.ingest_file(batch([ride], seq=2), "bus-2.ctb", CLEARING_DAY),
        ]
    assert _reasons(reports[0].quarantined)[0] is Reason.NO_PROOF
    assert sum(r.posted for r in reports) == 1 and reports[-1].superseded == 1
    assert [a for r in reports for a in r.alerts] == []  # the same transaction: nobody lied
    assert back.clearing.held() == []
    assert back.ledger.db.execute("SELECT note FROM rejections").fetchall() == [
        (
            f"superseded: PSAM serial {ride.terminal_serial} of {ride.terminal_id.hex()} cleared with a "
            "valid TAC: that record is this transaction",
        )
    ]
    assert back.ledger.balance("payable:bus") == -182
    back.close()
    reopened = office(tmp_path, issuer_keys)  # a restart rebuilds the same memory from the rows
    assert reopened.clearing.held() == [] and reopened.clearing.spent.no_proof == {}


def test_the_identity_indexes_refuse_a_double_post_when_the_lock_is_bypassed(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    card, channel = make_card(asn_int=1)
    card.state.ep_balance_fen = 10_000
    rides = [purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=k)) for k in range(3)]
    db_path = tmp_path / "clearing.db"
    verifier = TacVerifier(IssuerKeyStore(issuer_keys, frozenset({KeyUsage.TAC})))
    # Two houses over two connections, no writer lock: each remembers only what it saw at open.
    houses = [ClearingHouse(Ledger(open_database(db_path)), registry(), verifier) for _ in range(2)]
    assert houses[0].ingest_file(batch(rides), "bus.ctb", CLEARING_DAY).posted == 3
    resent = write_batch(rides[0].terminal_id, rides[0].terminal_id, 1, MOMENT.replace(hour=22), rides)
    report = houses[1].ingest_file(resent, "bus-resent.ctb", CLEARING_DAY)
    assert report.posted == 0 and _reasons(report.quarantined) == [Reason.DUPLICATE] * 3
    ledger = houses[0].ledger
    assert ledger.balance("payable:bus") == -3 * 182
    assert ledger.db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 3
    text = reconcile(ledger, registry()).text()
    assert "  ok       records cleared twice (count): 0 vs 0" in text  # a count, not money
