"""Fees and the daily T+1 settlement over records cleared from real card transactions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from devices.card_os import CardOS
from devices.sim_channel import SimChannel
from model.backoffice.fees import FeeError, FeeSchedule, SectorFee, load_fee_schedule
from model.backoffice.registry import Sector
from model.backoffice.settlement import SettlementError
from model.security.keys import IssuerKeys
from model.terminal.load import LoadTerminal
from model.terminal.purchase import PurchaseTerminal
from tests.backoffice_kit import batch, office
from tests.conftest import MOMENT

Maker = Callable[..., tuple[CardOS, SimChannel]]
DAY = MOMENT.date()


def test_fee_is_basis_points_rounded_half_up_plus_fixed_per_record() -> None:
    fees = FeeSchedule({Sector.BUS: SectorFee(fee_bp=50), Sector.RETAIL: SectorFee(fee_bp=60, fixed_fen=2)})
    assert fees.fee_fen(Sector.BUS, 1_000, 3) == 5
    assert fees.fee_fen(Sector.BUS, 101, 1) == 1  # 0.505 fen rounds up
    assert fees.fee_fen(Sector.BUS, 99, 1) == 0  # 0.495 fen rounds down
    assert fees.fee_fen(Sector.RETAIL, 10_000, 4) == 60 + 8
    assert fees.fee_fen(Sector.RETAIL, 5, 4) == 5  # never more than the gross
    assert fees.fee_fen(Sector.TAXI, 10_000, 1) == 0  # a sector left out pays nothing


def test_fee_schedule_rejects_nonsense(tmp_path: Path) -> None:
    with pytest.raises(FeeError):
        SectorFee(fee_bp=10_001)
    with pytest.raises(FeeError, match="recharge points"):
        FeeSchedule({Sector.LOAD: SectorFee(fee_bp=10)})
    path = tmp_path / "fees.toml"
    path.write_text("[bus]\nfee_bp = 40\nfixed_fen = 1\n[metro]\nfee_bp = 30\n", encoding="utf-8")
    fees = load_fee_schedule(path)
    assert fees.fee_fen(Sector.BUS, 10_000, 2) == 42 and fees.fee_fen(Sector.METRO, 10_000, 9) == 30
    path.write_text("[boats]\nfee_bp = 1\n", encoding="utf-8")
    with pytest.raises(FeeError, match=r"\[boats\] is not a sector"):
        load_fee_schedule(path)
    path.write_text("[bus]\nfee_bp = 1.5\n", encoding="utf-8")
    with pytest.raises(FeeError, match="must be integers"):
        load_fee_schedule(path)


def test_t_plus_one_settlement_nets_to_zero_and_flattens_the_books(
    make_card: Maker,
    load_terminal: LoadTerminal,
    purchase_terminal: PurchaseTerminal,
    issuer_keys: IssuerKeys,
    tmp_path: Path,
) -> None:
    back = office(tmp_path, issuer_keys)
    loads, rides = [], []
    for n in range(3):
        _, channel = make_card(asn_int=n + 1, seed=n)
        loads.append(load_terminal.load(channel, 5_000, MOMENT))
        rides += [
            purchase_terminal.purchase(channel, 182, MOMENT + timedelta(minutes=k + 1)) for k in range(4)
        ]
    back.clearing.ingest_file(batch(loads), "loads.ctb", DAY)
    back.clearing.ingest_file(batch(rides[:8]), "bus1.ctb", DAY)

    same_day = back.settlement.run(DAY)  # T+0: today's records wait for tomorrow
    assert same_day.items == 0 and same_day.lines == []

    report = back.settlement.run(DAY + timedelta(days=1))
    assert report.items == 3 + 8
    lines = {line.participant: line for line in report.lines}
    gross = 8 * 182
    fee = (gross * 50 + 5_000) // 10_000  # the default bus fee: 50 bp
    assert (lines["bus"].gross_fen, lines["bus"].fee_fen, lines["bus"].position_fen) == (
        gross,
        fee,
        gross - fee,
    )
    assert lines["window"].position_fen == -15_000
    assert report.reserve_position_fen + sum(line.position_fen for line in report.lines) == 0
    assert report.instructions == {"ICBC": gross - fee, "HZB": -15_000}
    ledger = back.ledger
    assert ledger.balances("bank:") == {"bank:HZB": 0, "bank:ICBC": 0}
    assert ledger.balance("payable:bus") == 0 and ledger.balance("receivable:window") == 0
    assert ledger.balance("fees") == -fee
    assert ledger.balance("reserve") == 15_000 - (gross - fee)

    # A late upload of yesterday's rides settles in the next run, once.
    back.clearing.ingest_file(batch(rides[8:], seq=2), "bus2.ctb", DAY + timedelta(days=2))
    late = back.settlement.run(DAY + timedelta(days=2))
    assert late.items == 4 and late.lines[0].gross_fen == 4 * 182
    assert back.settlement.run(DAY + timedelta(days=3)).items == 0
    with pytest.raises(SettlementError, match="already run"):
        back.settlement.run(DAY + timedelta(days=1))
    settled = ledger.db.execute("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM settled").fetchone()
    assert settled == (15, 15)
    ledger.check()
    text = "\n".join(report.text())
    assert "reserve pays ICBC" in text and "HZB pays reserve 150.00" in text
