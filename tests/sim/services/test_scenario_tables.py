"""The [services.*] tables: every figure validated, a bad one refused in one line naming it."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest

from scenarios.schema import ScenarioError, load, parse_doc, with_key


def _doc() -> dict[str, Any]:
    return tomllib.loads(resources.files("scenarios").joinpath("default.toml").read_text("utf-8"))


def test_the_default_scenario_carries_the_services() -> None:
    s = load()
    assert s.services is not None
    assert s.services.medical.institutions == 175 and s.city.service_windows == 11
    assert s.services.centre.exchange_records_per_hour == 200_000
    assert with_key(s, "run", "seed", 7).services == s.services  # a sweep point keeps them
    assert s.replace(sample=0.001).services == s.services


def test_a_scenario_without_services_runs_the_purse_alone() -> None:
    doc = _doc()
    del doc["services"]
    assert parse_doc(doc, "x.toml").services is None


@pytest.mark.parametrize(
    ("table", "key", "value", "match"),
    [
        ("medical", "insured_share", 1.5, "services.medical.insured_share: 1.5 out of range"),
        ("medical", "fund_share_bp", 20_000, "fund_share_bp: 20000 out of range"),
        ("medical", "card_settlement_from", "2007-13-01", "is not a date"),
        ("medical", "institutions", 0, "institutions: 0"),
        ("medical", "visit_cost_fen_mean", "cheap", "is not an integer"),
        ("identity", "bike_credit_check", "trust", "allowed: online, list"),
        ("identity", "bike_rentals_per_day", float("nan"), "out of range"),
        (
            "centre",
            "windows",
            11,
            r"services.centre.windows: the windows are the city's: set \[city\] service_windows",
        ),
        ("centre", "close_h", 7.0, "open < close"),
        ("adoption", "park_q", [0.3, 0.1, 0.2], "out of order"),
        ("adoption", "park_q", [0.1, 0.2], "three numbers"),
        ("adoption", "park_card_from", "2007", "is not a month"),
        ("adoption", "draws", 0, "draws: 0 out of range"),
        ("medical", "surprise", 1, "services.medical.surprise: unknown key"),
    ],
)
def test_bad_values_are_refused_naming_the_file_and_key(
    table: str, key: str, value: object, match: str
) -> None:
    doc = _doc()
    doc["services"][table][key] = value
    with pytest.raises(ScenarioError, match=match) as caught:
        parse_doc(doc, "hz.toml")
    assert str(caught.value).startswith("hz.toml: ") and "\n" not in str(caught.value)


def test_missing_and_unknown_tables_are_refused() -> None:
    doc = _doc()
    del doc["services"]["centre"]
    with pytest.raises(ScenarioError, match=r"\[services.centre\]: missing"):
        parse_doc(doc, "hz.toml")
    doc = _doc()
    doc["services"]["casino"] = {}
    with pytest.raises(ScenarioError, match=r"\[services.casino\]: unknown table"):
        parse_doc(doc, "hz.toml")
