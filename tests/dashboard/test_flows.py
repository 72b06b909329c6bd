"""Settlement flows reconcile with the months' money over any period (`flows_of`)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from sim.rollout.result import Flow, MonthRow
from sim.rollout.sites import ACQUIRER, OPERATOR, RESERVE, flows_of
from tests.dashboard.test_units import small_result

ACQUIRER_SHARE = 0.2  # of the gross fees


def _net(flows: tuple[Flow, ...]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for f in flows:
        assert f.amount_fen > 0 and f.payer != f.payee, f
        net[f.payer] -= f.amount_fen
        net[f.payee] += f.amount_fen
    return dict(net)


def _into(flows: tuple[Flow, ...], payee: str) -> int:
    return sum(f.amount_fen for f in flows if f.payee == payee)


def _out_of(flows: tuple[Flow, ...], payer: str) -> int:
    return sum(f.amount_fen for f in flows if f.payer == payer)


def check_period(rows: tuple[MonthRow, ...], gross_fen: int, acquirer_fen: int) -> None:
    flows = flows_of(rows, gross_fen, acquirer_fen)
    loads = sum(r.loads_fen for r in rows)
    spending = sum(r.card_spending_fen for r in rows)
    fees = sum(r.fees_fen for r in rows)
    net = _net(flows)
    assert sum(net.values()) == 0  # every position nets to zero, the reserve's included
    assert _into(flows, RESERVE) == loads  # the load channels pay the reserve the period's loads
    assert _out_of(flows, RESERVE) == spending  # the reserve pays out the period's spending
    assert net[RESERVE] == loads - spending  # what it keeps is the float's growth
    assert net.get(OPERATOR, 0) == fees  # the operator keeps its fees, the acquirer its cut
    assert net.get(ACQUIRER, 0) == pytest.approx(fees * ACQUIRER_SHARE / (1 - ACQUIRER_SHARE), abs=len(rows))


def test_flows_reconcile_over_any_period() -> None:
    rows = small_result().months
    gross, acquirer = 1_000_000, round(1_000_000 * ACQUIRER_SHARE)
    for start, end in ((0, 1), (0, 30), (5, 17), (29, 30), (12, 24)):
        check_period(rows[start:end], gross, acquirer)
    flows = flows_of(rows[3:4], gross, acquirer)
    # month 4: loads 4.4M fen from bank-a, the only payer; bus-co the only accepting participant
    assert {(f.payer, f.payee) for f in flows} == {
        ("bank-a", RESERVE),
        (RESERVE, "bus-co"),
        (RESERVE, OPERATOR),
        (OPERATOR, ACQUIRER),
    }
    assert _into(flows, RESERVE) == rows[3].loads_fen == 4_400_000
    assert flows_of((), gross, acquirer) == ()


def test_a_real_run_reconciles_month_by_month() -> None:
    """The engine's flows for a real run: the whole run and each month balance to the fen."""
    from scenarios.rollout_loader import load_rollout, shipped
    from sim.rollout import run_rollout

    result = run_rollout(load_rollout(shipped()["hangzhou-2004-2009"]), sample=0.0001)
    rows = result.months
    assert _into(result.flows, RESERVE) == sum(r.loads_fen for r in rows)
    assert _out_of(result.flows, RESERVE) == sum(r.card_spending_fen for r in rows)
    assert sum(_net(result.flows).values()) == 0
    gross = _into(result.flows, OPERATOR)
    acquirer = _into(result.flows, ACQUIRER)
    for i in range(len(rows)):
        flows = flows_of(rows[i : i + 1], gross, acquirer)
        assert _into(flows, RESERVE) == rows[i].loads_fen
        kept = _net(flows).get(RESERVE, 0)
        assert kept == rows[i].loads_fen - rows[i].card_spending_fen
        if i and rows[i].loads_fen > 0:
            # the reserve holds the float (the engine clamps a month's loads at 0, and then the
            # float may fall by more than the spending: an engine figure, not a flow)
            assert kept == rows[i].float_fen - rows[i - 1].float_fen


def test_the_flows_view_check_line_adds_up() -> None:
    from dashboard import settle

    r = small_result()
    check = settle.reconciliation(r, 4, 9)
    rows = r.months[4:10]
    assert check["into_reserve_fen"] == check["loads_fen"] == sum(x.loads_fen for x in rows)
    assert check["out_of_reserve_fen"] == check["spending_fen"] == sum(x.card_spending_fen for x in rows)
    assert check["reserve_kept_fen"] == check["loads_fen"] - check["spending_fen"]
    assert sum(settle.positions(settle.period_flows(r, 4, 9)).values()) == 0
