"""The services over a rollout: the medical share and park holders come from the mechanisms
(cardholders, institutions, the 2007 switch, Bass), not from the seed's figures."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenarios.schema import load
from sim.services.rollout import (
    SEED_MEDICAL_SHARE,
    SEED_PARK_HOLDERS,
    rollout_lines,
    rollout_tables,
    services_rollout,
)

REPO = Path(__file__).resolve().parents[3]
SERVICES = load().services
assert SERVICES is not None


@dataclass(frozen=True)
class Month:
    month: str
    cardholders: int
    sectors: tuple[str, ...] = ("bus", "medical")


def _months(holders_at: Callable[[int], int] = lambda i: 40_000 * i) -> list[Month]:
    out = []
    for i in range(52):  # 2004-12 .. 2009-03
        y, m = divmod(2004 * 12 + 11 + i, 12)
        out.append(Month(f"{y}-{m + 1:02d}", holders_at(i)))
    return out


def test_the_share_follows_institutions_holders_and_the_2007_switch() -> None:
    r = services_rollout(SERVICES, _months(), seed=1)
    share = dict(zip(r.months, r.medical_share[0], strict=True))
    assert share["2005-05"] == 0.0  # no institution takes the card before 2005-06
    assert 0 < share["2006-12"] < share["2007-01"]  # the card becomes the credential
    assert share["2009-03"] <= 1.0
    assert all(
        b >= a for a, b in zip(r.medical_share[0], r.medical_share[0][1:], strict=False)
    )  # holders only grow here
    point = r.band(r.medical_share, len(r.months) - 1)
    assert point[1] <= point[0] <= point[2]


def test_no_card_visits_in_months_whose_phase_has_no_medical_sector() -> None:
    months = [dataclasses.replace(m, sectors=("bus",)) if m.month < "2008-01" else m for m in _months()]
    r = services_rollout(SERVICES, months, seed=1)
    share = dict(zip(r.months, r.medical_share[0], strict=True))
    assert share["2007-12"] == 0.0 < share["2008-01"]


def test_the_seed_is_compared_only_where_the_rollout_holds_its_dates() -> None:
    short = [m for m in _months() if m.month <= "2008-06"]
    assert rollout_tables(services_rollout(SERVICES, short, seed=1))["services_vs_seed"][1] == []


def test_fewer_cardholders_give_a_lower_share_and_fewer_park_holders() -> None:
    full = services_rollout(SERVICES, _months(), seed=1)
    half = services_rollout(SERVICES, _months(lambda i: 20_000 * i), seed=1)
    assert half.medical_share[0, -1] < full.medical_share[0, -1]
    assert half.park_holders[0, -1] < full.park_holders[0, -1]
    potential = SERVICES.adoption.park_potential_share[2] * 40_000 * 51
    assert float(full.park_holders.max()) <= potential
    assert (
        full.park_holders[0, _months().index(Month("2006-12", 40_000 * 24))] == 0.0
    )  # before park_card_from


def test_the_point_figure_moves_with_an_assumption_not_with_the_seed() -> None:
    later = dataclasses.replace(
        SERVICES, adoption=dataclasses.replace(SERVICES.adoption, credential_use_share=[0.5, 0.6, 0.7])
    )
    a = services_rollout(SERVICES, _months(), seed=1)
    b = services_rollout(later, _months(), seed=1)
    assert b.medical_share[0, -1] < a.medical_share[0, -1]
    assert np.array_equal(
        services_rollout(SERVICES, _months(), seed=1).park_holders, a.park_holders
    )  # seeded
    assert not np.array_equal(
        services_rollout(SERVICES, _months(), seed=2).park_holders[1:], a.park_holders[1:]
    )


def test_the_tables_and_lines_say_the_same_figures() -> None:
    r = services_rollout(SERVICES, _months(), seed=1)
    t = rollout_tables(r)
    rows = {row[0]: row for row in t["services_months"][1]}
    assert rows["2009-03"][1] == round(float(r.medical_share[0, -1]), 4)
    compare = {row[0]: row for row in t["services_vs_seed"][1]}
    assert compare["medical_card_share"][5] == SEED_MEDICAL_SHARE
    assert compare["park_holders"][1] == "2008-12" and compare["park_holders"][5] == SEED_PARK_HOLDERS
    park = compare["park_holders"]
    lines = "\n".join(rollout_lines(r))
    assert f"model {park[2]:,} (90% band {park[3]:,}..{park[4]:,}" in lines
    assert f"2009-03 {r.medical_share[0, -1]:.0%}" in lines


def test_cardtwin_rollout_reports_the_services_as_model_outputs(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "sim", "rollout", "hangzhou-2004-2009", "--sample", "0.0005",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900, check=True, env=env,
    )  # fmt: skip
    assert "medical-insurance visits settled by card (MODEL OUTPUT" in done.stdout
    assert "park_holders at 2008-12: model" in done.stdout and "vs seed 003 36,000+" in done.stdout
    months = (tmp_path / "services_months.csv").read_text(encoding="utf-8").splitlines()
    assert months[0].startswith("month,medical_card_share") and len(months) == 1 + 52
