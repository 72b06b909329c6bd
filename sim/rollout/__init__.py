"""A rollout plan over years: month by month adoption, deployment and phases (`plan`), the
sites laid out (`sites`), representative days of the real twin (`days`), cost, revenue and
float (`money`), the engine that ties them (`engine`: `run_rollout`), which targets are plan
inputs and which predictions (`targets`), the adoption assumptions fitted to dated figures
(`calibrate`), its result (`result`:
`RolloutResult`), tables and the report (`tables`, `report`).
"""

from sim.rollout.calibrate import Calibration, calibrate, calibration_lines
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
    "Calibration",
    "Flow",
    "MonthRow",
    "Phase",
    "RolloutResult",
    "TargetCheck",
    "calibrate",
    "calibration_lines",
    "run_rollout",
    "summary_lines",
    "write_compare",
    "write_rollout",
]
