"""Rollout scenario files: the shipped ones load; each kind of bad input is one line naming
file:line and field; extends and overrides behave; the reference documentation is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.rollout_docs import DOC_PATH, render
from scenarios.rollout_loader import load_rollout, shipped
from scenarios.schema import ScenarioError
from scenarios.toml_source import key_lines
from sim.rollout.engine import run_rollout
from sim.rollout.report import summary_lines

ROOT = Path(__file__).resolve().parents[2]
HANGZHOU = ROOT / "scenarios" / "rollout" / "hangzhou-2004-2009.toml"
DAY = ROOT / "scenarios" / "default.toml"
SEED_FACTS = ("[HZ]", "[PLAN]", "[HB]", "[FW]")


def _write(tmp_path: Path, text: str, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace('"../default.toml"', f'"{DAY}"'), "utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


def test_three_shipped_scenarios_load_and_cite_the_seed_facts() -> None:
    # five-stage-framework.toml is the framework engine's (kind = "five-stage": tests/sim/operator)
    assert set(shipped()) == {
        "hangzhou-2004-2009",
        "one-card-plan-2005-2010",
        "huaibei-2011-2014",
    }
    for name, path in shipped().items():
        s = load_rollout(path)
        assert s.name == name
        text = path.read_text("utf-8")
        assert "../shared/reference/seed-facts.md" in text
        assert any(tag in text for tag in SEED_FACTS)
        assert s.day_scenario.population.cardholders >= 1
        # every value line says where it comes from (a seed section, an ASSUMPTION or a PLACEHOLDER)
        for line in text.splitlines():
            stripped = line.strip()
            key = stripped.split("=")[0].strip()
            if (
                "=" in stripped
                and not stripped.startswith(("#", "["))
                and key not in {"name", "seed", "source"}
            ):
                if key in {
                    "start_month",
                    "end_month",
                    "due_month",
                    "month",
                    "kpi",
                    "low",
                    "high",
                    "cards",
                    "what",
                    "sectors",
                    "key",
                    "fit",
                    "value",
                }:
                    continue  # the item's `source` line cites it
                if key in {"taxi_share", "gate_share", "pos_share", "acquirer_fee_share"}:
                    continue  # documented with their section's `source`
                assert "#" in stripped or key == "title", f"{name}: {key}: no source"


def test_shipped_scenario_figures_match_the_seed() -> None:
    plan = load_rollout("one-card-plan-2005-2010")
    assert plan.finance.platform_fen == 100_000_000 * 100  # 100M CNY
    lows = {(t.kpi, t.due_month): t.low for t in plan.target}
    assert lows[("cardholders", "2005-12")] == 600_000
    assert lows[("terminals", "2010-12")] == 15_000
    assert lows[("card_spending_fen", "2010-12")] == 10_000_000_000 * 100
    huaibei = load_rollout("huaibei-2011-2014")
    assert [p.name for p in huaibei.phase] == ["phase-1", "phase-2", "phase-3"]
    assert huaibei.finance.acquirer_terminal_share == 1.0
    assert huaibei.day_scenario.city.banks == ["ICBC", "ABC", "BOC", "CCB", "Huishang"]
    assert sum(s.amount_fen for s in huaibei.spend) == 155_000_000  # 1.0M + 0.55M CNY publicity
    hz = load_rollout("hangzhou-2004-2009")
    assert {m.service_windows for m in hz.milestone} == {11}


@pytest.mark.parametrize(
    ("old", "new", "at", "message"),
    [
        # an unknown key, with the same key in its right unit suggested
        (
            "platform_fen = ",
            "platform_cny = ",
            "platform_cny",
            "finance.platform_cny: unknown key; did you mean platform_fen?",
        ),
        # a wrong unit: money as text
        (
            "platform_fen = 10_000_000_000",
            'platform_fen = "100M CNY"',
            "platform_fen",
            "finance.platform_fen: '100M CNY' is not a number (money is an integer number of fen",
        ),
        (
            "walk_m = 800.0",
            "walk_km = 0.8",
            "walk_km",
            "deployment.walk_km: unknown key; did you mean walk_m?",
        ),
        # a negative count
        (
            "terminals = 6_000 ",
            "terminals = -6_000 ",
            "terminals = -6_000",
            "milestone[1].terminals: -6000 out of range (allowed: >= 0 terminals)",
        ),
        # overlapping phases
        (
            'end_month = "2006-08"',
            'end_month = "2006-10"',
            'start_month = "2006-09"',
            'phase "non-local".start_month: \'2006-09\' overlaps phase "urban-area" (ends 2006-10)',
        ),
        # a gap between phases
        (
            'start_month = "2006-09"',
            'start_month = "2006-10"',
            'start_month = "2006-10"',
            "leaves a gap (allowed: 2006-09",
        ),
        # a target with no date
        (
            'due_month = "2004-12"\n',
            "",
            "[[target]]",
            "target[0].due_month: missing (required; month by which it is due)",
        ),
        (
            'due_month = "2004-12"',
            'due_month = "2004-13"',
            "2004-13",
            "target[0].due_month: '2004-13' is not a month (allowed: YYYY-MM)",
        ),
        # not TOML at all
        ("[adoption]", "[adoption", "[adoption", "not valid TOML"),
        (
            'sectors = ["bus", "medical"]',
            'sectors = ["bus", "medicine"]',
            "medicine",
            "phase \"pilot\".sectors[1]: 'medicine' is not known (allowed: bus, metro",
        ),
        (
            'kpi = "terminals"',
            'kpi = "terminal"',
            'kpi = "terminal"',
            "target[3].kpi: 'terminal' is not known (allowed: cardholders",
        ),
        (
            "imitation_q = 0.12",
            "imitation_q = 12",
            "imitation_q",
            "adoption.imitation_q: 12 out of range (allowed: <= 1 per month)",
        ),
        (
            "cards = 3_000",
            "cards = 3_000.5",
            "cards = 3_000.5",
            "batch[0].cards: 3000.5 is not a whole number",
        ),
        (
            'end_month = "2009-03"  ',
            'end_month = "2009-06"  ',
            'end_month = "2009-03"',
            "'2009-03' ends before the rollout (allowed: from 2009-06)",
        ),
        (
            "recharge_points = 600 ",
            "recharge_points = 300 ",
            "recharge_points = 300",
            "milestone[2].recharge_points: 300 is fewer than the previous milestone's 400",
        ),
        ("bus_share = 0.476", "bus_share = 0.5", "[deployment]", "they sum to 1"),
        (
            'due_month = "2004-12"',
            'due_month = "2004-11"',
            "2004-11",
            "target[0].due_month: '2004-11' is before the span (allowed: from 2004-12)",
        ),
        ("[rollout]", "[rolout]", "[rolout]", "rolout: unknown key; did you mean rollout?"),
    ],
)
def test_bad_input_is_one_line_naming_file_line_and_field(
    tmp_path: Path, old: str, new: str, at: str, message: str
) -> None:
    text = HANGZHOU.read_text("utf-8")
    assert old in text, old
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_rollout(path)
    text_of_error = str(info.value)
    assert "\n" not in text_of_error
    assert message in text_of_error
    line = _line_of(path, at)
    assert text_of_error.startswith(f"{path}:{line}: ") or f"plan.toml:{line}: " in text_of_error


def test_a_scenario_extends_a_base_and_overrides_a_few_values(tmp_path: Path) -> None:
    base = _write(tmp_path, HANGZHOU.read_text("utf-8"), "base.toml")
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "base.toml"\n[rollout]\nname = "faster"\n[adoption]\nimitation_q = 0.2\n'
        '[[phase]]\nname = "all"\nstart_month = "2004-12"\nend_month = "2009-03"\n'
        'sectors = ["bus"]\neligible_persons = 9\n',
        "utf-8",
    )
    s = load_rollout(child)
    assert s.name == "faster"
    assert s.adoption.imitation_q == 0.2
    assert s.adoption.innovation_p == load_rollout(base).adoption.innovation_p  # from the base
    assert [p.name for p in s.phase] == ["all"]  # arrays of tables replace the base's whole
    assert len(s.target) == 4


def test_an_error_in_the_base_names_the_base_file_and_line(tmp_path: Path) -> None:
    base = _write(
        tmp_path, HANGZHOU.read_text("utf-8").replace("innovation_p = 0.02", "innovation_p = -1"), "base.toml"
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n[rollout]\nname = "x"\n', "utf-8")
    with pytest.raises(
        ScenarioError, match=rf"base.toml:{_line_of(base, 'innovation_p')}: adoption.innovation_p"
    ):
        load_rollout(child)
    child.write_text('extends = "child.toml"\n', "utf-8")
    with pytest.raises(ScenarioError, match=r"child\.toml:1: extends: a cycle"):
        load_rollout(child)
    child.write_text('extends = "nowhere.toml"\n', "utf-8")
    with pytest.raises(ScenarioError, match=r"child\.toml:1: extends: 'nowhere\.toml': no such file"):
        load_rollout(child)


def test_a_shorter_span_leaves_later_phases_and_targets_out() -> None:
    s = load_rollout("one-card-plan-2005-2010", {"rollout.end_month": "2006-03"})
    r = run_rollout(s, sample=0.00002)
    assert [p.name for p in r.phases] == ["2005-first-sectors", "2006-more-sectors"]
    assert r.phases[-1].end_month == "2006-03"
    assert {c.target.due_month for c in r.targets} == {"2005-12"}
    assert any("target(s) due after end_month 2006-03 not checked" in n for n in r.notes)
    assert "budget CNY 500.0M to 2007-12: not checked (after the span)" in summary_lines(r)


def test_overrides_are_checked_like_file_values_and_named() -> None:
    s = load_rollout("hangzhou-2004-2009", {"adoption.imitation_q": 0.3, "phase.pilot.end_month": "2005-05"})
    assert s.adoption.imitation_q == 0.3
    assert load_rollout("hangzhou-2004-2009", {"target.2.low": 5}).target[2].low == 5
    assert load_rollout("hangzhou-2004-2009", {"day.city.taxis": 100}).day_scenario.city.taxis == 100
    bad = [
        (
            {"adoption.imitation_q": "x"},
            "override adoption.imitation_q: adoption.imitation_q: 'x' is not a number",
        ),
        (
            {"phase.pilot.end_month": "2005-13"},
            "override phase.pilot.end_month: phase \"pilot\".end_month: '2005-13'",
        ),
        ({"adoption.foo": 1}, "override adoption.foo: adoption.foo: unknown key"),
        ({"phase.nope.end_month": "2005-01"}, "override phase.nope.end_month: no item 'nope'"),
        (
            {"day.city.taxis": -1},
            "override day.city.taxis: day: scenarios/default.toml: city.taxis: -1 out of range",
        ),
        ({"finance.platform_cny": 1}, "did you mean platform_fen?"),
    ]
    for overrides, message in bad:
        with pytest.raises(ScenarioError) as info:
            load_rollout("hangzhou-2004-2009", overrides)
        assert message in str(info.value), str(info.value)


def test_a_missing_file_and_a_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such rollout scenario"):
        load_rollout(tmp_path / "none.toml")
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ScenarioError, match=r"bin\.toml:1: not UTF-8"):
        load_rollout(path)


def test_key_lines_follow_tables_and_arrays() -> None:
    text = 'a = 1\n[t]\n# c\nb = 2\n[[p]]\nx = 1\n[[p]]\nx = 2\n[u.v]\n"q" = 3\n'
    lines = key_lines(text)
    assert lines[("a",)] == 1
    assert lines[("t", "b")] == 4
    assert lines[("p", 0, "x")] == 6
    assert lines[("p", 1, "x")] == 8
    assert lines[("u", "v", "q")] == 10


def test_reference_documentation_is_current() -> None:
    assert DOC_PATH.read_text("utf-8") == render(), "run: python -m scenarios.rollout_docs"
