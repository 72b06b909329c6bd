"""One SimPy day of the city and its night: the twin's processes (`twin`: `CityDay`), recharge
queues (`recharge`, carrying the full-scale demand of `recharge_demand`), the night's clearing
of every batch (`night`, through the back office assembled in `back_office`), metrics
(`metrics`), the day's invariants (`invariants`), the run split into population shards and
merged at one clearing house (`shards`: `run_day`) and the results folder (`report`).
"""

from sim.day.back_office import BATCH_SUFFIX, BackOffice
from sim.day.invariants import check_day
from sim.day.metrics import wait_summary
from sim.day.night import Batch, BatchCollector
from sim.day.report import write_results
from sim.day.shards import RunResult, default_port, run_day
from sim.day.twin import DAY_S, CityDay

__all__ = [
    "BATCH_SUFFIX",
    "DAY_S",
    "BackOffice",
    "Batch",
    "BatchCollector",
    "CityDay",
    "RunResult",
    "check_day",
    "default_port",
    "run_day",
    "wait_summary",
    "write_results",
]
