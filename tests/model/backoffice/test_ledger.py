"""The double-entry ledger: balanced postings only, append-only, corrections by reversal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from model.backoffice.ledger import Ledger, LedgerError, open_database


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(open_database(tmp_path / "ledger.db"))


def test_database_is_in_wal_mode(ledger: Ledger) -> None:
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_balanced_posting_moves_balances(ledger: Ledger) -> None:
    with ledger.transaction():
        ledger.post(20261123, "load", [("receivable:window", 5_000), ("float", -5_000)])
        ledger.post(20261123, "bus", [("float", 182), ("payable:bus", -182)])
    assert ledger.balance("float") == -4_818
    assert ledger.balances("payable:") == {"payable:bus": -182}
    assert ledger.balance("nothing") == 0
    ledger.check()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([("float", 100), ("payable:bus", -99)], "sum to 1 fen"),
        ([("float", 0)], "no non-zero entries"),
        ([("float", 1.5), ("payable:bus", -1.5)], "not integer fen"),
        ([("float", True), ("payable:bus", -1)], "not integer fen"),
        ([("", 1), ("payable:bus", -1)], "account name"),
    ],
)
def test_bad_postings_are_refused(ledger: Ledger, lines: list[tuple[str, int]], message: str) -> None:
    with pytest.raises(LedgerError, match=message), ledger.transaction():
        ledger.post(20261123, "bad", lines)
    assert ledger.balances() == {}


def test_posting_outside_a_transaction_is_a_bug(ledger: Ledger) -> None:
    with pytest.raises(AssertionError):
        ledger.post(20261123, "loose", [("a", 1), ("b", -1)])


def test_entries_and_postings_cannot_be_changed_or_deleted(ledger: Ledger) -> None:
    with ledger.transaction():
        ledger.post(20261123, "load", [("reserve", 5_000), ("float", -5_000)])
    for sql in (
        "UPDATE entries SET amount_fen = 1",
        "DELETE FROM entries",
        "UPDATE postings SET memo = 'x'",
        "DELETE FROM postings",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            ledger.db.execute(sql)
    assert ledger.balance("float") == -5_000


def test_correction_is_a_reversing_posting_made_once(ledger: Ledger) -> None:
    with ledger.transaction():
        wrong = ledger.post(20261123, "bus, wrong fare", [("float", 200), ("payable:bus", -200)])
        ledger.post(20261123, "bus, right fare", [("float", 182), ("payable:bus", -182)])
        ledger.reverse(wrong, 20261124, "wrong fare")
    assert ledger.balance("payable:bus") == -182
    count = ledger.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    assert count == 6  # nothing was deleted
    with pytest.raises(LedgerError, match="already reversed"), ledger.transaction():
        ledger.reverse(wrong, 20261124, "twice")
    with pytest.raises(LedgerError, match="no posting 999"), ledger.transaction():
        ledger.reverse(999, 20261124, "ghost")


def test_a_failed_transaction_leaves_no_trace(ledger: Ledger) -> None:
    with pytest.raises(LedgerError), ledger.transaction():
        ledger.post(20261123, "good", [("reserve", 10), ("float", -10)])
        ledger.post(20261123, "bad", [("reserve", 10), ("float", -9)])
    assert ledger.balances() == {}


def test_unopenable_database_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-db"
    path.write_bytes(b"this is not sqlite" * 200)
    with pytest.raises(LedgerError, match="cannot open the clearing database"):
        Ledger(open_database(path))
