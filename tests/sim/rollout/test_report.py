"""The rollout report shows, per target, what the result object holds: plan input or prediction,
the figure, the prediction's 90% interval, P(met) and why; in the CSV, SQLite, HTML and text."""

from __future__ import annotations

import csv
import html
import re
import sqlite3
from pathlib import Path

import pytest

from scenarios.rollout_loader import load_rollout
from sim.rollout import RolloutResult, run_rollout, summary_lines, write_rollout
from sim.rollout.tables import VERDICT_COLUMNS, verdict_rows
from sim.sweep.engine import RunRow
from sim.sweep.replicate import Replications, Sensitivity, wilson, with_p_met

TINY = 0.00003
PREDICTED = 2  # Hangzhou's 2009-02 cards: the one target the model predicts


@pytest.fixture(scope="module")
def single() -> RolloutResult:
    return run_rollout(load_rollout("hangzhou-2004-2009"), sample=TINY)


@pytest.fixture(scope="module")
def replicated(single: RolloutResult) -> RolloutResult:
    """The run with 20 replications whose 2009-02 figure is 1,950,000 + 10,000 i (i = 1..20): met
    (2.01M..2.05M) for i = 6..10."""
    rows = []
    for seed in range(1, 21):
        k = {f"target.{i}.{x}": 0.0 for i in range(4) for x in ("actual", "met", "above")}
        figure = 1_950_000.0 + 10_000 * seed
        k[f"target.{PREDICTED}.actual"] = figure
        k[f"target.{PREDICTED}.met"] = float(2_010_000 <= figure <= 2_050_000)
        k[f"target.{PREDICTED}.above"] = float(figure > 2_050_000)
        rows.append(RunRow(0, None, seed, k, 0.0))
    sens = (Sensitivity(PREDICTED, "adoption.imitation_q", 0.5, 0.2, 0.3),)
    reps = Replications(single.scenario, tuple(range(1, 21)), ((),) * 20, tuple(rows), (), sens, 0.0, "here")
    return with_p_met(single, reps)


def test_replicated_prediction_carries_its_interval_and_p_met(replicated: RolloutResult) -> None:
    c = replicated.targets[PREDICTED]
    assert c.source == "prediction" and c.replications == 20
    assert c.p_met == 5 / 20 and (c.p_met_low, c.p_met_high) == pytest.approx(wilson(5, 20))
    # numpy's linear quantiles of 1,960,000..2,150,000 in steps of 10,000
    assert (c.predicted_low, c.predicted_median, c.predicted_high) == pytest.approx(
        (1_969_500.0, 2_055_000.0, 2_140_500.0)
    )
    for i in (0, 1, 3):  # plan inputs: the scenario sets them, no interval, no P(met)
        p = replicated.targets[i]
        assert p.source == "plan input" and p.predicted_low is None and p.p_met is None and p.why


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def test_report_files_show_the_result_objects_numbers(replicated: RolloutResult, tmp_path: Path) -> None:
    report = write_rollout(replicated, tmp_path / "out")
    rows = _csv(tmp_path / "out" / "verdicts.csv")
    assert list(rows[0]) == VERDICT_COLUMNS and len(rows) == len(replicated.targets)
    for row, c in zip(rows, replicated.targets, strict=True):
        assert (row["kpi"], row["due_month"], row["figure"], row["verdict"], row["why"]) == (
            c.target.kpi, c.target.due_month, c.source, c.verdict, c.why,
        )  # fmt: skip
        assert int(row["value"]) == c.actual and int(row["target_low"]) == c.target.low
        assert _number(row["predicted_low_90"]) == c.predicted_low
        assert _number(row["predicted_median"]) == c.predicted_median
        assert _number(row["predicted_high_90"]) == c.predicted_high
        assert _number(row["p_met"]) == c.p_met
        assert _number(row["p_met_low_95"]) == c.p_met_low and _number(row["p_met_high_95"]) == c.p_met_high
    db = sqlite3.connect(tmp_path / "out" / "rollout.sqlite")
    try:
        assert db.execute("SELECT * FROM verdicts").fetchall() == verdict_rows(replicated)[1]
    finally:
        db.close()
    page = report.read_text("utf-8")
    table = page[page.index("<h2>Targets: plan inputs and predictions</h2>") :].split("</table>")[0]
    cells = [[html.unescape(x) for x in re.findall(r"<td>(.*?)</td>", tr)] for tr in table.split("<tr>")[2:]]
    c = replicated.targets[PREDICTED]
    assert cells[PREDICTED] == [
        "cardholders", "2009-02", "2,010,000..2,050,000", "prediction", f"{c.actual:,}",
        "1,969,500..2,140,500", "2,055,000", "25%", f"{wilson(5, 20)[0]:.0%}..{wilson(5, 20)[1]:.0%}",
        c.verdict, c.why,
    ]  # fmt: skip
    pilot = replicated.targets[0]
    assert cells[0][3:8] == ["plan input", f"{pilot.actual:,}", "-", "", ""]


def test_text_report_shows_the_interval_and_p_met(replicated: RolloutResult, single: RolloutResult) -> None:
    line = next(x for x in summary_lines(replicated) if x.startswith("  cardholders by 2009-02: prediction "))
    c = replicated.targets[PREDICTED]
    assert f"prediction {c.actual:,} vs 2,010,000..2,050,000" in line
    assert "90% interval 1,969,500..2,140,500 (median 2,055,000, 20 replications)" in line
    lo, hi = wilson(5, 20)
    assert f"P(met) 25% (95% CI {lo:.0%}..{hi:.0%})" in line
    assert not any(x.startswith("  (one run") for x in summary_lines(replicated))
    one = summary_lines(single)
    assert (
        "  (one run: the predictions above carry no interval; --replications N gives each its 90% interval "
        "and P(met))" in one
    )
