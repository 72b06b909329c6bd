"""The scenario file: the default loads; every kind of bad input is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from model.card import CardType
from model.terminal.fares import FareRules, bus_fare_fen
from scenarios import schema
from scenarios.schema import ScenarioError, load, parse
from sim.cli import main

DEFAULT = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"


def _text() -> str:
    return DEFAULT.read_text("utf-8")


def test_default_scenario_loads_with_the_hangzhou_figures() -> None:
    s = load()
    assert s.population.cardholders == 2_010_000
    assert s.city.service_windows == 11
    assert s.city.taxis == 4600
    assert s.city.merchants == 900
    assert s.fares.epurse_percent == 91
    assert s.fares.monthly_pass_percent == 50
    assert s.run.day.isoformat() == "2009-03-02"


def test_every_default_value_cites_a_source_or_states_an_assumption() -> None:
    for line in _text().splitlines():
        stripped = line.strip()
        if "=" in stripped and not stripped.startswith("#") and not stripped.startswith("["):
            key = stripped.split("=")[0].strip()
            if key in {"name", "seed"}:
                continue
            assert "#" in stripped, f"{key}: no source or assumption"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("seed = 1", "seed = 1\ncolour = 3"), "run.colour: unknown key (allowed: name, seed"),
        (("taxis = 4600", 'taxis = "many"'), "city.taxis: 'many' is not an integer"),
        (("sample = 0.005", "sample = 1.5"), "run.sample: 1.5 out of range (allowed: 0 < sample <= 1)"),
        (("tear_probability = 0.001", "tear_probability = 2"), "faults.tear_probability: 2.0 out of range"),
        (("epurse_percent = 91", "epurse_percent = 191"), "fares.epurse_percent: 191 out of range"),
        (("[faults]", "[fault]"), "[fault]: unknown section (allowed: [run], [city]"),
        (('date = "2009-03-02"', 'date = "2009-13-02"'), "run.date: '2009-13-02' is not a date"),
        (("buses = 5000", "buses = true"), "city.buses: True is not an integer"),
        (('banks = ["ICBC", "ABC", "BOC", "CCB"]', "banks = [3]"), "city.banks[0]: 3 is not a string"),
        (("queue_limit = 30", "queue_limit = 0"), "service.queue_limit: 0 out of range"),
        (
            ("epurse_percent = 91", "epurse_percent = -5"),
            "fares.epurse_percent: -5 out of range (allowed: >= 0)",
        ),
        (("metro_step_stations = 4", "metro_step_stations = 0"), "fares.metro_step_stations: 0 out of range"),
        (("bus_fare_fen = 200", "bus_fare_fen = 2.5"), "fares.bus_fare_fen: 2.5 is not an integer"),
        (("taxi_trip_km_mean = 6.0", "taxi_trip_km_mean = nan"), "fares.taxi_trip_km_mean: nan out of range"),
        (
            ("retail_peak_shares = [0.25, 0.3]", "retail_peak_shares = [0.25]"),
            "demand.retail_peak_shares: [0.25] out of range (allowed: one share per peak (2))",
        ),
        (
            ("taxi_peak_shares = [0.12, 0.18, 0.15]", "taxi_peak_shares = [0.5, 0.4, 0.3]"),
            "demand.taxi_peak_shares: [0.5, 0.4, 0.3] out of range (allowed: 0..1, sum <= 1)",
        ),
        (
            ("taxi_peaks_h = [8.5, 18.0, 22.5]", "taxi_peaks_h = [8.5, 18.0, 25.0]"),
            "demand.taxi_peaks_h: [8.5, 18.0, 25.0] out of range (allowed: hours 0 <= h < 24)",
        ),
        (
            ("retail_start_h = 9.0", "retail_start_h = 23.0"),
            "demand.retail_start_h/end_h: (23.0, 22.0) out of range (allowed: 0 <= start < end <= 24)",
        ),
        (("taxi_peak_width_h = 1.25", "taxi_peak_width_h = 0"), "demand.taxi_peak_width_h: 0.0 out of range"),
        (
            ("taxi_peaks_h = [8.5, 18.0, 22.5]", 'taxi_peaks_h = ["late"]'),
            "demand.taxi_peaks_h[0]: 'late' is not a number",
        ),
        (
            ("taxi_per_km_fen = 200", "taxi_per_km_fen = 200\npass_route_max = 99"),
            "fares.pass_route_max: unknown key (allowed: bus_fare_fen, epurse_percent",
        ),
    ],
)
def test_bad_values_name_file_field_and_allowed(change: tuple[str, str], message: str) -> None:
    old, new = change
    text = _text().replace(old, new, 1)
    assert text != _text()
    with pytest.raises(ScenarioError) as err:
        parse(text, "city.toml")
    assert str(err.value).startswith("city.toml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_the_fares_table_is_the_fare_rules_the_terminals_charge_by() -> None:
    fares = load().fares
    assert isinstance(fares, FareRules)
    assert bus_fare_fen(fares, CardType.ADULT, 155, False, None) == 182  # 91% of CNY 2
    assert fares.taxi_trip_km_mean == 6.0


def test_a_fare_rule_the_checks_miss_is_still_one_line_naming_file_and_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(schema, "_check_tables", lambda tables, source: None)
    with pytest.raises(ScenarioError) as err:
        parse(_text().replace("epurse_percent = 91", "epurse_percent = 191", 1), "city.toml")
    assert str(err.value) == "city.toml: fares: fare rules: epurse_percent=191 outside 0..100"


def test_missing_key_and_section() -> None:
    with pytest.raises(ScenarioError, match=r"city.toml: city.taxis: missing"):
        parse(_text().replace("taxis = 4600", ""), "city.toml")
    start = _text().index("[faults]")
    with pytest.raises(ScenarioError, match=r"\[faults\]: missing section"):
        parse(_text()[:start], "city.toml")


def test_not_toml_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not valid TOML"):
        parse("[run\n", "x.toml")
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load(tmp_path / "absent.toml")


def test_cli_prints_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(_text().replace("taxis = 4600", "taxis = -1"), "utf-8")
    result = CliRunner().invoke(main, ["run", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(f"cardtwin: error: {bad}: city.taxis: -1 out of range")
    )


def test_replace_checks_the_result() -> None:
    with pytest.raises(ScenarioError, match=r"run\.sample"):
        load().replace(sample=0.0)
    assert load().replace(sample=0.01, seed=5).run.seed == 5


def test_cli_refuses_bad_overrides_in_one_line(tmp_path: Path) -> None:
    # The command line checks its own flags first (a usage error, exit 2, naming the flag); the
    # scenario's bounds stay the last word for values that come from a file.
    for args, message in (
        (["--sample", "2"], "Invalid value for '--sample': 2.0 is not in the range"),
        (["--shards", "0"], "Invalid value for '--shards': 0 is not in the range"),
    ):
        result = CliRunner().invoke(main, ["run", *args, "--out", str(tmp_path)])
        assert result.exit_code == 2
        assert message in result.output and "Traceback" not in result.output
