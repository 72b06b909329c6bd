"""The static world a day runs in, built from a scenario: the city graph (`graph`, networkx), the
population as columns with compact card images (`population`) opening in the steady state of
their top-up habit (`balances`: a warm-up), the terminal fleet
(`terminals`), the banks that fund loads (`banks`), the day's demand drawn in blocks
(`demand`), and the `World` that holds them for one shard (`world`, with the clearing
participants named by the issuer's city code).
"""

from sim.city.banks import ACCOUNT_OPENING_FEN, bank_of_point, load_participant
from sim.city.demand import TapKind, Taps, Tear, draw_demand, for_shard
from sim.city.graph import URBAN_AREA_KM2, WALK_CELL_M, City, WalkGrid, add_walk_grid, build_city
from sim.city.population import Population, asn_of, draw_columns
from sim.city.terminals import SECTORS, Kind, Terminal, kind_of, terminal_number
from sim.city.world import (
    ISSUER_ID,
    World,
    build_registry,
    build_world,
    city_tag,
    institution_participant,
    planned_taps,
    registry_entries,
)

__all__ = [
    "ACCOUNT_OPENING_FEN",
    "ISSUER_ID",
    "SECTORS",
    "URBAN_AREA_KM2",
    "WALK_CELL_M",
    "City",
    "Kind",
    "Population",
    "TapKind",
    "Taps",
    "Tear",
    "Terminal",
    "WalkGrid",
    "World",
    "add_walk_grid",
    "asn_of",
    "bank_of_point",
    "build_city",
    "build_registry",
    "build_world",
    "city_tag",
    "draw_columns",
    "draw_demand",
    "for_shard",
    "institution_participant",
    "kind_of",
    "load_participant",
    "planned_taps",
    "registry_entries",
    "terminal_number",
]
