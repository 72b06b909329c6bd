"""Many cities, one network: a two-city region day (`run`), its cities (`world`), the day of
taps (`day`), the nights of upload, interchange and cross-settlement under faults (`night`) and
the checks that every fen is accounted for in both ledgers and the interchange (`checks`).
"""

from sim.region.checks import Check
from sim.region.night import Faults
from sim.region.run import NIGHTS_DEFAULT, RegionResult, lines, run_region

__all__ = ["NIGHTS_DEFAULT", "Check", "Faults", "RegionResult", "lines", "run_region"]
