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

from scenarios.rollout_schema import PLACEMENTS


@dataclass(frozen=True, slots=True)
class Param:
    dotted: str  # a name in the scenario, as overrides name it
    label: dict[str, str]  # en / zh
    kind: type  # int, float or str
    step: float | None = None
    choices: tuple[str, ...] = ()  # a str parameter with a closed set of values


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
        "deployment.recharge_points_factor",
        {"en": "Recharge points × plan", "zh": "充值网点 × 计划"},
        float,
        0.1,
    ),
    Param("deployment.terminals_factor", {"en": "Terminals × plan", "zh": "受理终端 × 计划"}, float, 0.1),
    Param(
        "deployment.service_windows_factor",
        {"en": "Service windows × plan", "zh": "服务窗口 × 计划"},
        float,
        0.1,
    ),
    Param(
        "deployment.placement",
        {"en": "Siting of recharge points", "zh": "充值网点选址方法"},
        str,
        choices=PLACEMENTS,
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


def resolve(scenario: Any, dotted: str) -> Any:
    """The current value of `dotted` in a loaded scenario."""
    node: Any = scenario
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def available(scenario: Any) -> list[tuple[Param, Any]]:
    """The parameters with their values in this scenario."""
    return [(p, resolve(scenario, p.dotted)) for p in PARAMS]


def overrides(base: Mapping[str, Any], edited: Mapping[str, Any]) -> dict[str, Any]:
    """Only the values the viewer changed, in a stable order."""
    assert edited.keys() <= base.keys(), set(edited) - set(base)
    return {k: edited[k] for k in sorted(edited) if edited[k] != base[k]}
