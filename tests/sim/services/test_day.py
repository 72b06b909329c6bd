"""The services in a Hangzhou day: every service appears with its counts, money and queues;
the money is conserved; the figures do not depend on the sharding; the CLI shows them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.schema import load
from sim.day import run_day
from sim.day.report import tables
from sim.services import ServicesTally
from sim.services.report import services_tables

REPO = Path(__file__).resolve().parents[3]
SMALL = load().replace(sample=0.002)


@pytest.fixture(scope="module")
def tally() -> ServicesTally:
    services = run_day(SMALL).services()
    assert services is not None
    return services


def test_every_service_runs_with_counts_and_money(tally: ServicesTally) -> None:
    for name in ("medical_visits_card", "account_payments", "bike_rentals", "library_loans", "park_entries",
                 "elderly_concessions", "account_batch_credits"):  # fmt: skip
        assert tally.counts.get(name, 0) > 0, name
    m = tally.money_fen
    assert m["medical_cost_fen"] == (
        m["medical_fund_fen"]
        + m["medical_account_fen"]
        + m.get("medical_own_account_fen", 0)
        + m["medical_own_purse_fen"]
        + m["medical_own_cash_fen"]
    )
    assert (
        m["claims_paid_fen"] == m["medical_fund_fen"] + m["medical_account_fen"]
    )  # every visit claimed once
    assert tally.counts["bike_rentals"] == tally.counts.get("bike_returns", 0) + tally.counts.get(
        "bikes_not_returned", 0
    )


def test_the_attack_drills_are_refused_and_invariants_hold(tally: ServicesTally) -> None:
    assert tally.drills["claims_forged_refused"] and tally.drills["claims_replayed_refused"]
    assert tally.drills["batch_replays_refused"] == {"gov-hz/3"}
    assert tally.checks and all(c.ok for c in tally.checks), [c for c in tally.checks if not c.ok]


def test_the_service_centre_queues_at_city_scale(tally: ServicesTally) -> None:
    assert tally.centre is not None
    q = tally.centre.queues
    assert q["application"].arrivals > 100 and q["call"].arrivals > 1000
    for stats in q.values():
        assert stats.arrivals == stats.served + stats.balked
        assert len(stats.waits_s) == stats.served and min(stats.waits_s, default=0) >= 0
    # Every card to produce is checked over the data exchange, within its spare throughput.
    made = q["application"].served + q["replacement"].served + q["failed_card"].served
    assert tally.centre.checks_done <= made and tally.centre.exchange_records == 3 * tally.centre.checks_done
    assert tally.centre.exchange_records <= tally.centre.exchange_capacity_records


def test_the_tables_show_what_the_run_computed(tally: ServicesTally) -> None:
    weight = SMALL.population.cardholders / round(SMALL.population.cardholders * SMALL.run.sample)
    rows = {r[0]: r for r in services_tables(tally, weight)["services"][1]}
    assert rows["library_loans"][2] == tally.counts["library_loans"]
    assert rows["library_loans"][3] == round(tally.counts["library_loans"] * weight)
    assert rows["claims_paid_fen"][1:3] == ("fen", tally.money_fen["claims_paid_fen"])


def test_the_services_do_not_depend_on_the_shards() -> None:
    small = load().replace(sample=0.0004)
    one, two = tables(run_day(small)), tables(run_day(small.replace(shards=2)))
    for name in ("services", "services_refused", "services_queues", "services_invariants"):
        assert one[name] == two[name], name


def test_a_day_before_2007_does_not_settle_medical_visits_by_card() -> None:
    s = SMALL.replace(run=SMALL.run.__class__(**{**_fields(SMALL.run), "date": "2006-06-15"}))
    services = run_day(s).services()
    assert services is not None
    assert services.counts["medical_visits_old_card"] == services.counts["medical_visits"] > 0
    assert "medical_visits_card" not in services.counts and "claims_paid_fen" not in services.money_fen


def _fields(obj: object) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}  # type: ignore[attr-defined]


def test_cardtwin_run_prints_and_writes_the_services(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "day"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--sample", "0.001", "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=600, check=True, env=env,
    )  # fmt: skip
    summary = json.loads(done.stdout)["services"]
    with (out / "services.csv").open(encoding="utf-8") as f:
        scaled = {row["figure"]: int(row["scaled"]) for row in csv.DictReader(f)}
    assert summary == scaled and scaled["medical_visits_card"] > 0 and scaled["park_entries"] > 0
    with (out / "services_invariants.csv").open(encoding="utf-8") as f:
        assert all(row["ok"] == "1" for row in csv.DictReader(f))
    text = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--sample", "0.001", "--out", str(tmp_path / "t")],
        capture_output=True, text=True, timeout=600, check=True, env=env,
    ).stdout  # fmt: skip
    assert (
        f"medical visits {scaled['medical_visits']} ({scaled['medical_visits_card']} settled by card)" in text
    )
    assert f"bike rentals {scaled['bike_rentals']}" in text and "services invariants hold" in text
    assert "service centre:" in text


def test_the_centres_windows_are_the_citys_one_count() -> None:
    # The windows where the e-purse is topped up and the centre's services are given are one
    # count, the city's; a rollout month's windows (its plan's) are the centre's too.
    import dataclasses

    import simpy

    from sim.city.world import build_world
    from sim.day.night import RecordInbox
    from sim.day.twin import CityDay
    from sim.rng import stream
    from sim.services.centre import ServiceCentre

    tiny = load().replace(sample=0.0002)
    three = tiny.replace(city=dataclasses.replace(tiny.city, service_windows=3))
    for s, windows in ((tiny, 11), (three, 3)):
        day = CityDay(build_world(s), RecordInbox())
        assert day.services is not None and day.services.centre is not None
        assert day.services.centre.windows.capacity == windows == s.city.service_windows
    # Fewer windows, the same visits: the hall's waits grow (the same seeded arrivals).
    waits = {}
    for windows in (11, 6):
        env = simpy.Environment()
        centre = ServiceCentre(env, tiny.services.centre, windows, stream(1, "services/centre"))  # type: ignore[union-attr]
        centre.start()
        env.run(until=24 * 3600)
        served = [w for k, q in centre.report.queues.items() if k != "call" for w in q.waits_s]
        waits[windows] = sum(served) / len(served)
    assert waits[6] > 3 * waits[11] > 0
