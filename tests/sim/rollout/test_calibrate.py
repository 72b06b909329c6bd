"""Calibration: the fit recovers known values, says when the points do not identify one, and
the held-out figure is predicted by a refit that never saw it."""

from __future__ import annotations

import dataclasses

import pytest

from scenarios.rollout_loader import load_rollout
from scenarios.rollout_schema import Observation
from sim.rollout.calibrate import calibrate, calibration_lines, model_figures, with_values


def test_the_fit_recovers_the_values_that_made_the_points() -> None:
    s = load_rollout("hangzhou-2004-2009")
    truth = {"adoption.cards_per_window_per_day": 170.0, "adoption.imitation_q": 0.1}
    months = ("2006-06", "2007-06", "2008-06", "2009-02")
    shape = tuple(
        Observation(month=m, kpi=k, value=1, sigma=1) for m in months for k in ("cardholders", "applied")
    )
    made = model_figures(with_values(s, truth), shape)
    obs = tuple(dataclasses.replace(o, value=round(v), sigma=2_000) for o, v in zip(shape, made, strict=True))
    c = calibrate(dataclasses.replace(s, observation=obs))
    assert c is not None
    got = {v.key: v for v in c.values}
    for key, value in truth.items():
        assert got[key].identified
        assert got[key].low <= value <= got[key].high
        assert got[key].value == pytest.approx(value, rel=0.02)
    assert all(abs(r.error) < 3 * r.observation.sigma for r in c.residuals)
    assert c.held_out is not None and c.held_out.observation == obs[-2]  # the last cards-issued figure
    assert abs(c.held_out.error) < 0.02 * c.held_out.observation.value  # the other points pin it


def test_hangzhou_fit_and_held_out_forecast() -> None:
    s = load_rollout("hangzhou-2004-2009")
    c = calibrate(s)
    assert c is not None
    # every point: 2.05M applied and 2.01M issued by the end of 2009-02 fixed within their rounding
    assert [r.observation.month for r in c.residuals] == ["2004-12", "2009-02", "2009-02"]
    assert all(abs(r.error) <= r.observation.sigma for r in c.residuals[1:])
    fitted = {v.key: v for v in c.values}
    assert all(v.identified for v in c.values)
    assert 150 < fitted["adoption.cards_per_window_per_day"].value < 210
    # Without the issued count, one application figure cannot pin both values: the table says so,
    # and the refit's forecast of the held-out figure is what a planner would have had.
    assert c.held_out is not None and c.held_out.observation.value == 2_010_000
    assert not all(v.identified for v in c.held_out_values)
    refit = with_values(s, {v.key: v.value for v in c.held_out_values})
    assert c.held_out.model == model_figures(refit, (c.held_out.observation,))[0]
    lines = calibration_lines(c)
    assert lines[-1].startswith("  held out cardholders 2009-02 (reported 2,010,000): predicted ")
    assert any("not identified by the points" in line for line in lines)


def test_no_observations_no_calibration() -> None:
    assert calibrate(load_rollout("huaibei-2011-2014")) is None
