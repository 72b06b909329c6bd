"""Sweeps and replications: values, overrides, intervals, and real sweeps on a Dask LocalCluster."""

from __future__ import annotations

import csv
import math
import sqlite3

import pytest
from click.testing import CliRunner

from scenarios.schema import ScenarioError, load
from sim.cli import main
from sim.staged import staged_folder
from sim.sweep.engine import SweepError, SweepSpec, day_override, parse_param, parse_values, run_sweep
from sim.sweep.stats import interval

TINY = 0.0002  # ~400 simulated citizens: a day in about a second


def test_interval_known_case():
    # 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445 -> half width 1.963
    ci = interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert ci.n == 5 and ci.mean == 3.0
    assert ci.sd == pytest.approx(math.sqrt(2.5))
    assert ci.half_width == pytest.approx(2.776445 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)
    assert (ci.low, ci.high) == pytest.approx((3 - 1.963, 3 + 1.963), abs=1e-3)


def test_interval_edge_cases():
    assert interval([2.0, 2.0, 2.0]).half_width == 0.0
    one = interval([7.0, math.nan])
    assert one.n == 1 and one.mean == 7.0 and math.isnan(one.half_width)
    assert interval([math.nan]).n == 0
    # Two runs: t(0.975, 1) = 12.706
    assert interval([0.0, 2.0]).half_width == pytest.approx(12.7062 * math.sqrt(2) / math.sqrt(2), rel=1e-4)


def test_values():
    assert parse_values("150,600,1000,2000") == (150, 600, 1000, 2000)
    assert parse_values("150:2000:10")[:3] == (150, 356, 561)
    assert parse_values("150:2000:10")[-1] == 2000
    assert parse_values("0.1:0.5:3") == (0.1, 0.3, 0.5)
    assert parse_values("2008-12,2009-06") == ("2008-12", "2009-06")
    assert parse_param("city.recharge_points=1,2") == ("city.recharge_points", (1, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("city.recharge_points", "expected NAME=VALUES"),
        ("=1,2", "expected NAME=VALUES"),
        ("city.recharge_points=", "no values"),
        ("city.recharge_points=1,,2", "empty value"),
        ("city.recharge_points=1:2", "not start:stop:count"),
        ("city.recharge_points=1:9:1", "count '1' out of range"),
        ("city.recharge_points=1:9:x", "count 'x' out of range"),
        ("city.recharge_points=a:9:3", "'a' is not a number"),
        ("city.recharge_points=5,5", "repeated values"),
    ],
)
def test_bad_values(text, message):
    with pytest.raises(SweepError, match=message):
        parse_param(text)


def test_day_override():
    s = load(None)
    assert day_override(s, "city.recharge_points", 150).city.recharge_points == 150
    assert day_override(s, "service.kiosk_service_s", 90).service.kiosk_service_s == 90.0
    with pytest.raises(SweepError, match="unknown key 'recharge_pointz'"):
        day_override(s, "city.recharge_pointz", 1)
    with pytest.raises(SweepError, match="unknown section 'town'"):
        day_override(s, "town.recharge_points", 1)
    with pytest.raises(SweepError, match="is not int"):
        day_override(s, "city.recharge_points", 1.5)
    with pytest.raises(SweepError, match="seeds are the replications"):
        day_override(s, "run.seed", 3)
    with pytest.raises(ScenarioError, match=r"city\.recharge_points"):
        day_override(s, "city.recharge_points", 0)


def test_staged_folder_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), staged_folder(target) as work:
        (work / "half.csv").write_text("a\n")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
    with staged_folder(target) as work:
        (work / "whole.csv").write_text("a\n")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (target / "whole.csv").exists()


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c


def _spec(values, seeds=(1, 2)):
    return SweepSpec("day", None, "population.topup_threshold_fen", tuple(values), tuple(seeds), TINY)


def test_sweep_on_a_cluster_is_deterministic(cluster):
    # CNY 5 against CNY 60: at ~400 citizens and two seeds, CNY 30 left the top-ups tied
    # (230,000 each, city-wide) once trip chains reordered the day's taps.
    spec = _spec((500, 6000))
    first = run_sweep(spec, dask=cluster.scheduler_address)
    again = run_sweep(spec, dask=cluster.scheduler_address)
    assert [(r.point, r.seed) for r in first.rows] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert [r.kpis for r in first.rows] == [r.kpis for r in again.rows]
    # The seeds differ, and a higher top-up threshold sends more citizens to recharge points.
    assert first.rows[0].kpis != first.rows[1].kpis
    low = sum(r.kpis["top_ups"] for r in first.rows if r.point == 0)
    high = sum(r.kpis["top_ups"] for r in first.rows if r.point == 1)
    assert high > low


def test_failed_run_fails_the_sweep(cluster):
    # 30 million cardholders at sample 1 exceeds the population's guard inside the run.
    spec = SweepSpec("day", None, "population.cardholders", (400, 30_000_000), (1,), 1.0)
    with pytest.raises(SweepError, match=r"point population.cardholders=30000000, seed 1: ValueError: "):
        run_sweep(spec, dask=cluster.scheduler_address)


def test_sweep_cli_on_a_local_cluster(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        main,
        [
            *("sweep", "--kind", "day", "--param", "population.topup_threshold_fen=500,3000"),
            *("--seeds", "2", "--sample", str(TINY), "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 runs on LocalCluster" in result.output
    files = {p.name for p in out.iterdir()}
    assert files >= {"runs.csv", "points.csv", "results.sqlite", "kpis.png", "report.md"}
    with (out / "runs.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 4
    with sqlite3.connect(out / "results.sqlite") as db:
        query = "SELECT value, n, mean, ci95_low, ci95_high FROM points WHERE kpi = 'top_ups'"
        rows = db.execute(query).fetchall()
    db.close()
    assert [r[0] for r in rows] == [500, 3000]
    assert all(n == 2 and low <= mean <= high for _, n, mean, low, high in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "city.recharge_pointz=1,2"], "unknown key 'recharge_pointz'"),
        (["--param", "city.recharge_points="], "no values"),
        (["--param", "city.recharge_points=1:9"], "not start:stop:count"),
        (["--param", "city.recharge_points=0,5"], "city.recharge_points: 0 out of range"),
        (["--seeds", "0"], "--seeds: 0 out of range"),
        (["--sample", "2"], "--sample: 2.0 out of range"),
        (["--dask", "tcp://127.0.0.1:1"], "dask scheduler tcp://127.0.0.1:1: cannot connect"),
    ],
)
def test_sweep_cli_bad_inputs(tmp_path, args, message):
    out = tmp_path / "never"
    base = ["sweep", "--kind", "day", "--out", str(out), "--seeds", "1", "--sample", str(TINY)]
    result = CliRunner().invoke(main, base + args)
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()[-1]) < 300
    assert not out.exists()
