"""The day's books: opening balances are an opening float carried in, not loads, so the day's
settlement moves exactly the day's money (issue 20)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from model.backoffice import ClearingError, Ledger, book_opening_float, open_database, opening_float_fen
from model.records import RECORD_SIZE, decode_record
from scenarios.schema import load
from sim.day.shards import run_day

SMALL = load().replace(sample=0.0004)


def _sums(db: sqlite3.Connection) -> dict[str, int]:
    cleared_loads, cleared_purchases = db.execute(
        "SELECT COALESCE(SUM(CASE WHEN tx_type IN (1, 2) THEN amount_fen END), 0), "
        "COALESCE(SUM(CASE WHEN tx_type NOT IN (1, 2) THEN amount_fen END), 0) FROM records "
        "WHERE length(key) = 11"
    ).fetchone()
    held_loads = held_purchases = 0
    for (raw,) in db.execute(
        "SELECT raw FROM quarantine WHERE raw IS NOT NULL AND length(raw) = ? AND id NOT IN "
        "(SELECT quarantine_id FROM releases) AND id NOT IN (SELECT quarantine_id FROM rejections)",
        (RECORD_SIZE,),
    ):
        record = decode_record(bytes(raw), "held", check_crc=False)
        if record.is_load:
            held_loads += record.amount_fen
        else:
            held_purchases += record.amount_fen
    account = dict(db.execute("SELECT account, SUM(amount_fen) FROM entries GROUP BY account").fetchall())
    return {
        "cleared_loads": int(cleared_loads),
        "cleared_purchases": int(cleared_purchases),
        "held_loads": held_loads,
        "held_purchases": held_purchases,
        "opening": int(account.get("opening", 0)),
        "float": -int(account.get("float", 0)),
    }


def test_settlement_moves_the_days_real_loads_and_purchases_to_the_fen(tmp_path: Path) -> None:
    db_path = tmp_path / "clearing.sqlite"
    run = run_day(SMALL, clearing_db=db_path)
    closing = run.closing()
    assert run.settlement is not None and run.night_checks and all(c.ok for c in run.night_checks)
    with sqlite3.connect(db_path) as db:
        books = _sums(db)
    settled_loads = sum(line.loads_fen for line in run.settlement.lines)
    settled_purchases = sum(line.gross_fen for line in run.settlement.lines)
    # The opening float is the cards' balances from before the day, on its own account.
    assert closing.opening_float_fen > 10 * closing.loads_fen > 0  # a float far above a day's loads
    assert books["opening"] == closing.opening_float_fen
    # Settlement is the day's money: what cleared, and nothing of the opening balances.
    assert settled_loads == books["cleared_loads"]
    assert settled_purchases == books["cleared_purchases"]
    # Recharge points upload online by the day's end: every real load is settled or held.
    assert settled_loads + books["held_loads"] == closing.loads_fen
    # Purchases still in terminals (a bus's last shift) wait for their upload, to the fen.
    in_terminals = closing.purchases_fen - settled_purchases - books["held_purchases"]
    assert in_terminals >= 0 and -in_terminals == closing.held_net_fen
    # The float closes at opening + loads - purchases, in the books and on the cards.
    assert books["float"] == books["opening"] + books["cleared_loads"] - books["cleared_purchases"]
    assert closing.closing_float_fen == closing.opening_float_fen + closing.loads_fen - closing.purchases_fen
    held_net = books["held_loads"] - books["held_purchases"]
    assert books["float"] + held_net + closing.held_net_fen == closing.closing_float_fen


def test_the_opening_float_is_booked_once_and_refuses_another_amount(tmp_path: Path) -> None:
    ledger = Ledger(open_database(tmp_path / "c.db"))
    day = date(2026, 11, 24)
    assert book_opening_float(ledger, day, 123_456) is True
    assert book_opening_float(ledger, day, 123_456) is False  # a rerun books nothing twice
    assert opening_float_fen(ledger) == 123_456 and ledger.balance("float") == -123_456
    with pytest.raises(ClearingError, match="booked already"):
        book_opening_float(ledger, day, 999)
    for bad in (-1, 10**16, 1.5, True):
        with pytest.raises(ClearingError, match="opening float"):
            book_opening_float(ledger, day, bad)  # type: ignore[arg-type]
    ledger.check()
