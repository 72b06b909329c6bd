"""The scenario parameters a stakeholder may change in the sidebar to ask "what if".

Each one is a dotted name of the rollout scenario (as `cardtwin rollout --set` takes them);
the sidebar shows the scenario's own value, and only values the viewer changed become
overrides. The dashboard never checks ranges itself: `load_rollout` validates overrides like
file values, and its one-line message is what the viewer sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Param:
    dotted: str  # a name in the scenario; "milestone.-1.terminals" is the last milestone's
    label: dict[str, str]  # en / zh
    kind: type  # int, float or str
    step: float | None = None


PARAMS: tuple[Param, ...] = (
    Param("rollout.end_month", {"en": "Last month (YYYY-MM)", "zh": "结束月份 (YYYY-MM)"}, str),
    Param("adoption.innovation_p", {"en": "Adoption: innovation p", "zh": "采用：创新系数 p"}, float, 0.001),
    Param("adoption.imitation_q", {"en": "Adoption: imitation q", "zh": "采用：模仿系数 q"}, float, 0.01),
    Param(
        "adoption.cards_per_window_per_day",
        {"en": "Cards issued per window per day", "zh": "每窗口每日发卡量"},
        int,
        10,
    ),
    Param(
        "milestone.-1.recharge_points",
        {"en": "Recharge points at the last milestone", "zh": "最后里程碑充值网点数"},
        int,
        10,
    ),
    Param(
        "milestone.-1.terminals",
        {"en": "Terminals at the last milestone", "zh": "最后里程碑终端数"},
        int,
        100,
    ),
    Param(
        "milestone.-1.service_windows",
        {"en": "Service windows at the last milestone", "zh": "最后里程碑服务窗口数"},
        int,
        1,
    ),
    Param(
        "deployment.walk_m", {"en": "Walking distance covered (m)", "zh": "步行覆盖距离（米）"}, float, 50.0
    ),
    Param("finance.card_price_fen", {"en": "Card price (fen)", "zh": "卡片售价（分）"}, int, 100),
    Param(
        "finance.float_rate_bp",
        {"en": "Interest on the float (bp/year)", "zh": "沉淀资金年利率（基点）"},
        int,
        5,
    ),
)


def resolve(scenario: Any, dotted: str) -> tuple[str, Any]:
    """The override name and current value of `dotted` in a loaded scenario.

    A negative index names an item of an array of tables from the end; the override name
    carries the real index, as `load_rollout` expects.
    """
    node: Any = scenario
    parts: list[str] = []
    for part in dotted.split("."):
        if isinstance(node, tuple):
            index = int(part)
            assert -len(node) <= index < len(node), f"{dotted}: no item {index}"
            index %= len(node)
            node = node[index]
            parts.append(str(index))
        else:
            node = getattr(node, part)
            parts.append(part)
    return ".".join(parts), node


def available(scenario: Any) -> list[tuple[Param, str, Any]]:
    """The parameters this scenario has: (param, override name, its value in the scenario)."""
    out = []
    for p in PARAMS:
        try:
            dotted, value = resolve(scenario, p.dotted)
        except (AttributeError, AssertionError):
            continue  # e.g. a scenario without milestones
        out.append((p, dotted, value))
    return out


def overrides(base: Mapping[str, Any], edited: Mapping[str, Any]) -> dict[str, Any]:
    """Only the values the viewer changed, in a stable order."""
    assert edited.keys() <= base.keys(), set(edited) - set(base)
    return {k: edited[k] for k in sorted(edited) if edited[k] != base[k]}
