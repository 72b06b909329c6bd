"""Scripted stories over the real code, without SimPy: one citizen's morning (`morning`) and a
real-card city week through the back office with every fault class (`week`); the fare table they
share (`fares`).
"""

from sim.scripted.morning import run_morning
from sim.scripted.week import CityWeek

__all__ = ["CityWeek", "run_morning"]
