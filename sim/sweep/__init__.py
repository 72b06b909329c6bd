"""Parameter sweeps of rollouts and days as Dask tasks (`engine`: `run_sweep`), Student-t
intervals (`stats`) and the sweep report (`report`).
"""

from sim.sweep.engine import KINDS, LOCAL_WORKERS_DEFAULT, Progress, RunRow, SweepSpec, run_sweep, spec_from
from sim.sweep.report import write_sweep
from sim.sweep.stats import interval

__all__ = [
    "KINDS",
    "LOCAL_WORKERS_DEFAULT",
    "Progress",
    "RunRow",
    "SweepSpec",
    "interval",
    "run_sweep",
    "spec_from",
    "write_sweep",
]
