"""The two-city day: visiting cards ride in both cities, both houses settle and cross-settle,
and every fen is accounted for in both ledgers and the interchange, with tears and faults."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from scenarios.region_schema import DEFAULT_REGION, RegionScenario, load_region
from scenarios.schema import ScenarioError
from sim.region import Faults, lines, run_region
from sim.region.checks import card_checks
from sim.region.day import run_day
from sim.region.night import fault_plan, run_nights
from sim.region.world import build_region


def _small(tear_share: float | None = None, seed: int = 1) -> RegionScenario:
    s = load_region(DEFAULT_REGION)
    cities = tuple(
        dataclasses.replace(c, residents=c.residents // 4, commuters=c.commuters // 2) for c in s.cities
    )
    return dataclasses.replace(
        s, cities=cities, seed=seed, tear_share=s.tear_share if tear_share is None else tear_share
    )


def test_visiting_cards_ride_in_both_cities_and_every_fen_is_accounted_for(tmp_path: Path) -> None:
    s = load_region(DEFAULT_REGION)
    r = run_region(s, tmp_path)
    assert r.ok, [c for c in r.checks if not c.ok]
    assert r.tally.taps[("shaoxing", "hangzhou")] > 0 and r.tally.taps[("hangzhou", "shaoxing")] > 0
    for pair, f in r.interchange.items():
        assert f["files"] >= 1 and f["unacked_fen"] == f["pending_fen"] == 0, pair
        # cross-settled what the issuer cleared; the acquirer's participants paid gross less its own fee
        assert f["settled_gross_fen"] == f["cleared_at_issuer_fen"] > 0
        assert f["acked_fen"] == f["cleared_at_issuer_fen"] + f["held_at_issuer_fen"]
        assert f["paid_to_acquirers_fen"] == f["settled_gross_fen"] - f["acquirer_fee_fen"]
        assert f["interchange_fee_fen"] == (f["settled_gross_fen"] * s.interchange_fee_bp + 5_000) // 10_000
    names = {c.name for c in r.checks}
    assert "hangzhou: purchases made = cleared + held + in interchange + in terminals" in names
    assert "shaoxing->hangzhou: instruction = acquirer's reserve receipt" in names
    text = "\n".join(lines(r))
    hz = next(c for c in r.cities if c.name == "hangzhou")
    assert (
        f"hangzhou: {hz.cards} cards hold {hz.card_balances_fen // 100}.{hz.card_balances_fen % 100:02d}"
        in text
    )
    assert f"checks: {len(r.checks)}/{len(r.checks)} hold" in text


def test_the_same_seed_gives_the_same_money_and_another_seed_other_money(tmp_path: Path) -> None:
    a = run_region(_small(), tmp_path / "a")
    b = run_region(_small(), tmp_path / "b")
    c = run_region(_small(seed=2), tmp_path / "c")
    assert [(x.name, x.left_fen) for x in a.checks] == [(x.name, x.left_fen) for x in b.checks]
    assert a.interchange == b.interchange and a.interchange != c.interchange


def test_torn_taps_are_recovered_once_and_accounted(tmp_path: Path) -> None:
    r = run_region(_small(tear_share=0.3), tmp_path)
    assert r.tally.torn >= 10
    assert r.ok, [c for c in r.checks if not c.ok]


@pytest.mark.parametrize(
    "faults",
    [
        dict(lost=True),
        dict(ack_lost=True),
        dict(late=True),
        dict(duplicated=True),
        dict(house_down="hangzhou"),
        dict(house_down="shaoxing"),
        dict(lost=True, late=True, duplicated=True, house_down="shaoxing"),
    ],
)
def test_interchange_faults_lose_and_double_nothing(tmp_path: Path, faults: dict[str, object]) -> None:
    plan, nights = fault_plan(
        bool(faults.get("lost")),
        bool(faults.get("ack_lost")),
        bool(faults.get("late")),
        bool(faults.get("duplicated")),
        faults.get("house_down"),  # type: ignore[arg-type]
    )
    clean = run_region(_small(tear_share=0.1), tmp_path / "clean", Faults(), nights)
    r = run_region(_small(tear_share=0.1), tmp_path / "faulty", plan, nights)
    assert r.ok, [c for c in r.checks if not c.ok]
    injected = r.traffic.files
    assert (injected["lost"] > 0) == bool(faults.get("lost"))
    assert (injected["ack-lost"] > 0) == bool(faults.get("ack_lost"))
    assert (injected["late"] > 0) == bool(faults.get("late"))
    assert (injected["receiver-down"] > 0) == bool(faults.get("house_down"))
    # once everything arrived, the money is the clean run's to the fen
    for pair, f in r.interchange.items():
        same = clean.interchange[pair]
        for key in ("settled_gross_fen", "interchange_fee_fen", "paid_to_acquirers_fen", "unacked_fen"):
            assert f[key] == same[key], (pair, key)


def test_a_file_lost_on_the_last_night_is_in_transit_not_lost(tmp_path: Path) -> None:
    r = run_region(_small(), tmp_path, Faults(lost_night=0), nights=1)
    assert r.ok, [c for c in r.checks if not c.ok]
    assert all(f["unacked_fen"] > 0 and f["settled_gross_fen"] == 0 for f in r.interchange.values())
    purchases = next(c for c in r.checks if c.name.startswith("hangzhou: purchases made"))
    assert "in interchange 0" not in purchases.detail


def test_the_checks_find_a_fen_that_goes_missing(tmp_path: Path) -> None:
    s = _small(tear_share=0.3)
    cities = build_region(s, tmp_path)
    try:
        run_day(s, cities)
        traffic = run_nights(cities, s.day, Faults(), 2)
        assert all(c.ok for c in card_checks(cities, traffic.made))
        house = cities[0].office
        held = house.clearing.held()
        assert held, "torn taps leave serial gaps: held records"
        house.clearing.reject(held[0][0], "test: a person throws a held record away")
        bad = [c for c in card_checks(cities, traffic.made) if not c.ok]
        assert [c.name for c in bad] == [
            "hangzhou: purchases made = cleared + held + in interchange + in terminals"
        ] or [c.name for c in bad] == ["hangzhou: loads made = cleared + held"]
    finally:
        for city in cities:
            city.office.close()


def test_lost_cards_are_listed_across_cities_with_the_delay(tmp_path: Path) -> None:
    s = load_region(DEFAULT_REGION)
    quick = dataclasses.replace(s, hotlist_local_delay_h=0.0, hotlist_interchange_delay_h=0.0)
    slow = dataclasses.replace(s, hotlist_local_delay_h=6.0, hotlist_interchange_delay_h=6.0)
    rq, rs = run_region(quick, tmp_path / "q"), run_region(slow, tmp_path / "s")
    refused_quick = rq.tally.refused["hotlisted"] + rq.tally.refused["blocked"]
    refused_slow = rs.tally.refused["hotlisted"] + rs.tally.refused["blocked"]
    assert refused_quick > refused_slow  # a list that arrives later lets the finder ride longer
    held_slow = sum(c.held_records for c in rs.cities)
    assert rq.ok and rs.ok and held_slow > 0  # rides after the listing are held at the issuer


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("residents = 120", "residents = -1"), r"\[city hangzhou\]: residents: -1 out of range"),
        (("buses = 12 ", 'buses = 12\ncolour = "red" '), r"\[city hangzhou\]: unknown key 'colour'"),
        (
            ('issuer_id = "3301000000000001"', 'issuer_id = "3302000000000001"'),
            "must begin with the city code",
        ),
        (('day = "2013-03-04"', 'day = "2013-13-04"'), r"\[region\]: day: not YYYY-MM-DD"),
        (("tear_share = 0.02", "tear_share = 0.9"), r"tear_share: 0.9 out of range"),
        (('code = "33060000"', 'code = "33010000"'), "issuer_id 3306000000000001 must begin"),
    ],
)
def test_bad_region_files_are_refused_naming_file_and_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = load_region(DEFAULT_REGION).path.read_text("utf-8")
    assert edit[0] in text
    bad = tmp_path / "region-bad.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1), "utf-8")
    with pytest.raises(ScenarioError, match=message) as caught:
        load_region(bad)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)


def test_the_shipped_region_cites_a_source_or_an_assumption_on_every_figure() -> None:
    s = load_region(DEFAULT_REGION)
    assert s.day == date(2013, 3, 4)
    for line in s.path.read_text("utf-8").splitlines():
        stripped = line.strip()
        if (
            "=" in stripped
            and not stripped.startswith("#")
            and stripped.split("=")[0].strip() not in ("name", "seed", "source")
        ):
            assert "#" in stripped and any(
                tag in stripped for tag in ("[HZ]", "[CMP]", "[EXT]", "ASSUMPTION", "README")
            ), line


def test_an_interoperable_psam_holds_only_the_other_issuers_purchase_and_maintenance_masters(
    tmp_path: Path,
) -> None:
    from devices.psam import Psam
    from model.security import KeyUsage
    from tests.test_security import _reachable

    s = _small()
    cities = build_region(s, tmp_path)
    try:
        for city, other in (cities, cities[::-1]):
            mine = set(city.keys.masters.values())
            theirs = city_keys = other.keys.masters
            allowed = {v for (u, _, _), v in theirs.items() if u in (KeyUsage.PURCHASE, KeyUsage.MAINTENANCE)}
            for bus in city.buses:
                chip = bus.interop.psam.chip  # type: ignore[attr-defined]
                assert isinstance(chip, Psam)
                held = {
                    o
                    for _, o in _reachable(chip)
                    if isinstance(o, bytes) and o in mine | set(city_keys.values())
                }
                assert held and held <= allowed  # no home key, no load or TAC master of anyone
                home = bus.home.psam.chip  # type: ignore[attr-defined]
                held_home = {
                    o
                    for _, o in _reachable(home)
                    if isinstance(o, bytes) and o in mine | set(theirs.values())
                }
                assert held_home and held_home.isdisjoint(set(theirs.values()))
    finally:
        for city in cities:
            city.office.close()
