"""The operator's business across the five stages of seed 000's operating framework: the
monthly engine whose stages start on their conditions (`engine`), the float under a reserve
policy and its stress test (`policy`), targets judged with replications (`judge`), and the
report (`report`).
"""

from sim.operator.engine import STAGES, FrameworkRun, run_framework
from sim.operator.policy import FloatPolicy, Stress, StressVerdict, reserve_fen, stress_test
from sim.operator.report import FrameworkReport, build_report, lines, write_report

__all__ = [
    "STAGES",
    "FloatPolicy",
    "FrameworkReport",
    "FrameworkRun",
    "Stress",
    "StressVerdict",
    "build_report",
    "lines",
    "reserve_fen",
    "run_framework",
    "stress_test",
    "write_report",
]
