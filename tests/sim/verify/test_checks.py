"""The campaign's checks as pure functions: a consistent set of figures passes, and a figure
put wrong on purpose is reported with the figures that disagree."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from model.backoffice import Reason, record_key
from model.records import TransactionRecord, TxType
from model.records.batch import encode_record
from model.security.crypto import Algorithm
from sim.verify.checks import (
    BankBooks,
    Check,
    bank_accounts,
    banks_against_books,
    cleared_once,
    database_intact,
    held_for_review,
    holds_explained,
    hotlist_honoured,
    in_transit_fen,
    money_conserved,
    never_back,
    no_clones,
    period_closed,
    reconciliation,
    records_accounted,
    settled_once,
    settlement_nets,
    violations,
)

BUS = bytes.fromhex("000000000101")
KIOSK = bytes.fromhex("000000000901")
NOON = datetime(2026, 11, 24, 12, 0, 0)


def _record(
    card: int, counter: int, amount_fen: int, tx_type: TxType = TxType.EP_PURCHASE, terminal: bytes = BUS
) -> TransactionRecord:
    before = 10_000
    after = before + amount_fen if tx_type.is_load else before - amount_fen
    return TransactionRecord(
        asn=card.to_bytes(8, "big"),
        counter=counter,
        amount_fen=amount_fen,
        tx_type=tx_type,
        terminal_id=terminal,
        terminal_serial=counter,
        moment=NOON + timedelta(minutes=counter),
        balance_before_fen=before,
        balance_after_fen=after,
        tac=b"\x01\x02\x03\x04",
        algorithm=Algorithm.DES3,
        key_index=1,
    )


def _key(r: TransactionRecord) -> bytes:
    return record_key(r.asn, r.tx_type, r.counter)


def _book(*records: TransactionRecord) -> dict[bytes, TransactionRecord]:
    return {_key(r): r for r in records}


def _row(r: TransactionRecord) -> tuple[bytes, int, bytes, int]:
    return (_key(r), r.amount_fen, r.terminal_id, r.terminal_serial)


def test_violations_name_the_day_and_keep_only_the_failed_checks() -> None:
    checks = [Check("a", True, "fine"), Check("b", False, "3 vs 4")]
    assert violations(2, checks) == ["day 2: b: 3 vs 4"]


def test_small_checks_report_their_figures() -> None:
    assert database_intact("ok").ok
    assert database_intact("*** in database main ***") == Check(
        "clearing database intact after SIGKILL", False, "*** in database main ***"
    )
    assert settlement_nets([300, -200, -100]).ok
    assert settlement_nets([300, -200]) == Check("settlement positions net to zero", False, "sum 100")
    assert settled_once(0, 0).ok
    assert settled_once(2, 1).detail == "2 unsettled, 1 settled without a record"
    assert not settled_once(0, 1).ok
    assert no_clones([]).ok
    assert no_clones(["card 01: cloned card", "card 02: cloned card"]) == Check(
        "no genuine card flagged as a clone", False, "card 01: cloned card"
    )
    assert reconciliation([("float", 5, 5), ("batches", 7, 9)]) == [
        Check("reconciliation: float", True, "5 vs 5"),
        Check("reconciliation: batches", False, "7 vs 9"),
    ]


def test_cleared_records_that_match_the_cards_pass() -> None:
    a, b = _record(1, 1, 200), _record(2, 1, 300)
    assert all(c.ok for c in cleared_once([_row(a), _row(b)], _book(a, b)))


def test_a_record_cleared_twice_or_not_as_the_card_made_it_is_reported() -> None:
    a, b, c = _record(1, 1, 200), _record(2, 1, 300), _record(3, 1, 400)
    altered = (_key(b), 301, b.terminal_id, b.terminal_serial)  # one fen more than the card paid
    made_up = _row(c)  # no card made it
    twice, genuine = cleared_once([_row(a), _row(a), altered, made_up], _book(a, b))
    assert (twice.ok, twice.detail) == (False, "1 keys")
    assert (genuine.ok, genuine.detail) == (False, f"2 records, e.g. {_key(b).hex()}")


def test_held_figures_count_only_what_may_yet_be_paid() -> None:
    load = _record(1, 5, 5_000, TxType.EP_LOAD, KIOSK)
    ride = _record(2, 3, 200)
    forged = _record(3, 4, 9_999)
    made_up = _record(4, 1, 700)  # a dishonest terminal's no-proof claim: no card made it
    rows = [
        (encode_record(load), Reason.NO_PROOF.value),
        (encode_record(ride), Reason.COUNTER_GAP.value),
        (encode_record(forged), Reason.FORGED_TAC.value),  # never paid: no card's money
        (encode_record(made_up), Reason.NO_PROOF.value),
    ]
    genuine = {_key(r): r for r in (load, ride, forged)}
    held = held_for_review(rows, {KIOSK: "load-ICBC"}.__getitem__, genuine)
    assert held.keys == {_key(load), _key(ride)}
    assert held.net_fen == 5_000 - 200
    assert dict(held.loads_fen) == {"load-ICBC": 5_000}


def test_every_hold_is_a_cards_or_a_known_forgery() -> None:
    ride, made_up, stray = _record(1, 1, 200), _record(2, 1, 700), _record(3, 1, 900)
    genuine = {_key(ride): ride}
    rows = [(encode_record(ride), "duplicate"), (encode_record(made_up), "no-proof")]
    assert holds_explained(rows, genuine, {encode_record(made_up)}).ok
    check = holds_explained([*rows, (encode_record(stray), "no-proof")], genuine, {encode_record(made_up)})
    assert (check.ok, check.detail) == (False, f"1 unexplained, e.g. no-proof {stray.asn.hex()}/1")


def test_every_record_in_exactly_one_place() -> None:
    a, b, c = (_key(_record(n, 1, 100)) for n in (1, 2, 3))
    assert all(check.ok for check in records_accounted([a, b, c], {a}, {b}, {c}))
    both, lost = records_accounted([a, b, c], {a, b}, {b}, set())
    assert (both.ok, both.detail) == (False, "1 keys")
    assert (lost.ok, lost.detail) == (False, f"1 lost, e.g. {c.hex()}")


def test_money_in_transit_is_the_signed_sum_of_uploads_not_yet_ingested() -> None:
    load = _record(1, 1, 1_000, TxType.EP_LOAD, KIOSK)
    ride = _record(1, 2, 300)
    cleared_ride = _record(2, 1, 700)
    genuine = _book(load, ride, cleared_ride)
    # The cleared one's duplicate is still on its way: its money is already in the float.
    in_transit = {_key(load), _key(ride), _key(cleared_ride)}
    assert in_transit_fen(genuine, {_key(cleared_ride)}, set(), in_transit) == 1_000 - 300


def test_money_conserved_reports_every_term() -> None:
    figures = dict(float_fen=1_000, held_fen=-50, terminals_fen=30, transit_fen=20)
    assert money_conserved(cards_fen=1_000, **figures).ok
    minted = money_conserved(cards_fen=1_100, **figures)
    assert not minted.ok
    assert minted.detail == "cards 1100, float 1000, held -50, terminals 30, transit 20"


def test_banks_that_make_or_lose_money_are_reported() -> None:
    icbc = BankBooks("ICBC", "load-ICBC", opened_fen=2_000, balances_fen=1_500, captured_fen=500)
    boc = BankBooks("BOC", "load-BOC", opened_fen=2_000, balances_fen=1_500, captured_fen=507)
    accounts = bank_accounts([icbc, boc])
    assert [c.ok for c in accounts] == [True, False]
    assert accounts[1] == Check("bank BOC: accounts + paid out = opened", False, "2007 vs 2000")
    books = banks_against_books([icbc, boc], {"load-ICBC": 400, "load-BOC": 507}, {"load-ICBC": 100})
    assert [c.ok for c in books] == [True, True]
    short = banks_against_books([icbc], {"load-ICBC": 400}, {})
    assert short == [
        Check(
            "bank ICBC: captured for loads = cleared + held loads of load-ICBC",
            False,
            "captured 500, cleared 400, held 0",
        )
    ]


def test_counters_and_serials_that_go_back_are_counted() -> None:
    before = np.array([[3, 5, 0], [1, 1, 0]], np.int64)
    assert all(c.ok for c in never_back(before, before + 1, {BUS: 7}, {BUS: 7, KIOSK: 1}))
    now = np.array([[2, 5, 0], [1, 0, 0]], np.int64)
    counters, serials = never_back(before, now, {BUS: 7, KIOSK: 2}, {BUS: 6, KIOSK: 2})
    assert (counters.ok, counters.detail) == (False, "2 counters went back")
    assert (serials.ok, serials.detail) == (False, "1 serials went back")


def test_a_card_accepted_after_the_hotlist_reached_the_terminal_is_reported() -> None:
    r = _record(1, 10, 200)  # dated NOON + 10 min by the terminal's clock
    genuine = _book(r)
    heard = {(BUS, r.asn): r.moment - timedelta(minutes=5)}
    late = hotlist_honoured(genuine, heard, {})
    assert (late.ok, late.detail) == (False, f"1 records, e.g. {_key(r).hex()}")
    # The same tap by a terminal whose clock runs 10 minutes fast came before the list.
    assert hotlist_honoured(genuine, heard, {BUS: timedelta(minutes=10)}).ok
    # Within the second the list arrived the tap may have been under way.
    assert hotlist_honoured(genuine, {(BUS, r.asn): r.moment - timedelta(milliseconds=500)}, {}).ok
    assert hotlist_honoured(genuine, {(KIOSK, r.asn): r.moment - timedelta(hours=1)}, {}).ok


def test_the_period_closes_with_only_hotlisted_cards_held() -> None:
    paid, lost_card = _record(1, 1, 200), _record(2, 1, 300)
    genuine = _book(paid, lost_card)
    cleared, held = {_key(paid)}, {_key(lost_card)}
    assert period_closed(genuine, cleared, held, {lost_card.asn}, set(), 0).ok
    unpaid = period_closed(genuine, cleared, held, set(), set(), 0)
    assert (unpaid.ok, unpaid.detail) == (False, "1 not settled, 0 in transit, 0 in terminals")
    stuck = period_closed(genuine, cleared, held, {lost_card.asn}, {_key(paid)}, 2)
    assert (stuck.ok, stuck.detail) == (False, "0 not settled, 1 in transit, 2 in terminals")
