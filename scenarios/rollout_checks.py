"""Rules across fields of a rollout scenario: what the types alone cannot say.

Phases must follow each other without overlap or gap from the first month to the last, so
every month has exactly one phase; milestones must be in month order and never take points
away (closing outlets is not modelled); targets, batches and spends must fall inside the span
so every one of them can be checked. The `[day]` tables are merged over the named day
scenario and validated by the day loader, so a rollout cannot build a day the twin refuses.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from scenarios.months import is_month, month_range, next_month
from scenarios.rollout_schema import RolloutScenario
from scenarios.schema import Scenario, ScenarioError, parse_doc
from scenarios.toml_source import KeyPath, Located, shown_path

MONTHS_MAX = 240  # twenty years: longer than any plan in the seeds
SHARE_SUM_TOLERANCE = 1e-9
_DAY_KEY = re.compile(r"^[^:]+: ([a-z_]+)\.([a-z_0-9]+):")  # "default.toml: city.taxis: -1 out of range"


def _fail(located: Located, path: KeyPath, name: str, message: str) -> None:
    raise ScenarioError(f"{located.at(path)}: {name}: {message}")


def check_rollout(s: RolloutScenario, located: Located) -> None:
    r = s.rollout
    if r.end_month < r.start_month:
        _fail(
            located, ("rollout", "end_month"), "rollout.end_month", f"{r.end_month!r} is before start_month"
        )
    span = len(month_range(r.start_month, r.end_month))
    if span > MONTHS_MAX:
        _fail(
            located,
            ("rollout", "end_month"),
            "rollout.end_month",
            f"{span} months (allowed: <= {MONTHS_MAX})",
        )
    if r.sample <= 0:
        _fail(
            located,
            ("rollout", "sample"),
            "rollout.sample",
            f"{r.sample} out of range (allowed: 0 < sample <= 1)",
        )
    _check_phases(s, located)
    _check_milestones(s, located)
    # Items after end_month are allowed (a span shortened by an override leaves them out and the
    # report says so); before start_month they could never apply.
    start = r.start_month
    for i, t in enumerate(s.target):
        if t.due_month < start:
            _fail(
                located,
                ("target", i, "due_month"),
                f"target[{i}].due_month",
                f"{t.due_month!r} is before the span (allowed: from {start})",
            )
        if t.high is not None and t.high < t.low:
            _fail(located, ("target", i, "high"), f"target[{i}].high", f"{t.high} is below low ({t.low})")
    dated = [("batch", i, b.month) for i, b in enumerate(s.batch)]
    dated += [("spend", i, sp.month) for i, sp in enumerate(s.spend)]
    dated += [("observation", i, o.month) for i, o in enumerate(s.observation)]
    for key, i, month in dated:
        if month < start:
            _fail(
                located,
                (key, i, "month"),
                f"{key}[{i}].month",
                f"{month!r} is before the span (allowed: from {start})",
            )
    _check_assumptions(s, located)
    f = s.finance
    if f.budget_fen and not (is_month(f.budget_month) and start <= f.budget_month):
        _fail(
            located,
            ("finance", "budget_month"),
            "finance.budget_month",
            f"{f.budget_month!r} (allowed: YYYY-MM from {start} when budget_fen is set)",
        )
    d = s.deployment
    total = d.bus_share + d.taxi_share + d.gate_share + d.pos_share
    if abs(total - 1) > SHARE_SUM_TOLERANCE:
        _fail(
            located,
            ("deployment",),
            "deployment.bus_share + taxi_share + gate_share + pos_share",
            f"{total:g} (allowed: they sum to 1)",
        )


def _check_assumptions(s: RolloutScenario, located: Located) -> None:
    """A range is low < high and names a value once; whether the name exists and both ends are
    allowed is checked by loading the scenario at each end (`sim.sweep.replicate`)."""
    seen: set[str] = set()
    for i, a in enumerate(s.assumption):
        if not a.high > a.low:
            _fail(
                located,
                ("assumption", i, "high"),
                f"assumption[{i}].high",
                f"{a.high} is not above low ({a.low})",
            )
        if a.key in seen:
            _fail(located, ("assumption", i, "key"), f"assumption[{i}].key", f"{a.key!r} has a range already")
        if a.key.startswith("assumption.") or a.key.startswith("rollout.seed"):
            _fail(
                located, ("assumption", i, "key"), f"assumption[{i}].key", f"{a.key!r} cannot carry a range"
            )
        seen.add(a.key)


def _check_phases(s: RolloutScenario, located: Located) -> None:
    if not s.phase:
        _fail(located, ("phase",), "phase", "no phase (allowed: at least one [[phase]])")
    names: set[str] = set()
    expected = s.rollout.start_month
    order = sorted(range(len(s.phase)), key=lambda i: s.phase[i].start_month)
    previous = None
    for i in order:
        p = s.phase[i]
        where = f'phase "{p.name}"'
        if p.name in names:
            _fail(located, ("phase", i, "name"), f"{where}.name", "a second phase with this name")
        names.add(p.name)
        if p.end_month < p.start_month:
            _fail(
                located,
                ("phase", i, "end_month"),
                f"{where}.end_month",
                f"{p.end_month!r} is before its start_month {p.start_month!r}",
            )
        if previous is not None and p.start_month <= previous.end_month:
            _fail(
                located,
                ("phase", i, "start_month"),
                f"{where}.start_month",
                f'{p.start_month!r} overlaps phase "{previous.name}" (ends {previous.end_month})',
            )
        if p.start_month != expected:
            _fail(
                located,
                ("phase", i, "start_month"),
                f"{where}.start_month",
                f"{p.start_month!r} leaves a gap (allowed: {expected}, the month after the previous phase)",
            )
        expected = next_month(p.end_month)
        previous = p
    assert previous is not None
    if previous.end_month < s.rollout.end_month:
        i = order[-1]
        _fail(
            located,
            ("phase", i, "end_month"),
            f'phase "{previous.name}".end_month',
            f"{previous.end_month!r} ends before the rollout (allowed: from {s.rollout.end_month})",
        )


def _check_milestones(s: RolloutScenario, located: Located) -> None:
    if not s.milestone:
        _fail(located, ("milestone",), "milestone", "no milestone (allowed: at least one [[milestone]])")
    for i in range(1, len(s.milestone)):
        a, b = s.milestone[i - 1], s.milestone[i]
        if b.month <= a.month:
            _fail(
                located,
                ("milestone", i, "month"),
                f"milestone[{i}].month",
                f"{b.month!r} is not after the previous milestone's {a.month!r}",
            )
        for key in ("recharge_points", "terminals", "service_windows"):
            if getattr(b, key) < getattr(a, key):
                _fail(
                    located,
                    ("milestone", i, key),
                    f"milestone[{i}].{key}",
                    f"{getattr(b, key)} is fewer than the previous milestone's {getattr(a, key)} "
                    "(closing outlets is not modelled)",
                )


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def load_city_day(s: RolloutScenario, located: Located) -> Scenario:
    """The day scenario the rollout names, with its `[day]` tables applied, validated."""
    where = located.at(("rollout", "day_scenario"))
    written_in = Path(where.rsplit(":", 1)[0]) if not where.startswith("override") else Path.cwd() / "x"
    day_path = (written_in.parent / s.rollout.day_scenario).resolve()
    if not written_in.is_absolute():
        day_path = (Path.cwd() / written_in.parent / s.rollout.day_scenario).resolve()
    if not day_path.is_file():
        raise ScenarioError(f"{where}: rollout.day_scenario: {s.rollout.day_scenario!r}: no such file")
    try:
        doc = tomllib.loads(day_path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"{where}: rollout.day_scenario: {shown_path(day_path)}: not valid TOML: {exc}"
        ) from None
    try:
        return parse_doc(_merge(doc, s.day), shown_path(day_path))
    except ScenarioError as exc:
        # Name the [day] key (a file line or an override) when the day loader's message names one.
        key = _DAY_KEY.match(str(exc))
        path: KeyPath = ("day", key.group(1), key.group(2)) if key else ("day",)
        raise ScenarioError(f"{located.at(path)}: day: {exc}") from None
