"""The played charts: axes fixed to the run's range, data up to the month, money in CNY,
and playback that only moves forward while playing."""

from __future__ import annotations

import random
from collections.abc import Callable

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no types
import pytest

from dashboard import charts, playback
from sim.rollout import RolloutResult
from tests.dashboard.test_units import _month, small_result

Builder = Callable[[RolloutResult, int, str], tuple[pd.DataFrame, charts.Spec]]
BUILDERS: tuple[Builder, ...] = (
    lambda r, i, lang: charts.kpi_chart(r, i, lang, "terminals"),
    charts.sectors_chart,
    charts.waits_chart,
    charts.float_chart,
    charts.money_chart,
)


@pytest.mark.parametrize("build", BUILDERS)
def test_axes_do_not_rescale_while_playing(build: Builder) -> None:
    r = small_result()
    early_data, early = build(r, 1, "en")
    late_data, late = build(r, 29, "en")
    assert early == late  # the same frame (domains, ticks) whatever the month
    assert len(early_data) < len(late_data)  # only the data grows
    lines = early_data[early_data["status"] == ""] if "status" in early_data else early_data
    assert set(lines["month"]) == {_month(0), _month(1)}  # the lines stop at the month shown


def test_chart_values_are_the_runs_in_their_unit() -> None:
    r = small_result()
    data, spec = charts.float_chart(r, 5, "zh")
    float_rows = data[data["series"] == "沉淀资金"]
    assert float_rows["value"].tolist() == [row.float_fen / 100 for row in r.months[:6]]  # CNY, not fen
    assert spec["encoding"]["y"]["scale"]["domain"] == [-30_000.0, 1_500_000.0]  # the run's range in CNY
    assert "亿" in spec["encoding"]["y"]["axis"]["labelExpr"]
    data, spec = charts.kpi_chart(r, 29, "en", "terminals")
    target = data[data["status"] != ""]
    assert target[["month", "value", "status"]].values.tolist() == [[_month(23), 700.0, "missed"]]
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0.0, 700.0]  # up to the target
    _, waits = charts.waits_chart(r, 3, "en")
    assert waits["encoding"]["y"]["scale"]["domain"] == [0.0, 300.0]  # the window's first wait


def test_playing_only_moves_forward() -> None:
    """Whatever a viewer's browser sends while playing (stale seeks, early ticks), the month
    shown never goes back and moves one stride per interval."""
    rng = random.Random(7)
    pb = playback.play(playback.start(60), now_s=0.0)
    now, shown = 0.0, [0]
    while pb.playing:
        now += rng.choice((0.3, 0.5, 1.0, 1.0, 1.1))
        if rng.random() < 0.3:
            pb = playback.seek(pb, max(0, pb.index - 1), now)  # the slider's stale month
        pb = playback.tick(pb, now, interval_s=1.0)
        assert pb.index - shown[-1] in (0, 1)
        shown.append(pb.index)
    assert shown[-1] == 59 and not pb.playing
    paused = playback.seek(playback.pause(pb), 10, now)
    assert paused.index == 10  # a paused viewer seeks freely


def test_city_map_shows_the_month_and_the_scenarios_lines() -> None:
    from dashboard import charts_city

    r = small_result()
    from tests.dashboard.test_units import CAST

    early, spec = charts_city.city_chart(r, 4, "en", 0.8, CAST)
    late, later_spec = charts_city.city_chart(r, 29, "en", 0.8, CAST)
    assert spec == later_spec  # the map holds still while sites appear
    sites = early[early["layer"] == "site"]
    assert sorted(sites["detail"]) == ["2 · 2009-01", "40 · 2009-01"]  # n3's window opens in month 6
    assert len(late[late["layer"] == "site"]) == 4
    nodes = early[early["layer"] == "node"]
    covered = nodes[nodes["what"] == "within walking distance of a recharge point"]
    assert covered[["x", "y"]].values.tolist() == [[0.0, 0.0]]  # only n0, as coverage.covered_nodes says
    lines = early[early["layer"] == "line"]
    assert set(lines["what"]) == {"bus"}  # the graph's metro edge: no rail sector in this scenario
