"""What a deployment plan puts on the city: sites that open in a month, and the map they sit on.

Plain frozen data, so a rollout result that carries them pickles across Dask workers and caches
in Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Site:
    """A recharge point or terminal cluster placed on the city graph, and when it opened."""

    node: str
    kind: str  # "recharge_point", "service_window", or a terminal kind
    count: int
    month: str


@dataclass(frozen=True, slots=True)
class CityMap:
    """Enough of the city graph to draw it: node positions in km, edges, residents per node."""

    positions_km: dict[str, tuple[float, float]]
    edges: tuple[tuple[str, str, str], ...]  # (a, b, kind: "bus" | "metro" | "walk")
    residents: dict[str, int]
