"""Real cards in the loop: a city day where chosen citizens tap their (served) cards through
pcscd + vpcd gives the same money, card for card, as the same day with every card in process,
and the reader measures the real round trips."""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from model.errors import CardTwinError
from scenarios.schema import Scenario, ScenarioError, load
from sim.cards.reader_taps import CardReader, RealCardError
from sim.city.world import build_world
from sim.cli import main
from sim.day.night import RecordInbox
from sim.day.shards import run_day
from sim.day.twin import CityDay
from tests.pcsc_stack import Pcscd

# ~300 citizens: a day of seconds in process; the real-card citizens' taps each cost a swap.
SAMPLE = 0.00015


def _scenario(**run: object) -> Scenario:
    base = load()
    # Tears on one tap in five, so real-card citizens are torn through PC/SC and recovered.
    faults = dataclasses.replace(base.faults, tear_probability=0.2)
    return base.replace(sample=SAMPLE, faults=faults, **run)


def _busiest(scenario: Scenario, count: int) -> list[int]:
    """The citizens with the most planned taps, so the reader is really used."""
    world = build_world(scenario)
    taps = np.concatenate([t.citizen for t in world.demand])
    ranked = np.argsort(-np.bincount(taps, minlength=len(world.population)), kind="stable")
    return [int(c) for c in ranked[:count]]


def test_served_cards_in_a_city_day_give_the_same_money_card_for_card(pcscd: Pcscd) -> None:
    plain = _scenario()
    chosen = _busiest(plain, 4)
    in_process = build_world(plain)
    night_local = CityDay(in_process, RecordInbox()).run()

    served = build_world(plain)
    with CardReader("vpcd:0", chosen, len(served.population)) as reader:
        day = CityDay(served, RecordInbox(), reader=reader)
        night_served = day.run()
        report = reader.report()

    # Every card's image (balance, counters, log, CAPP records) is byte for byte the same.
    assert served.population.images == in_process.population.images
    assert night_served == night_local
    assert report.citizens == 4 and report.taps >= 4
    assert report.apdus >= 3 * report.taps  # SELECT, INITIALIZE, commit at least
    assert 0 < report.apdu_us_p50 <= report.apdu_us_p95 <= report.apdu_us_max
    assert report.swap_s_mean > 0
    assert 0 < report.reconnects <= day.metrics.torn  # torn taps through PC/SC, recovered


def test_a_day_run_with_real_cards_reports_the_reader_and_keeps_the_totals(pcscd: Pcscd) -> None:
    plain = _scenario()
    chosen = _busiest(plain, 2)
    local = run_day(plain)
    served = run_day(_scenario(real_card_reader="vpcd:0", real_card_citizens=chosen))
    assert served.closing() == local.closing()
    assert served.settlement is not None and local.settlement is not None
    assert served.settlement.lines == local.settlement.lines
    assert np.array_equal(served.metrics.tx_fen, local.metrics.tx_fen)
    (shard,) = served.shards
    assert shard.reader is not None and shard.reader.reader == "vpcd:0" and shard.reader.taps > 0
    assert local.shards[0].reader is None


def test_bad_real_card_options_are_one_line_errors() -> None:
    base = load()
    with pytest.raises(ScenarioError, match=r"run\.real_card_citizens: .*at least one citizen"):
        base.replace(real_card_reader="vpcd:0")
    with pytest.raises(ScenarioError, match=r"run\.real_card_citizens: .*empty unless"):
        base.replace(real_card_citizens=[1])
    with pytest.raises(ScenarioError, match=r"run\.shards: .*1 when run\.real_card_reader"):
        base.replace(real_card_reader="vpcd:0", real_card_citizens=[1], shards=2)
    with pytest.raises(ScenarioError, match=r"run\.real_card_reader: 'pcsc:ACME'.*physical cards cannot"):
        base.replace(real_card_reader="pcsc:ACME", real_card_citizens=[1])
    with pytest.raises(ScenarioError, match=r"distinct"):
        base.replace(real_card_reader="vpcd:0", real_card_citizens=[1, 1])
    with pytest.raises(RealCardError, match=r"citizen 900 is not in the simulated population"):
        CardReader("vpcd:0", [900], 300)
    with pytest.raises(RealCardError, match=r"only served cards"):
        CardReader("pcsc:ACME Reader", [1], 300)
    with pytest.raises(CardTwinError, match=r"expected sim, vpcd\[:N\] or pcsc"):
        CardReader("usb", [1], 300)


def test_cardtwin_run_with_real_cards_prints_and_writes_the_reader_figures(
    pcscd: Pcscd, tmp_path: Path
) -> None:
    out = tmp_path / "day"
    args = [
        "run",
        "--sample",
        str(SAMPLE),
        "--real-cards",
        "vpcd:0",
        "--real-citizens",
        "1,2",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"real cards on vpcd:0: 2 citizens, \d+ taps, \d+ APDUs through PC/SC", result.output)
    rows = dict(csv.reader((out / "real_cards.csv").open(encoding="utf-8")))
    assert rows["reader"] == "vpcd:0" and int(rows["apdus"]) > 0 and float(rows["apdu_us_mean"]) > 0
