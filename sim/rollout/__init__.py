"""A rollout plan over years: month by month adoption, deployment and phases (`plan`), the
sites laid out (`sites`), representative days of the real twin (`days`), cost, revenue and
float (`money`), the engine that ties them (`engine`: `run_rollout`), its result (`result`:
`RolloutResult`), tables and the report (`tables`, `report`).
"""

from sim.rollout.engine import run_rollout
from sim.rollout.report import summary_lines, write_compare, write_rollout
from sim.rollout.result import (
    KPI_COUNTS,
    MONTH_SCALARS,
    SOURCE_PLAN_INPUT,
    SOURCE_PREDICTION,
    Flow,
    MonthRow,
    Phase,
    RolloutResult,
    TargetCheck,
)

__all__ = [
    "KPI_COUNTS",
    "MONTH_SCALARS",
    "SOURCE_PLAN_INPUT",
    "SOURCE_PREDICTION",
    "Flow",
    "MonthRow",
    "Phase",
    "RolloutResult",
    "TargetCheck",
    "run_rollout",
    "summary_lines",
    "write_compare",
    "write_rollout",
]
