"""Loading a rollout scenario: from a file (or a shipped scenario's name) to a checked plan.

The loader reads the file and the chain of files it `extends`, applies dotted overrides, builds
the schema tree strictly (`scenarios.rollout_schema`), checks the rules across fields and
loads the day scenario the plan maps onto with its `[day]` tables applied
(`scenarios.rollout_checks`). Anything unknown or out of range is refused with one line naming
file:line and field, so a plan that loads is one the twin can run month by month.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from scenarios.framework_schema import is_framework
from scenarios.rollout_checks import check_rollout, load_city_day
from scenarios.rollout_schema import RolloutScenario
from scenarios.schema import ScenarioError
from scenarios.strict_tables import build
from scenarios.toml_source import apply_overrides, read_located, shown_path

ROLLOUT_DIR = Path(__file__).resolve().parent / "rollout"


def shipped() -> dict[str, Path]:
    """The rollout scenarios shipped with CardTwin, by name (file stem); the five-stage framework
    files among them are another engine's (scenarios.framework_schema.framework_shipped)."""
    return {p.stem: p for p in sorted(ROLLOUT_DIR.glob("*.toml")) if not is_framework(p)}


def load_rollout(path: str | Path, overrides: Mapping[str, object] | None = None) -> RolloutScenario:
    """Read, merge (`extends`), override and validate a rollout scenario. A shipped scenario may
    be named by its stem (`hangzhou-2004-2009`)."""
    p = Path(path)
    if not p.exists() and str(path) in shipped():
        p = shipped()[str(path)]
    if not p.is_file():
        raise ScenarioError(f"{path}:1: no such rollout scenario (shipped: {', '.join(shipped())})")
    located = read_located(p)
    if overrides:
        apply_overrides(located, overrides)
    scenario: RolloutScenario = build(RolloutScenario, located)
    check_rollout(scenario, located)
    day = load_city_day(scenario, located)
    return dataclasses.replace(scenario, source=shown_path(p), located=located, city_day=day)
