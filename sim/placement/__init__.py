"""Siting recharge points: the walking geography on the city grid (`geo`), max-coverage greedy
placement (`greedy`), baselines and plans (`deploy`), Erlang C waits per site (`waits`,
`queueing`), the sites a plan lays out (`sites`: `Site`, `CityMap`) and the plan report
(`report`).
"""

from sim.placement.coverage import MAX_PER_SITE_DEFAULT
from sim.placement.deploy import BASELINES, baseline, greedy
from sim.placement.geo import WALK_M_DEFAULT, Geography, PlacementError, Plan, cell_of, check_plan, geography
from sim.placement.report import SUMMARY_COLUMNS, summary_row, write_report
from sim.placement.sites import CityMap, Site
from sim.placement.waits import RHO_DESIGN, TopupDemand, demand_of, score

__all__ = [
    "BASELINES",
    "MAX_PER_SITE_DEFAULT",
    "RHO_DESIGN",
    "SUMMARY_COLUMNS",
    "WALK_M_DEFAULT",
    "CityMap",
    "Geography",
    "PlacementError",
    "Plan",
    "Site",
    "TopupDemand",
    "baseline",
    "cell_of",
    "check_plan",
    "demand_of",
    "geography",
    "greedy",
    "score",
    "summary_row",
    "write_report",
]
