"""Parameter sweeps of rollouts and days as Dask tasks (`engine`: `run_sweep`), Student-t
intervals (`stats`), the sweep report (`report`), and a rollout's replications with its
ASSUMPTION ranges drawn, each target as P(met) with a Wilson interval (`replicate`).
"""

from sim.sweep.engine import KINDS, LOCAL_WORKERS_DEFAULT, Progress, RunRow, SweepSpec, run_sweep, spec_from
from sim.sweep.replicate import Replications, run_replications, tornado_lines, with_p_met
from sim.sweep.report import write_sweep
from sim.sweep.stats import interval

__all__ = [
    "KINDS",
    "LOCAL_WORKERS_DEFAULT",
    "Progress",
    "Replications",
    "RunRow",
    "SweepSpec",
    "interval",
    "run_replications",
    "run_sweep",
    "spec_from",
    "tornado_lines",
    "with_p_met",
    "write_sweep",
]
