"""Several batch files in one transaction (`ClearingHouse.ingest_files`): a bad file in the middle of
a group costs only itself, a failure rolls the group back whole, and a rerun clears each record
exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.backoffice import holds as holds_module
from model.backoffice.clearing import ClearingError, groups
from model.backoffice.terms import Reason
from model.security.keys import IssuerKeys
from model.terminal.purchase import PurchaseTerminal
from sim.day.back_office import BackOffice
from tests.backoffice_kit import CLEARING_DAY, batch, office
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]
FARE = 182


def _three_files(
    make_card: Maker, purchase_terminal: PurchaseTerminal, middle: str
) -> list[tuple[str, bytes]]:
    """Rides 0-1, a bad file, rides 2-3: the good files hold every genuine record."""
    _, channel = make_card(asn_int=1)
    channel.chip.state.ep_balance_fen = 10_000  # type: ignore[attr-defined]
    rides = [purchase_terminal.purchase(channel, FARE, MOMENT + timedelta(minutes=k + 1)) for k in range(4)]
    if middle == "corrupt":
        bad = b"\x00" * 200
    else:  # a re-encoded amount: the record CRC is made afresh, the TAC cannot be
        bad = batch(
            [replace(rides[1], amount_fen=1, balance_after_fen=rides[1].balance_before_fen - 1)], seq=2
        )
    return [("a.ctb", batch(rides[:2], seq=1)), ("b.ctb", bad), ("c.ctb", batch(rides[2:], seq=3))]


def _count(back: BackOffice, sql: str) -> int:
    return int(back.ledger.db.execute(sql).fetchone()[0])


def _assert_cleared_once(back: BackOffice) -> None:
    assert _count(back, "SELECT COUNT(*) FROM records") == 4
    assert _count(back, "SELECT COUNT(DISTINCT serial) FROM records") == 4
    assert back.ledger.balance("payable:bus") == -4 * FARE
    assert -back.ledger.balance("float") == -4 * FARE  # no load in the files: the float is owed
    back.ledger.check()


@pytest.mark.parametrize(
    ("middle", "reason"), [("corrupt", Reason.CORRUPT_BATCH), ("forged", Reason.FORGED_TAC)]
)
def test_a_bad_file_mid_group_costs_only_itself(
    middle: str,
    reason: Reason,
    make_card: Maker,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    tmp_path: Path,
) -> None:
    back = office(tmp_path, issuer_keys)
    files = _three_files(make_card, purchase_terminal, middle)
    reports = back.clearing.ingest_files(files, CLEARING_DAY)
    assert [r.posted for r in reports] == [2, 0, 2]
    assert [q for q, _ in reports[1].quarantined] == [reason]
    assert _count(back, "SELECT COUNT(*) FROM batches") == 3
    _assert_cleared_once(back)
    again = back.clearing.ingest_files(files, CLEARING_DAY)
    assert [r.already_ingested for r in again] == [True, True, True]
    _assert_cleared_once(back)
    assert [r for _, r, _ in back.clearing.held()] == [reason.value]


class _CrashingHotlist:
    """A hotlist service that fails at its n-th question (a lost connection)."""

    def __init__(self, fail_at: int) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def effective(self, asn: bytes) -> bytes | None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise ConnectionError("hotlist service went away")
        return None


def test_a_failure_in_the_last_file_rolls_the_whole_group_back_and_a_rerun_clears_once(
    make_card: Maker, purchase_terminal: PurchaseTerminal, issuer_keys: IssuerKeys, tmp_path: Path
) -> None:
    back = office(tmp_path, issuer_keys)
    files = _three_files(make_card, purchase_terminal, "forged")
    back.clearing.hotlist = _CrashingHotlist(fail_at=4)  # the second record of c.ctb
    with pytest.raises(ConnectionError):
        back.clearing.ingest_files(files, CLEARING_DAY)
    # Nothing of the group is seen: no batch row without its records, no posting.
    assert _count(back, "SELECT COUNT(*) FROM batches") == 0
    assert _count(back, "SELECT COUNT(*) FROM records") == 0
    assert _count(back, "SELECT COUNT(*) FROM quarantine") == 0
    assert back.ledger.balances() == {}
    back.clearing.hotlist = _CrashingHotlist(fail_at=-1)
    reports = back.clearing.ingest_files(files, CLEARING_DAY)
    assert [r.posted for r in reports] == [2, 0, 2]
    _assert_cleared_once(back)


def test_a_file_refused_mid_group_keeps_the_files_before_it(
    make_card: Maker,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    back = office(tmp_path, issuer_keys)
    files = _three_files(make_card, purchase_terminal, "forged")
    monkeypatch.setattr(holds_module, "QUARANTINE_MAX", 0)  # the forged record cannot be held
    with pytest.raises(ClearingError, match="quarantine would exceed"):
        back.clearing.ingest_files(files, CLEARING_DAY)
    # As when each file was its own transaction: a.ctb committed, b.ctb left whole for the rerun.
    assert [row[0] for row in back.ledger.db.execute("SELECT name FROM batches")] == ["a.ctb"]
    assert back.ledger.balance("payable:bus") == -2 * FARE
    monkeypatch.setattr(holds_module, "QUARANTINE_MAX", 10)
    reports = back.clearing.ingest_files(files, CLEARING_DAY)
    assert [r.already_ingested for r in reports] == [True, False, False]
    assert [r.posted for r in reports] == [0, 0, 2]
    _assert_cleared_once(back)


def test_groups_cut_by_files_and_bytes_in_order() -> None:
    files = [(f"{n}.ctb", b"x" * size) for n, size in enumerate([1, 1, 1, 5, 1, 1])]
    cut = [[name for name, _ in chunk] for chunk in groups(files, files_max=2, bytes_max=4)]
    assert cut == [["0.ctb", "1.ctb"], ["2.ctb", "3.ctb"], ["4.ctb", "5.ctb"]]
    alone = [[name for name, _ in chunk] for chunk in groups(files, files_max=10, bytes_max=5)]
    assert alone == [["0.ctb", "1.ctb", "2.ctb", "3.ctb"], ["4.ctb", "5.ctb"]]
